"""Validation against published, measured training runs (tests/validation/cases.yaml).

The cases and the harness live in `benchmarks/accuracy.py` (imported here by path: benchmarks/ is
not a package). Thresholds are the project's targets, not fitted to today's numbers: where the model
misses one, the test is a strict xfail whose reason carries the current figure, so it fails loudly
as soon as the model meets the target (and the marker must then go).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from estimator.specs.hardware import list_devices, load_hardware

REPO = Path(__file__).resolve().parents[2]


def _benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module."""
    path = REPO / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"estimator_benchmark_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


accuracy = _benchmark("accuracy")
calibrate = _benchmark("calibrate")
CASES = accuracy.load_cases()
ROWS = accuracy.load_calibration()
BY_ID = {case["id"]: case for case in CASES}

SINGLE_NODE_MEDIAN = 0.15  # median |error| of single-node throughput/time cases
MULTI_NODE_MEDIAN = 0.10  # median |error| of multi-node throughput/time cases
MULTI_NODE_MAX = 0.25  # no multi-node case beyond this


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    return [accuracy.run_case(case) for case in CASES]


def _numeric(results: list[dict[str, Any]], scope: str) -> list[dict[str, Any]]:
    return [r for r in results if r["scope"] == scope and r["error"] is not None]


def _worst(chosen: list[dict[str, Any]], count: int = 5) -> str:
    ranked = sorted(chosen, key=lambda r: -abs(r["error"]))[:count]
    return ", ".join(f"{r['id']} {100 * r['error']:+.0f}%" for r in ranked)


# ------------------------------------------------------------------------- the cases themselves
@pytest.mark.parametrize("case_id", sorted(BY_ID))
def test_case_copies_its_row_verbatim(case_id: str) -> None:
    case = BY_ID[case_id]
    assert case["row"] in ROWS, f"{case_id}: no row {case['row']} in calibration_runs.yaml"
    measured = ROWS[case["row"]].get("measured", {})
    assert case["source"], f"{case_id}: source names no measured field"
    for key, value in case["source"].items():
        assert key in measured, f"{case_id}: the row has no measured field {key}"
        assert measured[key] == value and type(measured[key]) is type(value), (
            f"{case_id}: source {key}={value!r} but the row says {measured[key]!r}"
        )
    if "conversion" not in case:
        (value,) = case["source"].values()
        assert case["measured"] == value, f"{case_id}: measured differs from the source with no conversion"


@pytest.mark.parametrize(
    "case_id",
    sorted(cid for cid, case in BY_ID.items()
           if "achieved_tflops_per_gpu" in case["source"]
           and "iteration_time_s" in (ROWS[case["row"]].get("derived") or {})),
)
def test_megatron_flop_conversion_agrees_with_the_rows_derived_time(case_id: str) -> None:
    case = BY_ID[case_id]
    derived = ROWS[case["row"]]["derived"]["iteration_time_s"]
    assert case["measured"] == pytest.approx(derived, rel=0.01)


@pytest.mark.parametrize("case_id", sorted(BY_ID))
def test_case_runs_and_returns_finite_numbers(case_id: str) -> None:
    result = accuracy.run_case(BY_ID[case_id])
    for name, value in result["finite"].items():
        assert math.isfinite(value) and value >= 0, f"{case_id}: {name} = {value}"
    assert all(v > 0 for k, v in result["finite"].items() if k.endswith("step_time_s"))
    predicted = result["predicted"]
    if result["metric"] == "fits":
        assert isinstance(predicted, bool)
    else:
        assert math.isfinite(predicted) and predicted >= 0
    single = result["nodes"] == 1 and result["devices"] <= 8
    assert result["scope"] == ("single-node" if single else "multi-node"), (
        f"{case_id}: scope {result['scope']} but {result['nodes']} node(s) of {result['devices']} devices"
    )


# The fitted efficiencies: calibrate.py fits them per silicon, counting the validation systems'
# own copies of a die (a PCIe A100, a DGX-2H V100) with the shipped devices.
CALIBRATED = ("matmul", "matmul_fp32", "conv")
VALIDATION_DEVICES = [load_hardware(path).device for path in sorted((REPO / "tests" / "validation" / "systems").glob("*.yaml"))]


