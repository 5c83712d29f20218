// One training step: per-stage operator times, communication, pipeline and memory.
// DESIGN §5 (parallelism), §6 (memory), §7 (step time).
#include "estimator/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "estimator/collectives.hpp"
#include "estimator/operators.hpp"

namespace estimator {
namespace {

constexpr std::int64_t kMaxDegree = std::int64_t{1} << 24;
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 40;
// PyTorch DDP's default gradient bucket (bucket_cap_mb = 25; Li et al. 2020, VLDB): the last
// bucket's all-reduce cannot overlap with the backward pass.
constexpr double kDdpBucketBytes = 25.0 * 1024 * 1024;

void require(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(what);
}

bool positive(double x) { return std::isfinite(x) && x > 0; }
bool non_negative(double x) { return std::isfinite(x) && x >= 0; }

// Index of the segment that pipeline parallelism splits: the one repeated most (the layers).
std::size_t layer_segment(const Graph& g) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < g.segments.size(); ++i)
        if (g.segments[i].repeat > g.segments[best].repeat) best = i;
    return best;
}

// A stage's share of the graph: each segment with the number of its repeats on the stage.
struct StagePart {
    const Segment* segment;
    double count;
    bool layers;  // the repeated segment (checkpointed per repeat under full recompute)
    bool stack;   // the graph has a repeated segment (full recompute checkpoints only it)
};

// Stages that can differ: the first (with the segments before the layers), the last (with
// those after them) and one middle stage standing for all others, which hold the same layers
// and at most as many micro-batches in flight as stage 1. Index = physical stage number.
std::vector<std::pair<std::int64_t, std::vector<StagePart>>> split_stages(const Graph& g, const Config& c) {
    const std::size_t layer = layer_segment(g);
    const bool stacked = g.segments[layer].repeat > 1;
    const std::int64_t pp = c.pp;
    std::vector<std::int64_t> ids{0};
    if (pp > 2) ids.push_back(1);
    if (pp > 1) ids.push_back(pp - 1);
    std::vector<std::pair<std::int64_t, std::vector<StagePart>>> stages;
    for (std::int64_t id : ids) {
        std::vector<StagePart> parts;
        for (std::size_t i = 0; i < g.segments.size(); ++i) {
            const Segment& seg = g.segments[i];
            if (i == layer) {
                const double per_stage = static_cast<double>(seg.repeat) / static_cast<double>(pp);
                parts.push_back({&seg, per_stage, stacked, stacked});
            } else if ((i < layer && id == 0) || (i > layer && id == pp - 1)) {
                parts.push_back({&seg, static_cast<double>(seg.repeat), false, stacked});
            }
        }
        stages.emplace_back(id, std::move(parts));
    }
    return stages;
}

struct StageResult {
    TimeBreakdown per_micro;  // compute, memory_bound, overhead, recompute, tp/cp/ep comm
    double bwd_s = 0;         // backward time of one micro-batch (the DP overlap window)
    double flops = 0;         // executed FLOPs per micro-batch, including recompute
    double params = 0;        // parameters held by the stage (after tp/ep)
    double param_ops = 0;     // operators holding parameters (ZeRO-3 gathers each on its own)
    double param_layers = 0;  // segment repeats holding parameters (FSDP's wrap units)
    double param_tensors = 0;  // parameter tensors (a looping optimizer steps each on its own)
    double activations = 0;   // saved per micro-batch, under the recompute mode
    double host_fwd_ops = 0;  // operator-passes the host issues per micro-batch: forward shares
    double host_bwd_ops = 0;  // (recomputation included) and backward shares
    double transient = 0;     // largest short-lived peak: an op's transient, or one layer's
                              // activations rebuilt during full recompute
    double boundary_bytes = 0;  // activation sent to the next stage per micro-batch
    std::vector<OpReport> ops;
    double time() const {
        return per_micro.compute + per_micro.memory_bound + per_micro.overhead +
               per_micro.recompute + per_micro.tp_communication + per_micro.cp_communication +
               per_micro.ep_communication;
    }
};

