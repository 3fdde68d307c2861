// Enums and the run configuration.
#include <implicit_bias/implicit_bias.hpp>

#include "bindings.hpp"

namespace ib = implicit_bias;

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
