"""Training configuration: precision, optimizer, batch, parallelism, recomputation, data size.

The same names serve the CLI options, a model file's `training:` section and the keyword
arguments of `estimator.estimate`; options override the file. Cross-field rules that need the
hardware (tp·pp·cp dividing the devices, batch divisibility) live in `estimator.estimate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Bounds that keep arithmetic finite and catch typos; 10^18 tokens is ~10^5 × today's largest runs.
MAX_DEVICES = 1 << 24
MAX_BATCH = 1 << 30
MAX_DATA = 1e21


class Precision(str, Enum):
    """Compute precision; fp16/bf16/fp8 mean mixed precision with fp32 master weights."""

    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"


class Optimizer(str, Enum):
    """Optimizers with their state per parameter (DESIGN §6)."""

    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"
    ADAMW = "adamw"
    ADAFACTOR = "adafactor"
    LAMB = "lamb"


class Recompute(str, Enum):
    """Activation recomputation (Korthikanti et al. 2022)."""

    NONE = "none"
    SELECTIVE = "selective"
    FULL = "full"


class AttentionKernel(str, Enum):
    """Attention implementation: fused (FlashAttention-2, Dao 2023: PyTorch SDPA's flash backend,
    flash-attn 2, xformers), triton (the FlashAttention algorithm written in Triton, flash-attn's
    flash_attn_triton.py as MosaicML's MPT ran it in 2023: a fused kernel slower than
    FlashAttention-2 by the software stack's measured factor), cudnn (cuDNN's fused attention, as Transformer Engine and NeMo run
    it; FlashAttention-3-class on Hopper), unfused (separate QK^T, softmax, dropout and PV
    kernels that materialise the score matrix; the scale and mask inside the softmax kernel, as
    Megatron-LM's fused softmax or a fuser does) or eager (the same written as plain framework
    code, Hugging Face's eager BERT or NVIDIA's modeling.py without a fuser: the scale and the
    mask add are kernels of their own and Q, K, V and the context are copied to and from the
    heads-first layout; DESIGN §2.3)."""

    FUSED = "fused"
    TRITON = "triton"
    CUDNN = "cudnn"
    UNFUSED = "unfused"
    EAGER = "eager"

    @property
    def native(self) -> str:
        """The core's kernel: cuDNN's and Triton's attention are fused kernels with their own
        efficiencies."""
        return "fused" if self in (AttentionKernel.CUDNN, AttentionKernel.TRITON) else self.value


class Offload(str, Enum):
    """What lives in host memory (ZeRO-Offload, Ren et al. 2021): nothing, or the optimizer
    state with the fp32 master weights and the optimizer step."""

    NONE = "none"
    OPTIMIZER = "optimizer"


# Ways of running ZeRO-3, each with why it needs zero 3: given without `zero`, they set it.
_ZERO3_WAYS = {"fsdp": "FSDP shards the parameters (zero 3)",
               "blocking_gathers": "only sharded parameters (zero 3) are gathered"}


def _implies_zero_3(values: Mapping[str, Any]) -> bool:
    return any(values.get(name) for name in _ZERO3_WAYS)


PositiveDegree = Annotated[int, Field(ge=1, le=MAX_DEVICES)]
DataAmount = Annotated[float, Field(gt=0, le=MAX_DATA, allow_inf_nan=False)]


class TrainingConfig(BaseModel):
    """Everything about how a model is trained, independent of the hardware.

    `None` means "derive it": dp from the device count, micro_batch from the global batch
    (or the largest that fits when `"auto"`), global_batch from the model's default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    precision: Precision = Precision.BF16
    optimizer: Optimizer = Optimizer.ADAM
    global_batch: Annotated[int, Field(ge=1, le=MAX_BATCH)] | None = None
    micro_batch: Annotated[int, Field(ge=1, le=MAX_BATCH)] | Literal["auto"] | None = None
    tp: PositiveDegree = 1
    pp: PositiveDegree = 1
    dp: PositiveDegree | None = None
    cp: PositiveDegree = 1
    vp: PositiveDegree = 1
    ep: PositiveDegree = 1
    sequence_parallel: bool = False
    zero: Annotated[int, Field(ge=0, le=3)] = 0
    # ZeRO-3 as PyTorch FSDP wraps a model: one flat parameter per layer, gathered and reduced
    # by one collective per layer rather than one per parameterised operator (DeepSpeed ZeRO-3).
    # Given without `zero`, it sets zero 3 (DESIGN §7).
    fsdp: bool = False
    # ZeRO-3's parameter all-gathers stall the compute stream rather than being prefetched behind
    # it, as in DeepSpeed's ZeRO-3 before its late-2021 rewrite (DESIGN §7). Given without
    # `zero`, it sets zero 3.
    blocking_gathers: bool = False
    # Tensor-parallel collectives pipelined with their GEMMs (Transformer Engine's userbuffers
    # overlap, NeMo's MegatronCommOverlapCallback): DESIGN §7. No effect without tp > 1.
    tp_overlap: bool = False
    recompute: Recompute = Recompute.NONE
    attention: AttentionKernel = AttentionKernel.FUSED
    offload: Offload = Offload.NONE
    # The step is captured and replayed as a CUDA graph (torch.compile's reduce-overhead mode,
    # NVIDIA's MLPerf code): the host no longer issues each kernel (DESIGN §7).
    cuda_graphs: bool = False
    # torch.autocast over fp32 weights (plain PyTorch AMP): the residual stream and its norms stay
    # fp32, weights and stream inputs are cast per use (DESIGN §2.9). Off: the weights are held
    # in the compute precision (Megatron-LM, NeMo, DeepSpeed, FSDP mixed precision).
    autocast: bool = False
    # Under autocast, the stream's norms cast their fp32 input down and normalise in the compute
    # precision (llm-foundry's low_precision_layernorm), so the matmuls after them cast nothing
    # (DESIGN §2.9). Only with autocast.
    low_precision_norm: bool = False
    # cuDNN's fused BatchNorm(+add)+ReLU kernels, as NVIDIA's MLPerf ResNet-50 runs (DESIGN §2.5).
    fuse_bn_relu: bool = False
    # PyTorch's default multi-tensor ("foreach") optimizer step rather than a fused kernel
    # (apex/DeepSpeed FusedAdam, torch's fused=True) (DESIGN §7).
    foreach_optimizer: bool = False
    # The optimizer steps each parameter tensor in a Python loop, a kernel per operation issued
    # by the host: PyTorch 1.x's default optimizers (foreach=False), Hugging Face's AdamW of
    # transformers 4.x, pytorch-pretrained-bert's and NVIDIA's BertAdam (DESIGN §7).
    loop_optimizer: bool = False
    # A fused softmax-cross-entropy kernel (flash-attn's/apex's xentropy, Megatron-core's and
    # Transformer Engine's fused cross-entropy) instead of PyTorch's fp32 log_softmax + nll_loss:
    # no fp32 copy of the logits, far less memory at large vocabularies (DESIGN §2.8).
    fused_loss: bool = False
    # Mean tokens computed per sample when batches are padded only to their own longest sample
    # (length bucketing/binning, dynamic padding, unpadded kernels): step time and FLOPs use it,
    # memory keeps seq_len, since the longest batch must still fit (DESIGN §2.10).
    mean_seq_len: Annotated[int, Field(ge=1, le=1 << 24)] | None = None
    tokens: DataAmount | None = None
    samples: DataAmount | None = None
    epochs: DataAmount | None = None
    spot: bool = False
    # The statistical batch ceiling (McCandlish et al. 2018): B_noise in samples, or a task of
    # `estimator.batch_scaling.MEASURED_NOISE_SCALES` whose measured critical batch to use.
    noise_scale: Annotated[float, Field(gt=0, le=1e15, allow_inf_nan=False)] | None = None
    noise_task: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    # Phases of the run (`estimator.schedule.SchedulePhase`): data share and overrides of
    # image_size, seq_len and global_batch; the run's totals sum the phases (estimator.campaign).
    schedule: tuple[Any, ...] | None = None
    # Interruptions and checkpointing (estimator.reliability, Young 1974 / Daly 2006).
    checkpoint_s: Annotated[float, Field(gt=0, le=1e7, allow_inf_nan=False)] | None = None
    restart_s: Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)] | None = None
    node_mtbf_h: Annotated[float, Field(gt=0, le=1e8, allow_inf_nan=False)] | None = None
    preemptions_per_h: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] | None = None
    # Facility energy and CO2e (estimator.energy, Patterson et al. 2021).
    pue: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)] | None = None
    grid_gco2_per_kwh: Annotated[float, Field(ge=0, le=2000, allow_inf_nan=False)] | None = None
    # Input pipeline as a ceiling (estimator.simulation.input_pipeline_bound): CPU cores per node
    # preparing samples, and the samples per second one core prepares.
    input_cores_per_node: Annotated[int, Field(ge=1, le=1 << 20)] | None = None
    input_samples_per_s_per_core: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)] | None = None

    @field_validator("micro_batch", mode="before")
    @classmethod
    def _auto_micro_batch(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _phases(cls, value: object) -> object:
        if value is None:
            return None
        from estimator.schedule import SchedulePhase  # imports this module: not at the top

        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError("expected a non-empty list of phases such as [{fraction: 0.5, image_size: 128}, ...]")
        phases = []
        for number, item in enumerate(value, 1):
            try:
                phases.append(SchedulePhase.model_validate(item))
            except ValidationError as exc:
                error = exc.errors(include_url=False)[0]
                key = ".".join(str(part) for part in error["loc"])
                if error["type"] == "extra_forbidden":
                    problem = f"unknown key (valid: {', '.join(SchedulePhase.model_fields)})"
                else:
                    problem = error["msg"].removeprefix("Value error, ")
                raise ValueError(f"phase {number}: {key + ': ' if key else ''}{problem}") from None
        return tuple(phases)

    @model_validator(mode="before")
    @classmethod
    def _sharding_options_imply_zero_3(cls, data: Any) -> Any:
        """A ZeRO-3 way of running given without `zero` (a model file's `training:` section, a
        keyword argument) sets zero 3."""
        if isinstance(data, dict) and "zero" not in data and _implies_zero_3(data):
            return {**data, "zero": 3}
        return data

    @field_validator(*_ZERO3_WAYS)
    @classmethod
    def _needs_sharded_parameters(cls, value: bool, info: Any) -> bool:
        zero = info.data.get("zero")
        if value and zero is not None and zero != 3:
            raise ValueError(f"{_ZERO3_WAYS[info.field_name]}, not zero {zero}")
        return value

    @field_validator("loop_optimizer")
    @classmethod
    def _one_optimizer_implementation(cls, value: bool, info: Any) -> bool:
        if value and info.data.get("foreach_optimizer"):
            raise ValueError("a Python loop over the tensors is not also the multi-tensor (foreach) step; "
                             "choose one")
        return value

    @field_validator("low_precision_norm")
    @classmethod
    def _low_precision_norm_needs_autocast(cls, value: bool, info: Any) -> bool:
        if value and not info.data.get("autocast"):
            raise ValueError("only under --autocast: without it the norms already run in the compute precision")
        return value

    def merged(self, **overrides: object) -> "TrainingConfig":
        """A copy with the given fields replaced (None values are ignored), validated again; a
        ZeRO-3 way of running given without `zero` sets zero 3."""
        given = {key: value for key, value in overrides.items() if value is not None}
        data = {**self.model_dump(), **given}
        if "zero" not in given and _implies_zero_3(given):
            del data["zero"]  # the validator derives it
        return TrainingConfig.model_validate(data)
