"""The pure-Python reference (estimator/reference.py) against closed forms worked by hand.

Every expected number below is written out from DESIGN §2–§7 in a comment, independently of the
code under test, so the reference can serve as the oracle of the C++ differential test.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from estimator.graph import Graph, Operator, OpKind, Segment
from estimator.reference import (
    OpCost,
    ReferenceDevice,
    evaluate_single_device,
    fits_on,
    misalignment_factor,
    op_cost,
    op_time,
    precision_bytes,
)
from estimator.specs.training import Optimizer, Precision, Recompute


def _device(**overrides: float) -> ReferenceDevice:
    fields: dict[str, float] = dict(
        peak_flops_matmul=1e3, peak_flops_vector=1e2, bandwidth=1e2, eff_matmul=1.0,
        eff_conv=1.0, eff_memory=1.0, launch_s=0.01, capacity_bytes=1e6,
        runtime_context_bytes=0.0, fragmentation=0.0,
    )
    fields.update(overrides)
    return ReferenceDevice(**fields)


# ---- DESIGN §2: one closed form per operator kind --------------------------------------------


def test_matmul_weight_operand() -> None:
    op = Operator(OpKind.MATMUL, "mm", m=3, k=4, n=5, params=20)
    # b=2, e=w=2: fwd 2·2·3·4·5 = 240; bwd 480; bytes 2·2·3·4 + 2·20 + 2·2·3·5 = 48+40+60 = 148.
    assert op_cost(op, 2, 2, 2) == OpCost(
        fwd_flops=240, bwd_flops=480, fwd_bytes=148, bwd_bytes=296,
        fwd_kernels=1, bwd_kernels=2, saved_bytes=48, saved_quadratic_bytes=0)


def test_matmul_activation_operand_is_read_per_sample_and_saved() -> None:
    op = Operator(OpKind.MATMUL, "scores", m=3, k=4, n=5, weight=False)
    # operand e·b·k·n = 2·2·4·5 = 80: bytes 48 + 80 + 60 = 188; saved 48 + 80 = 128.
    cost = op_cost(op, 2, 2, 2)
    assert (cost.fwd_bytes, cost.bwd_bytes, cost.saved_bytes) == (188, 376, 128)
    assert cost.fwd_flops == 240


def test_conv2d_implicit_gemm() -> None:
    # 3→8 channels, 3×3 kernel, 4×4 input, 2×2 output: m=4, k=27, n=8, P=216, in=48.
    op = Operator(OpKind.CONV2D, "conv", m=4, k=27, n=8, in_elements=48, params=216)
    # fwd 2·2·4·27·8 = 3456; bytes 2·2·48 + 2·216 + 2·2·4·8 = 192 + 432 + 128 = 752.
    assert op_cost(op, 2, 2, 2) == OpCost(
        fwd_flops=3456, bwd_flops=6912, fwd_bytes=752, bwd_bytes=1504,
        fwd_kernels=1, bwd_kernels=2, saved_bytes=192, saved_quadratic_bytes=0)


def _attention(**kw: object) -> Operator:
    shape: dict[str, object] = dict(m=8, seq_kv=8, heads=2, kv_heads=1, head_dim=4)
    shape.update(kw)
    return Operator(OpKind.ATTENTION, "attn", **shape)  # type: ignore[arg-type]


def test_flash_attention_causal() -> None:
    # b=1, e=2, h=2, g=1, d=4, s=8: scores 2·8·8 = 128; c = 1/2.
    # fwd 4·128·4·½ + 5·128·½ = 1024 + 320 = 1344; bwd 2.5·1024 = 2560.
    # bytes fwd 2·(2·2·8·4 + 2·1·8·4) + 4·2·8 = 384 + 64 = 448; bwd 2·(256 + 128) + 128 = 896.
    # saved 2·(64 + 64) + 64 = 320; nothing quadratic.
    assert op_cost(_attention(causal=True, fused=True), 1, 2, 2) == OpCost(
        fwd_flops=1344, bwd_flops=2560, fwd_bytes=448, bwd_bytes=896,
        fwd_kernels=1, bwd_kernels=2, saved_bytes=320, saved_quadratic_bytes=0)


def test_flash_attention_causal_halves_flops_but_not_bytes() -> None:
    full = op_cost(_attention(fused=True), 3, 2, 2)
    causal = op_cost(_attention(fused=True, causal=True), 3, 2, 2)
    assert causal.fwd_flops == full.fwd_flops / 2
    assert causal.bwd_flops == full.bwd_flops / 2
    assert causal.fwd_bytes == full.fwd_bytes
    # An unfused kernel computes the masked half: causal changes nothing.
    assert op_cost(_attention(causal=True), 3, 2, 2) == op_cost(_attention(), 3, 2, 2)


def test_unfused_attention_with_dropout() -> None:
    # c = 1: fwd 2048 + 640 = 2688; bwd 2·2048 = 4096.
    # bytes 384 + 4·2·128 + (2+1+2)·128 = 384 + 1024 + 640 = 2048; bwd 4096.
    # saved Q,K,V 256 + probs 256 + mask/dropped 3·128 = 896; quadratic 640 = 5·a·s²·b
    # (Korthikanti et al. 2022, Table 2: 5·2·64·1).
    assert op_cost(_attention(causal=True, dropout=True), 1, 2, 2) == OpCost(
        fwd_flops=2688, bwd_flops=4096, fwd_bytes=2048, bwd_bytes=4096,
        fwd_kernels=5, bwd_kernels=7, saved_bytes=896, saved_quadratic_bytes=640)


def test_unfused_attention_without_dropout() -> None:
    cost = op_cost(_attention(), 1, 2, 2)
    assert (cost.fwd_kernels, cost.bwd_kernels) == (4, 6)
    assert (cost.fwd_bytes, cost.saved_bytes, cost.saved_quadratic_bytes) == (1408, 512, 256)


def test_attention_refuses_zero_kv_heads() -> None:
    with pytest.raises(ValueError, match="kv_heads >= 1"):
        op_cost(_attention(kv_heads=0), 1, 2, 2)


def test_norm_defaults_to_five_flops_per_element() -> None:
    op = Operator(OpKind.NORM, "ln", elements=10, params=20)
    # b=3: fwd 5·3·10 = 150; bytes 2·2·30 + 2·20 = 160; bwd: dx reads x, dy and writes dx
    # (3·2·30) and the γ/β pass reads x, dy again (2·2·30), + 2·2·20 = 380; saved 60.
    assert op_cost(op, 3, 2, 2) == OpCost(
        fwd_flops=150, bwd_flops=300, fwd_bytes=160, bwd_bytes=380,
        fwd_kernels=1, bwd_kernels=2, saved_bytes=60, saved_quadratic_bytes=0)
    explicit = Operator(OpKind.NORM, "rms", elements=10, flops_per_element=4, saves_input=False)
    cost = op_cost(explicit, 3, 2, 2)
    # Without parameters there is no γ/β pass: bwd 3·2·30 = 180 in one kernel.
    assert (cost.fwd_flops, cost.saved_bytes, cost.bwd_bytes, cost.bwd_kernels) == (120, 0, 180, 1)


def test_elementwise_residual_add_dropout_and_gelu() -> None:
    add = Operator(OpKind.ELEMENTWISE, "add", elements=10, inputs=2, flops_per_element=1,
                   saves_input=False)
    # b=3: E·b = 30; bytes 2·30·(2+1) = 180 both ways; nothing saved.
    assert op_cost(add, 3, 2, 2) == OpCost(
        fwd_flops=30, bwd_flops=30, fwd_bytes=180, bwd_bytes=180,
        fwd_kernels=1, bwd_kernels=1, saved_bytes=0, saved_quadratic_bytes=0)
    drop = Operator(OpKind.ELEMENTWISE, "drop", elements=10, flops_per_element=1,
                    saves_input=False, mask_bytes_per_element=1)
    # fwd 2·30·2 + 30 = 150; bwd 2·30·2 + 0 + 30 = 150; saved mask 30.
    cost = op_cost(drop, 3, 2, 2)
    assert (cost.fwd_bytes, cost.bwd_bytes, cost.saved_bytes) == (150, 150, 30)
    gelu = Operator(OpKind.ELEMENTWISE, "gelu", elements=10, flops_per_element=8)
    # fwd 120; bwd 120 + 60 (re-read saved input) = 180; saved 60.
    cost = op_cost(gelu, 3, 2, 2)
    assert (cost.fwd_flops, cost.fwd_bytes, cost.bwd_bytes, cost.saved_bytes) == (240, 120, 180, 60)


def test_relu_backward_reads_the_output_the_next_op_keeps() -> None:
    # In-place ReLU before a conv: nothing saved of its own, but backward reads the output:
    # bwd e·b·E·(1 + 1) + e·b·E = 3·2·3·10 = 180 bytes (a plain add reads 2·2·3·10 = 120).
    relu = Operator(OpKind.ELEMENTWISE, "relu", elements=10, flops_per_element=1, saves_input=False,
                    reads_output=True)
    cost = op_cost(relu, 3, 2, 2)
    assert (cost.bwd_bytes, cost.saved_bytes) == (180, 0)
    assert op_cost(replace(relu, reads_output=False), 3, 2, 2).bwd_bytes == 120


def test_fused_elementwise_costs_flops_only() -> None:
    gelu = Operator(OpKind.ELEMENTWISE, "gelu", elements=10, flops_per_element=8, fused=True)
    assert op_cost(gelu, 3, 2, 2) == OpCost(
        fwd_flops=240, bwd_flops=240, fwd_bytes=0, bwd_bytes=0,
        fwd_kernels=0, bwd_kernels=0, saved_bytes=60, saved_quadratic_bytes=0)


def test_embedding() -> None:
    op = Operator(OpKind.EMBEDDING, "wte", m=6, k=4, n=50, params=200)
    # b=2: fwd 0 FLOP; bwd 2·6·4 = 48; bytes 2·2·2·6·4 = 192; bwd 192 + 2·200 = 592; ids 8·12.
    assert op_cost(op, 2, 2, 2) == OpCost(
        fwd_flops=0, bwd_flops=48, fwd_bytes=192, bwd_bytes=592,
        fwd_kernels=1, bwd_kernels=2, saved_bytes=96, saved_quadratic_bytes=0)


def test_pooling() -> None:
    op = Operator(OpKind.POOLING, "pool", in_elements=64, elements=16, flops_per_element=4)
    # b=2, e=4: FLOPs 4·2·16 = 128; bytes 4·2·80 = 640; saved 4·2·64 = 512.
    assert op_cost(op, 2, 4, 4) == OpCost(
        fwd_flops=128, bwd_flops=128, fwd_bytes=640, bwd_bytes=640,
        fwd_kernels=1, bwd_kernels=1, saved_bytes=512, saved_quadratic_bytes=0)


def test_loss() -> None:
    op = Operator(OpKind.LOSS, "xent", m=6, n=50)
    # b=2: 600 logits; fwd 3000, bwd 1200 FLOPs. Mixed precision (fp32 loss under autocast):
    # fwd cast (2 + 4)·600 + log_softmax 8·600 = 8400; bwd zero-fill 4·600 + 12·600 + cast
    # (4 + 2)·600 = 13200 in 3 kernels.
    # Backward holds two fp32 gradients of the logits beside the saved log-probabilities: 4800.
    assert op_cost(op, 2, 2, 2) == OpCost(
        fwd_flops=3000, bwd_flops=1200, fwd_bytes=8400, bwd_bytes=13200,
        fwd_kernels=3, bwd_kernels=3, saved_bytes=2400, saved_quadratic_bytes=0,
        transient_bytes=4800)
    # In fp32 there is nothing to cast: fwd 8·600 = 4800, bwd 16·600 = 9600.
    fp32 = op_cost(op, 2, 4, 4)
    assert (fp32.fwd_bytes, fp32.bwd_bytes, fp32.fwd_kernels, fp32.bwd_kernels) == (4800, 9600, 2, 2)


def test_a_fused_loss_keeps_the_logits_and_writes_one_gradient() -> None:
    op = Operator(OpKind.LOSS, "xent", m=6, n=50, fused=True)
    # b=2, bf16: 600 logits of 2 bytes. Forward reads them once (1200) and keeps them; backward
    # reads them again and writes their gradient (2400), which is the only new buffer.
    assert op_cost(op, 2, 2, 2) == OpCost(
        fwd_flops=3000, bwd_flops=1200, fwd_bytes=1200, bwd_bytes=2400,
        fwd_kernels=1, bwd_kernels=1, saved_bytes=1200, saved_quadratic_bytes=0,
        transient_bytes=1200)


def test_fp32_moves_twice_the_bytes_of_mixed_and_the_same_flops() -> None:
    op = Operator(OpKind.MATMUL, "mm", m=3, k=4, n=5, params=20)
    fp32, mixed = precision_bytes("fp32"), precision_bytes("bf16")
    a = op_cost(op, 2, fp32.act, fp32.weight)
    c = op_cost(op, 2, mixed.act, mixed.weight)
    assert (a.fwd_bytes, a.bwd_bytes, a.saved_bytes) == (296, 592, 96)
    assert (a.fwd_bytes, a.saved_bytes) == (2 * c.fwd_bytes, 2 * c.saved_bytes)
    assert (a.fwd_flops, a.bwd_flops) == (c.fwd_flops, c.bwd_flops)


def test_costs_are_linear_in_batch() -> None:
    op = _attention(dropout=True)
    one, five = op_cost(op, 1, 2, 2), op_cost(op, 5, 2, 2)
    assert five.fwd_bytes == 5 * one.fwd_bytes
    assert five.saved_quadratic_bytes == 5 * one.saved_quadratic_bytes


# ---- DESIGN §3: roofline ---------------------------------------------------------------------


def test_roofline_switches_at_the_ridge_point() -> None:
    # peak 100 FLOP/s, BW 10 B/s: ridge at 10 FLOP/byte.
    assert op_time(1000, 50, 0, 100, 1, 10, 1, 0) == 10  # 20 FLOP/B: compute-bound, 1000/100
    assert op_time(1000, 100, 0, 100, 1, 10, 1, 0) == 10  # at the ridge both terms are 10 s
    assert op_time(1000, 200, 0, 100, 1, 10, 1, 0) == 20  # 5 FLOP/B: memory-bound, 200/10
    # Efficiencies move the ridge: 1e12·0.5 / (1e9·0.8) = 625 FLOP/byte.
    assert op_time(625e6, 1e6, 0, 1e12, 0.5, 1e9, 0.8, 0) == pytest.approx(1.25e-3, rel=1e-12)
    assert op_time(626e6, 1e6, 0, 1e12, 0.5, 1e9, 0.8, 0) > op_time(625e6, 1e6, 0, 1e12, 0.5,
                                                                     1e9, 0.8, 0)


def test_launch_overhead_makes_a_tiny_op_slow() -> None:
    peak, launch, flops = 1e12, 1e-5, 2e3
    t = op_time(flops, 0, 1, peak, 1, 1e12, 1, launch)
    assert t == pytest.approx(2e-9 + 1e-5, rel=1e-12)
    # Achieved fraction F / (F + peak·η_c·t_launch) = 2e3 / (2e3 + 1e7) ≈ 2e-4 of peak.
    assert (flops / t) / peak == pytest.approx(flops / (flops + peak * launch), rel=1e-12)
    assert (flops / t) / peak < 1e-3


@pytest.mark.parametrize(("n", "k", "operand_bytes", "factor"), [
    (4096, 4096, 2, 1.0),      # 8192-byte rows: aligned
    (50304, 768, 2, 1.0),      # GPT-2's vocabulary padded to a multiple of 64
    (50257, 768, 2, 0.2),      # odd bf16 dimension: 2-byte aligned
    (4096, 4098, 2, 0.4),      # 8196 bytes: 4-byte aligned
    (4100, 4096, 2, 0.3),      # 8200 bytes: 8-byte aligned
    (4097, 4096, 4, 0.4),      # tf32/fp32 odd dimension: 4-byte aligned
    (4100, 4096, 4, 1.0),      # 16,400 bytes: aligned
    (4104, 4096, 1, 0.3),      # fp8: 4104 bytes, 8-byte aligned
    (30522, 1024, 2, 0.4),     # BERT's unpadded vocabulary: 61,044 bytes, 4-byte aligned
    (50257, 30522, 2, 0.2),    # the coarser penalty of the two dimensions wins
])
def test_misaligned_matmul_factor(n: int, k: int, operand_bytes: float, factor: float) -> None:
    dev = ReferenceDevice(1e12, 1e12, 1e12, 1, 1, 1, 0, 1, 0, 0, operand_bytes=operand_bytes,
                          misaligned=(0.3, 0.4, 0.2))
    op = Operator(OpKind.MATMUL, "mm", m=1000, k=k, n=n, params=n * k)
    assert misalignment_factor(op, dev) == factor
    # The m dimension (tokens) never counts: it is not a leading dimension of any operand.
    odd_m = Operator(OpKind.MATMUL, "mm", m=1001, k=k, n=n, params=n * k)
    assert misalignment_factor(odd_m, dev) == factor


def test_a_bias_gradient_is_a_separate_reduction() -> None:
    # X[2·3, 4]·W[4, 5] + b: backward reads dY (e·b·m·n = 2·2·3·5 = 60 bytes) once more, in its own
    # kernel, beside the GEMMs' roofline.
    plain = op_cost(Operator(OpKind.MATMUL, "fc", m=3, k=4, n=5, params=25), 2, 2, 2)
    biased = op_cost(Operator(OpKind.MATMUL, "fc", m=3, k=4, n=5, params=25, bias=True), 2, 2, 2)
    assert replace(biased, bwd_side_bytes=0, bwd_kernels=2) == plain
    assert (biased.bwd_side_bytes, biased.bwd_kernels, biased.fwd_side_bytes) == (60, 3, 0)
    # Side kernels add to the roofline instead of hiding under a compute-bound GEMM.
    dev = _device(peak_flops_matmul=1.0, bandwidth=10.0, launch_s=0.0)
    gemm = Operator(OpKind.MATMUL, "fc", m=3, k=4, n=5, params=25, bias=True)
    graph = Graph("g", (Segment("s", (gemm,)),))
    step = evaluate_single_device(graph, dev, 2, 1, "bf16", "sgd", "none")
    assert step.fwd_bwd_s == pytest.approx(3 * 2 * 2 * 3 * 4 * 5 / 1.0 + 60 / 10.0, rel=1e-12)


def test_autocast_keeps_the_stream_in_fp32_and_casts_what_reads_it() -> None:
    norm = Operator(OpKind.NORM, "ln", elements=8, params=0, fp32_stream=True)
    # fp32 stream under bf16 autocast: fwd reads and writes 4 bytes per element: 2·4·3·8 = 192.
    assert op_cost(norm, 3, 2, 2, autocast=True).fwd_bytes == 192
    assert op_cost(norm, 3, 2, 2).fwd_bytes == 96
    assert op_cost(norm, 3, 4, 4, autocast=True) == op_cost(norm, 3, 4, 4)  # fp32: nothing changes
    qkv = Operator(OpKind.MATMUL, "qkv", m=2, k=8, n=24, params=192, casts_input=True)
    cast = op_cost(qkv, 3, 2, 2, autocast=True)
    # The stream input (4 + 2)·3·2·8 = 288 and the weight (4 + 2)·192 = 1152, each way.
    assert (cast.fwd_side_bytes, cast.bwd_side_bytes) == (288 + 1152, 288 + 1152)
    assert (cast.fwd_kernels, cast.bwd_kernels) == (3, 4)
    # The GEMM itself is unchanged.
    assert replace(cast, fwd_side_bytes=0, bwd_side_bytes=0, fwd_kernels=1, bwd_kernels=2) == op_cost(qkv, 3, 2, 2)


def test_attention_efficiency_falls_with_head_dim() -> None:
    dev = _device(peak_flops_matmul=1.0, bandwidth=1e30, launch_s=0.0, eff_attention=0.5, attention_d64=0.5)

    def seconds(head_dim: float) -> float:
        op = Operator(OpKind.ATTENTION, "core", m=4, seq_kv=4, heads=1, kv_heads=1, head_dim=head_dim,
                      fused=True)
        graph = Graph("g", (Segment("s", (op,)),))
        return evaluate_single_device(graph, dev, 1, 1, "bf16", "sgd", "none").fwd_bwd_s

    flops = (4 * 16 * 128 + 5 * 16) + 2.5 * 4 * 16 * 128  # at head dim 128
    assert seconds(128) == pytest.approx(flops / 0.5, rel=1e-12)
    assert seconds(256) / 2 == pytest.approx(seconds(128), rel=0.01)  # no gain above 128
    # At 64 half the efficiency: the same FLOPs per head dim take twice as long per FLOP;
    # at 96 three quarters.
    per_flop = {d: seconds(d) / ((4 * 16 * d + 5 * 16) + 2.5 * 4 * 16 * d) for d in (64, 96, 128)}
    assert per_flop[64] == pytest.approx(2 * per_flop[128], rel=1e-12)
    assert per_flop[96] == pytest.approx(per_flop[128] / 0.75, rel=1e-12)


def test_op_time_refuses_zero_rates() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        op_time(1, 1, 1, 0, 1, 1, 1, 0)


# ---- DESIGN §6–§7 on one device --------------------------------------------------------------


def _one_matmul_stack(repeat: int = 2) -> Graph:
    mm = Operator(OpKind.MATMUL, "mm", m=2, k=3, n=4, params=12)
    return Graph("toy", (Segment("layers", (mm,), repeat=repeat),), tokens_per_sample=2, hidden=3)


def test_single_device_step_by_hand() -> None:
    result = evaluate_single_device(_one_matmul_stack(), _device(), 1, 3, "bf16", "adam", "full")
    # matmul b=1, e=w=2: fwd 48 FLOP, 2·6 + 2·12 + 2·8 = 52 B → memory-bound 0.52 s + 0.01 launch;
    # bwd 104 B → 1.04 + 2·0.01 = 1.06 s.  Per micro-batch 2 layers · 1.59 = 3.18 s; ×3 = 9.54.
    assert result.fwd_bwd_s == pytest.approx(9.54, rel=1e-12)
    # full recompute: both layers' forward again, 3 · 2 · 0.53 = 3.18 s.
    assert result.recompute_s == pytest.approx(3.18, rel=1e-12)
    # Adam, mixed: (8 + 16 + 2 + 2) = 28 B/param · 24 params / 100 B/s + one launch = 6.73 s.
    assert result.optimizer_s == pytest.approx(6.73, rel=1e-12)
    assert result.step_time_s == pytest.approx(9.54 + 3.18 + 6.73, rel=1e-12)
    assert result.flops_per_sample == 2 * (48 + 96)
    # 24 params: weights 48, gradients 48, Adam moments + fp32 master 12·24 = 288.
    assert (result.weights_bytes, result.gradients_bytes, result.optimizer_bytes) == (48, 48, 288)
    # full: two layer inputs 2·(2·2·3) = 24 plus one layer's saved input 2·2·3 = 12.
    assert result.activations_bytes == 36
    assert result.total_bytes == 48 + 48 + 288 + 36


def test_optimizer_bytes_per_parameter() -> None:
    graph = _one_matmul_stack()  # 24 params; bandwidth 100 B/s, launch 0.01 s
    def opt_s(precision: str, optimizer: str) -> float:
        r = evaluate_single_device(graph, _device(), 1, 1, precision, optimizer, "none")
        return (r.optimizer_s - 0.01) * 100 / 24  # bytes moved per parameter
    assert opt_s("fp32", "sgd") == pytest.approx(12)  # r/w weights 8 + read grads 4
    assert opt_s("fp32", "adam") == pytest.approx(28)  # 8 + 2·8 + 4
    assert opt_s("bf16", "momentum") == pytest.approx(20)  # 8 + 2·4 + 2 + 2
    assert opt_s("fp8", "adafactor") == pytest.approx(13)  # 8 + 0 + 2 + (2 + 1)


def test_mixed_precision_adam_is_16_bytes_per_parameter() -> None:
    # Rajbhandari et al. 2020 §3.1: 2Ψ (fp16 weights) + 2Ψ (grads) + 12Ψ (fp32 master, m, v).
    graph = _transformer()
    dev = _device(runtime_context_bytes=1000.0, fragmentation=0.25)
    for optimizer in ("adam", Optimizer.ADAMW, "lamb"):
        for precision in ("bf16", Precision.FP16):
            r = evaluate_single_device(graph, dev, 2, 1, precision, optimizer, "none")
            assert r.weights_bytes + r.gradients_bytes + r.optimizer_bytes == 16 * graph.params
            assert r.other_bytes == 1000 + 0.25 * r.activations_bytes
            assert r.total_bytes == pytest.approx(
                16 * graph.params + 1.25 * r.activations_bytes + 1000, rel=1e-12)
    fp8 = evaluate_single_device(graph, dev, 2, 1, "fp8", "adam", "none")
    assert fp8.weights_bytes == 3 * graph.params  # bf16 + fp8 cast copy
    sgd32 = evaluate_single_device(graph, dev, 2, 1, "fp32", "sgd", "none")
    assert sgd32.weights_bytes + sgd32.gradients_bytes + sgd32.optimizer_bytes == 8 * graph.params


def _transformer(fused: bool = False, layers: int = 4) -> Graph:
    s, h, heads, vocab = 16.0, 8.0, 2.0, 50.0
    layer = (
        Operator(OpKind.NORM, "ln1", elements=s * h, params=2 * h),
        Operator(OpKind.MATMUL, "attention/qkv", m=s, k=h, n=3 * h, params=3 * h * h + 3 * h),
        Operator(OpKind.ATTENTION, "attention/core", m=s, seq_kv=s, heads=heads, kv_heads=heads,
                 head_dim=h / heads, causal=True, fused=fused, dropout=not fused),
        Operator(OpKind.MATMUL, "attention/proj", m=s, k=h, n=h, params=h * h + h),
        Operator(OpKind.ELEMENTWISE, "attention/dropout", elements=s * h, flops_per_element=1,
                 saves_input=False, mask_bytes_per_element=1),
        Operator(OpKind.ELEMENTWISE, "attention/residual", elements=s * h, inputs=2,
                 flops_per_element=1, saves_input=False),
        Operator(OpKind.NORM, "ln2", elements=s * h, params=2 * h),
        Operator(OpKind.MATMUL, "mlp/fc1", m=s, k=h, n=4 * h, params=4 * h * h + 4 * h),
        Operator(OpKind.ELEMENTWISE, "mlp/gelu", elements=4 * s * h, flops_per_element=8),
        Operator(OpKind.MATMUL, "mlp/fc2", m=s, k=4 * h, n=h, params=4 * h * h + h),
        Operator(OpKind.ELEMENTWISE, "mlp/residual", elements=s * h, inputs=2,
                 flops_per_element=1, saves_input=False),
    )
    return Graph(
        "tiny-gpt",
        (
            Segment("embedding", (Operator(OpKind.EMBEDDING, "wte", m=s, k=h, n=vocab,
                                           params=vocab * h),)),
            Segment("layers", layer, repeat=layers),
            Segment("head", (Operator(OpKind.NORM, "ln_f", elements=s * h, params=2 * h),
                             Operator(OpKind.MATMUL, "lm_head", m=s, k=h, n=vocab,
                                      params=vocab * h),
                             Operator(OpKind.LOSS, "loss", m=s, n=vocab))),
        ),
        tokens_per_sample=int(s),
        hidden=int(h),
    )


def test_recompute_modes_order_memory_and_time() -> None:
    graph, dev = _transformer(), _device(launch_s=1e-4)
    none, sel, full = (evaluate_single_device(graph, dev, 4, 2, "bf16", "adamw", mode)
                       for mode in ("none", "selective", Recompute.FULL))
    assert full.activations_bytes < sel.activations_bytes < none.activations_bytes
    assert full.step_time_s > sel.step_time_s > none.step_time_s
    assert none.recompute_s == 0
    assert full.fwd_bwd_s == sel.fwd_bwd_s == none.fwd_bwd_s
    assert full.flops_per_sample == none.flops_per_sample  # model FLOPs exclude recomputation
    # selective drops exactly 4 layers × b=4 × the quadratic 5·a·s² = 5·2·256 bytes.
    assert none.activations_bytes - sel.activations_bytes == 4 * 4 * 5 * 2 * 256


def test_selective_recompute_is_free_with_flash_attention() -> None:
    graph, dev = _transformer(fused=True), _device()
    none = evaluate_single_device(graph, dev, 4, 2, "bf16", "adamw", "none")
    sel = evaluate_single_device(graph, dev, 4, 2, "bf16", "adamw", "selective")
    assert sel == none


def test_full_recompute_keeps_layer_inputs_plus_one_layer() -> None:
    dev = _device()
    b = 3
    small = evaluate_single_device(_transformer(layers=2), dev, b, 1, "bf16", "adam", "full")
    big = evaluate_single_device(_transformer(layers=6), dev, b, 1, "bf16", "adam", "full")
    # Each extra layer adds only its input, e·tokens·hidden·b = 2·16·8·3 = 768 bytes.
    assert big.activations_bytes - small.activations_bytes == 4 * 768
    none2 = evaluate_single_device(_transformer(layers=2), dev, b, 1, "bf16", "adam", "none")
    none6 = evaluate_single_device(_transformer(layers=6), dev, b, 1, "bf16", "adam", "none")
    layer_saved = (none6.activations_bytes - none2.activations_bytes) / 4
    # The loss's backward transient, 8 bytes per logit (b·s·vocab = 3·16·50), is one short-lived
    # peak: full recompute keeps the larger of it and the one layer being rebuilt.
    transient = 8 * 3 * 16 * 50
    outside = none2.activations_bytes - transient - 2 * layer_saved
    assert small.activations_bytes == outside + 2 * 768 + max(layer_saved, transient)


def test_an_eager_host_bounds_a_small_micro_batch() -> None:
    # 4 layers of 12 operators + 3 outside = 51 operators, each issued by the host in 1 ms:
    # the micro-batch takes 51 ms whatever the GPU needs, when the GPU needs less.
    graph = _transformer()
    gpu = _device(peak_flops_matmul=1e18, peak_flops_vector=1e18, bandwidth=1e18, launch_s=0.0)
    ops = graph.operators
    fast = evaluate_single_device(graph, gpu, 1, 2, "bf16", "adam", "none")
    bound = evaluate_single_device(graph, replace(gpu, host_s=1e-3), 1, 2, "bf16", "adam", "none")
    assert fast.fwd_bwd_s < 2 * ops * 1e-3
    assert bound.fwd_bwd_s == pytest.approx(2 * ops * 1e-3, rel=1e-12)
    assert bound.step_time_s == pytest.approx(bound.fwd_bwd_s + bound.optimizer_s, rel=1e-12)
    # Full recompute issues each layer operator's forward again: its share of the kernels.
    full = evaluate_single_device(graph, replace(gpu, host_s=1e-3), 1, 1, "bf16", "adam", "full")
    layer = next(seg for seg in graph.segments if seg.repeat > 1)
    share = sum(c.fwd_kernels / (c.fwd_kernels + c.bwd_kernels)
                for c in (op_cost(op, 1, 2, 2) for op in layer.ops))
    assert full.fwd_bwd_s + full.recompute_s == pytest.approx((ops + layer.repeat * share) * 1e-3, rel=1e-12)
    # A host that keeps ahead of the GPU changes nothing.
    assert evaluate_single_device(graph, replace(gpu, host_s=1e-18), 1, 2, "bf16", "adam", "none") == fast


def test_step_time_sums_its_parts_and_scales_with_grad_accum() -> None:
    graph, dev = _transformer(), _device()
    one = evaluate_single_device(graph, dev, 2, 1, "bf16", "adam", "selective")
    four = evaluate_single_device(graph, dev, 2, 4, "bf16", "adam", "selective")
    assert four.step_time_s == pytest.approx(
        four.fwd_bwd_s + four.recompute_s + four.optimizer_s, rel=1e-15)
    assert four.fwd_bwd_s == pytest.approx(4 * one.fwd_bwd_s, rel=1e-15)
    assert four.optimizer_s == one.optimizer_s
    assert four.activations_bytes == one.activations_bytes  # in_flight = 1 without pipelining


def test_flops_per_sample_matches_six_n_t_plus_attention() -> None:
    # Only matmuls with weights, one layer, no attention/vector ops: 6·params·tokens exactly.
    mm = Operator(OpKind.MATMUL, "fc", m=16, k=8, n=32, params=8 * 32)
    graph = Graph("mlp", (Segment("layers", (mm,), repeat=5),), tokens_per_sample=16, hidden=8)
    r = evaluate_single_device(graph, _device(), 7, 1, "fp32", "sgd", "none")
    assert r.flops_per_sample == 6 * graph.params * 16


def test_fits_on_compares_with_capacity() -> None:
    r = evaluate_single_device(_one_matmul_stack(), _device(), 1, 1, "bf16", "adam", "none")
    assert fits_on(r, _device(capacity_bytes=r.total_bytes))
    assert not fits_on(r, _device(capacity_bytes=r.total_bytes - 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precision": "int4"}, "unknown precision 'int4'"),
        ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        ({"recompute": "some"}, "unknown recompute 'some'"),
        ({"micro_batch": 0}, "micro_batch must be an integer >= 1"),
        ({"grad_accum": 1.5}, "grad_accum must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = dict(graph=_one_matmul_stack(), device=_device(), micro_batch=1,
                                   grad_accum=1, precision="bf16", optimizer="adam",
                                   recompute="none")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        evaluate_single_device(**args)  # type: ignore[arg-type]


def test_full_recompute_needs_a_token_stack() -> None:
    mm = Operator(OpKind.MATMUL, "mm", m=2, k=3, n=4, params=12)
    graph = Graph("cnn-like", (Segment("blocks", (mm,), repeat=3),))
    with pytest.raises(ValueError, match="full recompute needs tokens_per_sample and hidden"):
        evaluate_single_device(graph, _device(), 1, 1, "bf16", "adam", "full")
    # Without repeated segments there is nothing to recompute and no layer input to keep.
    single = Graph("flat", (Segment("all", (mm,)),))
    r = evaluate_single_device(single, _device(), 1, 1, "bf16", "adam", "full")
    assert r.recompute_s == 0 and math.isclose(r.activations_bytes, 12)


def test_device_refuses_non_positive_rates() -> None:
    with pytest.raises(ValueError, match="bandwidth must be finite and > 0"):
        _device(bandwidth=0.0)


def test_fused_batchnorm_relu_absorbs_what_follows_the_norm() -> None:
    relu = Operator(OpKind.ELEMENTWISE, "relu", elements=10, flops_per_element=1, saves_input=False,
                    reads_output=True, follows_norm=True)
    fused = op_cost(relu, 3, 2, 2, fuse_norm_activation=True)
    assert (fused.fwd_bytes, fused.bwd_bytes, fused.fwd_kernels, fused.bwd_kernels) == (0, 0, 0, 0)
    assert fused.fwd_flops == 30  # the arithmetic still happens, inside the norm's kernel
    assert op_cost(relu, 3, 2, 2).bwd_bytes == 180  # unfused: reads grad and output, writes grad
    lone = replace(relu, follows_norm=False)
    assert op_cost(lone, 3, 2, 2, fuse_norm_activation=True) == op_cost(lone, 3, 2, 2)


def test_resnet_marks_each_block_s_relus_and_add_as_following_a_norm() -> None:
    from estimator.lowering import lower
    from estimator.specs.model import load_model

    ops = [op for segment in lower(load_model("resnet50")).segments for op in segment.ops]
    marked = [op.name for op in ops if op.follows_norm]
    assert len(marked) == 1 + 16 * 4  # the stem's ReLU; relu1, relu2, add and relu per block
    assert {"layer1.0/relu1", "layer1.0/add", "layer1.0/relu"} <= set(marked)


def test_a_foreach_optimizer_moves_its_traffic_factor() -> None:
    graph = _transformer()
    fused = evaluate_single_device(graph, _device(), 1, 1, "bf16", "adamw", "none")
    foreach = evaluate_single_device(graph, replace(_device(), foreach_traffic=3.0), 1, 1, "bf16", "adamw",
                                     "none", foreach_optimizer=True)
    launch = _device().launch_s
    assert foreach.optimizer_s - launch == pytest.approx(3 * (fused.optimizer_s - launch), rel=1e-12)
    assert foreach.fwd_bwd_s == fused.fwd_bwd_s
