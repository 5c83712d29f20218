"""The run around the step: schedules, the statistical batch ceiling, failures, energy and CO2.

`estimate()` computes one optimizer step; this module turns it into the economics of a whole
run (DESIGN §9 and the formula modules it cites):

* `critical_batch`: B_crit ≈ B_noise, the gradient noise scale (McCandlish et al. 2018,
  arXiv:1812.06162, eq. 2.12), from `--noise-scale`, or a task's measured value
  (`batch_scaling.MEASURED_NOISE_SCALES`, their Table 1) with `--noise-task`.
* `scheduled_run`: a `schedule:` of phases (progressive resizing, BERT's two sequence lengths,
  batch ramps; `estimator.schedule`), each phase re-estimated with its own image size, sequence
  length and global batch; the run's steps, time, device-hours, energy and cost are the sums
  of the phases.
* `finish_run`: facility energy and CO2e (PUE × IT energy × grid intensity; Patterson et al.
  2021, `estimator.energy`) and, with an interruption source, the expected wall time with
  checkpoints, restarts and lost work at Daly's optimal interval (Daly 2006;
  `estimator.reliability`) and the goodput.
"""

from __future__ import annotations

import math
from typing import Any

from estimator import batch_scaling, energy, reliability
from estimator.errors import EstimatorError
from estimator.graph import Graph
from estimator.results import CostInfo, PhaseInfo, ReliabilityInfo, RunInfo
from estimator.schedule import PhaseSettings, SchedulePhase, phase_settings, run_schedule
from estimator.specs.hardware import SystemSpec
from estimator.specs.model import ModelSpec, respecified
from estimator.specs.training import TrainingConfig

CRITICAL_BATCH_SOURCE = "B_crit ≈ B_noise (McCandlish et al. 2018, arXiv:1812.06162, eq. 2.12)"
# Options that describe the run around the step; a phase's re-estimate leaves them out.
RUN_OPTIONS = ("schedule", "tokens", "samples", "epochs", "noise_scale", "noise_task",
               "checkpoint_s", "restart_s", "node_mtbf_h", "preemptions_per_h", "pue",
               "grid_gco2_per_kwh")


# ------------------------------------------------------------------------------ critical batch
def critical_batch(training: TrainingConfig, graph: Graph, task_first: bool = False) -> float | None:
    """The statistical batch ceiling in samples, or None when no noise scale is known.

    `noise_scale` is B_noise in samples; `noise_task` names a task of McCandlish et al. 2018,
    Table 1, whose run-averaged critical batch is used (a task measured in tokens is divided by
    the model's tokens per sample). `task_first`: the caller named a task but no number, so the
    task wins over a number from the model file.
    """
    use_task = training.noise_task is not None and (task_first or training.noise_scale is None)
    if not use_task:
        return training.noise_scale
    task = training.noise_task
    assert task is not None
    try:
        value = batch_scaling.task_noise_scale(task)
    except EstimatorError as exc:
        raise EstimatorError(f"--noise-task {task}: {exc}") from None
    unit = batch_scaling.MEASURED_NOISE_SCALES[task].unit
    if unit == "tokens":
        if not graph.tokens_per_sample:
            raise EstimatorError(
                f"--noise-task {task}: its critical batch is in tokens and {graph.name} has no "
                f"tokens per sample (give --noise-scale in samples)"
            )
        return value / graph.tokens_per_sample
    return value


def critical_batch_warning(global_batch: int, critical: float) -> str | None:
    """A warning when the global batch is past the critical batch, else None."""
    if global_batch <= critical:
        return None
    return (f"global batch {global_batch:,} exceeds the critical batch ≈ {critical:,.0f} samples "
            f"({CRITICAL_BATCH_SOURCE}): steps to target fall only as S_min·(1 + B_noise/B) while "
            f"the samples needed grow as E_min·(1 + B/B_noise)")


# ------------------------------------------------------------------------------------ schedules
def _phase_spec(spec: ModelSpec, settings: PhaseSettings, number: int) -> ModelSpec:
    """The model with a phase's image size or sequence length (and no training section)."""
    family = spec.family
    changes: dict[str, int] = {}
    if settings.image_size is not None:
        if family != "cnn":
            raise EstimatorError(f"schedule phase {number}: image_size: only for cnn models, not {family}")
        changes["image_size"] = settings.image_size
    if settings.seq_len is not None:
        if family != "transformer":
            raise EstimatorError(f"schedule phase {number}: seq_len: only for transformer models, not {family}")
        changes["seq_len"] = settings.seq_len
    return respecified(spec, f"schedule phase {number}", **changes)


