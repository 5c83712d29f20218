// Plain data passed between Python and the core. Units are SI: seconds, bytes, FLOP, FLOP/s,
// bytes/s. Shapes in `Op` are per sample and unsharded (estimator/graph.py documents each
// field); the core applies micro-batch and parallel degrees. No pybind11, no I/O here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace estimator {

enum class OpKind { matmul, conv2d, attention, norm, elementwise, embedding, pooling, loss };
enum class TpSplit { none, column, row, heads, sequence };
enum class Precision { fp32, tf32, fp16, bf16, fp8 };
enum class Optimizer { sgd, momentum, adam, adamw, adafactor, lamb };
enum class Recompute { none, selective, full };
// Attention kernel: as lowered, or forced fused (FlashAttention-style), unfused (scale and mask
// folded into the softmax kernel) or eager (framework code: one kernel per operation, DESIGN §2.3).
enum class AttentionKernel { graph, fused, unfused, eager };

struct Op {
    OpKind kind = OpKind::matmul;
    std::string name;
    double m = 0, k = 0, n = 0;
    double heads = 0, kv_heads = 0, head_dim = 0, seq_kv = 0;
    double elements = 0, in_elements = 0;
    double inputs = 1;
    double flops_per_element = 0;
    double params = 0;
    bool weight = true;
    bool causal = false;
    bool fused = false;
    bool eager = false;  // unfused attention as plain framework code (DESIGN §2.3)
    bool dropout = false;
    bool saves_input = true;
    double mask_bytes_per_element = 0;
    bool batch_stats = false;  // BatchNorm: statistics over the batch, an extra pass
    bool bias = false;         // matmul with a bias: its gradient is a reduction over the rows
    bool fp32_stream = false;  // norm/elementwise/embedding on the residual stream (fp32 under autocast)
    bool casts_input = false;  // matmul reading the residual stream (autocast casts its input)
    bool reads_output = false;  // elementwise whose backward reads its output (ReLU), kept by the next op
    bool follows_norm = false;  // ReLU or residual add right after a BatchNorm (fusable into it)
    TpSplit tp = TpSplit::none;
    bool expert = false;
    // An fp8 recipe keeps this operator in bf16 (Megatron-core's output layer and tied-embedding
    // LM heads are not Transformer Engine modules): bf16 peak and efficiency, bf16 saved input.
    bool high_precision = false;
    // Parameter tensors (weight, bias, a norm's shift) for an optimizer that loops over them;
    // 0: one for an operator holding parameters, plus its bias (DESIGN §7).
    double param_tensors = 0;
};

struct Segment {
    std::string name;
    std::vector<Op> ops;
    std::int64_t repeat = 1;
};

struct Graph {
    std::string name;
    std::vector<Segment> segments;
};

// One device at the chosen compute precision (DESIGN §3).
struct Device {
    double peak_matmul_flops = 0;  // dense tensor peak at the compute precision, FLOP/s
    // Under fp8 training, the bf16 peak of the kernels the recipe keeps in bf16 (attention and
    // `high_precision` matmuls) and those matmuls' GEMM efficiency; 0: the compute precision's.
    double peak_high_flops = 0, eff_high = 0;
    double peak_vector_flops = 0;  // fp32 vector peak, FLOP/s
    double bandwidth_Bps = 0;      // memory bandwidth, bytes/s
    double eff_matmul = 1, eff_conv = 1, eff_memory = 1;
    double eff_attention = 1;  // fused (flash) attention kernels, at head dim 128
    double attention_d64 = 1;  // their efficiency at head dim 64 relative to 128 (DESIGN §3)
    double launch_s = 0;               // per-kernel overhead of the software stack
    double host_s = 0;  // host (CPU) time per operator, forward + backward, in an eager step
    double foreach_traffic = 1;  // a multi-tensor (foreach) optimizer's bytes over a fused one's
    // Host time per parameter tensor of an optimizer step written as a Python loop (DESIGN §7).
    double loop_tensor_s = 0;
    // Non-vectorised elementwise kernels (copies of permuted tensors, broadcasting adds): their
    // fraction of the memory efficiency (DESIGN §3).
    double strided_eff = 1;
    // GEMM operands' bytes per element at the compute precision, and the stack's efficiency
    // multipliers for a GEMM whose n or k is a multiple of 8, 4 or 2 bytes but not of 16.
    double operand_bytes = 2;
    double misaligned_8B = 1, misaligned_4B = 1, misaligned_2B = 1;
    double capacity_bytes = 0;
    double runtime_context_bytes = 0;  // CUDA context and library workspaces
    double fragmentation = 0;          // allocator loss, fraction of activations
    double host_link_Bps = 0;          // device <-> host (PCIe) per direction, achievable
    double host_memory_Bps = 0;        // host DRAM bandwidth this device's CPU share gets
};

// The cluster's links (DESIGN §8). Bandwidths are per direction.
struct Network {
    std::int64_t devices_per_node = 1;
    std::int64_t nodes = 1;
    double intra_Bps = 0;  // per device, inside a node
    double inter_Bps = 0;  // per node, all NICs together
    double intra_latency_s = 0;
    double inter_latency_s = 0;
    double intra_eff = 1, inter_eff = 1;  // achievable bus-bandwidth fractions
    // TPU ICI: the whole slice is a torus of chips with `torus_axes` axes (2 or 3; 0: no torus),
    // each chip with two links per axis of `torus_link_Bps` per direction (DESIGN §8). A torus
    // replaces the node/network hierarchy for every collective; `intra_eff` and the intra-node
    // latency apply to its links.
    std::int64_t torus_axes = 0;
    double torus_link_Bps = 0;
};

