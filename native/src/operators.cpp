// Operator formulas. Every formula is DESIGN.md §2 (docs/DESIGN.md); 1 multiply-add = 2 FLOP.
#include "estimator/operators.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace estimator {
namespace {

bool bad(double x) { return !std::isfinite(x) || x < 0; }

void require(bool ok, const Op& op, const char* what) {
    if (!ok) throw std::invalid_argument("operator '" + op.name + "': " + what);
}

// An autocast cast as a side kernel (DESIGN §2.9, §3): `bytes` read and written forward, and
// again backward when the gradient is cast back.
void add_cast(OpCost& c, double bytes) {
    c.fwd_side_bytes += bytes;
    c.bwd_side_bytes += bytes;
    c.fwd_kernels += 1;
    c.bwd_kernels += 1;
}

}  // namespace

void validate_op(const Op& op) {
    const double fields[] = {op.m,        op.k,           op.n,        op.heads,
                             op.kv_heads, op.head_dim,    op.seq_kv,   op.elements,
                             op.in_elements, op.inputs,   op.flops_per_element,
                             op.params,   op.mask_bytes_per_element, op.param_tensors};
    for (double x : fields) require(!bad(x), op, "every size must be finite and >= 0");
    switch (op.kind) {
        case OpKind::matmul:
        case OpKind::conv2d:
            require(op.m > 0 && op.k > 0 && op.n > 0, op, "needs m, k and n > 0");
            break;
        case OpKind::attention:
            require(op.m > 0 && op.seq_kv > 0 && op.heads > 0 && op.kv_heads > 0 &&
                        op.head_dim > 0,
                    op, "needs m, seq_kv, heads, kv_heads and head_dim > 0");
            require(op.kv_heads <= op.heads, op, "kv_heads must not exceed heads");
            break;
        case OpKind::norm:
        case OpKind::elementwise:
            require(op.elements > 0, op, "needs elements > 0");
            require(op.inputs >= 1, op, "needs inputs >= 1");
            break;
        case OpKind::embedding:
            require(op.m > 0 && op.k > 0 && op.n > 0, op, "needs m (tokens), k (hidden), n (vocab) > 0");
            break;
        case OpKind::pooling:
            require(op.elements > 0 && op.in_elements > 0, op, "needs elements and in_elements > 0");
            break;
        case OpKind::loss:
            require(op.m > 0 && op.n > 0, op, "needs m (positions) and n (classes) > 0");
            break;
    }
}

PrecisionBytes precision_bytes(Precision precision) {
    switch (precision) {
        case Precision::fp32:
        case Precision::tf32:
            return {4, 4, 4, 4, 0};
        case Precision::fp16:
        case Precision::bf16:
            return {2, 2, 2, 2, 4};  // Micikevicius et al. 2018: fp32 master weights
        case Precision::fp8:
            return {2, 2, 3, 2, 4};  // bf16 weights plus an fp8 cast copy (Transformer Engine)
    }
    throw std::invalid_argument("unknown precision");
}

double optimizer_state_bytes(Optimizer optimizer) {
    switch (optimizer) {
        case Optimizer::sgd: return 0;
        case Optimizer::momentum: return 4;  // one fp32 buffer
        case Optimizer::adam:
        case Optimizer::adamw:
        case Optimizer::lamb: return 8;      // fp32 m and v (Kingma & Ba 2015; You et al. 2020)
        case Optimizer::adafactor: return 0; // factored moments, O(rows + cols) (Shazeer & Stern 2018)
    }
    throw std::invalid_argument("unknown optimizer");
}