def _totals(training: TrainingConfig) -> dict[str, float]:
    """The run's size as `run_schedule` takes it, for phases given as a fraction."""
    if training.tokens is not None:
        return {"total_tokens": training.tokens}
    if training.samples is not None:
        return {"total_samples": training.samples}
    if training.epochs is not None:
        return {"total_epochs": training.epochs}
    return {}


def scheduled_run(spec: ModelSpec, system: SystemSpec, training: TrainingConfig, graph: Graph, *,
                  step_time_s: float, global_batch: int, micro_batch: int, fits: bool,
                  warnings: list[str]) -> RunInfo:
    """The run of `training.schedule`: each phase re-estimated with its overrides, then summed.

    Args:
        spec, system, training: the model, hardware and merged configuration of the estimate.
        graph: the model's operator graph (for its tokens per sample).
        step_time_s, global_batch, micro_batch, fits: the base estimate, reused for phases
            that override nothing.
        warnings: the estimate's warnings; phases that do not fit add theirs.
    """
    from estimator.estimate import estimate  # estimate.py calls this module

    phases: tuple[SchedulePhase, ...] = training.schedule or ()
    family = getattr(spec, "family", "graph")
    base_image = getattr(spec, "image_size", None) if family == "cnn" else None
    base_seq = getattr(spec, "seq_len", None) if family == "transformer" else None
    totals = _totals(training)
    if not totals and any(phase.fraction is not None for phase in phases):
        raise EstimatorError("schedule: a phase given as a fraction needs the run's size "
                             "(give --tokens, --samples or --epochs)")
    base_mean = training.mean_seq_len if family == "transformer" else None
    base_key = PhaseSettings(global_batch=global_batch, seq_len=base_seq, image_size=base_image,
                             mean_seq_len=base_mean)
    options = training.model_dump(exclude={*RUN_OPTIONS, "mean_seq_len"})
    seen: dict[PhaseSettings, tuple[float, int, bool]] = {base_key: (step_time_s, micro_batch, fits)}
    numbers = {}

    def phase_step(settings: PhaseSettings) -> float:
        if settings not in seen:
            number = numbers.get(settings, len(seen))
            phase_spec = _phase_spec(spec, PhaseSettings(
                global_batch=settings.global_batch,
                image_size=settings.image_size if settings.image_size != base_image else None,
                seq_len=settings.seq_len if settings.seq_len != base_seq else None), number)
            try:
                result = estimate(phase_spec, system, **{**options, "global_batch": settings.global_batch,
                                                         "mean_seq_len": settings.mean_seq_len})
            except EstimatorError as exc:
                raise EstimatorError(f"schedule phase {number}: {exc}") from None
            seen[settings] = (result.step_time_s, result.config.micro_batch, result.memory.fits)
            if not result.memory.fits:
                warnings.append(f"schedule phase {number} ({_describe(settings)}): "
                                + next((w for w in result.warnings if w.startswith("does not fit")),
                                       "does not fit"))
        return seen[settings][0]

    for number, phase in enumerate(phases, 1):
        numbers.setdefault(phase_settings(phase, global_batch, base_seq, base_image, base_mean), number)
    try:
        result = run_schedule(phases, phase_step, global_batch=global_batch, seq_len=base_seq,
                              image_size=base_image, mean_seq_len=base_mean,
                              dataset_samples=getattr(spec, "dataset_samples", None), **totals)
    except EstimatorError as exc:
        message = str(exc)
        raise EstimatorError(message if message.startswith("schedule") else f"schedule: {message}") from None

    price = system.price_usd_per_hour
    infos = []
    for index, (phase, done) in enumerate(zip(phases, result.phases), 1):
        _, micro, phase_fits = seen[done.settings]
        hours = done.time_s / 3600
        infos.append(PhaseInfo(
            name=phase.name or f"phase {index}",
            image_size=done.settings.image_size,
            seq_len=done.settings.seq_len,
            mean_seq_len=done.settings.mean_seq_len,
            global_batch=done.settings.global_batch,
            micro_batch=micro,
            fits=phase_fits,
            samples=done.samples,
            steps=done.steps,
            step_time_s=done.step_time_s,
            time_s=done.time_s,
            device_hours=system.devices * hours,
            energy_kwh=system.devices * system.device.tdp_W * done.time_s / energy.JOULES_PER_KWH,
            cost_usd=CostInfo(
                on_demand=price.on_demand * system.nodes * hours if price else None,
                spot=price.spot * system.nodes * hours if price and price.spot is not None else None,
            ),
        ))
    return RunInfo(
        samples=result.total_samples,
        steps=result.total_steps,
        time_s=result.total_time_s,
        device_hours=math.fsum(info.device_hours for info in infos),
        energy_kwh=math.fsum(info.energy_kwh for info in infos),
        cost_usd=CostInfo(on_demand=_sum(info.cost_usd.on_demand for info in infos),
                          spot=_sum(info.cost_usd.spot for info in infos)),
        phases=infos,
    )


