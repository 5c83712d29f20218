"""The engineering levers of a training run, one at a time and stacked: how much each one buys.

From a baseline (fp32, a fixed image size or sequence length, the model's batch, on-demand
prices, one node) each lever is applied alone and cumulatively, in this order:

1. mixed precision on tensor cores: bf16 where the device has it, else fp16 with fp32 master
   weights (Micikevicius et al. 2018);
2. progressive resizing for CNNs: a schedule of image sizes, small first (fast.ai's DAWNBench
   ImageNet runs, Howard 2018: 128 → 224 → 288 px); for transformers a short-sequence phase
   (BERT: 90% of the steps at 128 tokens, the rest at full length; Devlin et al. 2019, §A.2);
3. recomputation or sharding where memory binds: the fastest of ZeRO 1–3 and selective/full
   recomputation (alone or combined) that makes the step fit or removes gradient accumulation;
4. a larger batch with warm-up: the most samples per device that fit without accumulation,
   with a linear warm-up of the learning rate (Goyal et al. 2017, arXiv:1706.02677), capped at
   the critical batch when a noise scale is known;
5. spot instead of on-demand prices (with `preemptions_per_h`, their checkpoint/restart cost);
6. more nodes, keeping the samples per device (weak scaling, as Goyal et al. 2017).

A lever that changes the batch also changes the samples needed when a noise scale B_noise is
known: E(B) = E_min·(1 + B/B_noise) (McCandlish et al. 2018, eq. 2.11), so the data grows by
(1 + B'/B_noise)/(1 + B/B_noise). Without one, the same data is assumed to reach the target.

Each cumulative factor is (run after the lever) / (run before it), so their product is the
final run over the baseline; an "alone" factor is the lever applied to the baseline only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from estimator.campaign import critical_batch
from estimator.errors import EstimatorError
from estimator.estimate import (
    ModelLike,
    _lowered,
    estimate,
    resolve_hardware,
    resolve_model,
    training_config,
)
from estimator.results import Estimate, _Result
from estimator.specs.hardware import SystemSpec
from estimator.specs.model import ModelSpec

DEFAULT_NODES = 4
# Image sizes of the resizing lever relative to the model's own (fast.ai's 128/224 and 288/224)
# and the share of the run at each: about 45% small, 45% full, the last 10% larger.
RESIZE_PHASES = ((0.45, 128 / 224), (0.45, 1.0), (0.10, 288 / 224))
MIN_RESIZE_IMAGE = 96  # CIFAR-size images (32 px) are too small to shrink further
# The short-sequence phase: 90% of the steps at a quarter of the length (BERT: 128 of 512).
SHORT_SEQUENCE = ((0.9, 0.25), (0.1, 1.0))
MIN_SHORT_SEQUENCE = 256


class LeverRow(_Result):
    """One lever: what it does, and its time and cost factors alone and stacked."""

    lever: str
    detail: str  # what the lever changed, or why it does not apply
    applied: bool  # False: not applicable here; factors are 1
    alone_time_factor: float
    alone_cost_factor: float | None
    time_factor: float  # cumulative: run time after this lever / before it
    cost_factor: float | None
    time_s: float  # the run after this lever and all before it
    cost_usd: float | None
    global_batch: int
    fits: bool


class LeversReport(_Result):
    """The baseline, each lever, and the final run; time_factor = Π rows' time_factor."""

    model: str
    system: str
    baseline: str
    baseline_time_s: float
    baseline_cost_usd: float | None
    baseline_global_batch: int
    baseline_fits: bool
    levers: list[LeverRow]
    final_time_s: float
    final_cost_usd: float | None
    time_factor: float
    cost_factor: float | None
    critical_batch: float | None
    warnings: list[str]

    def to_json(self) -> str:
        """The report as one JSON object with sorted keys."""
        import json

        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2, allow_nan=False)


@dataclass(frozen=True)
class _State:
    """A point on the waterfall: estimate options, node count, pricing."""

    options: dict[str, Any]
    nodes: int = 1
    spot: bool = False
    data_scale: float = 1.0  # samples needed relative to the baseline (noise-scale model)


