"""Derives each device's sustained efficiencies from the published runs, as a whole.

For a device and a kind of work (transformer GEMMs, CNN convolutions), scales that efficiency
over a grid and keeps the value whose predictions have the smallest median |log(predicted /
measured)| over EVERY throughput or time case of `tests/validation/cases.yaml` on that device
and model family. One number per device and kind: never a per-row constant. The printed values
are what `hardware_specs/devices/*.yaml` carry, with this command as their source.

    PYTHONPATH=. python benchmarks/calibrate.py
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import accuracy  # noqa: E402

import importlib  # noqa: E402

est = importlib.import_module("estimator.estimate")  # the module, not the function of that name

# Devices (as named by the library and the validation systems) grouped by silicon.
GROUPS = {
    "a100": {"a100", "a100-80g", "a100-pcie-80g"},
    "h100": {"h100", "h100-pcie-80g"},
    "v100": {"v100", "v100-32g", "v100-sxm3-32g-h"},
    "p100": {"p100"},
    "k80": {"k80"},
    "tpu-v2": {"tpu-v2"},
}
# GPUs whose fp32 GEMMs run on CUDA cores while fp16/bf16/tf32 run on tensor cores: two units,
# two efficiencies (`matmul` and `matmul_fp32`). Elsewhere every precision is one `matmul`.
TENSOR_CORES = {"v100", "a100", "h100"}
MIN_CASES = 4  # fewer published runs than this would make a device constant a per-row fit
GRID = [round(0.30 + 0.01 * i, 2) for i in range(66)]  # 0.30 … 0.95
_original = est.native_device


def _family(case: dict[str, Any]) -> str:
    """The model family of a case (the first phase's for a multi-phase run)."""
    model = case["model"] if "model" in case else case["phases"][0]["model"]
    spec = accuracy.resolve_model(model, case["id"])
    return (est.resolve_model(spec) if isinstance(spec, str) else spec).family


def _score(cases: list[dict[str, Any]], group: set[str], field: str, value: float) -> float:
    def patched(device: Any, precision: str, *args: Any) -> Any:
        native = _original(device, precision, *args)
        if device.name in group:
            if field == "matmul" and precision != "fp32":
                # Scale the fp8 figure with bf16 (their MAMF ratio stays as measured).
                ratio = device.efficiency.matmul_at(precision) / device.efficiency.matmul
                native.eff_matmul = min(1.0, value * ratio)
                if precision == "fp8":  # the operators fp8 recipes keep in bf16
                    native.eff_high = value
            elif field == "matmul_fp32" or (field == "matmul" and precision == "fp32"):
                native.eff_matmul = value
            elif field == "conv":
                native.eff_conv = value
        return native

    est.native_device = patched
    try:
        errors = []
        for case in cases:
            result = accuracy.run_case(case)
            errors.append(abs(math.log(float(result["predicted"]) / float(case["measured"]))))
        return statistics.median(errors)
    finally:
        est.native_device = _original


def _precision(case: dict[str, Any]) -> str:
    """The compute precision a case asks for (the first phase's for a multi-phase run)."""
    options = case.get("options") or case["phases"][0].get("options") or {}
    return str(options.get("precision", "bf16"))


def _kinds(name: str) -> tuple[tuple[str, str, Any], ...]:
    """(family, field, case filter) per fitted constant of a device group."""
    every = lambda case: True  # noqa: E731
    if name not in TENSOR_CORES:
        return (("transformer", "matmul", every), ("cnn", "conv", every))
    return (("transformer", "matmul", lambda case: _precision(case) != "fp32"),
            ("transformer", "matmul_fp32", lambda case: _precision(case) == "fp32"),
            ("cnn", "conv", every))


def _device_of(case: dict[str, Any]) -> str:
    return est.resolve_hardware(accuracy.resolve_hardware(case["hw"])).device.name


@dataclass(frozen=True)
class Fit:
    """One fitted constant: a device group's `field` for a model family, over `cases` runs
    (`best` None: too few runs to set it), with the median |log error| at `best`."""

    group: str
    family: str
    field: str
    cases: int
    best: float | None
    score: float | None


def fits() -> list[Fit]:
    """Every device group's fitted constants, in GROUPS order."""
    cases = [c for c in accuracy.load_cases() if c["metric"] in accuracy.NUMERIC_METRICS]
    result = []
    for name, group in GROUPS.items():
        for family, field, wanted in _kinds(name):
            chosen = [c for c in cases if _device_of(c) in group and _family(c) == family and wanted(c)]
            if not chosen:
                continue
            if len(chosen) < MIN_CASES:
                result.append(Fit(name, family, field, len(chosen), None, None))
                continue
            scores = {value: _score(chosen, group, field, value) for value in GRID}
            best = min(scores, key=lambda v: (scores[v], v))
            result.append(Fit(name, family, field, len(chosen), best, scores[best]))
    return result


def main() -> None:
    print(f"{'device':8} {'kind':12} {'field':11} {'cases':>5} {'best':>5} {'median |log err|':>17}")
    for fit in fits():
        if fit.best is None:
            print(f"{fit.group:8} {fit.family:12} {fit.field:11} {fit.cases:5}  (too few runs to set a device constant)")
        else:
            print(f"{fit.group:8} {fit.family:12} {fit.field:11} {fit.cases:5} {fit.best:5.2f} {fit.score:17.3f}")


if __name__ == "__main__":
    main()
