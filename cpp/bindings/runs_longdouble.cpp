#include "runs.hpp"

template void register_runs<long double>(py::module_& m, const char* suffix);
