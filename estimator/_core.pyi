# Generated from the compiled module by pybind11-stubgen (see README, Development); do not edit.
"""
estimator's compiled core: operator costs, roofline, memory, collectives, sweeps.
"""
from __future__ import annotations
import collections.abc
import typing
__all__: list[str] = ['AttentionKernel', 'Config', 'Device', 'Evaluation', 'Graph', 'Link', 'MemoryBreakdown', 'Network', 'Op', 'OpCost', 'OpKind', 'OpReport', 'OpTime', 'Optimizer', 'PlanCandidate', 'PlanDimension', 'PlanResult', 'PlanSpace', 'PlanValue', 'Precision', 'Recompute', 'Segment', 'TimeBreakdown', 'TpSplit', 'alltoall_s', 'evaluate', 'evaluate_step_time', 'group_allreduce_s', 'group_alltoall_s', 'group_reduce_scatter_s', 'max_micro_batch', 'memory_per_device', 'misalignment_factor', 'op_cost', 'p2p_s', 'plan', 'plan_candidates', 'plan_space_size', 'ring_allreduce_s', 'ring_reduce_scatter_s', 'roofline', 'shard', 'torus_allreduce_s', 'torus_alltoall_s', 'torus_reduce_scatter_s', 'torus_shape', 'tree_allreduce_s']
class OpKind:
    """
    Members:
    
      matmul
    
      conv2d
    
      attention
    
      norm
    
      elementwise
    
      embedding
    
      pooling
    
      loss
    """
    __members__: typing.ClassVar[dict[str, OpKind]]
    attention: typing.ClassVar[OpKind]
    conv2d: typing.ClassVar[OpKind]
    elementwise: typing.ClassVar[OpKind]
    embedding: typing.ClassVar[OpKind]
    loss: typing.ClassVar[OpKind]
    matmul: typing.ClassVar[OpKind]
    norm: typing.ClassVar[OpKind]
    pooling: typing.ClassVar[OpKind]
    @typing.overload
    def __eq__(self, other: OpKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: OpKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class TpSplit:
    """
    Members:
    
      none
    
      column
    
      row
    
      heads
    
      sequence
    """
    __members__: typing.ClassVar[dict[str, TpSplit]]
    column: typing.ClassVar[TpSplit]
    heads: typing.ClassVar[TpSplit]
    none: typing.ClassVar[TpSplit]
    row: typing.ClassVar[TpSplit]
    sequence: typing.ClassVar[TpSplit]
    @typing.overload
    def __eq__(self, other: TpSplit) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: TpSplit) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Precision:
    """
    Members:
    
      fp32
    
      tf32
    
      fp16
    
      bf16
    
      fp8
    """
    __members__: typing.ClassVar[dict[str, Precision]]
    bf16: typing.ClassVar[Precision]
    fp16: typing.ClassVar[Precision]
    fp32: typing.ClassVar[Precision]
    fp8: typing.ClassVar[Precision]
    tf32: typing.ClassVar[Precision]
    @typing.overload
    def __eq__(self, other: Precision) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Precision) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Optimizer:
    """
    Members:
    
      sgd
    
      momentum
    
      adam
    
      adamw
    
      adafactor
    
      lamb
    """
    __members__: typing.ClassVar[dict[str, Optimizer]]
    adafactor: typing.ClassVar[Optimizer]
    adam: typing.ClassVar[Optimizer]
    adamw: typing.ClassVar[Optimizer]
    lamb: typing.ClassVar[Optimizer]
    momentum: typing.ClassVar[Optimizer]
    sgd: typing.ClassVar[Optimizer]
    @typing.overload
    def __eq__(self, other: Optimizer) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Optimizer) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Recompute:
    """
    Members:
    
      none
    
      selective
    
      full
    """
    __members__: typing.ClassVar[dict[str, Recompute]]
    full: typing.ClassVar[Recompute]
    none: typing.ClassVar[Recompute]
    selective: typing.ClassVar[Recompute]
    @typing.overload
    def __eq__(self, other: Recompute) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Recompute) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class AttentionKernel:
    """
    Members:
    
      graph
    
      fused
    
      unfused
    
      eager
    """
    __members__: typing.ClassVar[dict[str, AttentionKernel]]
    eager: typing.ClassVar[AttentionKernel]
    fused: typing.ClassVar[AttentionKernel]
    graph: typing.ClassVar[AttentionKernel]
    unfused: typing.ClassVar[AttentionKernel]
    @typing.overload
    def __eq__(self, other: AttentionKernel) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: AttentionKernel) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Op:
    batch_stats: bool
    bias: bool
    casts_input: bool
    causal: bool
    dropout: bool
    eager: bool
    expert: bool
    follows_norm: bool
    fp32_stream: bool
    fused: bool
    high_precision: bool
    kind: OpKind
    name: str
    reads_output: bool
    saves_input: bool
    tp: TpSplit
    weight: bool
    def __init__(self) -> None:
        ...
    @property
    def elements(self) -> float:
        ...
    @elements.setter
    def elements(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def flops_per_element(self) -> float:
        ...
    @flops_per_element.setter
    def flops_per_element(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def head_dim(self) -> float:
        ...
    @head_dim.setter
    def head_dim(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def heads(self) -> float:
        ...
    @heads.setter
    def heads(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def in_elements(self) -> float:
        ...
    @in_elements.setter
    def in_elements(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def inputs(self) -> float:
        ...
    @inputs.setter
    def inputs(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def k(self) -> float:
        ...
    @k.setter
    def k(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def kv_heads(self) -> float:
        ...
    @kv_heads.setter
    def kv_heads(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def m(self) -> float:
        ...
    @m.setter
    def m(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def mask_bytes_per_element(self) -> float:
        ...
    @mask_bytes_per_element.setter
    def mask_bytes_per_element(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def n(self) -> float:
        ...
    @n.setter
    def n(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def param_tensors(self) -> float:
        ...
    @param_tensors.setter
    def param_tensors(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def params(self) -> float:
        ...
    @params.setter
    def params(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def seq_kv(self) -> float:
        ...
    @seq_kv.setter
    def seq_kv(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class Segment:
    name: str
    def __init__(self) -> None:
        ...
    @property
    def ops(self) -> list[Op]:
        ...
    @ops.setter
    def ops(self, arg0: collections.abc.Sequence[Op]) -> None:
        ...
    @property
    def repeat(self) -> int:
        ...
    @repeat.setter
    def repeat(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class Graph:
    name: str
    def __init__(self) -> None:
        ...
    @property
    def segments(self) -> list[Segment]:
        ...
    @segments.setter
    def segments(self, arg0: collections.abc.Sequence[Segment]) -> None:
        ...
class Device:
    def __init__(self) -> None:
        ...
    @property
    def attention_d64(self) -> float:
        ...
    @attention_d64.setter
    def attention_d64(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def bandwidth_Bps(self) -> float:
        ...
    @bandwidth_Bps.setter
    def bandwidth_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def capacity_bytes(self) -> float:
        ...
    @capacity_bytes.setter
    def capacity_bytes(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eff_attention(self) -> float:
        ...
    @eff_attention.setter
    def eff_attention(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eff_conv(self) -> float:
        ...
    @eff_conv.setter
    def eff_conv(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eff_high(self) -> float:
        ...
    @eff_high.setter
    def eff_high(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eff_matmul(self) -> float:
        ...
    @eff_matmul.setter
    def eff_matmul(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def eff_memory(self) -> float:
        ...
    @eff_memory.setter
    def eff_memory(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def foreach_traffic(self) -> float:
        ...
    @foreach_traffic.setter
    def foreach_traffic(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def fragmentation(self) -> float:
        ...
    @fragmentation.setter
    def fragmentation(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def host_link_Bps(self) -> float:
        ...
    @host_link_Bps.setter
    def host_link_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def host_memory_Bps(self) -> float:
        ...
    @host_memory_Bps.setter
    def host_memory_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def host_s(self) -> float:
        ...
    @host_s.setter
    def host_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def launch_s(self) -> float:
        ...
    @launch_s.setter
    def launch_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def loop_tensor_s(self) -> float:
        ...
    @loop_tensor_s.setter
    def loop_tensor_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def misaligned_2B(self) -> float:
        ...
    @misaligned_2B.setter
    def misaligned_2B(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def misaligned_4B(self) -> float:
        ...
    @misaligned_4B.setter
    def misaligned_4B(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def misaligned_8B(self) -> float:
        ...
    @misaligned_8B.setter
    def misaligned_8B(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def operand_bytes(self) -> float:
        ...
    @operand_bytes.setter
    def operand_bytes(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def peak_high_flops(self) -> float:
        ...
    @peak_high_flops.setter
    def peak_high_flops(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def peak_matmul_flops(self) -> float:
        ...
    @peak_matmul_flops.setter
    def peak_matmul_flops(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def peak_vector_flops(self) -> float:
        ...
    @peak_vector_flops.setter
    def peak_vector_flops(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def runtime_context_bytes(self) -> float:
        ...
    @runtime_context_bytes.setter
    def runtime_context_bytes(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def strided_eff(self) -> float:
        ...
    @strided_eff.setter
    def strided_eff(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class Network:
    def __init__(self) -> None:
        ...
    @property
    def devices_per_node(self) -> int:
        ...
    @devices_per_node.setter
    def devices_per_node(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def inter_Bps(self) -> float:
        ...
    @inter_Bps.setter
    def inter_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def inter_eff(self) -> float:
        ...
    @inter_eff.setter
    def inter_eff(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def inter_latency_s(self) -> float:
        ...
    @inter_latency_s.setter
    def inter_latency_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def intra_Bps(self) -> float:
        ...
    @intra_Bps.setter
    def intra_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def intra_eff(self) -> float:
        ...
    @intra_eff.setter
    def intra_eff(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def intra_latency_s(self) -> float:
        ...
    @intra_latency_s.setter
    def intra_latency_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def nodes(self) -> int:
        ...
    @nodes.setter
    def nodes(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def torus_axes(self) -> int:
        ...
    @torus_axes.setter
    def torus_axes(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def torus_link_Bps(self) -> float:
        ...
    @torus_link_Bps.setter
    def torus_link_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class Config:
    attention: AttentionKernel
    autocast: bool
    blocking_gathers: bool
    foreach_optimizer: bool
    fsdp: bool
    fuse_norm_activation: bool
    fused_loss: bool
    loop_optimizer: bool
    low_precision_norm: bool
    offload_optimizer: bool
    optimizer: Optimizer
    precision: Precision
    recompute: Recompute
    sequence_parallel: bool
    tp_overlap: bool
    def __init__(self) -> None:
        ...
    @property
    def cp(self) -> int:
        ...
    @cp.setter
    def cp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def dp(self) -> int:
        ...
    @dp.setter
    def dp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def ep(self) -> int:
        ...
    @ep.setter
    def ep(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def grad_accum(self) -> int:
        ...
    @grad_accum.setter
    def grad_accum(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def micro_batch(self) -> int:
        ...
    @micro_batch.setter
    def micro_batch(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def pp(self) -> int:
        ...
    @pp.setter
    def pp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def tp(self) -> int:
        ...
    @tp.setter
    def tp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def vp(self) -> int:
        ...
    @vp.setter
    def vp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def zero(self) -> int:
        ...
    @zero.setter
    def zero(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class OpCost:
    @property
    def bwd_bytes(self) -> float:
        ...
    @property
    def bwd_flops(self) -> float:
        ...
    @property
    def bwd_kernels(self) -> float:
        ...
    @property
    def bwd_side_bytes(self) -> float:
        ...
    @property
    def bwd_strided_bytes(self) -> float:
        ...
    @property
    def fwd_bytes(self) -> float:
        ...
    @property
    def fwd_flops(self) -> float:
        ...
    @property
    def fwd_kernels(self) -> float:
        ...
    @property
    def fwd_side_bytes(self) -> float:
        ...
    @property
    def fwd_strided_bytes(self) -> float:
        ...
    @property
    def input_bytes(self) -> float:
        ...
    @property
    def saved_bytes(self) -> float:
        ...
    @property
    def saved_quadratic_bytes(self) -> float:
        ...
    @property
    def transient_bytes(self) -> float:
        ...
class OpTime:
    @property
    def compute_s(self) -> float:
        ...
    @property
    def memory_s(self) -> float:
        ...
    @property
    def overhead_s(self) -> float:
        ...
    @property
    def total(self) -> float:
        ...
class OpReport:
    @property
    def bwd(self) -> OpTime:
        ...
    @property
    def cost(self) -> OpCost:
        ...
    @property
    def fwd(self) -> OpTime:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def repeat(self) -> float:
        ...
class MemoryBreakdown:
    @property
    def activations(self) -> float:
        ...
    @property
    def fragmentation(self) -> float:
        ...
    @property
    def gradients(self) -> float:
        ...
    @property
    def optimizer(self) -> float:
        ...
    @property
    def runtime_context(self) -> float:
        ...
    @property
    def total(self) -> float:
        ...
    @property
    def weights(self) -> float:
        ...
class TimeBreakdown:
    @property
    def communication(self) -> float:
        ...
    @property
    def compute(self) -> float:
        ...
    @property
    def cp_communication(self) -> float:
        ...
    @property
    def dp_communication(self) -> float:
        ...
    @property
    def ep_communication(self) -> float:
        ...
    @property
    def memory_bound(self) -> float:
        ...
    @property
    def optimizer(self) -> float:
        ...
    @property
    def overhead(self) -> float:
        ...
    @property
    def pipeline_bubble(self) -> float:
        ...
    @property
    def pp_communication(self) -> float:
        ...
    @property
    def recompute(self) -> float:
        ...
    @property
    def total(self) -> float:
        ...
    @property
    def tp_communication(self) -> float:
        ...
class Evaluation:
    @property
    def capacity_bytes(self) -> float:
        ...
    @property
    def fits(self) -> bool:
        ...
    @property
    def hardware_flops_per_device(self) -> float:
        ...
    @property
    def memory(self) -> MemoryBreakdown:
        ...
    @property
    def model_flops_per_sample(self) -> float:
        ...
    @property
    def ops(self) -> list[OpReport]:
        ...
    @property
    def params_per_device(self) -> float:
        ...
    @property
    def params_total(self) -> float:
        ...
    @property
    def stage_memory_imbalance(self) -> float:
        ...
    @property
    def stage_time_imbalance(self) -> float:
        ...
    @property
    def step_time_s(self) -> float:
        ...
    @property
    def time(self) -> TimeBreakdown:
        ...
    @property
    def worst_memory_stage(self) -> int:
        ...
    @property
    def worst_time_stage(self) -> int:
        ...
class Link:
    def __init__(self, bandwidth_Bps: typing.SupportsFloat | typing.SupportsIndex, latency_s: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def bandwidth_Bps(self) -> float:
        ...
    @bandwidth_Bps.setter
    def bandwidth_Bps(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def latency_s(self) -> float:
        ...
    @latency_s.setter
    def latency_s(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class PlanSpace:
    attention: AttentionKernel
    autocast: bool
    blocking_gathers: bool
    foreach_optimizer: bool
    fsdp: bool
    fuse_norm_activation: bool
    fused_loss: bool
    loop_optimizer: bool
    low_precision_norm: bool
    optimizer: Optimizer
    precision: Precision
    tp_overlap: bool
    def __init__(self) -> None:
        ...
    @property
    def ep(self) -> int:
        ...
    @ep.setter
    def ep(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def global_batch(self) -> int:
        ...
    @global_batch.setter
    def global_batch(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def max_cp(self) -> int:
        ...
    @max_cp.setter
    def max_cp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def max_micro_batch(self) -> int:
        ...
    @max_micro_batch.setter
    def max_micro_batch(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def max_tp(self) -> int:
        ...
    @max_tp.setter
    def max_tp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def max_vp(self) -> int:
        ...
    @max_vp.setter
    def max_vp(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def recompute(self) -> list[Recompute]:
        ...
    @recompute.setter
    def recompute(self, arg0: collections.abc.Sequence[Recompute]) -> None:
        ...
    @property
    def sequence_parallel(self) -> list[int]:
        ...
    @sequence_parallel.setter
    def sequence_parallel(self, arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> None:
        ...
    @property
    def threads(self) -> int:
        ...
    @threads.setter
    def threads(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def tokens_per_sample(self) -> int:
        ...
    @tokens_per_sample.setter
    def tokens_per_sample(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def top_k(self) -> int:
        ...
    @top_k.setter
    def top_k(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def zero(self) -> list[int]:
        ...
    @zero.setter
    def zero(self, arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> None:
        ...
class PlanCandidate:
    @property
    def config(self) -> Config:
        ...
    @property
    def fits(self) -> bool:
        ...
    @property
    def index(self) -> int:
        ...
    @property
    def memory(self) -> MemoryBreakdown:
        ...
    @property
    def memory_bytes(self) -> float:
        ...
    @property
    def step_time_s(self) -> float:
        ...
    @property
    def time(self) -> TimeBreakdown:
        ...
class PlanValue:
    @property
    def best(self) -> PlanCandidate:
        ...
    @property
    def configs(self) -> int:
        ...
    @property
    def fastest(self) -> PlanCandidate:
        ...
    @property
    def fitting(self) -> int:
        ...
    @property
    def value(self) -> int:
        ...
class PlanDimension:
    @property
    def name(self) -> str:
        ...
    @property
    def values(self) -> list[PlanValue]:
        ...
class PlanResult:
    @property
    def dimensions(self) -> list[PlanDimension]:
        ...
    @property
    def fastest(self) -> PlanCandidate:
        ...
    @property
    def fitting(self) -> int:
        ...
    @property
    def frontier(self) -> list[PlanCandidate]:
        ...
    @property
    def leanest(self) -> PlanCandidate:
        ...
    @property
    def plans(self) -> list[PlanCandidate]:
        ...
    @property
    def space(self) -> int:
        ...
def alltoall_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, link: Link) -> float:
    ...
def evaluate(graph: Graph, device: Device, network: Network, config: Config) -> Evaluation:
    """
    Time and memory of one optimizer step (DESIGN §6, §7).
    """
def evaluate_step_time(graph: Graph, device: Device, network: Network, config: Config) -> float:
    """
    Step time only, without the per-operator report (for searches over a few configurations).
    """
def group_allreduce_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, stride: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def group_alltoall_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, stride: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def group_reduce_scatter_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, stride: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def max_micro_batch(graph: Graph, device: Device, network: Network, config: Config, global_batch: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Largest micro-batch that fits (0 if none).
    """
def memory_per_device(graph: Graph, device: Device, network: Network, config: Config) -> MemoryBreakdown:
    ...
def misalignment_factor(op: Op, device: Device) -> float:
    """
    Efficiency multiplier of a matmul whose n or k is not a multiple of 16 bytes (DESIGN §3).
    """
def op_cost(op: Op, batch: typing.SupportsFloat | typing.SupportsIndex, act_bytes: typing.SupportsFloat | typing.SupportsIndex, weight_bytes: typing.SupportsFloat | typing.SupportsIndex, autocast: bool = False, fuse_norm_activation: bool = False, low_precision_norm: bool = False) -> OpCost:
    """
    FLOPs, bytes, kernels and saved activations of one operator (DESIGN §2).
    """
def p2p_s(bytes: typing.SupportsFloat | typing.SupportsIndex, link: Link) -> float:
    ...
def plan(graph: Graph, device: Device, network: Network, space: PlanSpace, progress: typing.Any = None, timed_graph: Graph | None = None) -> PlanResult:
    """
    Searches the configurations of `space` for the fastest that fit; `progress(done, total)` is called about every 0.1 s. With `timed_graph`, step times come from it and memory from `graph`.
    """
def plan_candidates(graph: Graph, network: Network, space: PlanSpace) -> list[Config]:
    """
    The configurations `plan` evaluates, in enumeration order.
    """
def plan_space_size(graph: Graph, network: Network, space: PlanSpace) -> int:
    """
    How many configurations `plan` would evaluate (enumeration only).
    """
def ring_allreduce_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, link: Link) -> float:
    ...
def ring_reduce_scatter_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, link: Link) -> float:
    ...
def roofline(flops: typing.SupportsFloat | typing.SupportsIndex, bytes: typing.SupportsFloat | typing.SupportsIndex, kernels: typing.SupportsFloat | typing.SupportsIndex, peak_flops: typing.SupportsFloat | typing.SupportsIndex, eff_compute: typing.SupportsFloat | typing.SupportsIndex, bandwidth_Bps: typing.SupportsFloat | typing.SupportsIndex, eff_memory: typing.SupportsFloat | typing.SupportsIndex, launch_s: typing.SupportsFloat | typing.SupportsIndex) -> OpTime:
    """
    Roofline time of one pass (DESIGN §3).
    """
def shard(op: Op, config: Config) -> Op:
    """
    The operator as one device sees it (DESIGN §5).
    """
def torus_allreduce_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def torus_alltoall_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def torus_reduce_scatter_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, network: Network) -> float:
    ...
def torus_shape(ranks: typing.SupportsInt | typing.SupportsIndex, axes: typing.SupportsInt | typing.SupportsIndex) -> list[int]:
    """
    The sub-torus a group of `ranks` chips takes (DESIGN §8).
    """
def tree_allreduce_s(bytes: typing.SupportsFloat | typing.SupportsIndex, ranks: typing.SupportsInt | typing.SupportsIndex, link: Link) -> float:
    ...
