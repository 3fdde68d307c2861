// Conversion of a run's complete state (ib::SavedState) to and from a Python dict of NumPy arrays.
// Shapes and dtypes are checked here, every size against the run in RunBase::load.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

namespace bindings_detail {

namespace ib = implicit_bias;

template <class T>
using Array = py::array_t<T, py::array::c_style>;

template <class T>
Array<T> to_array(const std::vector<T>& v) {
    Array<T> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

template <class T>
std::vector<T> from_array(const py::handle& h, const std::string& name) {
    auto arr = py::cast<py::array>(h);
    if (!py::isinstance<Array<T>>(arr) || arr.ndim() != 1)
        throw py::type_error("saved state field '" + name + "' has the wrong dtype or shape (need 1-D)");
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
ib::Checkpoints<T> checkpoints_from_dict(const py::dict& in, std::int64_t d) {
    ib::Checkpoints<T> c;
    c.steps = from_array<std::uint64_t>(in["steps"], "checkpoints/steps");
    auto w = py::cast<py::array>(in["w"]);
    if (!py::isinstance<Array<T>>(w)) throw py::type_error("saved state field 'checkpoints/w' has the wrong dtype");
    if (w.ndim() != 2 || w.shape(1) != d || static_cast<std::size_t>(w.shape(0)) != c.steps.size())
        throw py::value_error("saved state field 'checkpoints/w' must have shape (" + std::to_string(c.steps.size()) +
                              ", " + std::to_string(d) + ") (one row per checkpoint step)");
    const auto wt = py::cast<Array<T>>(w);
    c.w.assign(wt.data(), wt.data() + wt.size());
    c.norm = from_array<T>(in["norm"], "checkpoints/norm");
    c.log_loss = from_array<T>(in["log_loss"], "checkpoints/log_loss");
    c.margin_l2 = from_array<T>(in["margin_l2"], "checkpoints/margin_l2");
    c.margin_linf = from_array<T>(in["margin_linf"], "checkpoints/margin_linf");
    c.min_margin = from_array<T>(in["min_margin"], "checkpoints/min_margin");
    c.scale_exponent = from_array<std::int64_t>(in["scale_exponent"], "checkpoints/scale_exponent");
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

// The dict's fields into a SavedState, then RunBase::load (which checks every size before it changes
// anything and raises std::invalid_argument, i.e. ValueError, naming the field).
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
    for (const auto& item : py::cast<py::dict>(in["optimizer"])) {
        const auto name = py::cast<std::string>(item.first);
        s.optimizer[name] = from_array<T>(item.second, "optimizer/" + name);
    }
    s.grid = from_array<std::uint64_t>(in["grid"], "grid");
    s.checkpoints = checkpoints_from_dict<T>(py::cast<py::dict>(in["checkpoints"]), run.data().d());
    run.load(s);
}

}  // namespace bindings_detail