OpCost op_cost(const Op& op, double b, double e_compute, double w, bool autocast,
               bool fuse_norm_activation, bool low_precision_norm) {
    OpCost c;
    autocast = autocast && e_compute < 4;
    // Under autocast the residual stream's norms, elementwise ops and embeddings read and write
    // fp32 (DESIGN §2.9); the flag means nothing on other kinds. A low-precision norm casts its
    // fp32 input down and normalises in the compute precision.
    const bool stream_kind =
        op.kind == OpKind::norm || op.kind == OpKind::elementwise || op.kind == OpKind::embedding;
    const bool cast_norm = autocast && low_precision_norm && op.kind == OpKind::norm && op.fp32_stream;
    const double e = autocast && op.fp32_stream && stream_kind && !cast_norm ? 4.0 : e_compute;
    switch (op.kind) {
        case OpKind::matmul: {  // DESIGN §2.1
            const double mkn = b * op.m * op.k * op.n;
            c.fwd_flops = 2 * mkn;
            c.bwd_flops = 4 * mkn;
            const double x = e * b * op.m * op.k, y = e * b * op.m * op.n;
            const double operand = op.weight ? w * op.params : e * b * op.k * op.n;
            c.fwd_bytes = x + operand + y;
            c.bwd_bytes = 2 * c.fwd_bytes;
            c.fwd_kernels = 1;
            c.bwd_kernels = 2;
            c.saved_bytes = x + (op.weight ? 0 : operand);
            c.input_bytes = x;
            if (op.bias) {  // the bias gradient: one more read of dY, its own reduction kernel
                c.bwd_side_bytes += y;
                c.bwd_kernels += 1;
            }
            // fp32 stream -> compute precision (a low-precision norm before it did so)
            if (autocast && op.casts_input && !low_precision_norm) add_cast(c, (4 + e) * b * op.m * op.k);
            // fp32 weight -> compute copy
            if (autocast && op.weight && op.params > 0) add_cast(c, (4 + e) * op.params);
            break;
        }
        case OpKind::conv2d: {  // DESIGN §2.2, implicit GEMM
            const double mkn = b * op.m * op.k * op.n;
            c.fwd_flops = 2 * mkn;
            c.bwd_flops = 4 * mkn;
            const double x = e * b * op.in_elements;
            c.fwd_bytes = x + w * op.params + e * b * op.m * op.n;
            c.bwd_bytes = 2 * c.fwd_bytes;
            c.fwd_kernels = 1;
            c.bwd_kernels = 2;
            c.saved_bytes = x;
            c.input_bytes = x;
            break;
        }
        case OpKind::attention: {  // DESIGN §2.3
            const double h = op.heads, g = op.kv_heads, d = op.head_dim, sq = op.m, sk = op.seq_kv;
            const double scores = b * h * sq * sk;
            const double causal_skip = (op.causal && op.fused) ? 0.5 : 1.0;
            const double matmul_flops = 4 * scores * d * causal_skip;
            c.fwd_flops = matmul_flops + 5 * scores * causal_skip;
            c.bwd_flops = (op.fused ? 2.5 : 2.0) * matmul_flops;
            const double q = e * b * h * sq * d, kv = e * b * g * sk * d;
            if (op.fused) {  // FlashAttention (Dao et al. 2022)
                c.fwd_bytes = 2 * q + 2 * kv + 4 * b * h * sq;
                c.bwd_bytes = 4 * q + 4 * kv + 8 * b * h * sq;
                c.fwd_kernels = 1;
                c.bwd_kernels = 2;
                c.saved_bytes = q + 2 * kv + 4 * b * h * sq;
            } else {
                // Eager under autocast: the mask (fp32, the parameters' dtype) promotes the
                // scores to fp32, autocast runs softmax in fp32, and dropout follows; a cast
                // brings the probabilities back to e bytes for the PV matmul (DESIGN §2.9).
                const double up = op.eager && autocast ? 4 - e : 0;
                const double drop = op.dropout ? (2 * e + 1 + 2 * up) * scores : 0;
                c.fwd_bytes = 2 * q + 2 * kv + (4 * e + 2 * up) * scores + drop;
                c.bwd_bytes = 2 * c.fwd_bytes;
                c.fwd_kernels = op.dropout ? 5 : 4;
                c.bwd_kernels = op.dropout ? 7 : 6;
                // Korthikanti et al. 2022 Table 2: probabilities, dropout mask and output.
                c.saved_quadratic_bytes = (e + up) * scores + (op.dropout ? (1 + e) * scores : 0);
                c.saved_bytes = q + 2 * kv + c.saved_quadratic_bytes;
                if (up > 0) add_cast(c, (4 + e) * scores);
                if (op.eager) {
                    // The scale is its own pass over the scores forward and backward; the mask
                    // add a broadcasting one forward (its gradient is the input's). Q, K, V and
                    // the context are copied between [b, s, h, d] and [b, h, s, d] forward, and
                    // their gradients backward (permute + contiguous before each batched GEMM).
                    c.fwd_side_bytes += 2 * e * scores;
                    c.bwd_side_bytes += 2 * e * scores;
                    c.fwd_strided_bytes += (2 * e + up) * scores + 4 * q + 4 * kv;
                    c.bwd_strided_bytes += 4 * q + 4 * kv;
                    c.fwd_kernels += 6;
                    c.bwd_kernels += 5;
                }
            }
            c.input_bytes = q + 2 * kv;
            break;
        }
        case OpKind::norm: {  // DESIGN §2.4
            const double x = e * b * op.elements;
            const double fpe = op.flops_per_element > 0 ? op.flops_per_element : 5;
            c.fwd_flops = fpe * b * op.elements;
            c.bwd_flops = 2 * c.fwd_flops;
            // BatchNorm in training reads its input once for the batch statistics and again to
            // normalise, and backward reduces over (x, dy) before computing dx: PyTorch's CUDA
            // kernels batch_norm_collect_statistics + batch_norm_transform_input and
            // batch_norm_backward_reduce + batch_norm_backward_elemt (ATen Normalization.cuh).
            // Row-wise norms (LayerNorm, RMSNorm) normalise in one kernel; their backward takes
            // dx in one kernel and the scale/shift gradients, a reduction over the rows reading
            // (x, dy) again, in another (PyTorch's layer_norm_grad_input and GammaBetaBackward;
            // apex's fused LayerNorm likewise), measured as 2 kernels on an H100 (DESIGN §2.4).
            const double extra = op.batch_stats ? 1 : 0;
            const double weight_pass = op.batch_stats || op.params > 0 ? 1 : 0;
            c.fwd_bytes = (2 + extra) * x + w * op.params;
            c.bwd_bytes = (3 + 2 * weight_pass) * x + 2 * w * op.params;
            c.fwd_kernels = 1 + extra;
            c.bwd_kernels = 1 + weight_pass;
            c.saved_bytes = op.saves_input ? x : 0;
            c.input_bytes = x;
            if (cast_norm) {  // fp32 stream in, compute copy out
                add_cast(c, (4 + e) * b * op.elements);
                c.input_bytes = 4 * b * op.elements;  // the fp32 stream (a checkpoint keeps it)
            }
            break;
        }
        case OpKind::elementwise: {  // DESIGN §2.5
            const double x = e * b * op.elements, mask = op.mask_bytes_per_element * b * op.elements;
            c.fwd_flops = op.flops_per_element * b * op.elements;
            c.bwd_flops = c.fwd_flops;
            if (!op.fused && !(fuse_norm_activation && op.follows_norm)) {
                c.fwd_bytes = x * (op.inputs + 1) + mask;
                // Backward reads the saved input, or the output when the next op keeps it (ReLU).
                c.bwd_bytes = x * (1 + op.inputs) + (op.saves_input || op.reads_output ? x : 0) + mask;
                c.fwd_kernels = 1;
                c.bwd_kernels = 1;
            }
            c.saved_bytes = (op.saves_input ? x : 0) + mask;
            c.input_bytes = x;
            break;
        }
        case OpKind::embedding: {  // DESIGN §2.6
            const double rows = e * b * op.m * op.k;
            c.fwd_flops = 0;
            c.bwd_flops = b * op.m * op.k;
            c.fwd_bytes = 2 * rows;
            c.bwd_bytes = 2 * rows + w * op.params;
            c.fwd_kernels = 1;
            c.bwd_kernels = 2;
            c.saved_bytes = 8 * b * op.m;
            c.input_bytes = 8 * b * op.m;
            break;
        }
        case OpKind::pooling: {  // DESIGN §2.7
            c.fwd_flops = op.flops_per_element * b * op.elements;
            c.bwd_flops = c.fwd_flops;
            c.fwd_bytes = e * b * (op.in_elements + op.elements);
            c.bwd_bytes = c.fwd_bytes;
            c.fwd_kernels = 1;
            c.bwd_kernels = 1;
            c.saved_bytes = e * b * op.in_elements;
            c.input_bytes = c.saved_bytes;
            break;
        }
        case OpKind::loss: {  // DESIGN §2.8
            const double z = b * op.m * op.n;
            c.fwd_flops = 5 * z;
            c.bwd_flops = 2 * z;
            if (op.fused) {
                // One fused softmax-cross-entropy kernel each way, in fp32 registers over the
                // logits as they are (flash-attn's and apex's xentropy, Megatron-core's and
                // Transformer Engine's fused cross-entropy): forward reads the logits and keeps
                // them with one log-sum-exp per row; backward reads them again and writes their
                // gradient into a new buffer of the same size.
                c.fwd_bytes = e * z;
                c.bwd_bytes = 2 * e * z;
                c.fwd_kernels = 1;
                c.bwd_kernels = 1;
                c.saved_bytes = e * z;
                c.transient_bytes = e * z;
                c.input_bytes = e * z;
                break;
            }
            // Under mixed precision PyTorch autocasts cross_entropy to fp32 (torch.amp op
            // reference: log_softmax, nll_loss run in float32): the logits are cast up, then
            // log_softmax reads and writes fp32; backward reads the incoming gradient and the
            // saved log-probabilities, writes the fp32 gradient and casts it back down.
            const double cast = e < 4 ? 1 : 0;
            c.fwd_bytes = cast * (e + 4) * z + 8 * z;
            // nll_loss's backward first zero-fills its dense fp32 gradient (measured: fill_
            // kernels of 4 bytes per logit on an H100), then log_softmax's backward runs.
            c.bwd_bytes = 4 * z + 12 * z + cast * (4 + e) * z;
            c.fwd_kernels = 2 + cast;
            c.bwd_kernels = 2 + cast;
            c.saved_bytes = 4 * z;
            // Backward holds the fp32 gradient of the log-probabilities and the fp32 gradient
            // of the logits beside the saved log-probabilities (measured on an H100, PyTorch
            // 2.11: 12 bytes per logit above the saved layer activations at the backward peak;
            // benchmarks/measurements/h100-sxm-2026-11-23.json, saved_activations).
            c.transient_bytes = 8 * z;
            c.input_bytes = e * z;
            break;
        }
    }
    return c;
}