struct Config {
    std::int64_t micro_batch = 1;
    std::int64_t grad_accum = 1;
    std::int64_t tp = 1, pp = 1, dp = 1, cp = 1, vp = 1, ep = 1;
    bool sequence_parallel = false;
    int zero = 0;
    Recompute recompute = Recompute::none;
    Optimizer optimizer = Optimizer::adam;
    Precision precision = Precision::bf16;
    AttentionKernel attention = AttentionKernel::graph;
    // torch.autocast over fp32 weights (DESIGN §2.9): the residual stream stays fp32, matmul
    // weights and stream inputs are cast on the fly. Off: weights held in the compute precision.
    bool autocast = false;
    // Under autocast, the stream's norms run in the compute precision on a cast copy of their
    // input (llm-foundry's low_precision_layernorm; DESIGN §2.9).
    bool low_precision_norm = false;
    bool offload_optimizer = false;  // ZeRO-Offload: optimizer state and step on the host
    // cuDNN's fused BatchNorm(+add)+ReLU kernels (NVIDIA's MLPerf ResNet): an activation or add
    // right after a BatchNorm runs inside it (DESIGN §2.5).
    bool fuse_norm_activation = false;
    bool foreach_optimizer = false;  // PyTorch's default multi-tensor optimizer, not a fused one
    // The optimizer steps each parameter tensor in a Python loop (PyTorch 1.x's default
    // optimizers, BertAdam), a kernel per operation: host-bound (DESIGN §7).
    bool loop_optimizer = false;
    // ZeRO-3 as PyTorch FSDP wraps it: one flat parameter per layer, so one all-gather and one
    // reduce-scatter per layer; otherwise (DeepSpeed) one per operator holding parameters.
    bool fsdp = false;
    // A fused softmax-cross-entropy kernel (flash-attn/apex xentropy, Megatron-core, Transformer
    // Engine) instead of PyTorch's fp32 log_softmax + nll_loss (DESIGN §2.8).
    bool fused_loss = false;
    // ZeRO-3's parameter all-gathers stall the compute stream instead of being prefetched behind
    // it: DeepSpeed before its 2021-22 ZeRO-3 rewrite synchronised the device on every gather
    // (DESIGN §7). Gradient reduce-scatters still overlap the backward pass.
    bool blocking_gathers = false;
    // Tensor-parallel collectives split into chunks and pipelined with the GEMMs they feed or
    // follow (Transformer Engine's userbuffers overlap, as NeMo's recipes enable): DESIGN §7.
    bool tp_overlap = false;
};

// Bytes per element or parameter for a precision (DESIGN §4).
struct PrecisionBytes {
    double activation;  // e
    double weight;      // w: bytes per weight an operator reads
    double weight_memory;  // compute copies of the weights held in memory
    double gradient;    // g
    double master;      // fp32 master copy under mixed precision, else 0
};

struct OpCost {
    double fwd_flops = 0, bwd_flops = 0;
    double fwd_bytes = 0, bwd_bytes = 0;
    double fwd_kernels = 0, bwd_kernels = 0;
    double saved_bytes = 0;            // kept for the backward pass
    double saved_quadratic_bytes = 0;  // the part selective recomputation drops
    double input_bytes = 0;            // size of the op's main input (checkpoint size)
    double transient_bytes = 0;        // live only while the op runs, on top of saved_bytes
    // Bytes of the op's separate memory-bound kernels (a matmul's casts and bias reduction):
    // they add to its roofline time instead of hiding under it (DESIGN §3).
    double fwd_side_bytes = 0, bwd_side_bytes = 0;
    // Bytes of side kernels that run non-vectorised (eager attention's head-layout copies and
    // broadcast mask add): timed at the device's strided efficiency (DESIGN §3).
    double fwd_strided_bytes = 0, bwd_strided_bytes = 0;
};

struct OpTime {
    double compute_s = 0;   // roofline part when compute-bound, else 0
    double memory_s = 0;    // roofline part when memory-bound, else 0
    double overhead_s = 0;  // kernel launches
    double total() const { return compute_s + memory_s + overhead_s; }
};

struct OpReport {
    std::string name;
    double repeat = 1;  // instances on the worst stage per micro-batch
    OpCost cost;        // per instance, at the micro-batch
    OpTime fwd, bwd;    // per instance
};

struct MemoryBreakdown {
    double weights = 0, gradients = 0, optimizer = 0, activations = 0;
    double runtime_context = 0, fragmentation = 0;
    double total() const {
        return weights + gradients + optimizer + activations + runtime_context + fragmentation;
    }
};

struct TimeBreakdown {
    double compute = 0, memory_bound = 0, overhead = 0, recompute = 0;
    double tp_communication = 0, cp_communication = 0, ep_communication = 0;
    double pp_communication = 0, dp_communication = 0;
    double pipeline_bubble = 0, optimizer = 0;
    double communication() const {
        return tp_communication + cp_communication + ep_communication + pp_communication +
               dp_communication;
    }
    double total() const {
        return compute + memory_bound + overhead + recompute + communication() +
               pipeline_bubble + optimizer;
    }
};

struct Evaluation {
    double step_time_s = 0;
    TimeBreakdown time;
    MemoryBreakdown memory;
    double capacity_bytes = 0;
    bool fits = false;
    double params_total = 0;
    double params_per_device = 0;            // worst stage
    double model_flops_per_sample = 0;       // forward + backward, no recompute, unsharded
    double hardware_flops_per_device = 0;    // executed per step incl. recompute
    std::int64_t worst_memory_stage = 0;
    std::int64_t worst_time_stage = 0;
    double stage_time_imbalance = 1;         // slowest / fastest stage time per micro-batch
    double stage_memory_imbalance = 1;       // largest / smallest stage memory
    std::vector<OpReport> ops;               // the slowest stage, one entry per op
};

}  // namespace estimator
