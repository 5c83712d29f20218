"""Training schedules: a run as a list of phases, each with its own batch, image size or length.

A `schedule:` list in a model file describes, in order, the phases of one run:

* multi-phase pre-training: BERT trains at sequence length 128 for 90% of its steps and at 512
  for the remaining 10% (Devlin et al. 2019, §A.2), i.e. two phases with `fraction` 0.9 / 0.1;
* progressive resizing: image size by epoch range, as in fast.ai's DAWNBench ImageNet runs
  (Howard 2018, "Now anyone can train Imagenet in 18 minutes"), e.g.
  `{epochs: 15, image_size: 128}` then `{epochs: 15, image_size: 224}`;
* batch-size ramps: GPT-3 raised its batch linearly from 32k tokens to the full batch over the
  first 4–12 B tokens (Brown et al. 2020, Appendix B); `linear_batch_ramp` writes such a ramp
  as equal-data phases.

Each phase names its share of the data in exactly one of `fraction` (of the run's total),
`epochs`, `samples` or `tokens`, and may override `image_size`, `seq_len`, `mean_seq_len` (the
tokens a step computes per sample when batches are padded only to their longest sample; a phase
that sets its own `seq_len` computes it in full unless it says otherwise) and `global_batch`.
`run_schedule` turns the phases into steps (DESIGN §9: steps = ceil(samples / global_batch))
and, with a caller-supplied step-time function, into time and cost; the totals are the sums of
the phases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from estimator.checks import bound, integer
from estimator.errors import EstimatorError
from estimator.specs.training import MAX_BATCH, MAX_DATA

MAX_IMAGE_SIZE = 1 << 16
MAX_SEQ_LEN = 1 << 24
# Fractions of a run must sum to 1 within this tolerance (decimal inputs such as 0.1 + 0.9).
FRACTION_TOLERANCE = 1e-6

Amount = Annotated[float, Field(gt=0, le=MAX_DATA, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
ImageSize = Annotated[int, Field(ge=1, le=MAX_IMAGE_SIZE)]
SeqLen = Annotated[int, Field(ge=1, le=MAX_SEQ_LEN)]
GlobalBatch = Annotated[int, Field(ge=1, le=MAX_BATCH)]

_AMOUNT_KEYS = ("fraction", "epochs", "samples", "tokens")


class SchedulePhase(BaseModel):
    """One phase of a run: how much data, and what it overrides.

    Exactly one of `fraction`, `epochs`, `samples`, `tokens` gives the phase's data.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    fraction: Fraction | None = None
    epochs: Amount | None = None
    samples: Amount | None = None
    tokens: Amount | None = None
    image_size: ImageSize | None = None
    seq_len: SeqLen | None = None
    mean_seq_len: SeqLen | None = None
    global_batch: GlobalBatch | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> "SchedulePhase":
        given = [key for key in _AMOUNT_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(
                f"give exactly one of fraction, epochs, samples or tokens (found {found})"
            )
        return self


class PhaseSettings(BaseModel):
    """The settings a phase runs with: the run's base values with the phase's overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    global_batch: int
    seq_len: int | None
    image_size: int | None
    mean_seq_len: int | None = None  # tokens computed per sample; None: seq_len

    @property
    def tokens_per_sample(self) -> int | None:
        """Tokens a step computes per sample: the mean length if given, else seq_len."""
        return self.mean_seq_len or self.seq_len


def phase_settings(phase: SchedulePhase, global_batch: int, seq_len: int | None,
                   image_size: int | None, mean_seq_len: int | None = None) -> PhaseSettings:
    """A phase's settings: its overrides over the run's base values. The base mean length
    belongs to the base seq_len: a phase with its own seq_len computes it in full unless it
    gives its own mean_seq_len."""
    mean = phase.mean_seq_len if phase.mean_seq_len is not None else (
        mean_seq_len if phase.seq_len is None else None)
    return PhaseSettings(global_batch=phase.global_batch or global_batch,
                         seq_len=phase.seq_len or seq_len,
                         image_size=phase.image_size or image_size,
                         mean_seq_len=mean)


class PhaseResult(BaseModel):
    """Steps, time and cost of one phase."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    settings: PhaseSettings
    samples: float
    tokens: float | None
    steps: int
    step_time_s: float
    time_s: float
    cost_usd: float | None


class ScheduleResult(BaseModel):
    """Per-phase results and their sums."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phases: tuple[PhaseResult, ...]
    total_samples: float
    total_steps: int
    total_time_s: float
    total_cost_usd: float | None


def parse_schedule(data: object, source: str = "schedule") -> tuple[SchedulePhase, ...]:
    """Validates a `schedule:` list (from YAML) into phases.

    Args:
        data: A list of mappings, one per phase.
        source: Where the list came from, for messages (e.g. "bert.yaml: schedule").

    Raises:
        EstimatorError: naming `source`, the phase index and the key.
    """
    if not isinstance(data, list) or not data:
        raise EstimatorError(f"{source}: expected a non-empty list of phases")
    phases = []
    for index, item in enumerate(data):
        try:
            phases.append(SchedulePhase.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            key = f"[{index}].{where}" if where else f"[{index}]"
            message = error["msg"].removeprefix("Value error, ")
            raise EstimatorError(f"{source}{key}: {message}") from None
    return tuple(phases)


def _check_positive(name: str, value: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EstimatorError(f"{name} must be a number in (0, {bound(high)}], got {value!r}")
    if not math.isfinite(value) or not 0 < value <= high:
        raise EstimatorError(f"{name} must be a number in (0, {bound(high)}], got {value!r}")
    return float(value)


def _need(phase: str, value: float | None, what: str) -> float:
    """`value`, or an EstimatorError saying what phase `phase` is missing."""
    if value is None:
        raise EstimatorError(f"schedule {phase!r}: {what}")
    return value


def _ceil_steps(samples: float, batch: int) -> int:
    """ceil(samples / batch), ignoring float noise of one part in 10^9 (0.9 × 10^6 / 256)."""
    quotient = samples / batch
    nearest = round(quotient)
    if nearest >= 1 and abs(quotient - nearest) <= 1e-9 * nearest:
        return int(nearest)
    return max(1, math.ceil(quotient))


def run_schedule(
    phases: Sequence[SchedulePhase],
    phase_step_time: Callable[[PhaseSettings], float],
    *,
    global_batch: int,
    seq_len: int | None = None,
    image_size: int | None = None,
    mean_seq_len: int | None = None,
    dataset_samples: float | None = None,
    total_samples: float | None = None,
    total_tokens: float | None = None,
    total_epochs: float | None = None,
    price_per_hour_usd: float | None = None,
) -> ScheduleResult:
    """Steps, time and cost of each phase, and their sums.

    A phase's samples: `samples`; `epochs` × dataset_samples; `tokens` / its tokens per sample
    (mean_seq_len, else seq_len); or `fraction` × the run's total (total_samples, total_tokens /
    the phase's tokens per sample, or total_epochs ×
    dataset_samples). Steps = ceil(samples / global_batch) (DESIGN §9); time = steps ×
    phase_step_time(settings); cost = time × price_per_hour_usd / 3600.

    Args:
        phases: The phases in order (`parse_schedule`).
        phase_step_time: Seconds per optimizer step for a phase's settings; must return a
            finite number in (0, 1e9].
        global_batch: The run's base global batch, samples, in [1, 2^30].
        seq_len: Base sequence length, tokens per sample, in [1, 2^24] (needed for tokens).
        image_size: Base image side, pixels, in [1, 65536].
        mean_seq_len: Base tokens computed per sample (`phase_settings`), in [1, seq_len].
        dataset_samples: Samples in one epoch, in (0, 1e21] (needed for epochs).
        total_samples: The run's total samples when phases use `fraction`, in (0, 1e21].
        total_tokens: The run's total tokens when phases use `fraction`, in (0, 1e21].
        total_epochs: The run's total epochs when phases use `fraction`, in (0, 1e21].
        price_per_hour_usd: Dollars per hour for the whole cluster, in [0, 1e9]; None: no cost.

    Raises:
        EstimatorError: a missing base value, fractions that do not add up, a bad step time.
    """
    if not phases:
        raise EstimatorError("schedule must have at least one phase")
    base_batch = integer("global_batch", global_batch, 1, MAX_BATCH)
    base_seq = None if seq_len is None else integer("seq_len", seq_len, 1, MAX_SEQ_LEN)
    base_image = (
        None if image_size is None else integer("image_size", image_size, 1, MAX_IMAGE_SIZE)
    )
    base_mean = None if mean_seq_len is None else integer("mean_seq_len", mean_seq_len, 1, base_seq or 0)
    epoch_samples = (
        None
        if dataset_samples is None
        else _check_positive("dataset_samples", dataset_samples, MAX_DATA)
    )
    totals = {
        key: None if value is None else _check_positive(key, value, MAX_DATA)
        for key, value in (
            ("total_samples", total_samples),
            ("total_tokens", total_tokens),
            ("total_epochs", total_epochs),
        )
    }
    if price_per_hour_usd is not None and (
        isinstance(price_per_hour_usd, bool)
        or not isinstance(price_per_hour_usd, (int, float))
        or not math.isfinite(price_per_hour_usd)
        or not 0 <= price_per_hour_usd <= 1e9
    ):
        raise EstimatorError(
            f"price_per_hour_usd must be a number in [0, 1e9], got {price_per_hour_usd!r}"
        )
    given_totals = [key for key, value in totals.items() if value is not None]
    if len(given_totals) > 1:
        raise EstimatorError(
            f"give at most one of {', '.join(totals)}, got {', '.join(given_totals)}"
        )

    fractions = [phase.fraction for phase in phases if phase.fraction is not None]
    if fractions:
        if not given_totals:
            raise EstimatorError(
                "phases with a fraction need the run's total: give total_samples, total_tokens "
                "or total_epochs"
            )
        fraction_sum = math.fsum(fractions)
        if fraction_sum > 1 + FRACTION_TOLERANCE:
            raise EstimatorError(f"schedule fractions must sum to at most 1, got {fraction_sum:g}")
        if len(fractions) == len(phases) and fraction_sum < 1 - FRACTION_TOLERANCE:
            raise EstimatorError(
                "schedule fractions must sum to 1 when every phase is a fraction, "
                f"got {fraction_sum:g}"
            )

    results: list[PhaseResult] = []
    for index, phase in enumerate(phases):
        name = phase.name or f"phase {index + 1}"
        settings = phase_settings(phase, base_batch, base_seq, base_image, base_mean)

        if phase.samples is not None:
            samples = phase.samples
        elif phase.epochs is not None:
            samples = phase.epochs * _need(name, epoch_samples, "epochs need dataset_samples")
        elif phase.tokens is not None:
            samples = phase.tokens / _need(name, settings.tokens_per_sample, "tokens need a seq_len")
        else:
            fraction = _need(name, phase.fraction, "no data amount")
            if totals["total_samples"] is not None:
                samples = fraction * totals["total_samples"]
            elif totals["total_tokens"] is not None:
                seq = _need(name, settings.tokens_per_sample, "a fraction of total_tokens needs a seq_len")
                samples = fraction * totals["total_tokens"] / seq
            else:
                epochs = _need(name, totals["total_epochs"], "a fraction needs the run's total")
                per_epoch = _need(name, epoch_samples, "epochs need dataset_samples")
                samples = fraction * epochs * per_epoch

        steps = _ceil_steps(samples, settings.global_batch)
        step_time = phase_step_time(settings)
        if (
            isinstance(step_time, bool)
            or not isinstance(step_time, (int, float))
            or not math.isfinite(step_time)
            or not 0 < step_time <= 1e9
        ):
            raise EstimatorError(
                f"schedule {name!r}: step time must be a number in (0, 1e9] seconds, "
                f"got {step_time!r}"
            )
        time_s = steps * float(step_time)
        results.append(
            PhaseResult(
                name=name,
                settings=settings,
                samples=samples,
                tokens=samples * settings.seq_len if settings.seq_len is not None else None,
                steps=steps,
                step_time_s=float(step_time),
                time_s=time_s,
                cost_usd=None if price_per_hour_usd is None else time_s * price_per_hour_usd / 3600,
            )
        )

    costs = [result.cost_usd for result in results]
    return ScheduleResult(
        phases=tuple(results),
        total_samples=math.fsum(result.samples for result in results),
        total_steps=sum(result.steps for result in results),
        total_time_s=math.fsum(result.time_s for result in results),
        total_cost_usd=None if price_per_hour_usd is None else math.fsum(c or 0.0 for c in costs),
    )


def linear_batch_ramp(
    start_batch: int,
    end_batch: int,
    increments: int,
    *,
    samples: float | None = None,
    tokens: float | None = None,
    name: str = "batch ramp",
) -> tuple[SchedulePhase, ...]:
    """A linear batch-size ramp written as `increments` phases of equal data.

    Phase k (0-based) runs at round(start + (end − start)·(k + ½)/increments), the ramp's batch
    at the middle of its share of the data. GPT-3 ramped from 32k tokens to the full batch over
    the first 4–12 B tokens (Brown et al. 2020, Appendix B).

    Args:
        start_batch: Batch at the start of the ramp, samples, in [1, 2^30].
        end_batch: Batch at the end of the ramp, samples, in [1, 2^30].
        increments: Number of phases, in [1, 10^4].
        samples: Samples the ramp covers, in (0, 1e21]; or
        tokens: tokens the ramp covers, in (0, 1e21] (exactly one of the two).
        name: Prefix of the phase names.
    """
    start = integer("start_batch", start_batch, 1, MAX_BATCH)
    end = integer("end_batch", end_batch, 1, MAX_BATCH)
    count = integer("increments", increments, 1, 10_000)
    if samples is not None and tokens is None:
        amount_key, amount = "samples", _check_positive("samples", samples, MAX_DATA)
    elif tokens is not None and samples is None:
        amount_key, amount = "tokens", _check_positive("tokens", tokens, MAX_DATA)
    else:
        raise EstimatorError("give exactly one of samples or tokens for the ramp")
    phases = []
    for k in range(count):
        batch = max(1, round(start + (end - start) * (k + 0.5) / count))
        phases.append(
            SchedulePhase.model_validate(
                {
                    "name": f"{name} {k + 1}/{count}",
                    amount_key: amount / count,
                    "global_batch": batch,
                }
            )
        )
    return tuple(phases)
