// Shared declarations of the pybind11 bindings (one register_* per concern).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

void register_config(py::module_& m);
void register_build_info(py::module_& m);
template <class T>
void register_runs(py::module_& m, const char* suffix);