void add(TimeBreakdown& t, const OpTime& x, double times) {
    t.compute += x.compute_s * times;
    t.memory_bound += x.memory_s * times;
    t.overhead += x.overhead_s * times;
}

// Activations kept by a segment run once, under full recompute: checkpoints every
// ceil(sqrt(n)) operators (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost").
double sqrt_checkpointed(const std::vector<OpCost>& costs, double& transient) {
    const std::size_t n = costs.size();
    const std::size_t group = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    double kept = 0;
    for (std::size_t start = 0; start < n; start += group) {
        kept += costs[start].input_bytes;
        double inside = 0;
        for (std::size_t i = start; i < std::min(n, start + group); ++i) inside += costs[i].saved_bytes;
        transient = std::max(transient, inside);
    }
    return kept;
}

StageResult eval_stage(const std::vector<StagePart>& parts, const Device& d, const Network& net,
                       const Config& c, bool with_ops) {
    StageResult r;
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double b = static_cast<double>(c.micro_batch);
    const Link tp_link = c.tp <= net.devices_per_node ? intra_link(net) : inter_link(net);
    for (const StagePart& part : parts) {
        const auto& ops = part.segment->ops;
        std::vector<OpCost> costs;
        costs.reserve(ops.size());
        double seg_saved = 0, seg_quadratic = 0, seg_fwd_s = 0, seg_fwd_flops = 0;
        double attention_fwd_s = 0, attention_fwd_flops = 0, seg_fwd_share = 0,
               attention_fwd_share = 0;
        bool in_expert_run = false, holds_params = false;
        bool after_fused_attention = false;
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const Op op = shard(ops[i], c);
            OpCost cost = op_cost(op, b, pb.activation, pb.weight, c.autocast, c.fuse_norm_activation,
                                   c.low_precision_norm);
            keep_saved_input(op, after_fused_attention, c, pb.activation, cost);
            after_fused_attention = op.kind == OpKind::attention && op.fused;
            costs.push_back(cost);
            OpTime fwd, bwd;
            op_times(op, cost, d, fwd, bwd);
            add(r.per_micro, fwd, part.count);
            add(r.per_micro, bwd, part.count);
            r.bwd_s += bwd.total() * part.count;
            r.flops += (cost.fwd_flops + cost.bwd_flops) * part.count;
            r.params += op.params * part.count;
            if (op.params > 0) r.param_ops += part.count;
            r.param_tensors += tensors_of(op) * part.count;
            holds_params = holds_params || op.params > 0;
            seg_saved += cost.saved_bytes;
            r.transient = std::max(r.transient, cost.transient_bytes);
            seg_quadratic += cost.saved_quadratic_bytes;
            seg_fwd_s += fwd.total();
            seg_fwd_flops += cost.fwd_flops;
            // A fused operator issues no kernel of its own; a recomputed one repeats the forward
            // share of its kernels.
            const double kernels = cost.fwd_kernels + cost.bwd_kernels;
            const double fwd_share = kernels > 0 ? cost.fwd_kernels / kernels : 0.0;
            if (kernels > 0) {
                r.host_fwd_ops += fwd_share * part.count;
                r.host_bwd_ops += (1 - fwd_share) * part.count;
            }
            seg_fwd_share += fwd_share;
            if (op.kind == OpKind::attention && !op.fused) {
                attention_fwd_s += fwd.total();
                attention_fwd_flops += cost.fwd_flops;
                attention_fwd_share += fwd_share;
            }
            if (with_ops) r.ops.push_back({op.name, part.count, cost, fwd, bwd});

            // Tensor parallel (Shoeybi et al. 2019): row-parallel outputs and vocab-parallel
            // embeddings are all-reduced forward; column-parallel inputs' gradients backward.
            // Under sequence parallelism each becomes a reduce-scatter + all-gather pair of the
            // same ring volume (Korthikanti et al. 2022), so the time is the same. Overlapped
            // (Transformer Engine's userbuffers), each collective runs in tp chunks beside the
            // chunks of its GEMM: only the first chunk, or what the GEMM cannot cover, shows.
            if (c.tp > 1) {
                double bytes = 0, gemm_s = 0;
                if (op.tp == TpSplit::row) {
                    bytes = pb.activation * b * op.m * op.n;
                    gemm_s = fwd.compute_s + fwd.memory_s;
                }
                if (op.tp == TpSplit::column && op.kind == OpKind::matmul) {
                    bytes = pb.activation * b * op.m * op.k;
                    gemm_s = bwd.compute_s + bwd.memory_s;
                }
                if (op.tp == TpSplit::column && op.kind == OpKind::embedding)
                    bytes = pb.activation * b * op.m * op.k;
                const double comm = net.torus_axes > 0 ? torus_allreduce_s(bytes, c.tp, net)
                                                       : ring_allreduce_s(bytes, c.tp, tp_link);
                const double shown =
                    c.tp_overlap ? std::max(comm / static_cast<double>(c.tp), comm - gemm_s) : comm;
                r.per_micro.tp_communication += shown * part.count;
            }
            // Context parallel (ring attention, Liu et al. 2023): K and V blocks travel around
            // the cp ring, forward once and backward twice, hidden behind the block compute.
            if (c.cp > 1 && op.kind == OpKind::attention) {
                const double kv = 2 * pb.activation * b * op.kv_heads * op.seq_kv * op.head_dim;
                const double passes = static_cast<double>(c.cp - 1) / static_cast<double>(c.cp);
                const double comm = 3 * group_alltoall_s(kv * passes, 2, c.tp, net);
                r.per_micro.cp_communication +=
                    std::max(0.0, comm - fwd.total() - bwd.total()) * part.count;
            }
            // Expert parallel (GShard, Lepikhin et al. 2020): tokens are dispatched to their
            // experts and combined back, forward and backward.
            if (c.ep > 1) {
                if (op.expert && !in_expert_run) {
                    const double bytes = pb.activation * b * op.m * op.k;
                    r.per_micro.ep_communication +=
                        2 * group_alltoall_s(bytes, c.ep, c.tp * c.cp, net) * part.count;
                }
                if (op.expert && (i + 1 == ops.size() || !ops[i + 1].expert)) {
                    const double bytes = pb.activation * b * op.m * op.n;
                    r.per_micro.ep_communication +=
                        2 * group_alltoall_s(bytes, c.ep, c.tp * c.cp, net) * part.count;
                }
                in_expert_run = op.expert;
            }
        }
        // Recomputation and saved activations (DESIGN §6).
        switch (c.recompute) {
            case Recompute::none:
                r.activations += seg_saved * part.count;
                break;
            case Recompute::selective:
                r.activations += (seg_saved - seg_quadratic) * part.count;
                r.per_micro.recompute += attention_fwd_s * part.count;
                r.flops += attention_fwd_flops * part.count;
                r.host_fwd_ops += attention_fwd_share * part.count;
                break;
            case Recompute::full:
                // Megatron-style: each layer keeps its input and is rebuilt in the backward
                // pass; embedding and head keep their activations. A graph without repeated
                // layers (a CNN) is checkpointed every sqrt(n) operators instead.
                if (part.layers) {
                    r.activations += costs.front().input_bytes * part.count;
                    r.transient = std::max(r.transient, seg_saved);
                    r.per_micro.recompute += seg_fwd_s * part.count;
                    r.flops += seg_fwd_flops * part.count;
                    r.host_fwd_ops += seg_fwd_share * part.count;
                } else if (part.stack) {
                    r.activations += seg_saved * part.count;
                } else {
                    double transient = 0;
                    r.activations += sqrt_checkpointed(costs, transient) * part.count;
                    r.transient = std::max(r.transient, transient);
                    r.per_micro.recompute += seg_fwd_s * part.count;
                    r.flops += seg_fwd_flops * part.count;
                    r.host_fwd_ops += seg_fwd_share * part.count;
                }
                break;
        }
        if (part.layers && !costs.empty()) r.boundary_bytes = costs.front().input_bytes;
        if (holds_params) r.param_layers += part.count;
    }
    // An eager framework issues every kernel from one host thread, so each pass of a micro-batch
    // takes at least the host's time to issue its kernels; the GPU idles for the rest, and the
    // backward pass (the window that hides gradient sync) lasts that long too (DESIGN §7).
    const double host_fwd = r.host_fwd_ops * d.host_s, host_bwd = r.host_bwd_ops * d.host_s;
    const double gpu_fwd = r.time() - r.bwd_s;  // forward, recomputation and tp/cp/ep traffic
    r.per_micro.overhead += std::max(0.0, host_fwd - gpu_fwd) + std::max(0.0, host_bwd - r.bwd_s);
    r.bwd_s = std::max(r.bwd_s, host_bwd);
    return r;
}

