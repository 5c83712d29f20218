"""A deliberately simple pure-Python reference of DESIGN §2–§4, §6–§7 on one device.

This module is the oracle of the differential test against the C++ core and the "pure-Python
evaluation" baseline of the benchmarks; it never produces user-facing estimates. It implements
each formula of docs/DESIGN.md literally, one branch per operator kind, for a single device
without parallelism (tp = pp = dp = cp = ep = 1, no ZeRO); `Operator.tp` and `Operator.expert`
are therefore ignored. Units are SI throughout: seconds, bytes, FLOP, FLOP/s, bytes/s.

Readings of DESIGN.md where the text leaves a choice are marked `Reading:` in the comments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from estimator.graph import Graph, Operator, OpKind

__all__ = [
    "OpCost",
    "ReferenceDevice",
    "ReferenceResult",
    "PrecisionBytes",
    "evaluate_single_device",
    "fits_on",
    "op_cost",
    "op_time",
    "precision_bytes",
]

# Kinds that run on the tensor cores at the compute-precision peak (DESIGN §3).
_MATMUL_PEAK_KINDS = frozenset({OpKind.MATMUL, OpKind.CONV2D, OpKind.ATTENTION, OpKind.LOSS})

# Softmax cross-entropy keeps fp32 probabilities (DESIGN §2.8).
_FP32 = 4.0
# Embedding saves int64 token ids (DESIGN §2.6).
_INT64 = 8.0
# FlashAttention's per-row log-sum-exp is fp32 (DESIGN §2.3).
_LSE = 4.0
# Norm FLOPs per element when `flops_per_element` is unset: mean, variance, normalize, scale,
# shift (DESIGN §2.4).
_NORM_DEFAULT_FLOPS_PER_ELEMENT = 5.0


@dataclass(frozen=True)
class OpCost:
    """Cost of one operator at micro-batch b (DESIGN §2).

    Attributes:
        fwd_flops, bwd_flops: FLOP of the forward and backward pass.
        fwd_bytes, bwd_bytes: bytes moved to/from device memory by each pass.
        fwd_kernels, bwd_kernels: kernel launches of each pass.
        saved_bytes: bytes kept from forward for backward (activations), quadratic part included.
        saved_quadratic_bytes: the part of `saved_bytes` that selective recomputation drops
            (unfused attention's probabilities, dropout mask and dropped probabilities).
        transient_bytes: live only while the operator runs, on top of what is saved (the
            loss's fp32 gradients, DESIGN §2.8).
        fwd_side_bytes, bwd_side_bytes: bytes of the operator's separate memory-bound kernels
            (casts, the bias reduction, eager attention's scale), added to its time (DESIGN §3).
        fwd_strided_bytes, bwd_strided_bytes: side bytes moved by non-vectorised kernels
            (eager attention's layout copies and broadcast mask add), at the strided efficiency.
    """

    fwd_flops: float
    bwd_flops: float
    fwd_bytes: float
    bwd_bytes: float
    fwd_kernels: int
    bwd_kernels: int
    saved_bytes: float
    saved_quadratic_bytes: float
    transient_bytes: float = 0.0
    fwd_side_bytes: float = 0.0
    bwd_side_bytes: float = 0.0
    fwd_strided_bytes: float = 0.0
    bwd_strided_bytes: float = 0.0


def op_cost(op: Operator, batch: float, act_bytes: float, weight_bytes: float,
            autocast: bool = False, fuse_norm_activation: bool = False,
            low_precision_norm: bool = False) -> OpCost:
    """FLOPs, bytes, kernels and saved bytes of one operator (DESIGN §2).

    Args:
        op: the operator, per sample, unsharded (tp = 1 here).
        batch: micro-batch b, samples.
        act_bytes: e, bytes per activation element (DESIGN §4).
        weight_bytes: w, bytes per compute-weight element as read by the kernels (DESIGN §4).
        autocast: torch.autocast over fp32 weights (DESIGN §2.9); only with e < 4.
        fuse_norm_activation: fused BatchNorm(+add)+ReLU kernels absorb `follows_norm` ops.
        low_precision_norm: under autocast, a stream norm casts its input down and normalises
            in the compute precision; the stream matmuls then cast nothing (DESIGN §2.9).

    Returns:
        The operator's `OpCost` at micro-batch `batch`.
    """
    if not (math.isfinite(batch) and batch >= 0):
        raise ValueError(f"operator {op.name!r}: batch must be finite and >= 0, got {batch}")
    autocast = autocast and act_bytes < _FP32
    if fuse_norm_activation and op.follows_norm and op.kind is OpKind.ELEMENTWISE:
        op = replace(op, fused=True)  # DESIGN §2.5: runs inside the BatchNorm's kernel
    stream_kind = op.kind in (OpKind.NORM, OpKind.ELEMENTWISE, OpKind.EMBEDDING)
    cast_norm = autocast and low_precision_norm and op.kind is OpKind.NORM and op.fp32_stream
    fp32 = autocast and op.fp32_stream and stream_kind and not cast_norm
    cost = _op_cost(op, batch, _FP32 if fp32 else act_bytes, weight_bytes)
    if cast_norm:  # its own cast kernel, fp32 in and the compute copy out; the gradient back
        cast = (_FP32 + act_bytes) * batch * op.elements
        return replace(cost, fwd_side_bytes=cast, bwd_side_bytes=cast, fwd_kernels=cost.fwd_kernels + 1,
                       bwd_kernels=cost.bwd_kernels + 1)
    if op.kind is OpKind.ATTENTION and autocast and op.eager and not op.fused:
        return _eager_under_autocast(op, cost, batch, act_bytes)
    if op.kind is not OpKind.MATMUL:
        return cost
    # DESIGN §2.1: the bias gradient reads dY once more in its own reduction kernel.
    extra_bwd = act_bytes * batch * op.m * op.n if op.bias else 0.0
    extra_fwd, kernels_fwd, kernels_bwd = 0.0, 0, int(op.bias)
    if autocast:  # DESIGN §2.9: casts of the stream input and of the weights, both ways
        casts_input = op.casts_input and not low_precision_norm  # else the norm before it did
        casts = ((_FP32 + act_bytes) * batch * op.m * op.k if casts_input else 0.0) + (
            (_FP32 + act_bytes) * op.params if op.weight and op.params > 0 else 0.0)
        count = int(casts_input) + int(op.weight and op.params > 0)
        extra_fwd += casts
        extra_bwd += casts
        kernels_fwd += count
        kernels_bwd += count
    return replace(cost, fwd_side_bytes=extra_fwd, bwd_side_bytes=extra_bwd,
                   fwd_kernels=cost.fwd_kernels + kernels_fwd, bwd_kernels=cost.bwd_kernels + kernels_bwd)


def _eager_under_autocast(op: Operator, cost: OpCost, b: float, e: float) -> OpCost:
    """DESIGN §2.9: eager attention's fp32 mask promotes the scores; autocast runs the softmax
    (and so the dropout after it) in fp32 and casts the probabilities back for the PV matmul."""
    scores = b * op.heads * op.m * op.seq_kv
    up = _FP32 - e  # the extra bytes of each fp32 element
    # softmax reads and writes fp32, and so does dropout; the mask add writes fp32.
    fwd_bytes = cost.fwd_bytes + (2.0 * up + (2.0 * up if op.dropout else 0.0)) * scores
    cast = (_FP32 + e) * scores  # fp32 probabilities to e bytes, and their gradient back
    return replace(cost, fwd_bytes=fwd_bytes, bwd_bytes=2.0 * fwd_bytes,
                   saved_bytes=cost.saved_bytes + up * scores,  # softmax keeps its fp32 output
                   saved_quadratic_bytes=cost.saved_quadratic_bytes + up * scores,
                   fwd_side_bytes=cost.fwd_side_bytes + cast, bwd_side_bytes=cost.bwd_side_bytes + cast,
                   fwd_strided_bytes=cost.fwd_strided_bytes + up * scores,
                   fwd_kernels=cost.fwd_kernels + 1, bwd_kernels=cost.bwd_kernels + 1)


def _op_cost(op: Operator, batch: float, act_bytes: float, weight_bytes: float) -> OpCost:
    """DESIGN §2 at one activation width."""
    b, e, w, p = batch, act_bytes, weight_bytes, op.params

    if op.kind is OpKind.MATMUL:
        # DESIGN §2.1: X[b·m, k] · W[k, n] → Y[b·m, n]; 1 multiply-add = 2 FLOP.
        flops = 2.0 * b * op.m * op.k * op.n
        if op.weight:
            # Reading: P is `op.params` (weights + bias; all experts' weights for MoE), not k·n.
            operand_bytes = w * p
            operand_saved = 0.0
        else:
            # Activation × activation (QKᵀ-like): the k×n operand is per sample, read with e and
            # saved for backward ("an activation operand is saved too").
            operand_bytes = e * b * op.k * op.n
            operand_saved = operand_bytes
        fwd_bytes = e * b * op.m * op.k + operand_bytes + e * b * op.m * op.n
        return OpCost(
            fwd_flops=flops,
            bwd_flops=2.0 * flops,  # 4·b·m·k·n: dX and dW (or dX and dY)
            fwd_bytes=fwd_bytes,
            bwd_bytes=2.0 * fwd_bytes,
            fwd_kernels=1,
            bwd_kernels=2,
            saved_bytes=e * b * op.m * op.k + operand_saved,
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.CONV2D:
        # DESIGN §2.2, implicit GEMM: m = out_h·out_w, k = c_in/groups·kh·kw, n = c_out.
        flops = 2.0 * b * op.m * op.k * op.n
        fwd_bytes = e * b * op.in_elements + w * p + e * b * op.m * op.n
        return OpCost(
            fwd_flops=flops,
            bwd_flops=2.0 * flops,
            fwd_bytes=fwd_bytes,
            bwd_bytes=2.0 * fwd_bytes,
            fwd_kernels=1,
            bwd_kernels=2,
            saved_bytes=e * b * op.in_elements,
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.ATTENTION:
        return _attention_cost(op, b, e)

    if op.kind is OpKind.NORM:
        # DESIGN §2.4: layer/RMS/batch norm over E elements; 5 FLOP/element when unset.
        # Reading: "unset" is flops_per_element == 0 (the Operator default).
        fpe = op.flops_per_element or _NORM_DEFAULT_FLOPS_PER_ELEMENT
        big_e = op.elements
        extra = 1.0 if op.batch_stats else 0.0
        # A norm with scale/shift reads (x, dy) again for their gradients, in its own kernel
        # (BatchNorm's backward reduction; a row norm's gamma/beta pass).
        weight_pass = 1.0 if op.batch_stats or p > 0 else 0.0
        fwd_flops = fpe * b * big_e
        return OpCost(
            fwd_flops=fwd_flops,
            bwd_flops=2.0 * fwd_flops,
            # BatchNorm (batch_stats) passes over x once more each way: statistics, then
            # normalisation; backward reduction, then dx.
            fwd_bytes=(2.0 + extra) * e * b * big_e + w * p,  # read x, write y, read γ/β
            bwd_bytes=(3.0 + 2.0 * weight_pass) * e * b * big_e + 2.0 * w * p,  # read x, dy; write dx
            fwd_kernels=1 + int(extra),
            bwd_kernels=1 + int(weight_pass),
            saved_bytes=e * b * big_e if op.saves_input else 0.0,  # row statistics ignored
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.ELEMENTWISE:
        # DESIGN §2.5: E elements, `inputs` tensors read, optional saved mask.
        # Reading: flops_per_element has no default here (unset = 0 FLOP), unlike norm.
        big_e = op.elements
        mask = op.mask_bytes_per_element * b * big_e
        flops = op.flops_per_element * b * big_e
        saved_input = e * b * big_e if op.saves_input else 0.0
        if op.fused:
            # Folded into the producing kernel: bytes and kernels 0, FLOPs still count.
            # Reading: the saved input and mask are still kept (fusion does not change what
            # backward needs, e.g. Megatron's fused bias+GeLU saves its input).
            fwd_bytes = bwd_bytes = 0.0
            kernels = 0
        else:
            fwd_bytes = e * b * big_e * (op.inputs + 1) + mask
            # Backward reads what it needs: the saved input, or the output the next op keeps.
            read_back = e * b * big_e if op.saves_input or op.reads_output else 0.0
            bwd_bytes = e * b * big_e * (1 + op.inputs) + read_back + mask
            kernels = 1
        return OpCost(
            fwd_flops=flops,
            bwd_flops=flops,
            fwd_bytes=fwd_bytes,
            bwd_bytes=bwd_bytes,
            fwd_kernels=kernels,
            bwd_kernels=kernels,
            saved_bytes=saved_input + mask,
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.EMBEDDING:
        # DESIGN §2.6: gather m rows of a [vocab = n, hidden = k] table; backward scatter-adds
        # (b·m·k FLOP) and writes the dense table gradient (w·P).
        rows = e * b * op.m * op.k
        return OpCost(
            fwd_flops=0.0,
            bwd_flops=b * op.m * op.k,
            fwd_bytes=2.0 * rows,
            bwd_bytes=2.0 * rows + w * p,
            fwd_kernels=1,
            bwd_kernels=2,
            saved_bytes=_INT64 * b * op.m,
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.POOLING:
        # DESIGN §2.7: in_elements → elements, flops_per_element = window size.
        flops = op.flops_per_element * b * op.elements
        moved = e * b * (op.in_elements + op.elements)
        return OpCost(
            fwd_flops=flops,
            bwd_flops=flops,
            fwd_bytes=moved,
            bwd_bytes=moved,
            fwd_kernels=1,
            bwd_kernels=1,
            saved_bytes=e * b * op.in_elements,
            saved_quadratic_bytes=0.0,
        )

    if op.kind is OpKind.LOSS and op.fused:
        # DESIGN §2.8: one fused kernel each way over the logits as they are; backward writes
        # their gradient into a new buffer.
        logits = b * op.m * op.n
        return OpCost(fwd_flops=5.0 * logits, bwd_flops=2.0 * logits, fwd_bytes=e * logits,
                      bwd_bytes=2 * e * logits, fwd_kernels=1, bwd_kernels=1, saved_bytes=e * logits,
                      saved_quadratic_bytes=0.0, transient_bytes=e * logits)

    if op.kind is OpKind.LOSS:
        # DESIGN §2.8: softmax cross-entropy over n classes at m positions; fp32 probabilities.
        logits = b * op.m * op.n
        cast = 1.0 if e < _FP32 else 0.0
        return OpCost(
            fwd_flops=5.0 * logits,
            bwd_flops=2.0 * logits,
            # Mixed precision: autocast runs the loss in fp32 (cast up, log_softmax in fp32;
            # backward reads dy and the log-probabilities, writes fp32 and casts down).
            fwd_bytes=cast * (e + _FP32) * logits + 2 * _FP32 * logits,
            # nll_loss zero-fills its dense fp32 gradient first.
            bwd_bytes=4 * _FP32 * logits + cast * (_FP32 + e) * logits,
            fwd_kernels=2 + int(cast),
            bwd_kernels=2 + int(cast),
            saved_bytes=_FP32 * logits,
            saved_quadratic_bytes=0.0,
            # Backward: fp32 gradients of the log-probabilities and of the logits.
            transient_bytes=2 * _FP32 * logits,
        )

    raise ValueError(f"operator {op.name!r}: unknown kind {op.kind!r}")


def _attention_cost(op: Operator, b: float, e: float) -> OpCost:
    """DESIGN §2.3: attention core after the projections (Dao et al. 2022; Korthikanti 2022)."""
    h, g, d = op.heads, op.kv_heads, op.head_dim
    s_q, s_k = op.m, op.seq_kv
    if h > 0 and g <= 0:
        # Reading: kv_heads = 0 is a lowering bug, not "same as heads"; refuse it.
        raise ValueError(f"operator {op.name!r}: attention needs kv_heads >= 1, got {g}")
    # Flash kernels skip fully masked blocks: c = 1/2 only when causal AND fused.
    c = 0.5 if (op.causal and op.fused) else 1.0
    scores = b * h * s_q * s_k  # elements of QKᵀ
    matmul_flops = 4.0 * scores * d * c  # QKᵀ and PV, 2 FLOP per multiply-add each
    fwd_flops = matmul_flops + 5.0 * scores * c  # + scale, mask, softmax
    # Reading: backward is 2× (unfused) or 2.5× (fused: recomputes QKᵀ, 5 GEMMs vs 2) the forward
    # MATMUL FLOPs only; the softmax backward's elementwise FLOPs are not counted.
    bwd_flops = (2.5 if op.fused else 2.0) * matmul_flops
    qkv_saved = e * b * (h * s_q * d + 2.0 * g * s_k * d)  # Q, K, V

    if op.fused:
        # FlashAttention: Q, O, K, V in, O out, fp32 log-sum-exp; no s_q×s_k tensor in memory.
        # Reading: `dropout` adds no bytes or kernels here (the mask is regenerated in-kernel).
        lse = _LSE * b * h * s_q
        return OpCost(
            fwd_flops=fwd_flops,
            bwd_flops=bwd_flops,
            fwd_bytes=e * b * (2.0 * h * s_q * d + 2.0 * g * s_k * d) + lse,
            bwd_bytes=e * b * (4.0 * h * s_q * d + 4.0 * g * s_k * d) + 2.0 * lse,
            fwd_kernels=1,
            bwd_kernels=2,
            saved_bytes=qkv_saved + lse,
            saved_quadratic_bytes=0.0,
        )

    # Unfused: scores written, read, probs written, read (4 passes over s_q×s_k at e bytes).
    fwd_bytes = e * b * (2.0 * h * s_q * d + 2.0 * g * s_k * d) + 4.0 * e * scores
    quadratic = e * scores  # softmax probabilities
    kernels_fwd, kernels_bwd = 4, 6
    if op.dropout:
        # Dropout reads probs (e), writes its 1-byte mask and the dropped probs (e).
        fwd_bytes += (e + 1.0 + e) * scores
        quadratic += (1.0 + e) * scores  # mask + dropped probs: 5·a·s²·b in total at e = 2
        kernels_fwd += 1
        kernels_bwd += 1
    # Reading: unfused saves Q, K, V and the quadratic tensors only (no log-sum-exp).
    cost = OpCost(
        fwd_flops=fwd_flops,
        bwd_flops=bwd_flops,
        fwd_bytes=fwd_bytes,
        bwd_bytes=2.0 * fwd_bytes,
        fwd_kernels=kernels_fwd,
        bwd_kernels=kernels_bwd,
        saved_bytes=qkv_saved + quadratic,
        saved_quadratic_bytes=quadratic,
    )
    if not op.eager:
        return cost
    # Eager: the scale reads and writes the scores forward and backward; the mask add is a
    # broadcasting pass forward only (its gradient is its input's). Each of Q, K, V and the
    # context is permuted and copied contiguous forward, and its gradient backward.
    layout = 2.0 * e * b * (2.0 * h * s_q * d + 2.0 * g * s_k * d)
    return replace(cost, fwd_side_bytes=2.0 * e * scores, bwd_side_bytes=2.0 * e * scores,
                   fwd_strided_bytes=2.0 * e * scores + layout, bwd_strided_bytes=layout,
                   fwd_kernels=kernels_fwd + 6, bwd_kernels=kernels_bwd + 5)


def op_time(
    cost_flops: float,
    cost_bytes: float,
    kernels: int,
    peak_flops: float,
    compute_eff: float,
    bandwidth: float,
    memory_eff: float,
    launch_s: float,
) -> float:
    """Roofline time of one pass of one operator (DESIGN §3).

    `t = max(F / (peak·η_c), B / (BW·η_m)) + kernels·t_launch`.

    Args:
        cost_flops: F, FLOP.
        cost_bytes: B, bytes moved.
        kernels: kernel launches.
        peak_flops: peak, FLOP/s (matmul peak at the compute precision, or the vector peak).
        compute_eff: η_c, achievable fraction of peak (1 for vector ops).
        bandwidth: BW, bytes/s.
        memory_eff: η_m, achievable fraction of BW.
        launch_s: t_launch, seconds per kernel.

    Returns:
        Seconds.
    """
    if not (peak_flops > 0 and compute_eff > 0 and bandwidth > 0 and memory_eff > 0):
        raise ValueError("peak_flops, compute_eff, bandwidth and memory_eff must be > 0")
    if launch_s < 0 or kernels < 0 or cost_flops < 0 or cost_bytes < 0:
        raise ValueError("launch_s, kernels, cost_flops and cost_bytes must be >= 0")
    compute_s = cost_flops / (peak_flops * compute_eff)
    memory_s = cost_bytes / (bandwidth * memory_eff)
    return max(compute_s, memory_s) + kernels * launch_s


@dataclass(frozen=True)
class ReferenceDevice:
    """One device in SI units.

    Attributes:
        peak_flops_matmul: dense tensor-core peak at the compute precision, FLOP/s (the caller
            applies the DESIGN §4 fallback chain; this module does not).
        peak_flops_vector: fp32 vector peak, FLOP/s.
        bandwidth: device memory bandwidth, bytes/s.
        eff_matmul, eff_conv, eff_memory: achievable fractions (DESIGN §3).
        eff_attention: fraction for fused (flash) attention; None means eff_matmul.
        launch_s: per-kernel launch overhead, s.
        attention_d64: fused attention's efficiency at head dim 64 relative to 128.
        foreach_traffic: a foreach optimizer step's bytes over a fused one's (DESIGN §7).
        strided_eff: non-vectorised elementwise kernels' fraction of `eff_memory` (DESIGN §3).
        loop_tensor_s: host time per parameter tensor of a Python-loop optimizer step (DESIGN §7).
        host_s: host time per operator (forward + backward) of an eager framework, s; a
            micro-batch takes at least this × its operators (DESIGN §7).
        operand_bytes: bytes per GEMM operand element at the compute precision.
        misaligned: efficiency multipliers of a matmul whose n or k is a multiple of 8, 4, 2
            bytes (in that order) but not of 16 (DESIGN §3).
        capacity_bytes: device memory, bytes.
        runtime_context_bytes: CUDA context and library workspaces, bytes.
        fragmentation: allocator overhead as a fraction of activations.
    """

    peak_flops_matmul: float
    peak_flops_vector: float
    bandwidth: float
    eff_matmul: float
    eff_conv: float
    eff_memory: float
    launch_s: float
    capacity_bytes: float
    runtime_context_bytes: float
    fragmentation: float
    eff_attention: float | None = None
    operand_bytes: float = 2.0
    misaligned: tuple[float, float, float] = (1.0, 1.0, 1.0)
    host_s: float = 0.0
    attention_d64: float = 1.0
    foreach_traffic: float = 1.0
    strided_eff: float = 1.0
    loop_tensor_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("peak_flops_matmul", "peak_flops_vector", "bandwidth", "eff_matmul",
                     "eff_conv", "eff_memory"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"ReferenceDevice.{name} must be finite and > 0, got {value}")
        for name in ("launch_s", "capacity_bytes", "runtime_context_bytes", "fragmentation", "loop_tensor_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"ReferenceDevice.{name} must be finite and >= 0, got {value}")
        if not (math.isfinite(self.strided_eff) and 0 < self.strided_eff <= 1):
            raise ValueError(f"ReferenceDevice.strided_eff must be in (0, 1], got {self.strided_eff}")


@dataclass(frozen=True)
class ReferenceResult:
    """One training step on one device.

    Times are per optimizer step (all micro-batches), so
    `step_time_s == fwd_bwd_s + recompute_s + optimizer_s`; memory in bytes, and
    `total_bytes` is the sum of the five memory parts.
    """

    step_time_s: float
    fwd_bwd_s: float
    optimizer_s: float
    recompute_s: float
    flops_per_sample: float  # model forward + backward at b = 1, recomputation excluded
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    other_bytes: float
    total_bytes: float


@dataclass(frozen=True)
class PrecisionBytes:
    """Bytes per element or parameter of one precision (DESIGN §4).

    Attributes:
        act: e, activation bytes.
        weight: w, compute-weight bytes as read by the operators.
        weight_memory: bytes per parameter of weights resident in memory (fp8: 2 + 1 cast copy).
        master: fp32 master copy bytes per parameter (0 without mixed precision).
        grad: g, gradient bytes per parameter.
    """

    act: float
    weight: float
    weight_memory: float
    master: float
    grad: float

    @property
    def mixed(self) -> bool:
        """Mixed precision keeps fp32 master weights (Micikevicius et al. 2018)."""
        return self.master > 0


# DESIGN §4. Reading: under fp8 the operators read w = 2 bytes per weight (the table's "w" column);
# the +1 fp8 cast copy counts only in memory (§6) and in the optimizer's writes.
_PRECISIONS: dict[str, PrecisionBytes] = {
    "fp32": PrecisionBytes(act=4, weight=4, weight_memory=4, master=0, grad=4),
    "tf32": PrecisionBytes(act=4, weight=4, weight_memory=4, master=0, grad=4),
    "fp16": PrecisionBytes(act=2, weight=2, weight_memory=2, master=4, grad=2),
    "bf16": PrecisionBytes(act=2, weight=2, weight_memory=2, master=4, grad=2),
    "fp8": PrecisionBytes(act=2, weight=2, weight_memory=3, master=4, grad=2),
}

# DESIGN §6: optimizer state bytes per parameter, k_opt (adafactor's factored state ignored).
_OPTIMIZER_STATE: dict[str, float] = {
    "sgd": 0.0,
    "momentum": 4.0,
    "adam": 8.0,
    "adamw": 8.0,
    "lamb": 8.0,
    "adafactor": 0.0,
}

_RECOMPUTE_MODES = ("none", "selective", "full")


def _choice(value: object) -> str:
    # Accepts the str-Enums of estimator.specs.training as well as plain strings.
    return str(getattr(value, "value", value))


def precision_bytes(precision: str) -> PrecisionBytes:
    """Bytes per element/parameter of `precision` (DESIGN §4)."""
    key = _choice(precision)
    if key not in _PRECISIONS:
        raise ValueError(f"unknown precision {key!r}; valid: {', '.join(_PRECISIONS)}")
    return _PRECISIONS[key]


def misalignment_factor(op: Operator, device: ReferenceDevice) -> float:
    """DESIGN §3: the multiplier of a matmul whose n or k is not a multiple of 16 bytes."""
    factor = 1.0
    for dim in (op.n, op.k):
        size = dim * device.operand_bytes
        if size % 16 == 0:
            continue
        aligned_to = next((i for i, unit in enumerate((8, 4)) if size % unit == 0), 2)
        factor = min(factor, device.misaligned[aligned_to])
    return factor


def param_tensors(op: Operator) -> float:
    """DESIGN §7: the operator's parameter tensors, or one plus its bias when not given."""
    if op.params <= 0:
        return 0.0
    return float(op.param_tensors) if op.param_tensors > 0 else 1.0 + float(op.bias)


def _op_times(op: Operator, cost: OpCost, device: ReferenceDevice) -> tuple[float, float]:
    """Forward and backward roofline times of one operator (DESIGN §3)."""
    if op.kind in _MATMUL_PEAK_KINDS:
        peak = device.peak_flops_matmul
        eff = device.eff_conv if op.kind is OpKind.CONV2D else device.eff_matmul
        if op.kind is OpKind.MATMUL:
            eff *= misalignment_factor(op, device)
        if op.kind is OpKind.ATTENTION and op.fused and device.eff_attention is not None:
            # DESIGN §3: measured at head dim 128; `attention_d64` of it at 64, linear between.
            between = min(1.0, max(0.0, (op.head_dim - 64) / 64))
            eff = device.eff_attention * (device.attention_d64 + (1 - device.attention_d64) * between)
    else:
        peak, eff = device.peak_flops_vector, 1.0  # vector ops: η_c = 1
    args = (peak, eff, device.bandwidth, device.eff_memory, device.launch_s)
    # DESIGN §3: an operator's separate memory-bound kernels (casts, bias reduction) add; the
    # non-vectorised ones at the strided efficiency.
    memory_Bps = device.bandwidth * device.eff_memory
    strided_Bps = memory_Bps * device.strided_eff
    return (op_time(cost.fwd_flops, cost.fwd_bytes, cost.fwd_kernels, *args)
            + cost.fwd_side_bytes / memory_Bps + cost.fwd_strided_bytes / strided_Bps,
            op_time(cost.bwd_flops, cost.bwd_bytes, cost.bwd_kernels, *args)
            + cost.bwd_side_bytes / memory_Bps + cost.bwd_strided_bytes / strided_Bps)


def evaluate_single_device(
    graph: Graph,
    device: ReferenceDevice,
    micro_batch: int,
    grad_accum: int,
    precision: str,
    optimizer: str,
    recompute: str,
    autocast: bool = False,
    fuse_norm_activation: bool = False,
    foreach_optimizer: bool = False,
    fused_loss: bool = False,
    low_precision_norm: bool = False,
    loop_optimizer: bool = False,
) -> ReferenceResult:
    """Step time and memory of `graph` on one device, no parallelism (DESIGN §6–§7, tp=pp=dp=1).

    Args:
        graph: the model for one sample.
        device: the device, SI units.
        micro_batch: b, samples per micro-batch (>= 1).
        grad_accum: micro-batches per optimizer step (>= 1).
        precision: fp32, tf32, fp16, bf16 or fp8 (DESIGN §4).
        optimizer: sgd, momentum, adam, adamw, lamb or adafactor (DESIGN §6).
        recompute: none, selective or full (Korthikanti et al. 2022).
        autocast: torch.autocast over fp32 weights (DESIGN §2.9).
        fuse_norm_activation: fused BatchNorm(+add)+ReLU kernels (DESIGN §2.5).
        foreach_optimizer: PyTorch's multi-tensor optimizer step (DESIGN §7).
        fused_loss: a fused softmax-cross-entropy kernel (DESIGN §2.8).
        low_precision_norm: under autocast, norms in the compute precision (DESIGN §2.9).
        loop_optimizer: the optimizer steps each parameter tensor in a Python loop (DESIGN §7).

    Returns:
        The step's `ReferenceResult`.
    """
    if isinstance(micro_batch, bool) or not isinstance(micro_batch, int) or micro_batch < 1:
        raise ValueError(f"micro_batch must be an integer >= 1, got {micro_batch!r}")
    if isinstance(grad_accum, bool) or not isinstance(grad_accum, int) or grad_accum < 1:
        raise ValueError(f"grad_accum must be an integer >= 1, got {grad_accum!r}")
    prec = precision_bytes(precision)
    opt_key = _choice(optimizer)
    if opt_key not in _OPTIMIZER_STATE:
        raise ValueError(f"unknown optimizer {opt_key!r}; valid: {', '.join(_OPTIMIZER_STATE)}")
    k_opt = _OPTIMIZER_STATE[opt_key]
    mode = _choice(recompute)
    if mode not in _RECOMPUTE_MODES:
        raise ValueError(f"unknown recompute {mode!r}; valid: {', '.join(_RECOMPUTE_MODES)}")
    b = float(micro_batch)
    e, w = prec.act, prec.weight

    fwd_bwd_mb = 0.0  # seconds per micro-batch, Σ repeat·(t_fwd + t_bwd)
    recompute_mb = 0.0  # seconds per micro-batch
    flops_per_sample = 0.0
    saved_all = 0.0  # Σ repeat·saved at b, every op
    quadratic_all = 0.0  # Σ repeat·saved_quadratic at b, every op
    saved_not_repeated = 0.0  # Σ saved of segments with repeat == 1
    layer_inputs = 0.0  # full recompute: Σ over repeated segments of repeat·e·tokens·hidden·b
    largest_layer = 0.0  # full recompute: one layer's saved bytes (largest repeated segment)
    transient = 0.0  # the largest operator transient (the loss's gradients)
    fwd_mb = 0.0  # seconds per micro-batch of forward passes, Σ repeat·t_fwd
    host_fwd = host_bwd = 0.0  # operator-passes the host issues per micro-batch (DESIGN §7)

    for seg in graph.segments:
        if seg.repeat < 1:
            raise ValueError(f"segment {seg.name!r}: repeat must be >= 1, got {seg.repeat}")
        repeated = seg.repeat > 1
        seg_time = seg_fwd = seg_saved = seg_quadratic = seg_recompute_selective = 0.0
        seg_fwd_share = seg_bwd_share = attention_fwd_share = 0.0
        for op in seg.ops:
            if fused_loss and op.kind is OpKind.LOSS:
                op = replace(op, fused=True)
            cost = op_cost(op, b, e, w, autocast, fuse_norm_activation, low_precision_norm)
            unit = op_cost(op, 1.0, e, w, autocast, fuse_norm_activation, low_precision_norm)
            flops_per_sample += (unit.fwd_flops + unit.bwd_flops) * seg.repeat
            t_fwd, t_bwd = _op_times(op, cost, device)
            seg_time += t_fwd + t_bwd
            seg_fwd += t_fwd
            seg_saved += cost.saved_bytes
            seg_quadratic += cost.saved_quadratic_bytes
            transient = max(transient, cost.transient_bytes)
            kernels = cost.fwd_kernels + cost.bwd_kernels
            if kernels > 0:  # a fused operator issues nothing of its own
                seg_fwd_share += cost.fwd_kernels / kernels
                seg_bwd_share += cost.bwd_kernels / kernels
                if op.kind is OpKind.ATTENTION and not op.fused:
                    attention_fwd_share += cost.fwd_kernels / kernels
            # Selective: the attention core's forward again, only where it saved something to
            # drop (unfused); fused attention keeps nothing quadratic, so nothing to recompute.
            # Reading: this applies to attention in every segment, repeated or not, matching the
            # activations, which drop saved_quadratic bytes of every op.
            if op.kind is OpKind.ATTENTION and not op.fused:
                seg_recompute_selective += t_fwd
        fwd_bwd_mb += seg.repeat * seg_time
        fwd_mb += seg.repeat * seg_fwd
        saved_all += seg.repeat * seg_saved
        quadratic_all += seg.repeat * seg_quadratic
        host_fwd += seg.repeat * seg_fwd_share
        host_bwd += seg.repeat * seg_bwd_share
        if mode == "selective":
            recompute_mb += seg.repeat * seg_recompute_selective
            host_fwd += seg.repeat * attention_fwd_share
        elif mode == "full" and repeated:
            # Full: every op of every layer (repeated segment) runs its forward again.
            recompute_mb += seg.repeat * seg_fwd
            host_fwd += seg.repeat * seg_fwd_share
        if repeated:
            # DESIGN §6: full recompute keeps each layer's input, e·tokens·hidden per sample.
            if mode == "full":
                if not graph.tokens_per_sample or not graph.hidden:
                    # Reading: a layer input is only defined for token stacks; refuse rather
                    # than silently count 0 bytes (CNN stages have no tokens·hidden).
                    raise ValueError(
                        f"graph {graph.name!r}: full recompute needs tokens_per_sample and hidden")
                # Under autocast a layer that starts on the fp32 stream (a pre-norm) keeps fp32.
                stream = autocast and e < _FP32 and seg.ops[0].fp32_stream
                layer_inputs += seg.repeat * (_FP32 if stream else e) * graph.tokens_per_sample * graph.hidden * b
            # Reading: only one layer is rematerialized at a time, so with several repeated
            # segments the largest single layer counts once, not one per segment.
            largest_layer = max(largest_layer, seg_saved)
        else:
            saved_not_repeated += seg_saved

    # DESIGN §6 with in_flight = min(pp, grad_accum) = 1; one transient peak at a time.
    if mode == "none":
        activations = saved_all + transient
    elif mode == "selective":
        activations = saved_all - quadratic_all + transient
    else:
        activations = saved_not_repeated + layer_inputs + max(largest_layer, transient)

    # DESIGN §7: an eager host issues the kernels; each pass waits for the slower side (the
    # forward side holds the recomputation).
    bwd_mb = fwd_bwd_mb - fwd_mb
    fwd_bwd_mb += (max(0.0, host_fwd * device.host_s - (fwd_mb + recompute_mb))
                   + max(0.0, host_bwd * device.host_s - bwd_mb))

    params = graph.params
    weights = prec.weight_memory * params
    gradients = prec.grad * params
    optimizer_state = (k_opt + prec.master) * params  # mixed Adam: 12Ψ (Rajbhandari 2020 §3.1)
    other = device.runtime_context_bytes + device.fragmentation * activations
    total = weights + gradients + optimizer_state + activations + other

    # Optimizer step (DESIGN §7): one fused multi-tensor, memory-bound kernel. Bytes per parameter:
    #   8        read + write the fp32 master copy (mixed) or the fp32 weights (fp32/tf32)
    #   2·k_opt  read + write every 4-byte state (adam: 2·8 = 16)
    #   g        read the gradient
    #   w_mem    write the compute weights (mixed only; fp8 writes bf16 + fp8 copies = 3)
    # Mixed Adam: 8 + 16 + 2 + 2 = 28 B/param; fp32 Adam: 8 + 16 + 4 = 28; fp32 SGD: 8 + 4 = 12.
    # Reading: "w bytes" for fp8 is the resident 2 + 1, since both copies change on update.
    per_param = 2.0 * _FP32 + 2.0 * k_opt + prec.grad + (prec.weight_memory if prec.mixed else 0.0)
    # PyTorch's default multi-tensor ("foreach") step moves `foreach_traffic` times the bytes, and
    # so does a Python loop over the tensors, whose host issues every kernel: the step takes the
    # longer of its traffic and `loop_tensor_s` per parameter tensor.
    passes = device.foreach_traffic if foreach_optimizer or loop_optimizer else 1.0
    optimizer_s = per_param * passes * params / (device.bandwidth * device.eff_memory) + device.launch_s
    if loop_optimizer:
        tensors = sum(param_tensors(op) * seg.repeat for seg in graph.segments for op in seg.ops)
        optimizer_s = max(optimizer_s, tensors * device.loop_tensor_s)

    fwd_bwd_s = grad_accum * fwd_bwd_mb
    recompute_s = grad_accum * recompute_mb
    return ReferenceResult(
        step_time_s=fwd_bwd_s + recompute_s + optimizer_s,
        fwd_bwd_s=fwd_bwd_s,
        optimizer_s=optimizer_s,
        recompute_s=recompute_s,
        flops_per_sample=flops_per_sample,
        weights_bytes=weights,
        gradients_bytes=gradients,
        optimizer_bytes=optimizer_state,
        activations_bytes=activations,
        other_bytes=other,
        total_bytes=total,
    )


def fits_on(result: ReferenceResult, device: ReferenceDevice) -> bool:
    """Whether the step's memory fits the device (DESIGN §6: sum ≤ capacity)."""
    return result.total_bytes <= device.capacity_bytes
