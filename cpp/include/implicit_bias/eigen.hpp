// Eigen, as every core header includes it: storage aligned to kAlignBytes (numerics.hpp says why).
// CMakeLists.txt defines EIGEN_MAX_ALIGN_BYTES=64 for the whole module; this default covers programs
// that include the core headers before anything else includes Eigen (bench/drivers).
#pragma once

#ifndef EIGEN_MAX_ALIGN_BYTES
#define EIGEN_MAX_ALIGN_BYTES 64
#endif
#include <Eigen/Core>

#include "numerics.hpp"

static_assert(EIGEN_MAX_ALIGN_BYTES >= static_cast<int>(implicit_bias::kAlignBytes),
              "Eigen must align to implicit_bias::kAlignBytes: define EIGEN_MAX_ALIGN_BYTES=64 for every translation "
              "unit, or include the implicit_bias headers before Eigen");
