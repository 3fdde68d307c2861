// Bindings of Dataset<T>, RunBase<T> and the ensemble loop for one scalar type T.
// Instantiated once per type in runs_double.cpp / runs_longdouble.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

namespace ib = implicit_bias;

namespace bindings_detail {

// Multiply-adds per uninterrupted chunk: ~10-30 ms in double, so Ctrl-C is seen well within a second.
template <class T>
constexpr double chunk_budget() {
    return sizeof(T) > sizeof(double) ? double(1 << 21) : double(1 << 24);
}

template <class T>
using Array = py::array_t<T, py::array::c_style>;

template <class T>
Array<T> to_array(const std::vector<T>& v) {
    Array<T> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

template <class T>
std::vector<T> from_array(const py::handle& h, const char* name) {
    auto arr = py::cast<py::array>(h);
    if (!py::isinstance<Array<T>>(arr) || arr.ndim() != 1)
        throw py::type_error(std::string("saved state field '") + name + "' has the wrong dtype or shape");
    const auto typed = py::cast<Array<T>>(arr);
    return std::vector<T>(typed.data(), typed.data() + typed.size());
}

template <class T>
py::dict checkpoints_to_dict(const ib::Checkpoints<T>& c, std::int64_t d) {
    py::dict out;
    out["steps"] = to_array(c.steps);
    Array<T> w({static_cast<py::ssize_t>(c.size()), static_cast<py::ssize_t>(d)});
    std::copy(c.w.begin(), c.w.end(), w.mutable_data());
    out["w"] = w;
    out["norm"] = to_array(c.norm);
    out["log_loss"] = to_array(c.log_loss);
    out["margin_l2"] = to_array(c.margin_l2);
    out["margin_linf"] = to_array(c.margin_linf);
    out["min_margin"] = to_array(c.min_margin);
    out["scale_exponent"] = to_array(c.scale_exponent);
    return out;
}

template <class T>
ib::Checkpoints<T> checkpoints_from_dict(const py::dict& in) {
    ib::Checkpoints<T> c;
    c.steps = from_array<std::uint64_t>(in["steps"], "steps");
    auto w = py::cast<py::array>(in["w"]);
    if (!py::isinstance<Array<T>>(w)) throw py::type_error("saved checkpoint w has the wrong dtype");
    const auto wt = py::cast<Array<T>>(w);
    c.w.assign(wt.data(), wt.data() + wt.size());
    c.norm = from_array<T>(in["norm"], "norm");
    c.log_loss = from_array<T>(in["log_loss"], "log_loss");
    c.margin_l2 = from_array<T>(in["margin_l2"], "margin_l2");
    c.margin_linf = from_array<T>(in["margin_linf"], "margin_linf");
    c.min_margin = from_array<T>(in["min_margin"], "min_margin");
    c.scale_exponent = from_array<std::int64_t>(in["scale_exponent"], "scale_exponent");
    return c;
}

template <class T>
py::dict save_state(const ib::RunBase<T>& run) {
    const ib::SavedState<T> s = run.save();
    py::dict out;
    out["t"] = s.t;
    out["w"] = to_array(s.w);
    out["scale_exponent"] = s.scale_exponent;
    out["rng"] = to_array(std::vector<std::uint64_t>(s.rng.begin(), s.rng.end()));
    out["sampler_position"] = s.sampler_position;
    out["permutation"] = to_array(s.permutation);
    py::dict opt;
    for (const auto& [name, values] : s.optimizer) opt[py::str(name)] = to_array(values);
    out["optimizer"] = opt;
    out["grid"] = to_array(s.grid);
    out["checkpoints"] = checkpoints_to_dict(s.checkpoints, run.data().d());
    return out;
}

template <class T>
void load_state(ib::RunBase<T>& run, const py::dict& in) {
    ib::SavedState<T> s;
    s.t = py::cast<std::uint64_t>(in["t"]);
    s.w = from_array<T>(in["w"], "w");
    s.scale_exponent = py::cast<std::int64_t>(in["scale_exponent"]);
    const auto rng = from_array<std::uint64_t>(in["rng"], "rng");
    if (rng.size() != 4) throw py::value_error("saved state field 'rng' must have 4 words");
    std::copy(rng.begin(), rng.end(), s.rng.begin());
    s.sampler_position = py::cast<std::int64_t>(in["sampler_position"]);
    s.permutation = from_array<std::int64_t>(in["permutation"], "permutation");
    for (const auto& item : py::cast<py::dict>(in["optimizer"]))
        s.optimizer[py::cast<std::string>(item.first)] = from_array<T>(item.second, "optimizer");
    s.grid = from_array<std::uint64_t>(in["grid"], "grid");
    s.checkpoints = checkpoints_from_dict<T>(py::cast<py::dict>(in["checkpoints"]));
    run.load(s);
}

// Advance with the GIL released, in chunks; between chunks Python signal handlers run, so Ctrl-C
// raises KeyboardInterrupt with the run left consistent at a step boundary.
template <class T>
void advance_interruptible(ib::RunBase<T>& run, std::uint64_t t_end) {
    const auto chunk = static_cast<std::uint64_t>(std::max(1.0, chunk_budget<T>() / run.cost_per_step()));
    while (run.t() < t_end) {
        const std::uint64_t stop = std::min(t_end, run.t() + std::min(chunk, t_end - run.t()));
        {
            py::gil_scoped_release release;
            run.advance(stop);
        }
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
}

// lanes: None (every run alone) or a partition of range(len(runs)) into groups of lane-compatible runs
// (RunBase::lane_compatible, at most kMaxLanes each); each group is advanced step-interleaved in one
// thread (lanes.hpp), the groups spread over the threads.
template <class T>
void advance_ensemble(const std::vector<ib::RunBase<T>*>& runs, const std::vector<std::uint64_t>& targets, int threads,
                      const std::optional<std::vector<std::vector<std::size_t>>>& lanes) {
    if (runs.size() != targets.size()) throw py::value_error("targets: need one target step per run");
    for (auto* r : runs)
        if (r == nullptr) throw py::type_error("runs: None is not a run");
    std::vector<std::vector<std::size_t>> groups;
    if (lanes) {
        std::vector<char> seen(runs.size(), 0);
        for (const auto& g : *lanes) {
            if (g.empty() || g.size() > ib::kMaxLanes)
                throw py::value_error("lanes: every group needs 1 to " + std::to_string(ib::kMaxLanes) + " runs");
            for (std::size_t k : g) {
                if (k >= runs.size() || seen[k]) throw py::value_error("lanes: must partition the run indices");
                seen[k] = 1;
                if (!runs[g[0]]->lane_compatible(*runs[k]))
                    throw py::value_error(
                        "lanes: runs of one group must share optimizer kind, loss, dtype and batch path");
            }
        }
        if (std::find(seen.begin(), seen.end(), 0) != seen.end())
            throw py::value_error("lanes: must partition the run indices");
        groups = *lanes;
    } else {
        for (std::size_t k = 0; k < runs.size(); ++k) groups.push_back({k});
    }
    const int workers = threads > 0 ? threads : ib::max_threads();
    std::vector<std::uint64_t> stops(runs.size());
    std::vector<std::vector<std::size_t>> active;
    while (true) {
        std::size_t count = 0;
        for (std::size_t k = 0; k < runs.size(); ++k) count += runs[k]->t() < targets[k];
        if (count == 0) break;
        // One round costs ~chunk_budget multiply-adds per worker, then signals are checked.
        const double share = chunk_budget<T>() * workers / static_cast<double>(count);
        for (std::size_t k = 0; k < runs.size(); ++k) {
            const std::uint64_t t = runs[k]->t();
            const auto chunk = static_cast<std::uint64_t>(std::max(1.0, share / runs[k]->cost_per_step()));
            stops[k] = t >= targets[k] ? t : t + std::min(chunk, targets[k] - t);
        }
        active.clear();
        for (const auto& g : groups) {
            std::vector<std::size_t> members;
            for (std::size_t k : g)
                if (runs[k]->t() < targets[k]) members.push_back(k);
            if (!members.empty()) active.push_back(std::move(members));
        }
        {
            py::gil_scoped_release release;
            ib::advance_groups(runs, stops, active, threads);
        }
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
}

}  // namespace bindings_detail

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
            "set_grid",
            [](RunBase& run, const Array<std::uint64_t>& grid) {
                run.set_grid(std::vector<std::uint64_t>(grid.data(), grid.data() + grid.size()));
            },
            py::arg("grid").noconvert())
        .def_property_readonly("grid", [](const RunBase& run) { return to_array(run.grid()); })
        .def_property_readonly("t", &RunBase::t)
        .def_property_readonly("w",
                               [](const RunBase& run) {
                                   const auto& w = run.w();
                                   return to_array(std::vector<T>(w.data(), w.data() + w.size()));
                               })
        .def_property_readonly("scale_exponent", &RunBase::scale_exponent)
        .def_property_readonly("cost_per_step", &RunBase::cost_per_step)
        .def("record", &RunBase::record, "Record a checkpoint at the current step.")
        .def("checkpoints", [](const RunBase& run) { return checkpoints_to_dict(run.checkpoints(), run.data().d()); })
        .def("save_state", &save_state<T>)
        .def("load_state", &load_state<T>, py::arg("state"));

    m.def(("advance_ensemble_" + sfx).c_str(), &advance_ensemble<T>, py::arg("runs"), py::arg("targets"),
          py::arg("threads") = 0, py::arg("lanes") = py::none(),
          "Advance runs[k] to targets[k] for all k on OpenMP threads (GIL released, Ctrl-C checked between rounds); "
          "lanes: groups of run indices advanced step-interleaved in one thread each.");
    m.def(("lane_compatible_" + sfx).c_str(), [](const RunBase& a, const RunBase& b) { return a.lane_compatible(b); },
          py::arg("a"), py::arg("b"),
          "True when the two runs can share a lane group (same compiled optimizer, loss, dtype and batch path).");
    m.attr(("max_lanes_" + sfx).c_str()) = ib::kMaxLanes;
}
