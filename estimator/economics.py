"""The economics of training: scaling out against the critical batch, search budgets, and
compute-optimal model sizes, each priced with the step-time model.

* `scale_sweep`: time-to-target and cost as devices (and with them the global batch) grow
  (McCandlish et al. 2018; `batch_scaling.scale_out`), with the memory ceiling (largest
  micro-batch per device) beside the statistical one (B_crit ≈ B_noise).
* `search_budget`: grid, random, successive-halving and Hyperband searches in device-hours
  and dollars, every finalist trained to the full budget (`search_cost`), from one full run.
* `compute_optimal_run`: a budget → Chinchilla-style N and D (`compute_optimal`) → a
  transformer of that size → its best layout (`planner.plan`) and run on the hardware, iterated
  until the achieved FLOP/s used for the budget matches the run's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from estimator import batch_scaling, campaign, compute_optimal, search_cost
from estimator.errors import EstimatorError
from estimator.estimate import (
    ModelLike,
    _lowered,
    estimate,
    resolve_hardware,
    resolve_model,
    training_config,
)
from estimator.levers import memory_limit
from estimator.results import Estimate, _Result
from estimator.specs.hardware import SystemSpec
from estimator.specs.model import TransformerSpec
from estimator.specs.training import MAX_DEVICES


class _Report(_Result):
    def to_json(self) -> str:
        """One JSON object with sorted keys."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2, allow_nan=False)


def _price_per_device_hour(system: SystemSpec, spot: bool) -> float | None:
    price = system.price_usd_per_hour
    if price is None:
        return None
    per_node = price.spot if spot and price.spot is not None else price.on_demand
    return per_node / system.devices_per_node


# ---------------------------------------------------------------------------------------- scale
class ScaleRow(_Result):
    """One device count: batch, ceilings, step, time and cost to the target."""

    nodes: int
    devices: int
    global_batch: int
    micro_batch: int
    max_micro_batch: int  # memory ceiling per device
    memory_ceiling_batch: int  # max_micro_batch × dp: the largest batch without accumulation
    beyond_critical: bool  # global batch > B_crit
    fits: bool
    step_time_s: float
    steps: float
    samples: float
    time_s: float
    device_hours: float
    cost_usd: float | None


class ScaleReport(_Report):
    """The sweep, the knee (past it each step up adds more cost than it saves time) and the
    first count that is no faster at all."""

    model: str
    system: str
    critical_batch: float
    reference_batch: float
    min_steps: float
    min_samples: float
    price_per_device_hour_usd: float | None
    rows: list[ScaleRow]
    knee_devices: int
    no_gain_devices: int | None
    warnings: list[str]