@dataclass
class _Outcome:
    estimate: Estimate
    time_s: float
    cost_usd: float | None


class _Context:
    """The model, system and fixed inputs, with evaluated states cached."""

    def __init__(self, spec: ModelSpec, system: SystemSpec, options: dict[str, Any],
                 lever_nodes: int, large_batch: int | None, reliability: dict[str, Any],
                 own_schedule: tuple[Any, ...] | None) -> None:
        self.spec = spec
        self.system = system
        self.lever_nodes = lever_nodes
        self.large_batch = large_batch
        self.reliability = reliability
        self.own_schedule = own_schedule
        graph, _ = _lowered(spec)
        training = training_config(spec, **options)
        task_first = options.get("noise_task") is not None and options.get("noise_scale") is None
        self.critical = critical_batch(training, graph, task_first=task_first)
        # The run's size as options, wherever it came from, so that batch levers can scale it.
        sizes = {key: getattr(training, key) for key in ("tokens", "samples", "epochs")
                 if getattr(training, key) is not None}
        self.base_options = {**options, **sizes}
        self.cache: dict[str, _Outcome] = {}

    def evaluate(self, state: _State) -> _Outcome:
        options = dict(state.options)
        for key in ("tokens", "samples", "epochs"):
            if options.get(key) is not None:
                options[key] = options[key] * state.data_scale
        if state.spot:
            options.update(self.reliability)
        key = repr((sorted(options.items(), key=lambda item: item[0]), state.nodes, state.spot))
        if key not in self.cache:
            result = estimate(self.spec, self.system, nodes=state.nodes, **options)
            run = result.run
            assert run is not None  # the data size is checked in `levers`
            time_s = run.wall_time_with_failures_s or run.time_s
            prices = run.cost_with_failures_usd or run.cost_usd
            cost = prices.spot if state.spot else prices.on_demand
            self.cache[key] = _Outcome(result, time_s, cost)
        return self.cache[key]

    def data_scale(self, old_batch: int, new_batch: int) -> float:
        """Samples needed at new_batch over those at old_batch: (1 + B'/B_noise)/(1 + B/B_noise)."""
        if self.critical is None:
            return 1.0
        return (1 + new_batch / self.critical) / (1 + old_batch / self.critical)


def memory_limit(spec: ModelSpec, system: SystemSpec, nodes: int, options: dict[str, Any], dp: int) -> int:
    """The largest micro-batch per device that fits, whatever the global batch (0 if none).

    `estimate` reports the largest that fits under the global batch it was given, so this asks
    with a global batch far above any memory limit (dp × 65,536).
    """
    probe = {key: value for key, value in options.items()
             if key not in ("schedule", "tokens", "samples", "epochs", "micro_batch")}
    return estimate(spec, system, nodes=nodes, **{**probe, "global_batch": dp * 65536,
                                                   "micro_batch": "auto"}).max_micro_batch


def _rescaled_schedule(options: dict[str, Any], old_batch: int, new_batch: int, dp: int) -> dict[str, Any]:
    """Options whose schedule phases with their own global batch scale with the run's batch
    (rounded to a multiple of dp), so that a phase keeps its share of the new batch."""
    phases = options.get("schedule")
    if not phases:
        return options
    scaled = []
    for phase in phases:
        data = phase.model_dump() if hasattr(phase, "model_dump") else dict(phase)
        if data.get("global_batch"):
            data["global_batch"] = max(dp, round(data["global_batch"] * new_batch / old_batch / dp) * dp)
        scaled.append(data)
    return {**options, "schedule": tuple(scaled)}


Lever = Callable[[_Context, _State], "tuple[_State | None, str]"]


