// Enums and the run configuration.
#include <type_traits>

#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

namespace ib = implicit_bias;

namespace {

// The traits of one optimizer, read from its C++ struct (the same constants the run loop uses).
template <template <class> class Opt>
py::dict traits_of() {
    using O = Opt<double>;
    constexpr bool epoch_map = ib::detail::is_epoch_map<O>;
    py::dict out;
    out["full_batch"] = O::full_batch;                            // one step = one full-batch pass (AdamProxy)
    out["epoch_map"] = epoch_map;                                 // one step = one epoch of cyclic batches
    out["whole_pass"] = O::full_batch || epoch_map;               // every step sees all n samples
    out["stateless"] = O::stateless;                              // no state carried from step to step
    out["scale_invariant"] = !std::is_same_v<O, ib::GD<double>>;  // invariant to one factor on all gradients
    return out;
}

py::dict optimizer_traits(ib::OptimizerKind kind) {
    switch (kind) {
        case ib::OptimizerKind::gd:
            return traits_of<ib::GD>();
        case ib::OptimizerKind::sign_gd:
            return traits_of<ib::SignGD>();
        case ib::OptimizerKind::adam:
            return traits_of<ib::Adam>();
        case ib::OptimizerKind::adam_proxy:
            return traits_of<ib::AdamProxy>();
        case ib::OptimizerKind::signum:
            return traits_of<ib::Signum>();
        case ib::OptimizerKind::adagrad:
            return traits_of<ib::AdaGrad>();
        case ib::OptimizerKind::lion:
            return traits_of<ib::Lion>();
        case ib::OptimizerKind::adam_epoch_map:
            return traits_of<ib::AdamEpochMap>();
    }
    throw py::value_error("kind: unknown optimizer kind");
}

}  // namespace

void register_config(py::module_& m) {
    py::enum_<ib::OptimizerKind>(m, "OptimizerKind")
        .value("gd", ib::OptimizerKind::gd)
        .value("sign_gd", ib::OptimizerKind::sign_gd)
        .value("adam", ib::OptimizerKind::adam)
        .value("adam_proxy", ib::OptimizerKind::adam_proxy)
        .value("signum", ib::OptimizerKind::signum)
        .value("adagrad", ib::OptimizerKind::adagrad)
        .value("lion", ib::OptimizerKind::lion)
        .value("adam_epoch_map", ib::OptimizerKind::adam_epoch_map);
    py::enum_<ib::LossKind>(m, "LossKind")
        .value("logistic", ib::LossKind::logistic)
        .value("exponential", ib::LossKind::exponential);
    py::enum_<ib::ScheduleKind>(m, "ScheduleKind")
        .value("constant", ib::ScheduleKind::constant)
        .value("polynomial", ib::ScheduleKind::polynomial)
        .value("step_decay", ib::ScheduleKind::step_decay);
    py::enum_<ib::Order>(m, "Order")
        .value("cyclic", ib::Order::cyclic)
        .value("reshuffle", ib::Order::reshuffle)
        .value("replacement", ib::Order::replacement);

    m.def("optimizer_traits", &optimizer_traits, py::arg("kind"),
          "Traits of an optimizer kind from its C++ struct: full_batch, epoch_map, whole_pass, stateless, "
          "scale_invariant.");
    m.attr("max_threads_cap") = ib::kMaxThreads;
    m.attr("max_scale_exponent") = ib::kMaxScaleExponent;
    m.attr("data_exponent_range_float64") = py::make_tuple(ib::kDataExponentMin<double>, ib::kDataExponentMax<double>);
    m.attr("data_exponent_range_longdouble") =
        py::make_tuple(ib::kDataExponentMin<long double>, ib::kDataExponentMax<long double>);

    py::class_<ib::OptimizerParams>(m, "OptimizerParams")
        .def(py::init<>())
        .def_readwrite("kind", &ib::OptimizerParams::kind)
        .def_readwrite("beta1", &ib::OptimizerParams::beta1)
        .def_readwrite("beta2", &ib::OptimizerParams::beta2)
        .def_readwrite("eps", &ib::OptimizerParams::eps)
        .def_readwrite("beta", &ib::OptimizerParams::beta)
        .def_readwrite("bias_correction", &ib::OptimizerParams::bias_correction);

    py::class_<ib::RunConfig>(m, "RunConfig")
        .def(py::init<>())
        .def_readwrite("optimizer", &ib::RunConfig::optimizer)
        .def_readwrite("loss", &ib::RunConfig::loss)
        .def_readwrite("schedule", &ib::RunConfig::schedule)
        .def_readwrite("eta0", &ib::RunConfig::eta0)
        .def_readwrite("power", &ib::RunConfig::power)
        .def_readwrite("factor", &ib::RunConfig::factor)
        .def_readwrite("every", &ib::RunConfig::every)
        .def_readwrite("order", &ib::RunConfig::order)
        .def_readwrite("batch_size", &ib::RunConfig::batch_size)
        .def_readwrite("seed", &ib::RunConfig::seed);
}
