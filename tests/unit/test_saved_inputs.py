"""What a weight matmul keeps for its backward pass under sequence parallelism and fp8
(DESIGN §5, §6), and the LM head that fp8 recipes keep in bf16 (DESIGN §4)."""

from __future__ import annotations

from typing import Any

import pytest

from estimator import _core
from estimator.estimate import (lowered_timed, native_config, native_device, native_network, parallel_layout,
                                resolve_hardware, resolve_model, training_config)
from estimator.specs.hardware import load_device


def reports(model: Any, hardware: str, **options: Any) -> dict[str, Any]:
    """The core's report of each operator of the first stage at micro-batch 1, by name."""
    spec = resolve_model(model)
    system = resolve_hardware(hardware)
    training = training_config(spec, **options)
    graph, native_graph, _, _ = lowered_timed(spec, training)
    precision, _ = system.device.resolve_precision(training.precision.value)
    layout = parallel_layout(training, graph, spec, system.devices)
    device = native_device(system.device, precision, training.attention.value)
    config = native_config(training, layout, precision, 1, 1)
    result = _core.evaluate(native_graph, device, native_network(system), config)
    return {report.name: report for report in result.ops}


LAYER = ("attention/norm", "attention/qkv", "attention/core", "attention/out", "attention/dropout",
         "attention/residual", "mlp/norm", "mlp/fc1", "mlp/act", "mlp/fc2", "mlp/dropout", "mlp/residual")


@pytest.mark.parametrize("tp", [2, 4, 8])
def test_a_sequence_parallel_layer_keeps_korthikanti_bytes(tp: int) -> None:
    # Korthikanti et al. 2022, §4.2.2: with tensor and sequence parallelism every activation of a
    # layer is sharded, s·b·h/t·(34 + 5·a·s/h) bytes at 16-bit and b = 1, the attention unfused.
    ops = reports("gpt3-175b", "a100x8", precision="bf16", tp=tp, sequence_parallel=True,
                  attention="unfused", recompute="none", global_batch=8 // tp)
    s, h, a = 2048, 12288, 96
    saved = sum(ops[name].cost.saved_bytes for name in LAYER)
    assert saved == pytest.approx(s * h / tp * (34 + 5 * a * s / h), rel=1e-12)


def test_without_sequence_parallelism_column_linears_keep_the_whole_input() -> None:
    # Korthikanti et al. 2022, §4.2.1: the norms' and dropouts' 10·sbh are replicated, the rest
    # sharded.
    ops = reports("gpt3-175b", "a100x8", precision="bf16", tp=8, attention="unfused", recompute="none",
                  global_batch=1)
    s, h, a, t = 2048, 12288, 96, 8
    saved = sum(ops[name].cost.saved_bytes for name in LAYER)
    assert saved == pytest.approx(s * h * (10 + 24 / t + 5 * a * s / (h * t)), rel=1e-12)


def test_fp8_linears_keep_the_fp8_cast_of_their_input() -> None:
    # Transformer Engine saves the fp8 copy (1 byte) for the weight gradient; the attention
    # output stays in bf16 too (flash backward reads it), the LM head is not an fp8 module.
    fp8 = reports("llama2-7b", "h100x8", precision="fp8", attention="cudnn", global_batch=8)
    bf16 = reports("llama2-7b", "h100x8", precision="bf16", attention="cudnn", global_batch=8)
    for name in ("attention/qkv", "mlp/fc1", "mlp/fc2"):
        assert fp8[name].cost.saved_bytes == pytest.approx(bf16[name].cost.saved_bytes / 2)
    assert fp8["attention/out"].cost.saved_bytes == pytest.approx(1.5 * bf16["attention/out"].cost.saved_bytes)
    assert fp8["head/lm"].cost.saved_bytes == bf16["head/lm"].cost.saved_bytes


def test_fp8_runs_the_lm_head_at_the_bf16_rate() -> None:
    fp8 = reports("llama2-7b", "h100x8", precision="fp8", attention="cudnn", global_batch=8)
    bf16 = reports("llama2-7b", "h100x8", precision="bf16", attention="cudnn", global_batch=8)
    assert fp8["head/lm"].fwd.compute_s == pytest.approx(bf16["head/lm"].fwd.compute_s, rel=1e-12)
    # The layers' linears run at the fp8 peak and efficiency instead.
    h100 = load_device("h100")
    ratio = (h100.peak_TFLOPS["bf16"] * h100.efficiency.matmul_at("bf16")) / (
        h100.peak_TFLOPS["fp8"] * h100.efficiency.matmul_at("fp8"))
    assert bf16["mlp/fc1"].fwd.compute_s > 0
    assert fp8["mlp/fc1"].fwd.compute_s == pytest.approx(ratio * bf16["mlp/fc1"].fwd.compute_s, rel=1e-12)