MemoryBreakdown stage_memory(const StageResult& s, std::int64_t stage, const Device& d,
                             const Config& c) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double dp = static_cast<double>(replicas(c));
    MemoryBreakdown m;
    m.weights = pb.weight_memory * s.params / (c.zero >= 3 ? dp : 1.0);
    m.gradients = pb.gradient * s.params / (c.zero >= 2 ? dp : 1.0);
    m.optimizer = (optimizer_state_bytes(c.optimizer) + pb.master) * s.params / (c.zero >= 1 ? dp : 1.0);
    if (c.offload_optimizer) m.optimizer = 0;  // held in host memory (ZeRO-Offload)
    // 1F1B: stage i holds min(pp − i, grad_accum) micro-batches in flight; interleaving adds
    // (pp−1)/(pp·vp) (Korthikanti et al. 2022 §4.2.3).
    const double in_flight = static_cast<double>(std::min<std::int64_t>(c.pp - stage, c.grad_accum));
    double factor = in_flight;
    if (c.vp > 1 && c.pp > 1)
        factor *= 1.0 + static_cast<double>(c.pp - 1) / static_cast<double>(c.pp * c.vp);
    m.activations = s.activations * factor + s.transient;
    m.runtime_context = d.runtime_context_bytes;
    m.fragmentation = d.fragmentation * m.activations;
    return m;
}

