"""The configuration planner: the fastest training layouts for a model on a cluster, and why.

`plan()` searches tensor × pipeline × data × context parallelism, virtual stages, micro-batch,
recomputation, ZeRO stage and sequence parallelism under the divisibility rules and the memory
limit. The loop over configurations runs in the compiled core (`_core.plan`, on all cores,
GIL released); Python builds the request once, then re-evaluates only the top K through
`estimate()`, so each plan is a full `Estimate` with the same keys as `estimate --json`.

The global batch is fixed (it is the workload of one step), so the fastest step is also the
highest throughput and, on a fixed number of nodes, the cheapest run: `--objective cost` ranks
like `time` there. It differs with `plan_deadline()`, which looks for the fewest nodes that
finish a run in time (objective time) or the cheapest node count that does (objective cost).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Literal

from estimator import _core
from estimator.errors import EstimatorError
from estimator.estimate import (
    ModelLike,
    _run_samples,
    apply_kernel_options,
    estimate,
    lowered_timed,
    native_device,
    native_network,
    resolve_hardware,
    resolve_model,
    training_config,
)
from estimator.results import Estimate, _Result
from estimator.specs.hardware import SystemSpec
from estimator.specs.training import MAX_DEVICES

GiB = 1 << 30
RECOMPUTE = ("none", "selective", "full")  # _core.Recompute values 0, 1, 2
# Options that fix a searched dimension when given; the others are searched.
FIXABLE = ("recompute", "zero", "sequence_parallel")
SEARCHED = ("tp", "pp", "dp", "cp", "vp", "micro_batch")
# A configuration that does not fit must beat the best by this much for memory to "bind".
MEMORY_BINDS_ABOVE = 0.01
# The value of each dimension that means "without it": the plan families compared in the
# explanation (no tensor, pipeline or context parallelism, no interleaving, recompute or ZeRO).
BASELINE = {"tp": 1, "pp": 1, "cp": 1, "vp": 1, "recompute": 0, "zero": 0, "sequence_parallel": 0}
# Below this share of the step, a bubble or communication "binding constraint" is called small.
SMALL_SHARE = 0.05
# Deadline search: node counts tried are 2^i and 3·2^i; with objective cost, counts up to this
# multiple of the fewest that finish are compared.
COST_SPAN = 4

Objective = Literal["time", "cost"]
Progress = Callable[[int, int, str], None]  # (configurations done, total, what is searched)


class PlanSearch(_Result):
    """How the search went."""

    objective: str
    configurations: int  # evaluated (the whole space) over every node count tried
    fitting: int  # of which fit in memory
    seconds: float  # wall time of the native search(es)
    configurations_per_s: float


class PlanExplanation(_Result):
    """Why the best plan wins and what limits it."""

    binding: Literal["memory", "bubble", "communication"] | None  # None: no plan to judge
    summary: str
    reasons: list[str]


class DeadlineTry(_Result):
    """One node count of a deadline search."""

    nodes: int
    devices: int
    run_time_s: float | None  # best plan's run time; None when nothing fits
    cost_usd: float | None
    finishes: bool


class DeadlineInfo(_Result):
    """The deadline search: which node counts were tried and which was chosen."""

    deadline_s: float
    samples: float
    steps: int
    nodes: int | None  # chosen node count; None when no count finishes in time
    tried: list[DeadlineTry]


class PlanReport(_Result):
    """The best plans, best first, each a full `Estimate`; plus the search and its reasoning."""

    plans: list[Estimate]
    explanation: PlanExplanation
    search: PlanSearch
    deadline: DeadlineInfo | None = None
    spot: bool  # costs are read at spot rates
    warnings: list[str]

    def to_json(self) -> str:
        """`{"plans": [...], ...}` as one JSON object with sorted keys."""
        import json

        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2, allow_nan=False)


class _Problem:
    """A model, a system and the fixed training options, resolved once."""

    def __init__(self, model: ModelLike, hardware: SystemSpec | str | Path,
                 nodes: int | None, options: dict[str, Any]) -> None:
        for name in SEARCHED:
            if options.get(name) is not None:
                raise EstimatorError(f"--{name.replace('_', '-')}: the planner searches it; leave it out")
        self.spec = resolve_model(model)
        self.system = resolve_hardware(hardware, nodes)
        self.options = {key: value for key, value in options.items() if value is not None}
        self.training = training_config(self.spec, **self.options)
        # Time at the mean length a step computes, memory at seq_len (DESIGN §2.10).
        self.graph, self.native_graph, self.timed_graph, self.native_timed = lowered_timed(
            self.spec, self.training)
        precision, fallback = self.system.device.resolve_precision(self.training.precision.value)
        self.precision = precision
        self.warnings = [fallback] if fallback else []
        if self.training.global_batch is None:
            raise EstimatorError(
                f"--global-batch: the planner keeps the global batch fixed and {self.graph.name} "
                "sets none; give --global-batch N"
            )
        experts = int(getattr(self.spec, "experts", 1) or 1)
        if self.training.ep > 1 and (experts <= 1 or experts % self.training.ep):
            raise EstimatorError(
                f"--ep {self.training.ep}: must divide the {experts} experts of {self.graph.name}"
            )
        self.device = native_device(self.system.device, precision, self.training.attention.value,
                                    self.training.cuda_graphs)

    def space(self, top: int, limits: dict[str, int]) -> Any:
        """The native search request."""
        training = self.training
        space = _core.PlanSpace()
        space.global_batch = training.global_batch
        space.tokens_per_sample = self.graph.tokens_per_sample or 0
        for name, value in limits.items():
            setattr(space, name, value)
        space.ep = training.ep
        space.precision = getattr(_core.Precision, self.precision)
        apply_kernel_options(space, training)
        if "recompute" in self.options:
            space.recompute = [getattr(_core.Recompute, training.recompute.value)]
        if "zero" in self.options:
            space.zero = [training.zero]
        if "sequence_parallel" in self.options:
            space.sequence_parallel = [int(training.sequence_parallel)]
        space.top_k = top
        return space

    def price(self, objective: Objective) -> float | None:
        """USD per node-hour at the rate the options ask for (None without a price)."""
        price = self.system.price_usd_per_hour
        if price is None:
            if objective == "cost":
                raise EstimatorError(f"--objective cost: {self.system.name} has no price_usd_per_hour")
            return None
        return price.spot if self.training.spot and price.spot is not None else price.on_demand


def _native_plan(problem: _Problem, system: SystemSpec, top: int, limits: dict[str, int],
                 progress: Progress | None, label: str) -> tuple[Any, float]:
    """Runs the native search on `system`; returns its result and wall seconds."""
    callback = None if progress is None else (lambda done, total: progress(done, total, label))
    start = time.perf_counter()
    try:
        result = _core.plan(problem.native_graph, problem.device, native_network(system),
                            problem.space(top, limits), callback,
                            None if problem.native_timed is problem.native_graph else problem.native_timed)
    except ValueError as exc:
        raise EstimatorError(f"plan: {exc}") from None
    return result, time.perf_counter() - start


def plan(model: ModelLike, hardware: SystemSpec | str | Path, nodes: int | None = None,
         *, objective: Objective = "time", top: int = 5, progress: Progress | None = None,
         max_tp: int = 0, max_cp: int = 8, max_vp: int = 8, max_micro_batch: int = 64,
         threads: int = 0, **options: Any) -> PlanReport:
    """The fastest configurations of `model` on `hardware` that fit, best first.

    Args:
        model: a model spec, preset name, model YAML or Hugging Face config.json path.
        hardware: a system spec, shipped system name, DEVICExN shorthand or system YAML path.
        nodes: copies of the system's node (default: the system's own count).
        objective: "time" (shortest step) or "cost" (price × time; the same ranking at a fixed
            node count).
        top: how many plans to return (1 to 100).
        progress: called about every 0.1 s as `progress(done, total, label)`.
        max_tp: largest tensor-parallel degree (0: the devices of one node).
        max_cp: largest context-parallel degree (token models only).
        max_vp: most virtual pipeline stages per device.
        max_micro_batch: largest micro-batch tried (sequences or images).
        threads: worker threads of the native search (0: one per core).
        **options: fixed training options (precision, optimizer, global_batch, ep, and the
            run size: tokens, samples, epochs, spot); recompute, zero and sequence_parallel fix
            that choice instead of searching it. tp, pp, dp, cp, vp and micro_batch are searched
            and must not be given.

    Returns:
        A `PlanReport`; when nothing fits, its `plans` is empty and the explanation says why.

    Raises:
        EstimatorError: bad input, naming the option.
    """
    _check_top(top, objective)
    problem = _Problem(model, hardware, nodes, options)
    problem.price(objective)  # objective cost needs a price
    limits = _limits(max_tp, max_cp, max_vp, max_micro_batch, threads)
    result, seconds = _native_plan(problem, problem.system, top, limits, progress,
                                   f"{problem.system.devices} devices")
    search = PlanSearch(objective=objective, configurations=result.space, fitting=result.fitting,
                        seconds=seconds, configurations_per_s=result.space / max(seconds, 1e-9))
    return _report(problem, problem.system, result, search, None)


def plan_deadline(model: ModelLike, hardware: SystemSpec | str | Path,
                  deadline_days: float, *, max_nodes: int | None = None,
                  objective: Objective = "time", top: int = 5, progress: Progress | None = None,
                  max_tp: int = 0, max_cp: int = 8, max_vp: int = 8, max_micro_batch: int = 64,
                  threads: int = 0, **options: Any) -> PlanReport:
    """The fewest nodes of `hardware` that finish the run within `deadline_days`, and its plans.

    Node counts 1, 2, 3, 4, 6, 8, 12, ... (2^i and 3·2^i) up to `max_nodes` are tried in
    order until one finishes; a count that could not finish even at the device's achievable
    matmul peak is skipped without a search. The counts between the last that does not finish
    and the first that does are then bisected (only those with a valid layout), assuming more
    nodes never take longer. With objective "time" the fewest nodes that finish are chosen;
    with "cost" the cheapest count tried that finishes (the coarse scan goes on to 4× the
    first). Each count tried is one native search.

    Args:
        deadline_days: wall-clock days the run may take (> 0).
        max_nodes: the most nodes to consider (default: as many as 2^24 devices allow).
        Others: as `plan`; the run size (tokens, samples or epochs) is required.

    Returns:
        A `PlanReport` whose `deadline` lists the counts tried; `plans` is empty when no count
        finishes in time.
    """
    _check_top(top, objective)
    if not (isinstance(deadline_days, (int, float)) and math.isfinite(deadline_days) and deadline_days > 0):
        raise EstimatorError(f"--deadline {deadline_days}: must be a positive number of days")
    problem = _Problem(model, hardware, None, options)
    price = problem.price(objective)
    samples = _run_samples(problem.training, problem.spec, problem.timed_graph)
    if samples is None:
        raise EstimatorError("--deadline: needs the run size: give --tokens, --samples or --epochs")
    limits = _limits(max_tp, max_cp, max_vp, max_micro_batch, threads)
    base = problem.system
    per_node = base.devices_per_node
    ceiling = MAX_DEVICES // per_node
    if max_nodes is not None:
        if not 1 <= max_nodes <= ceiling:
            raise EstimatorError(f"--nodes {max_nodes}: must be from 1 to {ceiling} with --deadline")
        ceiling = max_nodes
    deadline_s = deadline_days * 86400
    global_batch = problem.training.global_batch
    steps = math.ceil(samples / global_batch)
    # A lower bound on the run time: every device at its achievable matmul rate, no overheads.
    flops_per_sample = _model_flops_per_sample(problem)
    rate = problem.device.peak_matmul_flops * problem.device.eff_matmul
    # More devices than global_batch × the largest model-parallel product leave dp no divisor.
    usable = global_batch * _max_model_parallel(problem, base, limits)

    totals = [0, 0, 0.0]  # configurations, fitting, seconds
    tried: dict[int, DeadlineTry] = {}

    def lower_bound_misses(count: int) -> bool:
        return steps * global_batch * flops_per_sample / (count * per_node * rate) > deadline_s

    def attempt(count: int) -> DeadlineTry:
        result, spent = _native_plan(problem, base.with_nodes(count), 1, limits, progress,
                                     f"{count} nodes")
        totals[0], totals[1], totals[2] = totals[0] + result.space, totals[1] + result.fitting, totals[2] + spent
        run_s = steps * result.plans[0].step_time_s if result.plans else None
        cost = run_s / 3600 * count * price if run_s is not None and price is not None else None
        tried[count] = DeadlineTry(nodes=count, devices=count * per_node, run_time_s=run_s,
                                   cost_usd=cost, finishes=run_s is not None and run_s <= deadline_s)
        return tried[count]

    # Coarse: 1, 2, 3, 4, 6, 8, ... until one finishes (with objective cost, on up to 4× it).
    below, first = 0, None  # the largest count known not to finish, the first that does
    for count in _node_counts(ceiling):
        if count * per_node > usable or (first is not None and count > COST_SPAN * first):
            break
        if lower_bound_misses(count) or not attempt(count).finishes:
            if first is None:
                below = count
            continue
        if first is None:
            first = count
            if objective == "time":
                break
    # Fine: bisect the counts between that have any valid layout (assuming more nodes never
    # take longer among those), so that e.g. 72 nodes is found between 64 and 96.
    if first is not None:
        between = [n for n in range(below + 1, first)
                   if not lower_bound_misses(n) and _space_size(problem, base.with_nodes(n), limits) > 0]
        low, high = 0, len(between)  # between[high:] finish (or are not tried yet)
        while low < high:
            middle = (low + high) // 2
            if attempt(between[middle]).finishes:
                high = middle
            else:
                low = middle + 1
    finishing = [t for t in tried.values() if t.finishes]
    chosen: int | None = None
    if finishing:
        if objective == "cost" and price is not None:
            chosen = min(finishing, key=lambda t: (t.cost_usd or 0.0, t.nodes)).nodes
        else:
            chosen = min(t.nodes for t in finishing)
    configurations, fitting, seconds = totals[0], totals[1], totals[2]
    ordered = [tried[n] for n in sorted(tried)]

    info = DeadlineInfo(deadline_s=deadline_s, samples=samples, steps=steps, nodes=chosen,
                        tried=ordered)
    if chosen is None:
        search = PlanSearch(objective=objective, configurations=configurations, fitting=fitting,
                            seconds=seconds, configurations_per_s=configurations / max(seconds, 1e-9))
        best = min((t for t in ordered if t.run_time_s is not None), key=lambda t: t.run_time_s or 0.0,
                   default=None)
        closest = (f"; the fastest tried, {best.nodes} nodes, takes {best.run_time_s / 86400:.3g} days"
                   if best is not None and best.run_time_s is not None else "")
        summary = (f"no configuration finishes {steps:,} steps within {deadline_days:g} days on up "
                   f"to {ceiling} nodes of {base.name}{closest}")
        explanation = PlanExplanation(binding=None, summary=summary,
                                      reasons=["try a later deadline, fewer tokens or faster hardware"])
        return PlanReport(plans=[], explanation=explanation, search=search, deadline=info,
                          spot=problem.training.spot, warnings=problem.warnings)

    system = base.with_nodes(chosen)
    result, spent = _native_plan(problem, system, top, limits, progress, f"{chosen} nodes")
    configurations, fitting, seconds = configurations + result.space, fitting + result.fitting, seconds + spent
    search = PlanSearch(objective=objective, configurations=configurations, fitting=fitting,
                        seconds=seconds, configurations_per_s=configurations / max(seconds, 1e-9))
    return _report(problem, system, result, search, info)


def _check_top(top: int, objective: str) -> None:
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 100:
        raise EstimatorError(f"--top {top}: must be a whole number from 1 to 100")
    if objective not in ("time", "cost"):
        raise EstimatorError(f"--objective {objective}: must be time or cost")


def _limits(max_tp: int, max_cp: int, max_vp: int, max_micro_batch: int, threads: int) -> dict[str, int]:
    """Bounds of the searched space, checked here so errors name the option."""
    checks = (("max_tp", max_tp, 0, 1 << 24), ("max_cp", max_cp, 1, 1024), ("max_vp", max_vp, 1, 64),
              ("max_micro_batch", max_micro_batch, 1, 65536), ("threads", threads, 0, 1024))
    for name, value, low, high in checks:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise EstimatorError(f"--{name.replace('_', '-')} {value}: must be a whole number from {low} to {high}")
    return {"max_tp": max_tp, "max_cp": max_cp, "max_vp": max_vp,
            "max_micro_batch": max_micro_batch, "threads": threads}


def _node_counts(ceiling: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, ... up to `ceiling` (common cluster sizes; dp then divides
    power-of-two and 3·2^i batches)."""
    counts = set()
    power = 1
    while power <= ceiling:
        counts.add(power)
        if 3 * power // 2 <= ceiling and power >= 2:
            counts.add(3 * power // 2)
        power *= 2
    return sorted(counts)


def _space_size(problem: _Problem, system: SystemSpec, limits: dict[str, int]) -> int:
    """Configurations the search would evaluate on `system` (0: no valid layout)."""
    return _core.plan_space_size(problem.native_graph, native_network(system), problem.space(1, limits))


def _model_flops_per_sample(problem: _Problem) -> float:
    """Forward + backward model FLOPs of one sample (the core's count, any layout)."""
    network = _core.Network()
    network.intra_Bps = network.inter_Bps = 1.0
    config = _core.Config()
    config.precision = getattr(_core.Precision, problem.precision)
    try:
        return _core.evaluate(problem.native_timed, problem.device, network, config).model_flops_per_sample
    except ValueError as exc:
        raise EstimatorError(f"plan: {exc}") from None


def _max_model_parallel(problem: _Problem, system: SystemSpec, limits: dict[str, int]) -> int:
    """An upper bound on tp·pp·cp over the searched space."""
    layers = max(segment.repeat for segment in problem.graph.segments)
    tp = limits["max_tp"] or system.devices_per_node
    cp = limits["max_cp"] if problem.graph.tokens_per_sample else 1
    return tp * layers * cp


# ---------------------------------------------------------------------------------------------
# The report: each of the top K as a full estimate, and why the first wins.


def _estimate(problem: _Problem, system: SystemSpec, candidate: Any) -> Estimate:
    """The full `Estimate` of one native plan (the same core, so the same step time)."""
    c = candidate.config
    return estimate(
        problem.spec, system,
        **{**problem.options,
           "tp": c.tp, "pp": c.pp, "dp": c.dp, "cp": c.cp, "vp": c.vp, "ep": c.ep,
           "micro_batch": c.micro_batch, "global_batch": problem.training.global_batch,
           "zero": c.zero, "fsdp": c.fsdp, "blocking_gathers": c.blocking_gathers, "tp_overlap": c.tp_overlap,
           "recompute": RECOMPUTE[int(c.recompute)],
           "sequence_parallel": c.sequence_parallel},
    )


def _report(problem: _Problem, system: SystemSpec, result: Any, search: PlanSearch,
            deadline: DeadlineInfo | None) -> PlanReport:
    estimates = [_estimate(problem, system, candidate) for candidate in result.plans]
    capacity = problem.device.capacity_bytes
    explanation = explain(result, estimates, capacity) if estimates else _nothing_fits(result, capacity)
    return PlanReport(plans=estimates, explanation=explanation, search=search, deadline=deadline,
                      spot=problem.training.spot, warnings=problem.warnings)


def describe(config: Any) -> str:
    """A configuration in one line: `tp 8 · pp 16 (vp 3) · dp 8 · cp 1 · sp · zero 1 · ...`."""
    parts = [f"tp {config.tp}", f"pp {config.pp}" + (f" (vp {config.vp})" if config.vp > 1 else ""),
             f"dp {config.dp}", f"cp {config.cp}"]
    if config.ep > 1:
        parts.append(f"ep {config.ep}")
    if config.sequence_parallel:
        parts.append("sp")
    parts += [f"zero {config.zero}", f"recompute {RECOMPUTE[int(config.recompute)]}",
              f"micro-batch {config.micro_batch} × {config.grad_accum}"]
    return " · ".join(parts)


def _value_name(dimension: str, value: int) -> str:
    if dimension == "recompute":
        return f"recompute {RECOMPUTE[value]}"
    if dimension == "sequence_parallel":
        return "sequence parallel" if value else "no sequence parallel"
    return f"{dimension.replace('_', '-')} {value}"


def _slower(time_s: float, best_s: float) -> str:
    if time_s == best_s:
        return "exactly as fast (the model sees no difference; the simpler choice is listed)"
    return f"{(time_s / best_s - 1):.1%} slower"


def _difference(config: Any, best: Any) -> str:
    """What `config` changes relative to `best`, e.g. `vp 4 instead of 6`."""
    names = ("tp", "pp", "dp", "cp", "vp", "micro_batch", "zero")
    changed = [f"{name.replace('_', '-')} {getattr(config, name)} instead of {getattr(best, name)}"
               for name in names if getattr(config, name) != getattr(best, name)]
    if int(config.recompute) != int(best.recompute):
        changed.append(f"recompute {RECOMPUTE[int(config.recompute)]} instead of "
                       f"{RECOMPUTE[int(best.recompute)]}")
    if config.sequence_parallel != best.sequence_parallel:
        changed.append("sequence parallel " + ("on" if config.sequence_parallel else "off"))
    return ", ".join(changed) or "the same layout"


def explain(result: Any, estimates: list[Estimate], capacity_bytes: float) -> PlanExplanation:
    """Why the best plan wins: the runner-up, the best plan with each other value of every
    searched dimension (where nothing fits, that says memory), and the binding constraint:
    memory when a faster configuration exists that does not fit, otherwise the larger of the
    pipeline bubble and the exposed communication of the best plan's step."""
    best, winner = result.plans[0], estimates[0]
    step = best.step_time_s
    reasons: list[str] = []
    if len(result.plans) > 1:
        second = result.plans[1]
        reasons.append(f"runner-up ({_difference(second.config, best.config)}) is "
                       f"{_slower(second.step_time_s, step)}")
    for dimension in result.dimensions:
        if dimension.name == "dp" or len(dimension.values) < 2:
            continue  # dp follows from the others
        chosen = _dimension_value(dimension.name, best.config)
        others = [v for v in dimension.values if v.value != chosen]
        fitting = [v for v in others if v.fitting > 0]
        line = _value_name(dimension.name, chosen) + ": "
        if fitting:
            nearest = min(fitting, key=lambda v: (v.best.step_time_s, v.value))
            line += (f"the best with {_value_name(dimension.name, nearest.value)} is "
                     f"{_slower(nearest.best.step_time_s, step)}")
            plain = next((v for v in fitting if v.value == BASELINE.get(dimension.name)), None)
            if plain is not None and plain is not nearest:  # the family without this feature
                line += (f"; with {_value_name(dimension.name, plain.value)}, "
                         f"{_slower(plain.best.step_time_s, step)}")
        else:
            line += "the only choice that fits"
        never = [str(v.value) if dimension.name not in ("recompute", "sequence_parallel")
                 else _value_name(dimension.name, v.value) for v in others if v.fitting == 0]
        if never and fitting:
            label = dimension.name.replace("_", "-")
            line += (f"; nothing fits with {label} {', '.join(never)}"
                     if dimension.name not in ("recompute", "sequence_parallel")
                     else f"; nothing fits with {', '.join(never)}")
        reasons.append(line)

    shares = winner.breakdown_s
    bubble = shares.get("pipeline_bubble", 0.0) / winner.step_time_s
    communication = shares.get("communication", 0.0) / winner.step_time_s
    parts = ", ".join(f"{name} {seconds / winner.step_time_s:.1%}"
                      for name, seconds in winner.communication_s.items() if seconds > 0)
    reasons.append(f"of the step: pipeline bubble {bubble:.1%}, exposed communication "
                   f"{communication:.1%}" + (f" ({parts})" if parts else ""))
    # Frontier points faster than the best cannot fit (else one would be the best); the leanest
    # of them is the nearest miss, the first the fastest configuration of all.
    faster = [p for p in result.frontier if p.step_time_s < step * (1 - MEMORY_BINDS_ABOVE)]
    if faster:
        binding = "memory"
        near = faster[-1]
        why = (f"memory: {describe(near.config)} would be {1 - near.step_time_s / step:.1%} faster "
               f"but needs {near.memory_bytes / GiB:.1f} GiB per device of {capacity_bytes / GiB:.1f} GiB")
        if len(faster) > 1:
            top = faster[0]
            why += (f"; the fastest configuration of all, {1 - top.step_time_s / step:.1%} faster, "
                    f"needs {top.memory_bytes / GiB:.1f} GiB")
    elif bubble >= communication:
        binding = "bubble"
        why = (f"bubble: {bubble:.1%} of the step is pipeline bubble ((pp−1)/vp = "
               f"{(best.config.pp - 1) / best.config.vp:.3g} of {best.config.grad_accum} "
               "micro-batch slots)")
    else:
        binding = "communication"
        why = f"communication: {communication:.1%} of the step is exposed communication"
    if binding != "memory" and max(bubble, communication) < SMALL_SHARE:
        why += " (small: the step is mostly the operators' own compute and memory time)"
    reasons.insert(0, "binding constraint " + why)
    memory = winner.memory
    summary = (f"{describe(best.config)} wins: {_seconds(step)} per step, MFU {winner.mfu:.1%}, "
               f"{memory.per_device_bytes / GiB:.1f} of {memory.capacity_bytes / GiB:.1f} GiB per "
               f"device; binding constraint: {binding}")
    return PlanExplanation(binding=binding, summary=summary, reasons=reasons)


def _nothing_fits(result: Any, capacity_bytes: float) -> PlanExplanation:
    if result.space == 0:
        summary = ("no configuration satisfies the divisibility rules (the global batch must "
                   "divide by dp, tp the attention heads, pp the layers)")
        return PlanExplanation(binding="memory", summary=summary,
                               reasons=["try another --global-batch or number of nodes"])
    lean = result.leanest
    summary = (f"nothing fits: the leanest of {result.space:,} configurations "
               f"({describe(lean.config)}) needs {lean.memory_bytes / GiB:.1f} GiB per device of "
               f"{capacity_bytes / GiB:.1f} GiB")
    return PlanExplanation(binding="memory", summary=summary,
                           reasons=["binding constraint memory: try more nodes, a lower "
                                    "--precision, a smaller --global-batch or a device with more memory"])


def _dimension_value(name: str, config: Any) -> int:
    if name == "micro_batch":
        return int(config.micro_batch)
    if name == "recompute":
        return int(config.recompute)
    if name == "sequence_parallel":
        return int(config.sequence_parallel)
    return int(getattr(config, name))


def _seconds(value: float) -> str:
    return f"{value * 1e3:.3g} ms" if value < 1 else f"{value:.3g} s"