def test_every_calibration_group_names_real_devices() -> None:
    known = {d.name for d in list_devices()} | {d.name for d in VALIDATION_DEVICES}
    for name, group in calibrate.GROUPS.items():
        assert group <= known, f"calibrate.GROUPS[{name!r}] names unknown devices {sorted(group - known)}"


@pytest.mark.parametrize("device", [d for d in VALIDATION_DEVICES
                                    if any(d.name in group for group in calibrate.GROUPS.values())],
                         ids=lambda device: device.name)
def test_a_validation_device_carries_its_silicons_calibrated_efficiencies(device: Any) -> None:
    group = next(group for group in calibrate.GROUPS.values() if device.name in group)
    shipped = [d for d in list_devices() if d.name in group]
    assert shipped
    for twin in shipped:
        for field in CALIBRATED:
            assert getattr(device.efficiency, field) == getattr(twin.efficiency, field), (
                f"{device.name}: efficiency.{field} differs from {twin.name}'s")


def test_the_shipped_efficiencies_are_the_calibrated_ones() -> None:
    """Every fitted constant in hardware_specs/ is what benchmarks/calibrate.py finds today, so a
    change to the model or the cases that moves a fit cannot leave a stale constant behind."""
    shipped = {d.name: d for d in list_devices()}
    stale = []
    for fit in calibrate.fits():
        if fit.best is None:
            continue
        for name in sorted(calibrate.GROUPS[fit.group] & set(shipped)):
            value = getattr(shipped[name].efficiency, fit.field)
            if value != pytest.approx(fit.best, abs=1e-9):
                stale.append(f"{name} efficiency.{fit.field} = {value}, calibrate.py finds {fit.best}")
    assert not stale, "; ".join(stale)


# ------------------------------------------------------------------------------ the accuracy
def test_single_node_median_error(results: list[dict[str, Any]]) -> None:
    chosen = _numeric(results, "single-node")
    median = accuracy.summarize(results, "single-node")["median_abs_error"]
    assert median <= SINGLE_NODE_MEDIAN, (
        f"single-node median |error| {100 * median:.1f}% over {len(chosen)} cases; worst: {_worst(chosen)}"
    )


@pytest.mark.xfail(
    strict=True,
    reason="predicted max micro-batch is 1.3-3x the published one in 9 of 9 BERT memory rows today "
           "(Titan X BERT-Base s64..s512: 196/87/36/26/20/13 vs 64/32/16/14/12/6; V100-16GB BERT-Large "
           "fp32: 29 vs [8, 15], 4 vs [2, 3], 8 vs [2, 3])",
)
def test_bert_max_micro_batch(results: list[dict[str, Any]]) -> None:
    chosen = [r for r in results if r["metric"] == "max_micro_batch"]
    assert chosen
    wrong = [f"{r['id']}: predicted {r['predicted']}, published {r['measured']}" for r in chosen if not r["match"]]
    assert not wrong, "; ".join(wrong)


def test_multi_node_median_error(results: list[dict[str, Any]]) -> None:
    chosen = _numeric(results, "multi-node")
    summary = accuracy.summarize(results, "multi-node")
    assert summary["median_abs_error"] <= MULTI_NODE_MEDIAN, (
        f"multi-node median |error| {100 * summary['median_abs_error']:.1f}% over {len(chosen)} cases; "
        f"worst: {_worst(chosen)}"
    )


@pytest.mark.xfail(
    strict=True,
    reason="6 of 55 multi-node cases exceed 25% today (max 51%: MPT-1B run -51% (its 'about half a day' "
           "and its batch are not published), DeepSpeed ZeRO-3 at 2,240 GPUs -33% (Megatron Table 2), "
           "OPT-175B -46% (restarts), NVPTBERT 32-node S512 tf32 +35% (the row scales 25x from 1 to 32 "
           "nodes, fp16 30x), DAWN TPU half-pod -33%, LLaMA-13B run +25% (its 7B, 33B and 65B runs "
           "-2..+13%))",
)
def test_no_multi_node_case_beyond_25_percent(results: list[dict[str, Any]]) -> None:
    chosen = _numeric(results, "multi-node")
    beyond = [r for r in chosen if abs(r["error"]) > MULTI_NODE_MAX]
    assert not beyond, f"{len(beyond)} beyond {100 * MULTI_NODE_MAX:.0f}%; worst: {_worst(chosen)}"