double optimizer_time(double params, double tensors, const Device& d, const Config& c) {
    // Bytes per parameter of a fused multi-tensor update: read and write the fp32 weights (or
    // master copy), read and write each fp32 state buffer, read the gradient, and write the
    // compute copy under mixed precision.
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double per_param = 8 + 2 * optimizer_state_bytes(c.optimizer) + pb.gradient +
                             (pb.master > 0 ? pb.weight_memory : 0);
    // PyTorch's default multi-tensor ("foreach") step makes several passes where a fused
    // kernel makes one: the stack's measured traffic factor (DESIGN §7).
    // A Python loop over the tensors makes the same passes, one tensor at a time, each kernel
    // issued by the host: the step takes the longer of its traffic and its host time.
    const double passes = c.foreach_optimizer || c.loop_optimizer ? d.foreach_traffic : 1.0;
    const double traffic_s = params * per_param * passes / (d.bandwidth_Bps * d.eff_memory) + d.launch_s;
    return c.loop_optimizer ? std::max(traffic_s, tensors * d.loop_tensor_s) : traffic_s;
}

struct StageEval {
    std::int64_t id;
    StageResult result;
    MemoryBreakdown memory;
};

// ZeRO-Offload (Ren et al. 2021, USENIX ATC): gradients stream to the host during the backward
// pass (only the excess over it is exposed), the host runs the optimizer out of its DRAM, and
// the updated compute-precision parameters come back over the same link.
double offloaded_optimizer_time(double params, double bwd_s, const Device& d, const Config& c) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double to_host = pb.gradient * params / d.host_link_Bps;
    const double to_device = pb.weight * params / d.host_link_Bps;
    // fp32 weights (or master copy) and each state buffer read and written, the gradient read.
    const double host_bytes = 8 + 2 * optimizer_state_bytes(c.optimizer) + 4;
    return std::max(0.0, to_host - bwd_s) + params * host_bytes / d.host_memory_Bps + to_device;
}