OpTime roofline(double flops, double bytes, double kernels, double peak_flops, double eff_compute,
                double bandwidth_Bps, double eff_memory, double launch_s) {
    OpTime t;
    const double compute = flops > 0 ? flops / (peak_flops * eff_compute) : 0.0;
    const double memory = bytes > 0 ? bytes / (bandwidth_Bps * eff_memory) : 0.0;
    if (compute >= memory) {
        t.compute_s = compute;
    } else {
        t.memory_s = memory;
    }
    t.overhead_s = kernels * launch_s;
    return t;
}

double misalignment_factor(const Op& op, const Device& d) {
    double factor = 1;
    for (const double dim : {op.n, op.k}) {
        const double bytes = dim * d.operand_bytes;
        if (std::fmod(bytes, 16) == 0) continue;
        const double f = std::fmod(bytes, 8) == 0   ? d.misaligned_8B
                         : std::fmod(bytes, 4) == 0 ? d.misaligned_4B
                                                    : d.misaligned_2B;
        factor = std::min(factor, f);
    }
    return factor;
}

double head_dim_factor(double head_dim, double at_64) {
    const double t = std::clamp((head_dim - 64) / 64, 0.0, 1.0);
    return at_64 + (1 - at_64) * t;
}

void op_times(const Op& op, const OpCost& c, const Device& d, OpTime& fwd, OpTime& bwd) {
    double peak = d.peak_vector_flops, eff = 1.0;
    switch (op.kind) {
        case OpKind::matmul: {
            const bool high = op.high_precision && d.peak_high_flops > 0;
            peak = high ? d.peak_high_flops : d.peak_matmul_flops;
            eff = (high ? d.eff_high : d.eff_matmul) * misalignment_factor(op, d);
            break;
        }
        case OpKind::loss:
            peak = d.peak_matmul_flops;
            eff = d.eff_matmul;
            break;
        case OpKind::attention:  // fused kernels have their own measured efficiency
            // fp8 recipes (Transformer Engine) keep attention in bf16.
            peak = d.peak_high_flops > 0 ? d.peak_high_flops : d.peak_matmul_flops;
            eff = op.fused ? d.eff_attention * head_dim_factor(op.head_dim, d.attention_d64)
                           : d.eff_matmul;
            break;
        case OpKind::conv2d:
            peak = d.peak_matmul_flops;
            eff = d.eff_conv;
            break;
        default:
            break;
    }
    fwd = roofline(c.fwd_flops, c.fwd_bytes, c.fwd_kernels, peak, eff, d.bandwidth_Bps,
                   d.eff_memory, d.launch_s);
    bwd = roofline(c.bwd_flops, c.bwd_bytes, c.bwd_kernels, peak, eff, d.bandwidth_Bps,
                   d.eff_memory, d.launch_s);
    const double memory_Bps = d.bandwidth_Bps * d.eff_memory;
    fwd.memory_s += c.fwd_side_bytes / memory_Bps + c.fwd_strided_bytes / (memory_Bps * d.strided_eff);
    bwd.memory_s += c.bwd_side_bytes / memory_Bps + c.bwd_strided_bytes / (memory_Bps * d.strided_eff);
}

