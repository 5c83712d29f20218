"""Typed results of an estimate: what the CLI renders and `--json` prints (contract §4).

Every field is in SI units with the unit in its name. `Estimate.to_json()` gives the contract's
keys (and more); the same object is what `estimator.estimate(...)` returns to planners.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelInfo(_Result):
    """The model as estimated."""

    name: str
    family: str
    params: float  # trainable parameters
    flops_per_sample: float  # forward + backward model FLOPs of one sample, no recompute
    # Tokens a step computes per sample: the sequence length, or --mean-seq-len when given
    # (the model's flops_per_sample and tokens_per_s count the same); None for images.
    tokens_per_sample: int | None


class HardwareInfo(_Result):
    """The system the estimate ran on."""

    system: str
    device: str
    devices_per_node: int
    nodes: int
    peak_TFLOPS: float  # dense peak per device at the precision used
    memory_GiB: float


class ConfigInfo(_Result):
    """The training configuration after defaults and derivations."""

    devices: int
    nodes: int
    tp: int
    pp: int
    dp: int
    cp: int
    vp: int
    ep: int
    zero: int
    sequence_parallel: bool
    micro_batch: int
    global_batch: int
    grad_accum: int
    precision: str  # the precision actually used (after any fallback)
    requested_precision: str
    optimizer: str
    recompute: str
    attention: str = "fused"  # the attention kernel
    offload: str = "none"
    cuda_graphs: bool = False
    autocast: bool = False
    low_precision_norm: bool = False  # norms in the compute precision under autocast
    fuse_bn_relu: bool = False
    foreach_optimizer: bool = False
    loop_optimizer: bool = False  # the optimizer steps each tensor in a Python loop
    mean_seq_len: int | None = None  # tokens computed per sample on average (None: seq_len)
    fsdp: bool = False  # ZeRO-3 gathers per layer, as PyTorch FSDP
    fused_loss: bool = False  # a fused softmax-cross-entropy kernel
    blocking_gathers: bool = False  # ZeRO-3 gathers stall compute (DeepSpeed ZeRO-3 of 2021)
    tp_overlap: bool = False  # tensor-parallel collectives pipelined with their GEMMs


class MemoryInfo(_Result):
    """Memory per device on the worst pipeline stage (DESIGN §6)."""

    per_device_bytes: float
    capacity_bytes: float
    fits: bool
    weights_bytes: float
    gradients_bytes: float
    optimizer_bytes: float
    activations_bytes: float
    other_bytes: float  # runtime context + allocator fragmentation
    runtime_context_bytes: float
    fragmentation_bytes: float
    params_per_device: float
    worst_stage: int
    stage_imbalance: float  # largest / smallest stage memory


class CostInfo(_Result):
    """Dollars for the whole run; None where the system has no such price."""

    on_demand: float | None
    spot: float | None


class PhaseInfo(_Result):
    """One phase of a scheduled run (estimator.campaign), re-estimated with its overrides."""

    name: str
    image_size: int | None
    seq_len: int | None
    mean_seq_len: int | None = None  # tokens computed per sample (None: seq_len)
    global_batch: int
    micro_batch: int
    fits: bool
    samples: float
    steps: int
    step_time_s: float
    time_s: float
    device_hours: float
    energy_kwh: float
    cost_usd: CostInfo


class ReliabilityInfo(_Result):
    """Checkpointing and interruptions (estimator.reliability: Young 1974, Daly 2006).

    wall_time_with_failures_s = time_s + checkpointing_s + interruptions_s of the run.
    """

    mtbi_s: float  # mean time between interruptions of the whole job
    checkpoint_s: float
    restart_s: float
    interval_s: float  # Daly's optimal seconds of work between checkpoints
    checkpoints: float
    expected_interruptions: float
    checkpointing_s: float
    interruptions_s: float


class RunInfo(_Result):
    """The whole run for the data size given (DESIGN §9); a scheduled run sums its `phases`."""

    samples: float
    steps: int
    time_s: float
    device_hours: float
    energy_kwh: float  # devices × TDP × time (IT energy of the accelerators)
    cost_usd: CostInfo
    phases: list[PhaseInfo] | None = None
    pue: float | None = None
    facility_energy_kwh: float | None = None  # energy_kwh × PUE
    grid_gco2_per_kwh: float | None = None
    co2_kg: float | None = None  # facility energy × grid intensity (Patterson et al. 2021)
    reliability: ReliabilityInfo | None = None
    wall_time_with_failures_s: float | None = None
    goodput: float | None = None  # time_s / wall_time_with_failures_s
    cost_with_failures_usd: CostInfo | None = None


class OpShare(_Result):
    """One operator's share of the step on the slowest stage."""

    name: str
    time_s: float  # forward + backward per step, all its instances
    share: float  # of the operator total
    bound: str  # "compute" or "memory"


class Estimate(_Result):
    """Time, throughput, memory and cost of training a model on a system (contract §4)."""

    model: ModelInfo
    hardware: HardwareInfo
    config: ConfigInfo
    step_time_s: float
    breakdown_s: dict[str, float]
    communication_s: dict[str, float]
    samples_per_s: float
    tokens_per_s: float | None
    tflops_per_device: float
    mfu: float
    memory: MemoryInfo
    max_micro_batch: int
    critical_batch: float | None
    run: RunInfo | None
    top_ops: list[OpShare]
    warnings: list[str]

    def to_json(self) -> str:
        """The estimate as one JSON object with sorted keys (byte-identical for equal input)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2, allow_nan=False)