// Exposed data-parallel communication of one stage (DESIGN §7). One communication stream
// beside the compute stream. ZeRO-3 gathers the parameters before the forward and the backward
// pass of every micro-batch (a third time under full recomputation), prefetched behind that
// micro-batch; the gradient sync of the last micro-batch starts with its backward pass and
// shares the stream with that micro-batch's gathers. A stage waits for the slowest one
// (`t_slowest` per micro-batch), and that idle time hides communication as well, so its window
// is t_slowest, and t_slowest − (its forward) for the gradient sync. Each window is used once,
// so a faster device never exposes more than it saves.
double exposed_dp_s(const StageResult& s, double t_slowest, double ga, const Network& net, const Config& c) {
    const std::int64_t ranks = replicas(c);
    if (ranks <= 1) return 0.0;
    const PrecisionBytes pb = precision_bytes(c.precision);
    const std::int64_t stride = c.tp;  // rank order tp, cp, dp (Megatron-core)
    const double grad_bytes = pb.gradient * s.params;
    double sync = c.zero >= 2 ? group_reduce_scatter_s(grad_bytes, ranks, stride, net)
                              : group_allreduce_s(grad_bytes, ranks, stride, net);
    // PyTorch DDP's last bucket cannot overlap with the backward pass.
    const double bucket = std::min(grad_bytes, kDdpBucketBytes);
    const double last_bucket = c.zero >= 2 ? group_reduce_scatter_s(bucket, ranks, stride, net)
                                           : group_allreduce_s(bucket, ranks, stride, net);
    const double gather = group_reduce_scatter_s(pb.weight * s.params, ranks, stride, net);
    // ZeRO-3 gathers and reduce-scatters module by module (DeepSpeed partitions each
    // parameter): one ring latency per operator holding parameters; PyTorch FSDP flattens each
    // wrapped layer into one parameter (Zhao et al., VLDB 2023): one ring latency per layer.
    const double collectives = c.fsdp ? s.param_layers : s.param_ops;
    const double per_module = std::max(0.0, collectives - 1) * group_ring_latency_s(ranks, stride, net);
    const double passes = c.recompute == Recompute::full ? 3.0 : 2.0;
    const double gathers = c.zero == 3 ? passes * (gather + per_module) : 0.0;
    if (c.zero == 3) sync += per_module;
    const double forward = s.time() - s.bwd_s;
    if (c.blocking_gathers)  // every micro-batch waits for its own gathers
        return ga * gathers + std::max(0.0, sync + forward - t_slowest) + std::min(sync, last_bucket);
    double exposed = (ga - 1) * std::max(0.0, gathers - t_slowest) +
                     std::max({0.0, gathers + sync - t_slowest, sync + forward - t_slowest}) +
                     std::min(sync, last_bucket);
    if (c.zero == 1 || c.zero == 2) exposed += gather;  // updated parameters
    return exposed;
}

std::vector<StageEval> eval_stages(const Graph& g, const Device& d, const Network& net,
                                   const Config& c, bool with_ops) {
    std::vector<StageEval> results;
    for (const auto& [id, parts] : split_stages(g, c)) {
        StageResult r = eval_stage(parts, d, net, c, with_ops);
        const MemoryBreakdown m = stage_memory(r, id, d, c);
        results.push_back({id, std::move(r), m});
    }
    return results;
}