double tensors_of(const Op& op) {
    if (op.params <= 0) return 0;
    return op.param_tensors > 0 ? op.param_tensors : 1 + (op.bias ? 1 : 0);
}

Op shard(const Op& op, const Config& cfg) {
    Op s = op;
    if (op.kind == OpKind::attention && cfg.attention != AttentionKernel::graph) {
        s.fused = cfg.attention == AttentionKernel::fused;
        s.eager = cfg.attention == AttentionKernel::eager;
    }
    if (op.kind == OpKind::loss && cfg.fused_loss) s.fused = true;
    const double tp = static_cast<double>(cfg.tp), cp = static_cast<double>(cfg.cp);
    // Elementwise and norm ops acting on a tensor split by tp (the MLP activation between the
    // column- and row-parallel matmuls, per-head ops) see 1/tp of its elements.
    const bool pointwise = op.kind == OpKind::norm || op.kind == OpKind::elementwise ||
                           op.kind == OpKind::pooling;
    if (pointwise && (op.tp == TpSplit::column || op.tp == TpSplit::row || op.tp == TpSplit::heads)) {
        s.elements = op.elements / tp;
        s.in_elements = op.in_elements / tp;
        s.params = op.params / tp;
        if (cfg.cp > 1) {
            s.elements /= cp;
            s.in_elements /= cp;
        }
        return s;
    }
    switch (op.tp) {
        case TpSplit::column:
            s.n = op.n / tp;
            s.params = op.params / tp;
            break;
        case TpSplit::row:
            s.k = op.k / tp;
            s.params = op.params / tp;
            break;
        case TpSplit::heads:
            s.heads = op.heads / tp;
            s.kv_heads = std::max(1.0, op.kv_heads / tp);
            s.params = op.params / tp;
            break;
        case TpSplit::sequence:
            if (cfg.sequence_parallel) {
                s.elements = op.elements / tp;
                s.m = op.m / tp;
            }
            break;
        case TpSplit::none:
            break;
    }
    if (cfg.cp > 1) {  // context parallel divides every token dimension; attention keeps s_k
        s.m /= cp;
        s.elements /= cp;
    }
    if (op.expert) s.params /= static_cast<double>(cfg.ep);
    return s;
}

void keep_saved_input(const Op& op, bool after_fused_attention, const Config& cfg, double e, OpCost& cost) {
    if (op.kind != OpKind::matmul || !op.weight) return;
    double kept = cost.input_bytes;
    // Korthikanti et al. 2022 §4.2.2: Megatron-core's LinearWithGradAccumulationAndAsync-
    // Communication and Transformer Engine's Linear/LayerNormLinear save the local sequence
    // shard and all-gather it again in backward, launched beside the input-gradient GEMM.
    if (cfg.sequence_parallel && cfg.tp > 1 && op.tp == TpSplit::column && !op.expert)
        kept /= static_cast<double>(cfg.tp);
    // Transformer Engine's fp8 Linear saves the fp8 cast of its input for the weight-gradient
    // GEMM. A fused attention core's output stays saved in bf16 as well: its backward reads it.
    if (cfg.precision == Precision::fp8 && !op.high_precision) kept = kept / e + (after_fused_attention ? kept : 0);
    cost.saved_bytes += kept - cost.input_bytes;
}

}  // namespace estimator
