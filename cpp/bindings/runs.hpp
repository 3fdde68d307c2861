// Registration of Dataset<T>, RunBase<T> and the ensemble loop for one scalar type T (the
// conversions live in state.hpp, advancing in advance.hpp, the ensemble loop in ensemble.hpp).
// Instantiated once per type in runs_double.cpp / runs_longdouble.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <implicit_bias/implicit_bias.hpp>

#include "advance.hpp"
#include "bindings.hpp"
#include "ensemble.hpp"
#include "state.hpp"

namespace ib = implicit_bias;

template <class T>
void register_runs(py::module_& m, const char* suffix) {
    using namespace bindings_detail;
    using Dataset = ib::Dataset<T>;
    using RunBase = ib::RunBase<T>;
    const std::string sfx(suffix);

    py::class_<Dataset, std::shared_ptr<Dataset>>(m, ("Dataset_" + sfx).c_str())
        .def(py::init([](const Array<T>& z) {
                 if (z.ndim() != 2) throw py::value_error("z: must be 2-dimensional (n, d)");
                 ib::RowMatrix<T> zm = Eigen::Map<const ib::RowMatrix<T>>(z.data(), z.shape(0), z.shape(1));
                 return std::make_shared<Dataset>(std::move(zm));
             }),
             py::arg("z").noconvert(), "Signed rows z_i = y_i x_i, shape (n, d), C-contiguous.")
        .def_property_readonly("n", &Dataset::n)
        .def_property_readonly("d", &Dataset::d);

    py::class_<RunBase>(m, ("Run_" + sfx).c_str())
        .def(py::init([](std::shared_ptr<Dataset> data, const Array<T>& w0, const ib::RunConfig& config) {
                 if (w0.ndim() != 1 || w0.shape(0) != data->d()) throw py::value_error("w0: must have shape (d,)");
                 if (config.batch_size < 1 || config.batch_size > data->n())
                     throw py::value_error("batch_size: must be in [1, n]");
                 const ib::Vector<T> w = Eigen::Map<const ib::Vector<T>>(w0.data(), w0.shape(0));
                 return ib::make_run<T>(std::move(data), w, config);
             }),
             py::arg("data"), py::arg("w0").noconvert(), py::arg("config"))
        .def("advance", &advance_interruptible<T>, py::arg("t_end"),
             "Advance to step t_end with the GIL released; Ctrl-C stops at a step boundary.")
        .def(
            "extend_grid",
            [](RunBase& run, const Array<std::uint64_t>& points) {
                Busy<T> busy(run);
                run.extend_grid(std::vector<std::uint64_t>(points.data(), points.data() + points.size()));
            },
            py::arg("points").noconvert(),
            "Add checkpoint steps (uint64, sorted, each after the current step) to the grid.")
        .def_property_readonly("grid_end", guarded<T>(&RunBase::grid_end),
                               "The last planned checkpoint step (0 with no grid).")
        .def_property_readonly("checkpoint_count",
                               guarded<T>([](const RunBase& run) { return run.checkpoints().size(); }),
                               "How many checkpoints are recorded.")
        .def_property_readonly("recorded_now", guarded<T>(&RunBase::recorded_now),
                               "True when the last recorded checkpoint is at the current step.")
        .def_property_readonly("t", guarded<T>(&RunBase::t))
        .def_property_readonly("w", guarded<T>([](const RunBase& run) {
                                   const auto& w = run.w();
                                   return to_array(std::vector<T>(w.data(), w.data() + w.size()));
                               }))
        .def_property_readonly("scale_exponent", guarded<T>(&RunBase::scale_exponent))
        .def_property_readonly(
            "scale_saturated", guarded<T>(&RunBase::scale_saturated),
            "True when the gradient scale sits at its cap while this optimizer needs it (gradients not exact).")
        .def_property_readonly("cost_per_step", &RunBase::cost_per_step)
        .def(
            "record",
            [](RunBase& run) {
                Busy<T> busy(run);
                run.record();
            },
            "Record a checkpoint at the current step.")
        .def("checkpoints",
             guarded<T>([](const RunBase& run) { return checkpoints_to_dict(run.checkpoints(), run.data().d()); }))
        .def("save_state", guarded<T>(&save_state<T>))
        .def(
            "load_state",
            [](RunBase& run, const py::dict& state) {
                Busy<T> busy(run);
                load_state<T>(run, state);
            },
            py::arg("state"),
            "Restore a state from save_state; every field is checked before the run changes (ValueError / "
            "TypeError naming the field).");

    m.def(("advance_ensemble_" + sfx).c_str(), &advance_ensemble<T>, py::arg("runs"), py::arg("targets"),
          py::arg("threads") = 0, py::arg("lanes") = py::none(),
          "Advance runs[k] to targets[k] for all k on OpenMP threads (GIL released, Ctrl-C checked between rounds); "
          "lanes: groups of run indices advanced step-interleaved in one thread each.");
    m.def(("lane_compatible_" + sfx).c_str(), [](const RunBase& a, const RunBase& b) { return a.lane_compatible(b); },
          py::arg("a"), py::arg("b"),
          "True when the two runs can share a lane group (same compiled optimizer, loss, dtype and batch path).");
    m.attr(("max_lanes_" + sfx).c_str()) = ib::kMaxLanes;
}