void check_finite(double x, const char* what) {
    if (!std::isfinite(x))
        throw std::invalid_argument(std::string("result '") + what +
                                    "' is not finite: the inputs are too large");
}

}  // namespace

void validate(const Graph& g, const Device& d, const Network& net, const Config& c) {
    require(!g.segments.empty(), "graph: no segments");
    std::size_t ops = 0;
    for (const Segment& s : g.segments) {
        require(s.repeat >= 1 && s.repeat <= kMaxDegree, "segment '" + s.name + "': repeat must be in [1, 2^24]");
        for (const Op& op : s.ops) validate_op(op);
        ops += s.ops.size();
    }
    require(ops > 0, "graph: no operators");
    require(positive(d.peak_matmul_flops) && positive(d.peak_vector_flops) && non_negative(d.peak_high_flops),
            "device: peak FLOP/s must be > 0");
    require(non_negative(d.eff_high) && d.eff_high <= 1 && (d.peak_high_flops == 0 || d.eff_high > 0),
            "device: efficiencies must be in (0, 1] (eff_high: 0 only without peak_high_flops)");
    require(positive(d.bandwidth_Bps), "device: memory bandwidth must be > 0");
    require(positive(d.eff_matmul) && d.eff_matmul <= 1 && positive(d.eff_conv) && d.eff_conv <= 1 &&
                positive(d.eff_memory) && d.eff_memory <= 1 && positive(d.eff_attention) &&
                d.eff_attention <= 1 && positive(d.attention_d64) && d.attention_d64 <= 1 &&
                positive(d.misaligned_8B) && d.misaligned_8B <= 1 &&
                positive(d.misaligned_4B) && d.misaligned_4B <= 1 && positive(d.misaligned_2B) &&
                d.misaligned_2B <= 1 && positive(d.strided_eff) && d.strided_eff <= 1,
            "device: efficiencies must be in (0, 1]");
    require(positive(d.operand_bytes) && d.operand_bytes <= 8,
            "device: operand bytes must be in (0, 8]");
    require(non_negative(d.loop_tensor_s), "device: the loop optimizer's host time per tensor must be finite and >= 0");
    require(std::isfinite(d.foreach_traffic) && d.foreach_traffic >= 1 && d.foreach_traffic <= 100,
            "device: the foreach optimizer's traffic factor must be in [1, 100]");
    require(non_negative(d.launch_s) && non_negative(d.host_s) && positive(d.capacity_bytes) &&
                non_negative(d.runtime_context_bytes) && non_negative(d.fragmentation),
            "device: launch overhead, capacity, context and fragmentation must be finite and >= 0");
    require(non_negative(d.host_link_Bps) && non_negative(d.host_memory_Bps),
            "device: host link and host memory bandwidths must be finite and >= 0");
    if (c.offload_optimizer)
        require(d.host_link_Bps > 0 && d.host_memory_Bps > 0,
                "config: optimizer offload needs the host link and host memory bandwidths");
    require(net.devices_per_node >= 1 && net.devices_per_node <= kMaxDegree && net.nodes >= 1 &&
                net.nodes <= kMaxDegree,
            "network: devices_per_node and nodes must be in [1, 2^24]");
    require(positive(net.intra_Bps) && positive(net.inter_Bps), "network: bandwidths must be > 0");
    require(non_negative(net.intra_latency_s) && non_negative(net.inter_latency_s), "network: latencies must be >= 0");
    // Up to 1.5: in-switch reduction (NVLS) beats the wire rate (1.07 measured on H200).
    require(positive(net.intra_eff) && net.intra_eff <= 1.5 && positive(net.inter_eff) &&
                net.inter_eff <= 1.5,
            "network: efficiencies must be in (0, 1.5]");
    require((net.torus_axes == 0 || (net.torus_axes >= 1 && net.torus_axes <= 3 &&
                                      positive(net.torus_link_Bps))) &&
                std::isfinite(net.torus_link_Bps) && net.torus_link_Bps >= 0,
            "network: a torus needs 1 to 3 axes and an ICI link bandwidth > 0");
    const std::int64_t degrees[] = {c.tp, c.pp, c.dp, c.cp, c.vp, c.ep};
    for (std::int64_t x : degrees) require(x >= 1 && x <= kMaxDegree, "config: parallel degrees must be in [1, 2^24]");
    require(c.micro_batch >= 1 && c.micro_batch <= kMaxBatch, "config: micro_batch must be in [1, 2^40]");
    require(c.grad_accum >= 1 && c.grad_accum <= kMaxBatch, "config: grad_accum must be in [1, 2^40]");
    require(c.zero >= 0 && c.zero <= 3, "config: zero must be 0, 1, 2 or 3");
    require(!c.fsdp || c.zero == 3, "config: fsdp shards parameters (zero 3)");
    require(!c.blocking_gathers || c.zero == 3, "config: blocking_gathers needs sharded parameters (zero 3)");
    const double devices = static_cast<double>(c.tp) * c.pp * c.dp * c.cp;
    require(devices <= static_cast<double>(net.devices_per_node) * static_cast<double>(net.nodes),
            "config: tp*pp*dp*cp exceeds the devices of the cluster");
    require(c.ep <= c.dp * c.cp * c.tp, "config: ep must not exceed tp*dp*cp");
    const Segment& layers = g.segments[layer_segment(g)];
    if (c.pp > 1 || c.vp > 1) {
        require(layers.repeat % (c.pp * c.vp) == 0,
                "config: pp*vp = " + std::to_string(c.pp * c.vp) + " must divide the " +
                    std::to_string(layers.repeat) + " layers of segment '" + layers.name + "'");
    }
}

