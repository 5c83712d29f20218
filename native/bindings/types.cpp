// Plain structs as Python classes with keyword constructors and read/write fields.
#include <pybind11/stl.h>

#include "estimator/types.hpp"
#include "register.hpp"

namespace py = pybind11;

namespace estimator::bindings {

void register_types(py::module_& m) {
    py::enum_<OpKind>(m, "OpKind")
        .value("matmul", OpKind::matmul).value("conv2d", OpKind::conv2d)
        .value("attention", OpKind::attention).value("norm", OpKind::norm)
        .value("elementwise", OpKind::elementwise).value("embedding", OpKind::embedding)
        .value("pooling", OpKind::pooling).value("loss", OpKind::loss);
    py::enum_<TpSplit>(m, "TpSplit")
        .value("none", TpSplit::none).value("column", TpSplit::column).value("row", TpSplit::row)
        .value("heads", TpSplit::heads).value("sequence", TpSplit::sequence);
    py::enum_<Precision>(m, "Precision")
        .value("fp32", Precision::fp32).value("tf32", Precision::tf32).value("fp16", Precision::fp16)
        .value("bf16", Precision::bf16).value("fp8", Precision::fp8);
    py::enum_<Optimizer>(m, "Optimizer")
        .value("sgd", Optimizer::sgd).value("momentum", Optimizer::momentum)
        .value("adam", Optimizer::adam).value("adamw", Optimizer::adamw)
        .value("adafactor", Optimizer::adafactor).value("lamb", Optimizer::lamb);
    py::enum_<Recompute>(m, "Recompute")
        .value("none", Recompute::none).value("selective", Recompute::selective)
        .value("full", Recompute::full);

    py::enum_<AttentionKernel>(m, "AttentionKernel")
        .value("graph", AttentionKernel::graph).value("fused", AttentionKernel::fused)
        .value("unfused", AttentionKernel::unfused).value("eager", AttentionKernel::eager);

    py::class_<Op>(m, "Op")
        .def(py::init<>())
        .def_readwrite("kind", &Op::kind).def_readwrite("name", &Op::name)
        .def_readwrite("m", &Op::m).def_readwrite("k", &Op::k).def_readwrite("n", &Op::n)
        .def_readwrite("heads", &Op::heads).def_readwrite("kv_heads", &Op::kv_heads)
        .def_readwrite("head_dim", &Op::head_dim).def_readwrite("seq_kv", &Op::seq_kv)
        .def_readwrite("elements", &Op::elements).def_readwrite("in_elements", &Op::in_elements)
        .def_readwrite("inputs", &Op::inputs)
        .def_readwrite("flops_per_element", &Op::flops_per_element)
        .def_readwrite("params", &Op::params).def_readwrite("weight", &Op::weight)
        .def_readwrite("causal", &Op::causal).def_readwrite("fused", &Op::fused)
        .def_readwrite("eager", &Op::eager)
        .def_readwrite("dropout", &Op::dropout).def_readwrite("saves_input", &Op::saves_input)
        .def_readwrite("mask_bytes_per_element", &Op::mask_bytes_per_element)
        .def_readwrite("batch_stats", &Op::batch_stats)
        .def_readwrite("bias", &Op::bias)
        .def_readwrite("fp32_stream", &Op::fp32_stream)
        .def_readwrite("casts_input", &Op::casts_input)
        .def_readwrite("reads_output", &Op::reads_output)
        .def_readwrite("follows_norm", &Op::follows_norm)
        .def_readwrite("tp", &Op::tp).def_readwrite("expert", &Op::expert)
        .def_readwrite("high_precision", &Op::high_precision)
        .def_readwrite("param_tensors", &Op::param_tensors);
    py::class_<Segment>(m, "Segment")
        .def(py::init<>())
        .def_readwrite("name", &Segment::name).def_readwrite("ops", &Segment::ops)
        .def_readwrite("repeat", &Segment::repeat);
    py::class_<Graph>(m, "Graph")
        .def(py::init<>())
        .def_readwrite("name", &Graph::name).def_readwrite("segments", &Graph::segments);
    py::class_<Device>(m, "Device")
        .def(py::init<>())
        .def_readwrite("peak_matmul_flops", &Device::peak_matmul_flops)
        .def_readwrite("peak_vector_flops", &Device::peak_vector_flops)
        .def_readwrite("peak_high_flops", &Device::peak_high_flops)
        .def_readwrite("eff_high", &Device::eff_high)
        .def_readwrite("bandwidth_Bps", &Device::bandwidth_Bps)
        .def_readwrite("eff_matmul", &Device::eff_matmul).def_readwrite("eff_conv", &Device::eff_conv)
        .def_readwrite("eff_memory", &Device::eff_memory)
        .def_readwrite("eff_attention", &Device::eff_attention).def_readwrite("launch_s", &Device::launch_s)
        .def_readwrite("host_s", &Device::host_s)
        .def_readwrite("foreach_traffic", &Device::foreach_traffic)
        .def_readwrite("strided_eff", &Device::strided_eff)
        .def_readwrite("loop_tensor_s", &Device::loop_tensor_s)
        .def_readwrite("attention_d64", &Device::attention_d64)
        .def_readwrite("operand_bytes", &Device::operand_bytes)
        .def_readwrite("misaligned_8B", &Device::misaligned_8B)
        .def_readwrite("misaligned_4B", &Device::misaligned_4B)
        .def_readwrite("misaligned_2B", &Device::misaligned_2B)
        .def_readwrite("capacity_bytes", &Device::capacity_bytes)
        .def_readwrite("runtime_context_bytes", &Device::runtime_context_bytes)
        .def_readwrite("fragmentation", &Device::fragmentation)
        .def_readwrite("host_link_Bps", &Device::host_link_Bps)
        .def_readwrite("host_memory_Bps", &Device::host_memory_Bps);
    py::class_<Network>(m, "Network")
        .def(py::init<>())
        .def_readwrite("devices_per_node", &Network::devices_per_node)
        .def_readwrite("nodes", &Network::nodes)
        .def_readwrite("intra_Bps", &Network::intra_Bps).def_readwrite("inter_Bps", &Network::inter_Bps)
        .def_readwrite("intra_latency_s", &Network::intra_latency_s)
        .def_readwrite("inter_latency_s", &Network::inter_latency_s)
        .def_readwrite("intra_eff", &Network::intra_eff).def_readwrite("inter_eff", &Network::inter_eff)
        .def_readwrite("torus_axes", &Network::torus_axes)
        .def_readwrite("torus_link_Bps", &Network::torus_link_Bps);
    py::class_<Config>(m, "Config")
        .def(py::init<>())
        .def_readwrite("micro_batch", &Config::micro_batch).def_readwrite("grad_accum", &Config::grad_accum)
        .def_readwrite("tp", &Config::tp).def_readwrite("pp", &Config::pp).def_readwrite("dp", &Config::dp)
        .def_readwrite("cp", &Config::cp).def_readwrite("vp", &Config::vp).def_readwrite("ep", &Config::ep)
        .def_readwrite("sequence_parallel", &Config::sequence_parallel)
        .def_readwrite("zero", &Config::zero).def_readwrite("recompute", &Config::recompute)
        .def_readwrite("optimizer", &Config::optimizer).def_readwrite("precision", &Config::precision)
        .def_readwrite("attention", &Config::attention)
        .def_readwrite("autocast", &Config::autocast)
        .def_readwrite("fuse_norm_activation", &Config::fuse_norm_activation)
        .def_readwrite("low_precision_norm", &Config::low_precision_norm)
        .def_readwrite("foreach_optimizer", &Config::foreach_optimizer)
        .def_readwrite("loop_optimizer", &Config::loop_optimizer)
        .def_readwrite("fsdp", &Config::fsdp)
        .def_readwrite("fused_loss", &Config::fused_loss)
        .def_readwrite("blocking_gathers", &Config::blocking_gathers)
        .def_readwrite("tp_overlap", &Config::tp_overlap)
        .def_readwrite("offload_optimizer", &Config::offload_optimizer);

    py::class_<OpCost>(m, "OpCost")
        .def_readonly("fwd_flops", &OpCost::fwd_flops).def_readonly("bwd_flops", &OpCost::bwd_flops)
        .def_readonly("fwd_bytes", &OpCost::fwd_bytes).def_readonly("bwd_bytes", &OpCost::bwd_bytes)
        .def_readonly("fwd_kernels", &OpCost::fwd_kernels).def_readonly("bwd_kernels", &OpCost::bwd_kernels)
        .def_readonly("saved_bytes", &OpCost::saved_bytes)
        .def_readonly("saved_quadratic_bytes", &OpCost::saved_quadratic_bytes)
        .def_readonly("input_bytes", &OpCost::input_bytes)
        .def_readonly("transient_bytes", &OpCost::transient_bytes)
        .def_readonly("fwd_side_bytes", &OpCost::fwd_side_bytes)
        .def_readonly("bwd_side_bytes", &OpCost::bwd_side_bytes)
        .def_readonly("fwd_strided_bytes", &OpCost::fwd_strided_bytes)
        .def_readonly("bwd_strided_bytes", &OpCost::bwd_strided_bytes);
    py::class_<OpTime>(m, "OpTime")
        .def_readonly("compute_s", &OpTime::compute_s).def_readonly("memory_s", &OpTime::memory_s)
        .def_readonly("overhead_s", &OpTime::overhead_s).def_property_readonly("total", &OpTime::total);
    py::class_<OpReport>(m, "OpReport")
        .def_readonly("name", &OpReport::name).def_readonly("repeat", &OpReport::repeat)
        .def_readonly("cost", &OpReport::cost).def_readonly("fwd", &OpReport::fwd)
        .def_readonly("bwd", &OpReport::bwd);
    py::class_<MemoryBreakdown>(m, "MemoryBreakdown")
        .def_readonly("weights", &MemoryBreakdown::weights)
        .def_readonly("gradients", &MemoryBreakdown::gradients)
        .def_readonly("optimizer", &MemoryBreakdown::optimizer)
        .def_readonly("activations", &MemoryBreakdown::activations)
        .def_readonly("runtime_context", &MemoryBreakdown::runtime_context)
        .def_readonly("fragmentation", &MemoryBreakdown::fragmentation)
        .def_property_readonly("total", &MemoryBreakdown::total);
    py::class_<TimeBreakdown>(m, "TimeBreakdown")
        .def_readonly("compute", &TimeBreakdown::compute)
        .def_readonly("memory_bound", &TimeBreakdown::memory_bound)
        .def_readonly("overhead", &TimeBreakdown::overhead)
        .def_readonly("recompute", &TimeBreakdown::recompute)
        .def_readonly("tp_communication", &TimeBreakdown::tp_communication)
        .def_readonly("cp_communication", &TimeBreakdown::cp_communication)
        .def_readonly("ep_communication", &TimeBreakdown::ep_communication)
        .def_readonly("pp_communication", &TimeBreakdown::pp_communication)
        .def_readonly("dp_communication", &TimeBreakdown::dp_communication)
        .def_readonly("pipeline_bubble", &TimeBreakdown::pipeline_bubble)
        .def_readonly("optimizer", &TimeBreakdown::optimizer)
        .def_property_readonly("communication", &TimeBreakdown::communication)
        .def_property_readonly("total", &TimeBreakdown::total);
    py::class_<Evaluation>(m, "Evaluation")
        .def_readonly("step_time_s", &Evaluation::step_time_s)
        .def_readonly("time", &Evaluation::time).def_readonly("memory", &Evaluation::memory)
        .def_readonly("capacity_bytes", &Evaluation::capacity_bytes)
        .def_readonly("fits", &Evaluation::fits)
        .def_readonly("params_total", &Evaluation::params_total)
        .def_readonly("params_per_device", &Evaluation::params_per_device)
        .def_readonly("model_flops_per_sample", &Evaluation::model_flops_per_sample)
        .def_readonly("hardware_flops_per_device", &Evaluation::hardware_flops_per_device)
        .def_readonly("worst_memory_stage", &Evaluation::worst_memory_stage)
        .def_readonly("worst_time_stage", &Evaluation::worst_time_stage)
        .def_readonly("stage_time_imbalance", &Evaluation::stage_time_imbalance)
        .def_readonly("stage_memory_imbalance", &Evaluation::stage_memory_imbalance)
        .def_readonly("ops", &Evaluation::ops);
}

}  // namespace estimator::bindings