def scale_sweep(model: ModelLike, hardware: SystemSpec | str | Path, *,
                target_steps: float | None = None, target_examples: float | None = None,
                reference_batch: int | None = None, per_device_batch: int | None = None,
                max_nodes: int = 256, spot: bool = False, **options: Any) -> ScaleReport:
    """Time and cost to a target as nodes double from 1 to `max_nodes` (data parallel).

    The target is a reference run: `target_steps` or `target_examples` (samples) at
    `reference_batch` (default: the model's global batch), or the run's --epochs/--samples/
    --tokens at that batch. S_min and E_min follow (McCandlish et al. 2018, eqs. 2.11-2.12).

    Args:
        model, hardware: as `estimate`.
        target_steps: steps the reference run takes to the target.
        target_examples: samples the reference run consumes to the target.
        reference_batch: the reference run's global batch.
        per_device_batch: samples per device and step, kept as devices grow (weak scaling);
            default the reference run's micro-batch.
        max_nodes: the largest node count of the sweep (doubling from 1).
        spot: price at spot rates.
        **options: training options (noise_scale or noise_task required; precision, optimizer,
            recompute, zero, tokens, samples, epochs).
    """
    spec = resolve_model(model)
    system = resolve_hardware(hardware, 1)
    for key in ("tp", "pp", "cp", "dp", "global_batch", "micro_batch"):
        if options.get(key) is not None:
            raise EstimatorError(f"--{key.replace('_', '-')}: scale sweeps data parallelism only "
                                 f"(use --reference-batch and --per-device-batch)")
    given = {key: value for key, value in options.items() if value is not None}
    training = training_config(spec, **given)
    graph, _ = _lowered(spec)
    critical = campaign.critical_batch(training, graph, task_first=given.get("noise_scale") is None)
    if critical is None:
        raise EstimatorError("scale: needs the statistical ceiling: give --noise-scale (samples) or --noise-task")
    if target_steps is not None and target_examples is not None:
        raise EstimatorError("--target-steps and --target-examples: give only one")
    reference = estimate(spec, system, **{**given, "global_batch": reference_batch})
    ref_batch = reference.config.global_batch
    if target_steps is not None:
        noise = batch_scaling.fit_noise_scale_model(critical, ref_batch, reference_steps=target_steps)
    elif target_examples is not None:
        noise = batch_scaling.fit_noise_scale_model(critical, ref_batch, reference_examples=target_examples)
    elif reference.run is not None:
        noise = batch_scaling.fit_noise_scale_model(critical, ref_batch, reference_examples=reference.run.samples)
    else:
        raise EstimatorError("scale: needs a target: --target-steps, --target-examples, or the reference "
                             "run's --epochs, --samples or --tokens")
    per_device = per_device_batch or reference.config.micro_batch
    sweep = {key: value for key, value in given.items() if key not in ("tokens", "samples", "epochs", "schedule")}
    nodes_list = [1 << i for i in range(int(math.log2(max_nodes)) + 1)]
    price = _price_per_device_hour(system, spot)
    estimates: list[Estimate] = []
    limits: list[int] = []
    for nodes in nodes_list:
        devices = nodes * system.devices_per_node
        result = estimate(spec, system, nodes=nodes, **{**sweep, "global_batch": per_device * devices,
                                                        "micro_batch": per_device})
        estimates.append(result)
        limits.append(memory_limit(spec, system, nodes, sweep, result.config.dp))
    curve = batch_scaling.scale_out(
        noise, [e.config.devices for e in estimates], [float(e.config.global_batch) for e in estimates],
        [e.step_time_s for e in estimates], price or 0.0)
    rows = [
        ScaleRow(
            nodes=nodes, devices=point.devices, global_batch=e.config.global_batch,
            micro_batch=e.config.micro_batch, max_micro_batch=limit,
            memory_ceiling_batch=limit * e.config.dp, beyond_critical=e.config.global_batch > critical,
            fits=e.memory.fits, step_time_s=point.step_time_s, steps=point.steps, samples=point.examples,
            time_s=point.time_s, device_hours=point.device_hours,
            cost_usd=point.cost_usd if price is not None else None,
        )
        for nodes, e, limit, point in zip(nodes_list, estimates, limits, curve.points)
    ]
    warnings = []
    if price is None:
        warnings.append(f"{system.name} has no price: costs are n/a")
    if any(not row.fits for row in rows):
        warnings.append(f"--per-device-batch {per_device}: does not fit in memory at some counts "
                        f"(see max micro-batch)")
    return ScaleReport(
        model=reference.model.name, system=system.name, critical_batch=critical,
        reference_batch=ref_batch, min_steps=noise.min_steps, min_samples=noise.min_examples,
        price_per_device_hour_usd=price, rows=rows,
        knee_devices=rows[curve.knee_index].devices,
        no_gain_devices=None if curve.no_gain_index is None else rows[curve.no_gain_index].devices,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------- search cost
class SearchRow(_Result):
    """One search method at the same full budget for every finalist."""

    method: str
    trials: int  # configurations started
    finalists: int  # trained to the full budget
    full_run_equivalents: float
    device_hours: float
    cost_usd: float | None
    sequential_time_s: float  # one trial after another on this hardware
    note: str


class SearchReport(_Report):
    """Search budgets from the estimate of one full run."""

    model: str
    system: str
    full_run_time_s: float
    full_run_device_hours: float
    full_run_cost_usd: float | None
    eta: int
    resource_ratio: int  # R: the full budget in units of the smallest (1 / min_budget)
    methods: list[SearchRow]


SEARCH_METHODS = ("grid", "random", "successive_halving", "hyperband")


def search_budget(model: ModelLike, hardware: SystemSpec | str | Path, *, trials: int,
                  methods: tuple[str, ...] = SEARCH_METHODS, eta: int = 3, min_budget: float = 1 / 81,
                  grid: tuple[int, ...] | None = None, nodes: int | None = None, spot: bool = False,
                  **options: Any) -> SearchReport:
    """Device-hours and dollars of each search method for `trials` configurations.

    Args:
        trials: configurations to try (grid: the grid's size unless `grid` gives its axes).
        methods: any of grid, random, successive_halving, hyperband.
        eta: the halving rate η (keep the best 1/η at each rung; Li et al. 2018 use 3).
        min_budget: the smallest budget worth evaluating, as a fraction of a full run, in (0, 1];
            R = round(1 / min_budget) (Hyperband's maximum resource in units of the minimum).
        grid: values per hyperparameter axis (e.g. (3, 3, 3)).
        nodes, spot, **options: the full run, as `estimate` (its data size is required).
    """
    if not 0 < min_budget <= 1:
        raise EstimatorError(f"--min-budget {min_budget:g}: must be a fraction of one full run in (0, 1]")
    result = estimate(model, hardware, nodes=nodes, **options)
    if result.run is None:
        raise EstimatorError("search-cost: needs the size of one full run: give --epochs, --samples or --tokens")
    run = result.run
    prices = run.cost_usd
    cost = prices.spot if spot and prices.spot is not None else prices.on_demand
    price = None if cost is None else cost / run.device_hours
    ratio = max(1, round(1 / min_budget))
    s_max = search_cost.hyperband_s_max(ratio, eta)
    rows = []
    for method in methods:
        if method == "grid":
            found = search_cost.grid_search(list(grid) if grid else [trials], run.device_hours, price)
            note = f"{' × '.join(str(v) for v in grid)} values" if grid else f"{trials} points"
            scale = 1
        elif method == "random":
            found, note, scale = search_cost.random_search(trials, run.device_hours, price), "", 1
        elif method == "successive_halving":
            halvings = min(s_max, search_cost.hyperband_s_max(trials, eta)) if trials >= eta else 0
            found = search_cost.successive_halving(trials, eta, halvings, run.device_hours, price)
            note = f"{halvings + 1} rungs from {eta ** -halvings:.3g} of a run (Jamieson & Talwalkar 2016)"
            scale = 1
        elif method == "hyperband":
            found = search_cost.hyperband(ratio, eta, run.device_hours, price)
            scale = max(1, math.ceil(trials / found.trials))
            note = (f"{len(found.brackets)} brackets, R = {ratio}, η = {eta}; {scale} iteration"
                    f"{'s' if scale != 1 else ''} of {found.trials} configurations (Li et al. 2018)")
        else:
            raise EstimatorError(f"--method {method}: not one of {', '.join(SEARCH_METHODS)}")
        rows.append(SearchRow(
            method=method, trials=found.trials * scale, finalists=found.finalists * scale,
            full_run_equivalents=found.full_run_equivalents * scale,
            device_hours=found.device_hours * scale,
            cost_usd=None if found.cost_usd is None else found.cost_usd * scale,
            sequential_time_s=found.full_run_equivalents * scale * run.time_s, note=note,
        ))
    return SearchReport(
        model=result.model.name, system=result.hardware.system, full_run_time_s=run.time_s,
        full_run_device_hours=run.device_hours, full_run_cost_usd=cost, eta=eta,
        resource_ratio=ratio, methods=rows,
    )


# ------------------------------------------------------------------------------ compute-optimal
# d_model = 128 · n_layers and 128-wide heads: GPT-3 175B's shape (96 layers, d 12,288, 96 heads
# of 128; Brown et al. 2020, Table 2.1), inside the flat optimum of aspect ratios d/L ≈ 20-200
# that Kaplan et al. 2020 (Fig. 5) found; ffn 4·d, GPT-2's vocabulary padded to 51,200.
ASPECT = 128
HEAD_DIM = 128
SEQ_LEN = 2048
VOCAB = 51200
# Global batch: ~2M tokens (Chinchilla used 1.5M → 3M; Hoffmann et al. 2022, Table 4),
# fewer for runs shorter than MIN_STEPS steps.
BATCH_SEQUENCES = 1024
MIN_STEPS = 5000
MFU_GUESS = 0.4  # the first guess of achieved/peak; the loop replaces it with the estimate's
ITERATIONS = 6


def transformer_of_size(params: float, seq_len: int = SEQ_LEN, vocab: int = VOCAB) -> TransformerSpec:
    """A decoder with about `params` parameters, shaped like GPT-3 (see ASPECT).

    The layer count is the one of d_model = 128·layers (a multiple of 8 from 16 layers on, so
    that tensor and pipeline degrees up to 8 divide layers and heads; even below); d_model then
    solves 12·L·d² + (vocab + seq)·d = params (Kaplan et al. 2020, §2.1), rounded to 8 heads of
    128 (2 heads below d = 4096) so that tensor parallelism divides the heads.
    """
    ideal = (params / (12 * ASPECT**2)) ** (1 / 3)
    candidates = [n for n in range(2, 1025, 2) if n < 16 or n % 8 == 0]
    layers = min(candidates, key=lambda n: abs(n - ideal))
    linear = vocab + seq_len
    width = (-linear + math.sqrt(linear**2 + 48 * layers * params)) / (24 * layers)
    step = HEAD_DIM * (8 if width >= 4096 else 2)  # heads a multiple of 8 (tp ≤ 8), or even
    hidden = max(step, round(width / step) * step)
    return TransformerSpec.model_validate(dict(
        name=f"decoder-{layers}L-{hidden}d", family="transformer", arch="decoder", layers=layers,
        hidden=hidden, heads=hidden // HEAD_DIM, vocab=vocab, seq_len=seq_len, activation="gelu"))


def device_peak(system: SystemSpec, precision: str) -> float:
    """Dense peak FLOP/s of one device at `precision` (after the device's fallback)."""
    device = system.device
    return device.peak_TFLOPS[device.resolve_precision(precision)[0]] * 1e12


class ComputeOptimalReport(_Report):
    """Budget → N, D → the model built → its run on the hardware."""

    system: str
    law: str
    source: str
    device_hours_budget: float
    price_per_device_hour_usd: float | None
    compute_flops: float
    params_target: float  # N of the allocation
    tokens: float  # D = C / (6·N as built), so that the model built spends the budget
    tokens_per_param: float  # D / N as built
    predicted_loss: float | None
    model: dict[str, Any]  # name, layers, hidden, heads, params (as built)
    achieved_flops_per_device: float  # 6·N·tokens/s per device, as the budget was converted
    estimate: Estimate | None  # the best plan's estimate with its run; None when nothing fits
    warnings: list[str]


def compute_optimal_run(hardware: SystemSpec | str | Path, *, budget_usd: float | None = None,
                        budget_device_hours: float | None = None, law: Literal["ratio", "hoffmann", "besiroglu"] = "ratio",
                        tokens_per_param: float = compute_optimal.TOKENS_PER_PARAM_CHINCHILLA,
                        nodes: int | None = None, days: float = 30.0, precision: str = "bf16",
                        spot: bool = False) -> ComputeOptimalReport:
    """The compute-optimal model for a budget, and its run on `hardware`.

    Args:
        budget_usd / budget_device_hours: exactly one budget.
        law: "ratio" (tokens_per_param, default 20: Hoffmann et al. 2022), or the fitted loss
            law of "hoffmann" (Hoffmann et al. 2022 Approach 3) or "besiroglu" (the 2024 refit).
        nodes: nodes for the run (default: enough to spend the budget in about `days`).
        precision, spot: of the run.
    """
    if (budget_usd is None) == (budget_device_hours is None):
        raise EstimatorError("compute-optimal: give exactly one of --budget-usd or --budget-device-hours")
    system = resolve_hardware(hardware, 1)
    price = _price_per_device_hour(system, spot)
    flag, amount = ("--budget-usd", budget_usd) if budget_usd is not None else ("--budget-device-hours", budget_device_hours)
    try:
        if budget_usd is not None:
            if price is None:
                raise EstimatorError(f"{system.name} has no price (use --budget-device-hours)")
            device_hours = compute_optimal.device_hours_from_usd(budget_usd, price)
        else:
            device_hours = float(budget_device_hours)  # type: ignore[arg-type]
        compute_optimal.flops_from_device_hours(device_hours, device_peak(system, precision))
    except EstimatorError as exc:
        raise EstimatorError(f"{flag} {amount:g}: {exc}") from None
    if nodes is None:  # a power of two, so that power-of-two batches divide by dp
        wanted = max(1, math.ceil(device_hours / (days * 24) / system.devices_per_node))
        nodes = 1 << (wanted - 1).bit_length()
        if nodes * system.devices_per_node > MAX_DEVICES:
            raise EstimatorError(f"{flag} {amount:g}: spending it in {days:g} days needs {nodes:,} nodes of "
                                 f"{system.name}; give --nodes or more --days")
    from estimator.planner import plan

    rate = MFU_GUESS * device_peak(system, precision)
    warnings: list[str] = []
    best: Estimate | None = None
    for _ in range(ITERATIONS):
        flops = compute_optimal.flops_from_device_hours(device_hours, rate)
        if law == "ratio":
            allocation = compute_optimal.allocate_by_ratio(flops, tokens_per_param)
        else:
            fitted = compute_optimal.HOFFMANN_2022_APPROACH_3 if law == "hoffmann" else compute_optimal.BESIROGLU_2024_REFIT
            allocation = compute_optimal.allocate_by_fitted_law(flops, fitted)
        spec = transformer_of_size(allocation.params)
        built = _lowered(spec)[0].params
        tokens = allocation.compute_flops / (compute_optimal.FLOPS_PER_PARAM_TOKEN * built)  # 6·N·D = C as built
        steps_cap = tokens / (SEQ_LEN * MIN_STEPS)
        batch = max(8, min(BATCH_SEQUENCES, 1 << max(3, int(math.log2(max(steps_cap, 1))))))
        report = plan(spec, system, nodes, top=1, tokens=tokens, global_batch=batch,
                      precision=precision, spot=spot or None)
        if not report.plans:
            best = None
            warnings = [f"nothing fits on {nodes} × {system.name}: {report.explanation.summary}"]
            break
        best = report.plans[0]
        achieved = 6 * best.model.params * (best.tokens_per_s or 0) / best.config.devices
        if achieved <= 0 or abs(achieved - rate) <= 0.01 * rate:
            rate = achieved or rate
            break
        rate = achieved
    return ComputeOptimalReport(
        system=system.name, law=law, source=allocation.source, device_hours_budget=device_hours,
        price_per_device_hour_usd=price, compute_flops=allocation.compute_flops,
        params_target=allocation.params, tokens=tokens, tokens_per_param=tokens / built,
        predicted_loss=allocation.predicted_loss,
        model={"name": spec.name, "layers": spec.layers, "hidden": spec.hidden, "heads": spec.heads,
               "seq_len": spec.seq_len, "vocab": spec.vocab,
               "params": built},
        achieved_flops_per_device=rate, estimate=best, warnings=warnings,
    )
