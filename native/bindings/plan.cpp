// The planner (plan.hpp): its request and result structs, and `plan`, which releases the GIL
// for the whole search and takes it back only to report progress.
#include <optional>

#include <pybind11/stl.h>

#include "estimator/plan.hpp"
#include "register.hpp"

namespace py = pybind11;

namespace estimator::bindings {

void register_plan(py::module_& m) {
    py::class_<PlanSpace>(m, "PlanSpace")
        .def(py::init<>())
        .def_readwrite("global_batch", &PlanSpace::global_batch)
        .def_readwrite("tokens_per_sample", &PlanSpace::tokens_per_sample)
        .def_readwrite("max_tp", &PlanSpace::max_tp)
        .def_readwrite("max_cp", &PlanSpace::max_cp)
        .def_readwrite("max_vp", &PlanSpace::max_vp)
        .def_readwrite("max_micro_batch", &PlanSpace::max_micro_batch)
        .def_readwrite("ep", &PlanSpace::ep)
        .def_readwrite("optimizer", &PlanSpace::optimizer)
        .def_readwrite("precision", &PlanSpace::precision)
        .def_readwrite("attention", &PlanSpace::attention)
        .def_readwrite("autocast", &PlanSpace::autocast)
        .def_readwrite("fuse_norm_activation", &PlanSpace::fuse_norm_activation)
        .def_readwrite("low_precision_norm", &PlanSpace::low_precision_norm)
        .def_readwrite("foreach_optimizer", &PlanSpace::foreach_optimizer)
        .def_readwrite("loop_optimizer", &PlanSpace::loop_optimizer)
        .def_readwrite("fsdp", &PlanSpace::fsdp)
        .def_readwrite("fused_loss", &PlanSpace::fused_loss)
        .def_readwrite("blocking_gathers", &PlanSpace::blocking_gathers)
        .def_readwrite("tp_overlap", &PlanSpace::tp_overlap)
        .def_readwrite("recompute", &PlanSpace::recompute)
        .def_readwrite("zero", &PlanSpace::zero)
        .def_readwrite("sequence_parallel", &PlanSpace::sequence_parallel)
        .def_readwrite("top_k", &PlanSpace::top_k)
        .def_readwrite("threads", &PlanSpace::threads);
    py::class_<PlanCandidate>(m, "PlanCandidate")
        .def_readonly("config", &PlanCandidate::config)
        .def_readonly("step_time_s", &PlanCandidate::step_time_s)
        .def_readonly("time", &PlanCandidate::time)
        .def_readonly("memory", &PlanCandidate::memory)
        .def_readonly("memory_bytes", &PlanCandidate::memory_bytes)
        .def_readonly("fits", &PlanCandidate::fits)
        .def_readonly("index", &PlanCandidate::index);
    py::class_<PlanValue>(m, "PlanValue")
        .def_readonly("value", &PlanValue::value)
        .def_readonly("configs", &PlanValue::configs)
        .def_readonly("fitting", &PlanValue::fitting)
        .def_readonly("best", &PlanValue::best)
        .def_readonly("fastest", &PlanValue::fastest);
    py::class_<PlanDimension>(m, "PlanDimension")
        .def_readonly("name", &PlanDimension::name)
        .def_readonly("values", &PlanDimension::values);
    py::class_<PlanResult>(m, "PlanResult")
        .def_readonly("plans", &PlanResult::plans)
        .def_readonly("fastest", &PlanResult::fastest)
        .def_readonly("leanest", &PlanResult::leanest)
        .def_readonly("frontier", &PlanResult::frontier)
        .def_readonly("space", &PlanResult::space)
        .def_readonly("fitting", &PlanResult::fitting)
        .def_readonly("dimensions", &PlanResult::dimensions);

    m.def("plan_space_size", &plan_space_size, py::arg("graph"), py::arg("network"),
          py::arg("space"), py::call_guard<py::gil_scoped_release>(),
          "How many configurations `plan` would evaluate (enumeration only).");
    m.def("plan_candidates", &plan_candidates, py::arg("graph"), py::arg("network"),
          py::arg("space"), py::call_guard<py::gil_scoped_release>(),
          "The configurations `plan` evaluates, in enumeration order.");
    m.def(
        "plan",
        [](const Graph& graph, const Device& device, const Network& network,
           const PlanSpace& space, const py::object& progress, const std::optional<Graph>& timed) {
            // Called with the GIL released; takes it to check for Ctrl-C and to report. A Python
            // exception raised here cancels the search and is rethrown by `plan`.
            const py::object* callback = progress.is_none() ? nullptr : &progress;
            const PlanProgress report = [callback](std::int64_t done, std::int64_t total) {
                py::gil_scoped_acquire gil;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
                if (callback != nullptr) (*callback)(done, total);
            };
            py::gil_scoped_release release;
            return plan(graph, device, network, space, report, timed ? &*timed : nullptr);
        },
        py::arg("graph"), py::arg("device"), py::arg("network"), py::arg("space"),
        py::arg("progress") = py::none(), py::arg("timed_graph") = py::none(),
        "Searches the configurations of `space` for the fastest that fit; `progress(done, total)` is called "
        "about every 0.1 s. With `timed_graph`, step times come from it and memory from `graph`.");
}

}  // namespace estimator::bindings
