#include "runs.hpp"

template void register_runs<double>(py::module_& m, const char* suffix);