Evaluation evaluate(const Graph& g, const Device& d, const Network& net, const Config& c) {
    return evaluate_step(g, d, net, c, true);
}

Evaluation evaluate_step(const Graph& g, const Device& d, const Network& net, const Config& c,
                         bool with_ops) {
    validate(g, d, net, c);
    const PrecisionBytes pb = precision_bytes(c.precision);
    const std::vector<StageEval> stages = eval_stages(g, d, net, c, with_ops);

    Evaluation e;
    std::size_t slow = 0, fast = 0, big = 0, small = 0;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        if (stages[i].result.time() > stages[slow].result.time()) slow = i;
        if (stages[i].result.time() < stages[fast].result.time()) fast = i;
        if (stages[i].memory.total() > stages[big].memory.total()) big = i;
        if (stages[i].memory.total() < stages[small].memory.total()) small = i;
    }
    const StageResult& s = stages[slow].result;
    const double ga = static_cast<double>(c.grad_accum);
    const double t_micro = s.time();

    TimeBreakdown& t = e.time;
    t.compute = s.per_micro.compute * ga;
    t.memory_bound = s.per_micro.memory_bound * ga;
    t.overhead = s.per_micro.overhead * ga;
    t.recompute = s.per_micro.recompute * ga;
    t.tp_communication = s.per_micro.tp_communication * ga;
    t.cp_communication = s.per_micro.cp_communication * ga;
    t.ep_communication = s.per_micro.ep_communication * ga;
    // 1F1B pipeline (Narayanan et al. 2021): (pp − 1)/vp micro-batch slots of idle time, and a
    // point-to-point send forward and backward at each of the vp chunk boundaries.
    if (c.pp > 1) {
        t.pipeline_bubble = static_cast<double>(c.pp - 1) / static_cast<double>(c.vp) * t_micro;
        const std::int64_t stride = c.tp * c.cp * c.dp;
        const Link link = net.torus_axes > 0                 ? torus_link(net)
                          : stride >= net.devices_per_node ? inter_link(net)
                                                           : intra_link(net);
        t.pp_communication = 2 * static_cast<double>(c.vp) * p2p_s(s.boundary_bytes, link) * ga;
    }
    // Data parallel synchronisation and the optimizer step (DESIGN §7), stage by stage: every
    // stage syncs its own parameters, and the step ends when the last stage is done.
    t.dp_communication = 0;
    t.optimizer = 0;
    for (const StageEval& stage : stages) {
        t.dp_communication = std::max(t.dp_communication, exposed_dp_s(stage.result, t_micro, ga, net, c));
        const double opt_params = stage.result.params / (c.zero >= 1 ? static_cast<double>(replicas(c)) : 1.0);
        t.optimizer = std::max(t.optimizer, c.offload_optimizer
                                                ? offloaded_optimizer_time(opt_params, stage.result.bwd_s, d, c)
                                                : optimizer_time(opt_params, stage.result.param_tensors, d, c));
    }
    e.step_time_s = t.total();

    e.memory = stages[big].memory;
    e.capacity_bytes = d.capacity_bytes;
    e.fits = e.memory.total() <= d.capacity_bytes;
    e.worst_memory_stage = stages[big].id;
    e.worst_time_stage = stages[slow].id;
    e.stage_time_imbalance = stages[fast].result.time() > 0 ? t_micro / stages[fast].result.time() : 1.0;
    e.stage_memory_imbalance =
        stages[small].memory.total() > 0 ? stages[big].memory.total() / stages[small].memory.total() : 1.0;
    e.params_per_device = stages[big].result.params;
    for (const Segment& seg : g.segments)
        for (const Op& op : seg.ops) {
            e.params_total += op.params * static_cast<double>(seg.repeat);
            const OpCost one = op_cost(op, 1.0, pb.activation, pb.weight, c.autocast,
                                        c.fuse_norm_activation, c.low_precision_norm);
            e.model_flops_per_sample += (one.fwd_flops + one.bwd_flops) * static_cast<double>(seg.repeat);
        }
    e.hardware_flops_per_device = s.flops * ga;
    e.ops = s.ops;

    check_finite(e.step_time_s, "step_time_s");
    check_finite(e.memory.total(), "memory");
    check_finite(e.model_flops_per_sample, "flops_per_sample");
    check_finite(e.params_total, "params");
    return e;
}

