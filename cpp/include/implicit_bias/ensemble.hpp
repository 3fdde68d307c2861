// Many independent runs advanced together, spread over OpenMP threads when available.
// Each run owns all of its state, so the result of every run is identical to running it alone.
#pragma once

#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "run.hpp"

namespace implicit_bias {

inline bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// Advance runs[k] to targets[k] for every k, with `threads` threads (<= 0: OpenMP's default).
template <class T>
void advance_all(const std::vector<RunBase<T>*>& runs, const std::vector<std::uint64_t>& targets, int threads) {
    const auto count = static_cast<std::int64_t>(runs.size());
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (std::int64_t k = 0; k < count; ++k) runs[static_cast<std::size_t>(k)]->advance(targets[static_cast<std::size_t>(k)]);
    (void)threads;
}

}  // namespace implicit_bias