def _describe(settings: PhaseSettings) -> str:
    parts = [f"batch {settings.global_batch}"]
    if settings.image_size is not None:
        parts.insert(0, f"{settings.image_size} px")
    if settings.seq_len is not None:
        mean = f" (mean {settings.mean_seq_len})" if settings.mean_seq_len is not None else ""
        parts.insert(0, f"seq {settings.seq_len}{mean}")
    return ", ".join(parts)


def _sum(values: Any) -> float | None:
    """The sum, or None if any part is None (a price the system does not have)."""
    items = list(values)
    return None if any(value is None for value in items) else math.fsum(items)


# ------------------------------------------------------------------- failures, energy and CO2
def check_reliability(training: TrainingConfig) -> None:
    """Reliability options come as a set: a checkpoint cost and what interrupts the run."""
    sources = training.node_mtbf_h is not None or training.preemptions_per_h is not None
    if training.checkpoint_s is not None and not sources:
        raise EstimatorError("--checkpoint-s: needs what interrupts the run: --node-mtbf-h "
                             "(hours between failures of one node) or --preemptions-per-h")
    if sources and training.checkpoint_s is None:
        given = "--node-mtbf-h" if training.node_mtbf_h is not None else "--preemptions-per-h"
        raise EstimatorError(f"{given}: needs --checkpoint-s (seconds to write one checkpoint)")
    if training.restart_s is not None and training.checkpoint_s is None:
        raise EstimatorError("--restart-s: needs --checkpoint-s and --node-mtbf-h or --preemptions-per-h")


def finish_run(run: RunInfo, training: TrainingConfig, system: SystemSpec) -> RunInfo:
    """The run with facility energy, CO2e and (with an interruption source) failures added.

    Energy: facility = IT energy × PUE (default 1.10, hyperscale); CO2e = facility energy ×
    grid intensity (default 481 g/kWh, world 2023) (Patterson et al. 2021; estimator.energy).
    Energy is that of the failure-free time.

    Failures: MTBI of the job M = 1 / (nodes / node_MTBF + preemptions per hour / 3600 s)
    (Poisson superposition); checkpoints every τ = Daly's optimum (Daly 2006, eq. 37); the
    expected wall time is Daly's complete model; restart_s defaults to checkpoint_s
    (ASSUMPTION: a restart is dominated by reading the checkpoint back). Dollars with failures
    hold the whole cluster for the whole wall time.
    """
    pue = training.pue if training.pue is not None else energy.PUE_HYPERSCALE
    grid = (training.grid_gco2_per_kwh if training.grid_gco2_per_kwh is not None
            else energy.GRID_INTENSITY_WORLD_G_PER_KWH)
    facility = run.energy_kwh * pue
    update: dict[str, Any] = {
        "pue": pue,
        "facility_energy_kwh": facility,
        "grid_gco2_per_kwh": grid,
        # energy.co2_kg's formula, kg = kWh × g/kWh / 1000, without its 1e15 kWh typo bound: a
        # run inside --tokens' range may exceed it, and both factors are already validated.
        "co2_kg": facility * grid / 1000.0,
    }
    if training.checkpoint_s is not None:
        sources = []
        if training.node_mtbf_h is not None:
            sources.append(reliability.cluster_mtbi_s(training.node_mtbf_h * 3600.0, system.nodes))
        if training.preemptions_per_h is not None:
            sources.append(reliability.preemption_mtbi_s(training.preemptions_per_h))
        mtbi = reliability.combined_mtbi_s(*sources)
        restart = training.restart_s if training.restart_s is not None else training.checkpoint_s
        try:
            plan = reliability.plan_checkpoints(run.time_s, training.checkpoint_s, restart, mtbi)
        except EstimatorError as exc:
            raise EstimatorError(f"--checkpoint-s {training.checkpoint_s:g}: {exc}") from None
        stretch = plan.wall_time_s / run.time_s
        cost = run.cost_usd
        update.update(
            reliability=ReliabilityInfo(
                mtbi_s=plan.mtbi_s, checkpoint_s=training.checkpoint_s, restart_s=restart,
                interval_s=plan.interval_s, checkpoints=plan.checkpoints,
                expected_interruptions=plan.expected_interruptions,
                checkpointing_s=plan.checkpointing_s, interruptions_s=plan.interruptions_s,
            ),
            wall_time_with_failures_s=plan.wall_time_s,
            goodput=plan.goodput,
            cost_with_failures_usd=CostInfo(
                on_demand=None if cost.on_demand is None else cost.on_demand * stretch,
                spot=None if cost.spot is None else cost.spot * stretch,
            ),
        )
    return run.model_copy(update=update)
