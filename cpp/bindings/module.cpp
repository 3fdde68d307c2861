// implicit_bias._core: the compiled engine. Private; the public API is the Python package.
#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "Compiled engine of implicit_bias (private: use the Python API).";
    register_config(m);
    register_build_info(m);
    register_runs<double>(m, "float64");
    register_runs<long double>(m, "longdouble");
    m.attr("openmp") = implicit_bias::openmp_enabled();
    m.def("max_threads", &implicit_bias::max_threads, "Threads OpenMP would use by default (1 without OpenMP).");
}
