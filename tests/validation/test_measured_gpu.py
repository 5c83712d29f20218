"""The estimator against what benchmarks/gpu_measure.py measured on an H100 and an H200.

The measurements (benchmarks/measurements/, PyTorch 2.11 eager, bf16 autocast) are our own runs;
the tolerances are today's figures with a margin, so a change to the memory or host model that
moves a prediction away from the measurement fails here. `benchmarks/gpu_compare.py` prints the
same comparison in full.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

import estimator

REPO = Path(__file__).resolve().parents[2]
MEASURED = REPO / "benchmarks" / "measurements"


def _compare() -> ModuleType:
    spec = importlib.util.spec_from_file_location("estimator_gpu_compare", REPO / "benchmarks" / "gpu_compare.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = _compare()


@pytest.fixture(scope="module", params=["h100-sxm-2026-11-23.json", "h200-2026-11-23.json"])
def measured(request: pytest.FixtureRequest) -> dict:
    return json.loads((MEASURED / request.param).read_text())


def test_the_largest_gpt2_micro_batch_is_within_ten_percent(measured: dict) -> None:
    hw = compare._hw(measured)
    predicted = estimator.estimate(compare._gpt2(), hw, micro_batch=1, global_batch=1, **compare.GPT2)
    assert predicted.max_micro_batch == pytest.approx(measured["gpt2_max_batch"], rel=0.10)


def test_a_llama_style_model_on_the_h100() -> None:
    """0.85B parameters, GQA, rotary, SwiGLU: its parameter count, largest micro-batch and memory."""
    measured = json.loads((MEASURED / "h100-sxm-2026-11-23-llama.json").read_text())
    outside = json.loads((MEASURED / "h100-sxm-2026-11-23.json").read_text())["traces"]["gpt2_b1"]["outside_pool_GiB"]
    model = compare._llama()
    one = estimator.estimate(model, "h100x1", micro_batch=1, global_batch=1, **compare.GPT2)
    assert one.model.params == measured["llama_steps"][0]["parameters"]
    assert one.max_micro_batch == pytest.approx(measured["llama_max_batch"], rel=0.10)
    for row in measured["llama_steps"]:
        predicted = estimator.estimate(model, "h100x1", micro_batch=row["batch"], global_batch=row["batch"],
                                       **compare.GPT2)
        in_use = (row["peak_reserved_GiB"] + outside) * 2**30
        assert predicted.memory.per_device_bytes == pytest.approx(in_use, rel=0.15), row["batch"]


@pytest.mark.parametrize("key", ["gpt2_steps", "resnet50_steps"])
def test_device_memory_in_use_is_within_fifteen_percent(measured: dict, key: str) -> None:
    hw = compare._hw(measured)
    model, options = (compare._gpt2(), compare.GPT2) if key == "gpt2_steps" else ("resnet50", compare.RESNET)
    outside = measured["traces"]["gpt2_b16_vocab50304"]["outside_pool_GiB"]
    for row in measured[key]:
        predicted = estimator.estimate(model, hw, micro_batch=row["batch"], global_batch=row["batch"], **options)
        in_use = (row["peak_reserved_GiB"] + outside) * 2**30
        assert predicted.memory.per_device_bytes == pytest.approx(in_use, rel=0.15), row["batch"]


def test_host_bound_steps_are_within_forty_percent(measured: dict) -> None:
    """Batch-1 steps wait for the host, whose speed moves the measured time by about a third
    between the two machines' CPUs (hardware_specs/stacks/cuda.yaml)."""
    hw = compare._hw(measured)
    rows = measured.get("resnet50_small_steps") or json.loads(
        (MEASURED / "h100-sxm-2026-11-23-small-batch.json").read_text())["resnet50_small_steps"]
    gpt2_b1 = next(r for r in measured["gpt2_variant_steps"] if r["batch"] == 1)
    cases = [("resnet50", compare.RESNET, r) for r in rows] + [(compare._gpt2(), compare.GPT2, gpt2_b1)]
    for model, options, row in cases:
        predicted = estimator.estimate(model, hw, micro_batch=row["batch"], global_batch=row["batch"], **options)
        assert predicted.step_time_s == pytest.approx(row["step_s"], rel=0.40), row["batch"]


def test_bert_large_squad_steps_as_run_squad_runs_them() -> None:
    """NVIDIA's eager SQuAD step (H200): eager attention within 15% where unfused was 21-39% fast
    (20% under bf16 autocast), TF32 with BertAdam's Python loop (`--loop-optimizer`) within 10%,
    and what the forward pass saves within 2% in fp16 and fp32 (15% under autocast), from
    gpu_measure.py's bert sections. The loop's host time per tensor was set from this same
    measurement (hardware_specs/stacks/cuda.yaml), so that row checks the tensor count and the
    composition, not the constant."""
    measured = json.loads((MEASURED / "h200-2026-11-23-bert.json").read_text())
    steps = {row["mode"]: row for row in measured["bert_squad_steps"]}
    for mode, tolerance in (("fp16", 0.15), ("tf32_adamw", 0.15), ("bf16_autocast", 0.20), ("tf32", 0.10)):
        row = steps[mode]
        eager, unfused = (compare.bert_predicted(measured, mode, row["batch"], attention).step_time_s
                          for attention in ("eager", "unfused"))
        assert eager == pytest.approx(row["step_s"], rel=tolerance), mode
        assert abs(eager / row["step_s"] - 1) < abs(unfused / row["step_s"] - 1), mode
    for mode, tolerance in (("fp16", 0.02), ("tf32", 0.02), ("bf16_autocast", 0.15)):
        row = measured["bert_saved_activations"][mode]
        predicted = compare.bert_predicted(measured, mode, row["batch"]).memory.activations_bytes
        assert predicted == pytest.approx(row["saved_GiB"] * 2**30, rel=tolerance), mode