MemoryBreakdown memory_per_device(const Graph& g, const Device& d, const Network& net, const Config& c) {
    validate(g, d, net, c);
    MemoryBreakdown worst;
    bool first = true;
    for (const StageEval& s : eval_stages(g, d, net, c, false)) {
        if (first || s.memory.total() > worst.total()) worst = s.memory;
        first = false;
    }
    return worst;
}

std::int64_t max_micro_batch(const Graph& g, const Device& d, const Network& net, const Config& c,
                             std::int64_t global_batch) {
    validate(g, d, net, c);
    require(global_batch >= 0 && global_batch <= kMaxBatch, "global_batch must be in [0, 2^40]");
    std::int64_t limit = kMaxBatch;
    if (global_batch > 0) limit = std::max<std::int64_t>(1, global_batch / c.dp);
    auto fits = [&](std::int64_t b) {
        Config x = c;
        x.micro_batch = b;
        if (global_batch > 0) x.grad_accum = std::max<std::int64_t>(1, global_batch / (c.dp * b));
        const double total = memory_per_device(g, d, net, x).total();
        return std::isfinite(total) && total <= d.capacity_bytes;
    };
    if (!fits(1)) return 0;
    // Memory grows with the micro-batch: double until it does not fit, then bisect.
    std::int64_t lo = 1, hi = 2;
    while (hi <= limit && fits(hi)) {
        lo = hi;
        if (hi > limit / 2) { hi = limit + 1; break; }
        hi *= 2;
    }
    hi = std::min(hi, limit + 1);
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (fits(mid)) lo = mid; else hi = mid;
    }
    return lo;
}

}  // namespace estimator