def _mixed_precision(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    peaks = ctx.system.device.peak_TFLOPS
    target = "bf16" if "bf16" in peaks else "fp16" if "fp16" in peaks else None
    if target is None:
        return None, f"{ctx.system.device.name} has no 16-bit arithmetic"
    gain = peaks[target] / peaks["fp32"]
    detail = f"{target} with fp32 master weights ({peaks[target]:g} vs {peaks['fp32']:g} TFLOPS peak)"
    if gain <= 1:
        detail += "; no faster matrix units, only half the activation bytes"
    return replace(state, options={**state.options, "precision": target}), detail


def _progressive(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    own = ctx.own_schedule
    if own:
        return replace(state, options={**state.options, "schedule": own}), "the model file's schedule"
    family = getattr(ctx.spec, "family", "graph")
    if family == "cnn":
        size = int(ctx.spec.image_size)
        if size < MIN_RESIZE_IMAGE:
            return None, f"{size} px images are too small to shrink"
        phases = [{"fraction": share, "image_size": max(8, round(size * scale / 8) * 8)}
                  for share, scale in RESIZE_PHASES]
        sizes = " → ".join(f"{phase['image_size']}" for phase in phases)
        detail = f"{sizes} px over 45/45/10% of the run (fast.ai DAWNBench, Howard 2018)"
    elif family == "transformer" and ctx.spec.arch != "encoder-decoder":
        seq = int(ctx.spec.seq_len)
        if seq < MIN_SHORT_SEQUENCE:
            return None, f"sequences of {seq} tokens are already short"
        phases = [{"fraction": share, "seq_len": max(1, int(seq * scale))} for share, scale in SHORT_SEQUENCE]
        detail = (f"90% of the run at {phases[0]['seq_len']} tokens, then {seq} "
                  f"(BERT, Devlin et al. 2019, §A.2)")
    else:
        return None, f"no image size or sequence length to schedule in a {family} model"
    return replace(state, options={**state.options, "schedule": tuple(phases)}), detail


def _memory(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    current = ctx.evaluate(state).estimate
    if current.memory.fits and current.config.grad_accum == 1:
        return None, "memory does not bind (fits without gradient accumulation)"
    replicas = current.config.dp * current.config.cp  # ZeRO shards over dp·cp (DESIGN §5)
    zeros = [0] + ([1, 2, 3] if replicas > 1 else [])
    recomputes = ["none", "full"]
    if getattr(ctx.spec, "family", "") == "transformer":
        recomputes.insert(1, "selective")
    best: tuple[float, _State, str] | None = None
    for zero in zeros:
        for recompute in recomputes:
            if zero == 0 and recompute == "none":
                continue
            candidate = replace(state, options={**state.options, "zero": zero, "recompute": recompute,
                                                "micro_batch": "auto"})
            try:
                outcome = ctx.evaluate(candidate)
            except EstimatorError:
                continue
            if not outcome.estimate.memory.fits:
                continue
            label = " + ".join(part for part in (f"ZeRO-{zero}" if zero else "",
                                                 f"{recompute} recomputation" if recompute != "none" else "") if part)
            if best is None or outcome.time_s < best[0]:
                best = (outcome.time_s, candidate, label)
    if best is None:
        return None, "nothing fits even with ZeRO-3 and full recomputation"
    if current.memory.fits and best[0] >= ctx.evaluate(state).time_s:
        return None, "sharding or recomputation would not be faster"
    micro = ctx.evaluate(best[1]).estimate.config
    return best[1], f"{best[2]} (micro-batch {micro.micro_batch} × {micro.grad_accum})"


def _larger_batch(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    current = ctx.evaluate(state).estimate
    batch, dp = current.config.global_batch, current.config.dp
    if ctx.large_batch is not None:
        target = ctx.large_batch
        if target % dp:
            raise EstimatorError(f"--large-batch {target}: not divisible by dp = {dp} (try {max(dp, target // dp * dp)})")
    else:
        limit = memory_limit(ctx.spec, ctx.system, state.nodes, state.options, dp)
        if limit < 1:
            return None, "nothing fits, so no larger batch"
        target = dp * (1 << int(math.log2(limit)))  # the largest power-of-two micro-batch that fits
    capped = ""
    if ctx.critical is not None and target > ctx.critical:
        target = max(dp, int(ctx.critical // dp) * dp)
        capped = f", capped at the critical batch ≈ {ctx.critical:,.0f}"
    if target <= batch:
        return None, f"batch {batch} already fills memory{capped}"
    scale = state.data_scale * ctx.data_scale(batch, target)
    detail = f"{batch} → {target} with linear LR scaling and warm-up (Goyal et al. 2017){capped}"
    if ctx.critical is not None:
        detail += f"; {scale / state.data_scale:.2f}× the samples (McCandlish et al. 2018, eq. 2.11)"
    options = _rescaled_schedule({**state.options, "global_batch": target, "micro_batch": None}, batch, target, dp)
    return replace(state, options=options, data_scale=scale), detail


def _spot(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    price = ctx.system.price_usd_per_hour
    if price is None or price.spot is None:
        return None, f"{ctx.system.name} has no spot price (give --spot-price)"
    detail = f"${price.spot:g} instead of ${price.on_demand:g} per node-hour"
    if ctx.reliability:
        detail += f", {ctx.reliability['preemptions_per_h']:g} preemptions/h with checkpoints"
    return replace(state, spot=True), detail


def _more_nodes(ctx: _Context, state: _State) -> tuple[_State | None, str]:
    nodes = ctx.lever_nodes
    if nodes <= state.nodes:
        return None, f"already {state.nodes} node{'s' if state.nodes != 1 else ''}"
    current = ctx.evaluate(state).estimate
    batch = current.config.global_batch
    target = batch * nodes // state.nodes
    new_dp = current.config.dp * nodes // state.nodes
    capped = ""
    if ctx.critical is not None and target > ctx.critical:
        target = max(batch, int(ctx.critical // new_dp) * new_dp)
        capped = f", batch capped at the critical batch ≈ {ctx.critical:,.0f}"
        if target % new_dp:
            target = batch if batch % new_dp == 0 else new_dp * max(1, batch // new_dp)
    scale = state.data_scale * ctx.data_scale(batch, target)
    options = _rescaled_schedule({**state.options, "global_batch": target, "micro_batch": None},
                                 batch, target, new_dp)
    detail = f"{state.nodes} → {nodes} nodes, global batch {batch} → {target}{capped}"
    chosen = replace(state, nodes=nodes, options=options, data_scale=scale)
    # Sharding chosen for one node may not pay across a slower network: keep the faster.
    memory = {key: ctx.base_options.get(key) for key in ("zero", "recompute")}
    if any(state.options.get(key) != value for key, value in memory.items()):
        plain = replace(chosen, options={**options, **memory})
        try:
            faster = ctx.evaluate(plain)
        except EstimatorError:
            faster = None
        if faster is not None and faster.estimate.memory.fits and faster.time_s < ctx.evaluate(chosen).time_s:
            chosen, detail = plain, detail + ", without the one-node sharding/recomputation"
    return chosen, detail


LEVERS: tuple[tuple[str, Lever], ...] = (
    ("mixed precision", _mixed_precision),
    ("progressive resizing", _progressive),
    ("recompute/sharding", _memory),
    ("larger batch+warm-up", _larger_batch),
    ("spot pricing", _spot),
    ("more nodes", _more_nodes),
)


def _ratio(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or before <= 0:
        return None
    return after / before


def levers(model: ModelLike, hardware: SystemSpec | str | Path, *,
           nodes: int = DEFAULT_NODES, large_batch: int | None = None,
           spot_price: float | None = None, **options: Any) -> LeversReport:
    """Each lever alone and stacked, from an fp32, fixed-size, on-demand, one-node baseline.

    Args:
        model: a model spec, preset name or model file.
        hardware: a system spec, shipped system name, DEVICExN shorthand or system YAML.
        nodes: node count of the "more nodes" lever (the baseline has one node).
        large_batch: global batch of the "larger batch" lever (default: the largest
            power-of-two micro-batch that fits, times dp).
        spot_price: dollars per node-hour at spot rates, overriding the system's.
        **options: training options kept throughout (optimizer, global_batch, tokens, samples,
            epochs, noise_scale, noise_task, checkpoint_s and preemptions_per_h for spot runs).

    Raises:
        EstimatorError: bad input, naming the option.
    """
    spec = resolve_model(model)
    system = resolve_hardware(hardware, 1)
    if nodes < 1:
        raise EstimatorError(f"--nodes {nodes}: must be at least 1")
    if spot_price is not None:
        price = system.price_usd_per_hour
        if price is None:
            raise EstimatorError(f"--spot-price: {system.name} has no on-demand price to compare with")
        if not 0 <= spot_price <= price.on_demand:
            raise EstimatorError(f"--spot-price {spot_price:g}: must be in [0, {price.on_demand:g}] "
                                 f"(the on-demand price per node-hour of {system.name})")
        system = system.model_copy(update={"price_usd_per_hour": price.model_copy(update={"spot": spot_price})})
    section = getattr(spec, "training", None)
    if all(options.get(key) is None for key in ("tokens", "samples", "epochs")) and (
            section is None or all(getattr(section, key) is None for key in ("tokens", "samples", "epochs"))):
        raise EstimatorError("levers: needs the run's size: give --epochs, --samples or --tokens")
    reliability = {key: options.pop(key) for key in ("checkpoint_s", "preemptions_per_h")
                   if options.get(key) is not None}
    if len(reliability) == 1:
        given = next(iter(reliability))
        raise EstimatorError(f"--{given.replace('_', '-')}: give --checkpoint-s and --preemptions-per-h together")
    own_schedule = section.schedule if section is not None else None
    if own_schedule:  # the baseline has a fixed size; the file's schedule is the resizing lever
        spec = spec.model_copy(update={"training": section.model_copy(update={"schedule": None})})
    ctx = _Context(spec, system, {k: v for k, v in options.items() if v is not None}, nodes,
                   large_batch, reliability, own_schedule)
    base = _State(options={**ctx.base_options, "precision": "fp32"})
    baseline = ctx.evaluate(base)
    warnings = list(baseline.estimate.warnings)
    rows: list[LeverRow] = []
    state, before = base, baseline
    family = getattr(spec, "family", "graph")
    for name, lever in LEVERS:
        if name == "progressive resizing" and family == "transformer":
            name = "short-sequence phase"
        alone_state, _ = lever(ctx, base)
        alone = ctx.evaluate(alone_state) if alone_state is not None else baseline
        new_state, detail = lever(ctx, state)
        after = ctx.evaluate(new_state) if new_state is not None else before
        rows.append(LeverRow(
            lever=name,
            detail=detail,
            applied=new_state is not None,
            alone_time_factor=alone.time_s / baseline.time_s,
            alone_cost_factor=_ratio(alone.cost_usd, baseline.cost_usd),
            time_factor=after.time_s / before.time_s,
            cost_factor=_ratio(after.cost_usd, before.cost_usd),
            time_s=after.time_s,
            cost_usd=after.cost_usd,
            global_batch=after.estimate.config.global_batch,
            fits=after.estimate.memory.fits and all(p.fits for p in (after.estimate.run.phases or [])),  # type: ignore[union-attr]
        ))
        if new_state is not None:
            state, before = new_state, after
    if ctx.critical is None and any(row.applied and row.lever in ("larger batch+warm-up", "more nodes")
                                    for row in rows):
        warnings.append("no noise scale given: larger batches are assumed to reach the target with the "
                        "same data (give --noise-scale or --noise-task to model the extra samples)")
    warnings.extend(w for w in before.estimate.warnings if w not in warnings)
    precision = baseline.estimate.config.precision
    size = (f"{spec.image_size} px" if getattr(spec, "family", "") == "cnn"
            else f"seq {spec.seq_len}" if getattr(spec, "family", "") == "transformer" else "")
    description = ", ".join(part for part in (
        precision, size, f"batch {baseline.estimate.config.global_batch}", "on-demand", "1 node") if part)
    return LeversReport(
        model=baseline.estimate.model.name,
        system=system.name,
        baseline=description,
        baseline_time_s=baseline.time_s,
        baseline_cost_usd=baseline.cost_usd,
        baseline_global_batch=baseline.estimate.config.global_batch,
        baseline_fits=baseline.estimate.memory.fits,
        levers=rows,
        final_time_s=before.time_s,
        final_cost_usd=before.cost_usd,
        time_factor=before.time_s / baseline.time_s,
        cost_factor=_ratio(before.cost_usd, baseline.cost_usd),
        critical_batch=ctx.critical,
        warnings=warnings,
    )
