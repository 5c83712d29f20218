"""Composes an estimate: specs → operator graph → native core → `Estimate`.

`estimate()` is the one entry point the CLI and planners call. It resolves the model and the
hardware, merges the training configuration (defaults ← the model file's `training:` ← the
caller's options), checks the parallel layout against the cluster and the model, runs the
compiled core (`estimator._core`) and turns its structs into an `Estimate`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from estimator import _core, campaign
from estimator.errors import EstimatorError
from estimator.graph import Graph, Operator, OpKind
from estimator.lowering import lower
from estimator.results import (
    ConfigInfo,
    CostInfo,
    Estimate,
    HardwareInfo,
    MemoryInfo,
    ModelInfo,
    OpShare,
    RunInfo,
)
from estimator.simulation import input_pipeline_bound
from estimator.specs.hardware import DeviceSpec, SystemSpec, load_hardware, load_stack
from estimator.specs.model import FAMILIES, ModelSpec, load_model, model_from_mapping, respecified
from estimator.specs.training import AttentionKernel, Precision, TrainingConfig

GiB = 1 << 30
TOP_OPS = 8  # operators listed in the breakdown
# ConfigInfo fields that repeat a training option under its own name.
_ECHOED_OPTIONS = {"zero", "sequence_parallel", "optimizer", "recompute", "attention", "offload",
                   "cuda_graphs", "autocast", "fuse_bn_relu", "foreach_optimizer", "loop_optimizer",
                   "mean_seq_len", "fsdp", "fused_loss", "blocking_gathers", "low_precision_norm",
                   "tp_overlap"}
OPERAND_BYTES = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 1}  # GEMM inputs (DESIGN §3)


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def training_config(model: ModelSpec, **options: Any) -> TrainingConfig:
    """Defaults ← the model file's `training:` section ← `options` (None means not given)."""
    base = TrainingConfig()
    section = getattr(model, "training", None)
    if section is not None:
        base = base.merged(**{key: getattr(section, key) for key in section.model_fields_set})
    try:
        return base.merged(**options)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "training"
        if error["type"] == "extra_forbidden":
            valid = ", ".join(_option(name) for name in TrainingConfig.model_fields)
            raise EstimatorError(f"unknown training option '{key}' (valid: {valid})") from None
        raise EstimatorError(f"{_option(key)}: {error['msg'].removeprefix('Value error, ')}") from None


# What the library takes as a model: a spec, a preset name, a model file (YAML or a Hugging Face
# config.json), or a mapping written as a model file's contents.
ModelLike = ModelSpec | str | Path | Mapping[str, Any]


def resolve_model(model: ModelLike) -> ModelSpec:
    """A spec as given, loaded from a preset name or file, or validated from a mapping written
    as a model file's contents (`{"preset": "bert-large", "seq_len": 384}`)."""
    if isinstance(model, (str, Path)):
        return load_model(model)
    if isinstance(model, Mapping):
        return model_from_mapping(model, "model mapping")
    if not isinstance(model, tuple(FAMILIES.values())):
        raise EstimatorError(f"model: {type(model).__name__} is not a model (valid: a preset name, a path, "
                             "a mapping or a spec from load_model)")
    return model


def resolve_hardware(hardware: SystemSpec | str | Path, nodes: int | None = None) -> SystemSpec:
    """A system as given (with `nodes` applied), or loaded by name, shorthand or path."""
    if isinstance(hardware, SystemSpec):
        return hardware if nodes is None else hardware.with_nodes(nodes)
    return load_hardware(hardware, nodes=nodes)


def computed_length_spec(spec: ModelSpec, training: TrainingConfig) -> ModelSpec:
    """The model at `--mean-seq-len`, the tokens a step computes per sample on average, when
    batches are padded only to their own longest sample (DESIGN §2.10); `spec` itself otherwise.
    Only the time is taken from it: memory stays at seq_len, the longest batch has to fit."""
    mean = training.mean_seq_len
    if mean is None:
        return spec
    name = getattr(spec, "name", None) or spec.family
    if spec.family != "transformer":
        raise EstimatorError(f"--mean-seq-len: only for transformer models, not {name} ({spec.family})")
    longest = spec.seq_len
    if mean > longest:
        raise EstimatorError(f"--mean-seq-len {mean}: longer than the seq_len {longest} of {name}")
    if mean == longest:
        return spec
    changes = {"seq_len": mean}
    if getattr(spec, "decoder_seq_len", None) is not None:  # an encoder-decoder's target pads alike
        changes["decoder_seq_len"] = max(1, round(spec.decoder_seq_len * mean / longest))
    return respecified(spec, "--mean-seq-len", **changes)


def _lowered(model: ModelSpec) -> tuple[Graph, Any]:
    """The model's operator graph and its native copy, lowered once per distinct spec."""
    return _lowered_cached(type(model), model.model_dump_json())


def lowered_timed(spec: ModelSpec, training: TrainingConfig) -> tuple[Graph, Any, Graph, Any]:
    """The graph and native graph that size memory (at seq_len), then the graph that times the
    step and its native copy: the same objects without `--mean-seq-len` (DESIGN §2.10)."""
    return (*_lowered(spec), *_lowered(computed_length_spec(spec, training)))


@lru_cache(maxsize=64)
def _lowered_cached(kind: type, dumped: str) -> tuple[Graph, Any]:
    graph = lower(kind.model_validate_json(dumped))
    return graph, _native_graph(graph)


# Every Operator field the core takes as is (the enums are mapped by name).
_PLAIN_OP_FIELDS = tuple(f.name for f in dataclasses.fields(Operator) if f.name not in ("kind", "tp"))


def native_op(op: Operator) -> Any:
    """The core's copy of one operator."""
    native = _core.Op()
    native.kind = getattr(_core.OpKind, op.kind.value)
    native.tp = getattr(_core.TpSplit, op.tp.value)
    for field in _PLAIN_OP_FIELDS:
        setattr(native, field, getattr(op, field))
    return native


def _native_graph(graph: Graph) -> Any:
    native = _core.Graph()
    native.name = graph.name
    segments = []
    for segment in graph.segments:
        seg = _core.Segment()
        seg.name = segment.name
        seg.repeat = segment.repeat
        seg.ops = [native_op(op) for op in segment.ops]
        segments.append(seg)
    native.segments = segments
    return native


def native_device(device: DeviceSpec, precision: str, attention: str = "fused",
                  cuda_graphs: bool = False) -> Any:
    """The core's view of a device at a compute precision and attention kernel (DESIGN §3);
    a step replayed as CUDA graphs leaves the host nothing to issue per operator (§7)."""
    stack = load_stack(device.stack)
    native = _core.Device()
    native.peak_matmul_flops = device.peak_TFLOPS[precision] * 1e12
    native.peak_vector_flops = device.peak_TFLOPS["fp32"] * 1e12
    native.bandwidth_Bps = device.memory_bandwidth_GBps * 1e9
    native.eff_matmul = device.efficiency.matmul_at(precision)
    if precision == "fp8":  # Transformer Engine's fp8 recipe runs attention and the LM head in bf16
        native.peak_high_flops = device.peak_TFLOPS.get("bf16", device.peak_TFLOPS[precision]) * 1e12
        native.eff_high = device.efficiency.matmul_at("bf16")
    native.eff_conv = device.efficiency.conv
    native.eff_memory = device.efficiency.memory
    native.eff_attention = device.efficiency.attention_for(attention)
    if attention == "triton":
        if stack.triton_attention_slowdown is None:
            valid = ", ".join(k.value for k in AttentionKernel if k is not AttentionKernel.TRITON)
            raise EstimatorError(f"--attention triton: the {stack.name} software stack of {device.name} has no "
                                 f"Triton attention kernel (valid there: {valid})")
        native.eff_attention /= stack.triton_attention_slowdown
    native.attention_d64 = device.efficiency.attention_d64
    native.launch_s = stack.kernel_launch_overhead_us * 1e-6
    native.host_s = 0.0 if cuda_graphs else stack.host_time_per_operator_us * 1e-6
    native.foreach_traffic = stack.foreach_optimizer_traffic
    native.strided_eff = stack.strided_elementwise_efficiency
    native.loop_tensor_s = stack.loop_optimizer_us_per_tensor * 1e-6
    native.operand_bytes = OPERAND_BYTES[precision]
    native.misaligned_8B = stack.matmul_misaligned.get(8, 1.0)
    native.misaligned_4B = stack.matmul_misaligned.get(4, 1.0)
    native.misaligned_2B = stack.matmul_misaligned.get(2, 1.0)
    native.capacity_bytes = device.memory_GiB * GiB
    native.runtime_context_bytes = stack.runtime_context_GiB * GiB
    native.fragmentation = stack.allocator_fragmentation
    return native


def _attach_host(native: Any, system: SystemSpec, training: TrainingConfig) -> None:
    """The host link and this device's share of host DRAM, needed by optimizer offload."""
    if system.host_link_GBps is not None and system.host_memory_bandwidth_GBps is not None:
        native.host_link_Bps = system.host_link_GBps * 1e9 * system.host_efficiency.link
        native.host_memory_Bps = (system.host_memory_bandwidth_GBps * 1e9 * system.host_efficiency.memory
                                  / system.devices_per_node)
    elif training.offload.value != "none":
        raise EstimatorError(
            f"--offload {training.offload.value}: {system.name} has no host_link_GBps and "
            f"host_memory_bandwidth_GBps (add them to its system file, or use --offload none)"
        )


def native_network(system: SystemSpec) -> Any:
    """The core's view of the cluster's links (DESIGN §8); Gbit/s → bytes/s once, here."""
    native = _core.Network()
    native.devices_per_node = system.devices_per_node
    native.nodes = system.nodes
    native.intra_Bps = system.intra_node_bandwidth_GBps * 1e9
    native.inter_Bps = system.inter_node_bandwidth_Gbps * 1e9 / 8
    native.intra_latency_s = system.intra_node_latency_us * 1e-6
    native.inter_latency_s = system.inter_node_latency_us * 1e-6
    native.intra_eff = system.network_efficiency.intra
    native.inter_eff = system.network_efficiency.inter
    if system.torus is not None:
        native.torus_axes = system.torus.axes
        native.torus_link_Bps = system.torus.link_GBps * 1e9
    return native


@dataclass(frozen=True)
class Layout:
    """Parallel degrees and batch after derivation and checks."""

    tp: int
    pp: int
    dp: int
    cp: int
    vp: int
    ep: int


def parallel_layout(training: TrainingConfig, graph: Graph, model: ModelSpec, devices: int) -> Layout:
    """Checks tp·pp·cp·dp against the devices and each degree against the model."""
    tp, pp, cp, vp, ep = training.tp, training.pp, training.cp, training.vp, training.ep
    model_parallel = tp * pp * cp
    if training.dp is None:
        if devices % model_parallel:
            raise EstimatorError(
                f"--tp {tp} --pp {pp} --cp {cp}: tp·pp·cp = {model_parallel} does not divide the "
                f"{devices} devices (choose degrees whose product divides {devices})"
            )
        dp = devices // model_parallel
    else:
        dp = training.dp
        if model_parallel * dp != devices:
            raise EstimatorError(
                f"--dp {dp}: tp·pp·dp·cp = {model_parallel * dp} but the hardware has {devices} "
                f"devices (leave --dp out to derive it, or use --nodes)"
            )
    repeated = max(graph.segments, key=lambda segment: segment.repeat)
    if pp * vp > 1 and repeated.repeat % (pp * vp):
        raise EstimatorError(
            f"--pp {pp} --vp {vp}: pp·vp = {pp * vp} must divide the {repeated.repeat} layers of "
            f"{graph.name}"
        )
    if vp > 1 and pp == 1:
        raise EstimatorError("--vp: virtual pipeline stages need --pp > 1")
    for segment in graph.segments:
        for op in segment.ops:
            if op.kind is OpKind.ATTENTION and tp > 1 and op.heads % tp:
                raise EstimatorError(
                    f"--tp {tp}: must divide the {int(op.heads)} attention heads of {graph.name}"
                )
    if cp > 1:
        seq = graph.tokens_per_sample
        if seq is None:
            raise EstimatorError(f"--cp {cp}: context parallelism needs a token model, not {graph.name}")
        if seq % cp:
            raise EstimatorError(f"--cp {cp}: must divide the sequence length {seq}")
    experts = int(getattr(model, "experts", 1) or 1)
    if ep > 1:
        if experts <= 1:
            raise EstimatorError(f"--ep {ep}: expert parallelism needs a mixture-of-experts model")
        if experts % ep:
            raise EstimatorError(f"--ep {ep}: must divide the {experts} experts of {graph.name}")
        if ep > dp * tp * cp:
            raise EstimatorError(f"--ep {ep}: must not exceed tp·dp·cp = {dp * tp * cp}")
    return Layout(tp=tp, pp=pp, dp=dp, cp=cp, vp=vp, ep=ep)


def apply_kernel_options(native: Any, training: TrainingConfig) -> None:
    """The options that choose kernels and collectives, set alike on the core's `Config` and on
    the planner's `PlanSpace` (the same field names in both)."""
    native.optimizer = getattr(_core.Optimizer, training.optimizer.value)
    native.attention = getattr(_core.AttentionKernel, training.attention.native)
    native.autocast = training.autocast
    native.low_precision_norm = training.low_precision_norm
    native.fuse_norm_activation = training.fuse_bn_relu
    native.foreach_optimizer = training.foreach_optimizer
    native.loop_optimizer = training.loop_optimizer
    native.fsdp = training.fsdp
    native.fused_loss = training.fused_loss
    native.blocking_gathers = training.blocking_gathers
    native.tp_overlap = training.tp_overlap


def native_config(training: TrainingConfig, layout: Layout, precision: str, micro_batch: int,
                  grad_accum: int) -> Any:
    """The core's configuration struct."""
    config = _core.Config()
    config.micro_batch = micro_batch
    config.grad_accum = grad_accum
    config.tp, config.pp, config.dp = layout.tp, layout.pp, layout.dp
    config.cp, config.vp, config.ep = layout.cp, layout.vp, layout.ep
    config.sequence_parallel = training.sequence_parallel
    config.zero = training.zero
    config.recompute = getattr(_core.Recompute, training.recompute.value)
    config.precision = getattr(_core.Precision, precision)
    apply_kernel_options(config, training)
    config.offload_optimizer = training.offload.value == "optimizer"
    return config


def _core_call(function: Any, *args: Any) -> Any:
    """Calls the core, turning its precondition failures into `EstimatorError`."""
    try:
        return function(*args)
    except ValueError as exc:
        raise EstimatorError(f"invalid configuration: {exc}") from None


def _batches(training: TrainingConfig, layout: Layout, fit_limit: int) -> tuple[int, int]:
    """(micro_batch, global_batch) from the options; `fit_limit` is the largest that fits."""
    dp = layout.dp
    micro, global_batch = training.micro_batch, training.global_batch
    if micro == "auto" or micro is None:
        best = max(fit_limit, 1)
        if global_batch is None:
            micro = best
            return micro, micro * dp
        if global_batch % dp:
            raise EstimatorError(
                f"--global-batch {global_batch}: not divisible by dp = {dp}"
            )
        per_replica = global_batch // dp
        # The largest divisor of the per-replica batch that fits (1 if none fits: reported).
        return _largest_divisor_at_most(per_replica, best), global_batch
    if global_batch is None:
        return micro, micro * dp
    if global_batch % (dp * micro):
        raise EstimatorError(
            f"--global-batch {global_batch}: not divisible by dp·micro_batch = {dp}·{micro}"
        )
    return micro, global_batch


def _fastest_micro_batch(native_graph: Any, native_dev: Any, network: Any, training: TrainingConfig,
                         layout: Layout, precision: str, global_batch: int, limit: int) -> int:
    """The divisor of the per-replica batch, at most `limit` (the largest that fits), with the
    shortest step; ties go to the larger micro-batch."""
    per_replica = global_batch // layout.dp
    best, best_time = 1, math.inf
    for micro in reversed(_divisors(per_replica)):
        if micro > limit:
            continue
        config = native_config(training, layout, precision, micro, per_replica // micro)
        step = _core_call(_core.evaluate_step_time, native_graph, native_dev, network, config)
        if step < best_time * (1 - 1e-12):
            best, best_time = micro, step
    return best


def _divisors(number: int) -> list[int]:
    """All divisors of a positive integer."""
    small = [d for d in range(1, math.isqrt(number) + 1) if number % d == 0]
    return sorted(set(small + [number // d for d in small]))


def _largest_divisor_at_most(number: int, limit: int) -> int:
    """The largest divisor of `number` that is <= `limit` (>= 1)."""
    return max(divisor for divisor in _divisors(number) if divisor <= max(limit, 1))


def _run_samples(training: TrainingConfig, model: ModelSpec, graph: Graph) -> float | None:
    """Samples the run processes, from --tokens, --samples or --epochs."""
    given = [name for name in ("tokens", "samples", "epochs") if getattr(training, name) is not None]
    if len(given) > 1:
        raise EstimatorError(f"--{given[0]} and --{given[1]}: give only one data size")
    if training.samples is not None:
        return training.samples
    if training.tokens is not None:
        if graph.tokens_per_sample is None:
            raise EstimatorError(f"--tokens: {graph.name} has no tokens; use --samples or --epochs")
        return training.tokens / graph.tokens_per_sample
    if training.epochs is not None:
        dataset = getattr(model, "dataset_samples", None)
        if not dataset:
            raise EstimatorError(
                f"--epochs: {graph.name} has no dataset_samples; set it in the model file or use --samples"
            )
        return training.epochs * dataset
    return None


def estimate(model: ModelLike, hardware: SystemSpec | str | Path,
             nodes: int | None = None, **options: Any) -> Estimate:
    """Estimates one training configuration.

    Args:
        model: a model spec, a preset name, a model YAML path, a Hugging Face config.json path,
            or a mapping written as a model file's contents.
        hardware: a system spec, a shipped system name, the shorthand DEVICExN, or a system YAML.
        nodes: copies of the system's node (default: the system's own count).
        **options: fields of `estimator.TrainingConfig` (precision, optimizer, global_batch,
            micro_batch, tp, pp, dp, cp, vp, ep, sequence_parallel, zero, recompute, attention,
            offload, tokens, samples, epochs, spot, and the run-economics fields: noise scale,
            schedule, reliability, energy, input pipeline); None means "not given".

    Returns:
        The `Estimate`; a configuration that does not fit is a result with `memory.fits` False.

    Raises:
        EstimatorError: bad input, naming the option, file or key.
    """
    spec = resolve_model(model)
    system = resolve_hardware(hardware, nodes)
    training = training_config(spec, **options)
    # Memory is taken at seq_len; time at the mean length a step computes (DESIGN §2.10).
    graph, native_graph, timed_graph, native_timed = lowered_timed(spec, training)
    device = system.device
    warnings: list[str] = []

    precision, fallback = device.resolve_precision(training.precision.value)
    if fallback:
        warnings.append(fallback)
    layout = parallel_layout(training, graph, spec, system.devices)
    native_dev = native_device(device, precision, training.attention.value, training.cuda_graphs)
    _attach_host(native_dev, system, training)
    network = native_network(system)

    # The largest micro-batch that fits, with the accumulation the global batch implies.
    global_hint = training.global_batch or 0
    probe = native_config(training, layout, precision, 1, 1)
    fit_limit = _core_call(_core.max_micro_batch, native_graph, native_dev, network, probe, global_hint)
    micro, global_batch = _batches(training, layout, fit_limit)
    if training.micro_batch is None and training.global_batch is not None and fit_limit > 1:
        # Not given: the fastest micro-batch that fits (under pipeline parallelism the largest
        # one leaves few micro-batches per step and a large bubble); `auto` keeps the largest.
        micro = _fastest_micro_batch(native_timed, native_dev, network, training, layout, precision,
                                     global_batch, fit_limit)
    grad_accum = global_batch // (layout.dp * micro)
    config = native_config(training, layout, precision, micro, grad_accum)
    result = _core_call(_core.evaluate, native_timed, native_dev, network, config)
    at_length = result if native_timed is native_graph else _core_call(_core.evaluate, native_graph,
                                                                        native_dev, network, config)
    # The memory ceiling reported: the largest micro-batch that fits at this accumulation, not
    # capped by the global batch (0 keeps config.grad_accum fixed in the search).
    ceiling = _core_call(_core.max_micro_batch, native_graph, native_dev, network, config, 0)

    memory = at_length.memory
    other = memory.runtime_context + memory.fragmentation
    if not at_length.fits:
        fused = None if training.fused_loss else native_config(
            training.merged(fused_loss=True), layout, precision, micro, grad_accum)
        saving = 0.0 if fused is None else memory.total - _core_call(
            _core.memory_per_device, native_graph, native_dev, network, fused).total
        warnings.append(_does_not_fit_hint(training, layout, memory.total, at_length.capacity_bytes, saving))
    if note := _misaligned_note(graph, native_dev, config, precision):
        warnings.append(note)

    step = result.step_time_s
    input_wait = _input_pipeline_wait(training, global_batch, step, system, warnings)
    step += input_wait
    samples_per_s = global_batch / step
    tokens = timed_graph.tokens_per_sample  # tokens computed per sample
    peak = device.peak_TFLOPS[precision] * 1e12
    model_flops_per_s = result.model_flops_per_sample * samples_per_s / system.devices
    time = result.time
    breakdown = {
        "compute": time.compute,
        "memory_bound": time.memory_bound,
        "overhead": time.overhead,
        "recompute": time.recompute,
        "communication": time.communication,
        "pipeline_bubble": time.pipeline_bubble,
        "optimizer": time.optimizer,
        "input_pipeline": input_wait,
    }
    communication = {
        "tp": time.tp_communication,
        "cp": time.cp_communication,
        "ep": time.ep_communication,
        "pp": time.pp_communication,
        "dp": time.dp_communication,
    }
    if training.spot and (system.price_usd_per_hour is None or system.price_usd_per_hour.spot is None):
        warnings.append(f"--spot: {system.name} has no spot price; costs below are on-demand")
    samples = _run_samples(training, spec, timed_graph)
    if training.schedule:
        run = campaign.scheduled_run(spec, system, training, graph, step_time_s=step,
                                     global_batch=global_batch, micro_batch=micro,
                                     fits=at_length.fits, warnings=warnings)
    else:
        run = _run(samples, global_batch, step, system) if samples is not None else None
    campaign.check_reliability(training)
    if run is not None:
        run = campaign.finish_run(run, training, system)
    elif training.checkpoint_s is not None:
        warnings.append("--checkpoint-s: failures need a run; give --tokens, --samples or --epochs")
    critical = campaign.critical_batch(
        training, graph, task_first=options.get("noise_task") is not None and options.get("noise_scale") is None)
    if critical is not None and (note := campaign.critical_batch_warning(global_batch, critical)):
        warnings.append(note)

    return Estimate(
        model=ModelInfo(
            name=graph.name,
            family=spec.family,
            params=at_length.params_total,
            flops_per_sample=result.model_flops_per_sample,
            tokens_per_sample=tokens,
        ),
        hardware=HardwareInfo(
            system=system.name,
            device=device.name,
            devices_per_node=system.devices_per_node,
            nodes=system.nodes,
            peak_TFLOPS=device.peak_TFLOPS[precision],
            memory_GiB=device.memory_GiB,
        ),
        config=ConfigInfo(
            devices=system.devices,
            nodes=system.nodes,
            tp=layout.tp, pp=layout.pp, dp=layout.dp, cp=layout.cp, vp=layout.vp, ep=layout.ep,
            micro_batch=micro,
            global_batch=global_batch,
            grad_accum=grad_accum,
            precision=precision,
            requested_precision=training.precision.value,
            # the training options echoed as given (enums by value)
            **training.model_dump(mode="json", include=_ECHOED_OPTIONS),
        ),
        step_time_s=step,
        breakdown_s=breakdown,
        communication_s=communication,
        samples_per_s=samples_per_s,
        tokens_per_s=samples_per_s * tokens if tokens else None,
        tflops_per_device=model_flops_per_s / 1e12,
        mfu=model_flops_per_s / peak,
        memory=MemoryInfo(
            per_device_bytes=memory.total,
            capacity_bytes=at_length.capacity_bytes,
            fits=at_length.fits,
            weights_bytes=memory.weights,
            gradients_bytes=memory.gradients,
            optimizer_bytes=memory.optimizer,
            activations_bytes=memory.activations,
            other_bytes=other,
            runtime_context_bytes=memory.runtime_context,
            fragmentation_bytes=memory.fragmentation,
            params_per_device=at_length.params_per_device,
            worst_stage=at_length.worst_memory_stage,
            stage_imbalance=at_length.stage_memory_imbalance,
        ),
        max_micro_batch=ceiling,
        critical_batch=critical,
        run=run,
        top_ops=_top_ops(result, grad_accum),
        warnings=warnings,
    )


def _input_pipeline_wait(training: TrainingConfig, global_batch: int, step_s: float,
                         system: SystemSpec, warnings: list[str]) -> float:
    """Seconds a step waits for input when the CPUs prepare samples slower than the devices
    consume them (a step takes at least B / (cores · rate); `simulation.input_pipeline_bound`)."""
    cores, rate = training.input_cores_per_node, training.input_samples_per_s_per_core
    if cores is None and rate is None:
        return 0.0
    if cores is None or rate is None:
        raise EstimatorError("--input-cores-per-node and --input-samples-per-s-per-core: give both")
    bound = input_pipeline_bound(global_batch, step_s, cores * system.nodes, rate)
    if bound.input_bound:
        warnings.append(
            f"input pipeline bound: {cores * system.nodes:,} cores at {rate:g} samples/s each feed "
            f"{bound.max_samples_per_s:,.0f} samples/s, below the devices' "
            f"{global_batch / step_s:,.0f}; add CPU cores or preprocess offline"
        )
    return bound.step_time_s - step_s


def _does_not_fit_hint(training: TrainingConfig, layout: Layout, need: float, have: float,
                       fused_loss_saving: float) -> str:
    """The levers that lower memory here; `--fused-loss` with what it saves (need minus the
    same configuration's need with it), listed when that shows at the hint's 0.1 GiB."""
    levers = []
    if training.recompute.value != "full":
        levers.append("--recompute full")
    if round(fused_loss_saving / GiB, 1) > 0:
        levers.append(f"--fused-loss (saves {fused_loss_saving / GiB:.1f} GiB)")
    if training.zero < 3 and layout.dp * layout.cp > 1:  # ZeRO shards over dp·cp (DESIGN §5)
        levers.append(f"--zero {training.zero + 1}")
    if training.precision in (Precision.FP32, Precision.TF32):
        levers.append("--precision bf16")
    levers.append("a smaller --micro-batch")
    levers.append("more --tp or --pp")
    return (f"does not fit: needs {need / GiB:.1f} GiB per device of {have / GiB:.1f} GiB; "
            f"try {', '.join(levers)}")


def _run(samples: float, global_batch: int, step_time_s: float, system: SystemSpec) -> RunInfo:
    """Totals for the run (DESIGN §9)."""
    steps = math.ceil(samples / global_batch)
    time_s = steps * step_time_s
    hours = time_s / 3600
    price = system.price_usd_per_hour
    on_demand = price.on_demand * system.nodes * hours if price else None
    spot = price.spot * system.nodes * hours if price and price.spot is not None else None
    return RunInfo(
        samples=samples,
        steps=steps,
        time_s=time_s,
        device_hours=system.devices * hours,
        energy_kwh=system.devices * system.device.tdp_W * time_s / 3.6e6,
        cost_usd=CostInfo(on_demand=on_demand, spot=spot),
    )


def _misaligned_note(graph: Graph, native_dev: Any, config: Any, precision: str) -> str | None:
    """Names the matmuls slowed by a dimension that is not a multiple of 16 bytes (DESIGN §3)."""
    slow: dict[str, tuple[str, float]] = {}
    for segment in graph.segments:
        for op in segment.ops:
            if op.kind is not OpKind.MATMUL or op.name in slow:
                continue
            sharded = _core.shard(native_op(op), config)
            factor = _core.misalignment_factor(sharded, native_dev)
            if factor < 1:
                dim = "n" if sharded.n * native_dev.operand_bytes % 16 else "k"
                slow[op.name] = (f"{dim} {getattr(sharded, dim):g}", factor)
    if not slow:
        return None
    names = ", ".join(f"'{name}' ({dim}, {factor:.2f}x efficiency)"
                      for name, (dim, factor) in list(slow.items())[:3])
    more = f" and {len(slow) - 3} more" if len(slow) > 3 else ""
    return (f"matmul {names}{more}: not a multiple of {16 // OPERAND_BYTES[precision]} elements in "
            f"{precision}, so cuBLAS runs narrower kernels; pad it (a vocabulary to a multiple of "
            "64, as Megatron-LM and nanoGPT do)")


def _top_ops(result: Any, grad_accum: int) -> list[OpShare]:
    """The operators that take the most time on the slowest stage, merged by name."""
    totals: dict[str, list[float]] = {}
    for report in result.ops:
        seconds = (report.fwd.total + report.bwd.total) * report.repeat * grad_accum
        compute = (report.fwd.compute_s + report.bwd.compute_s) * report.repeat
        memory = (report.fwd.memory_s + report.bwd.memory_s) * report.repeat
        entry = totals.setdefault(report.name, [0.0, 0.0, 0.0])
        entry[0] += seconds
        entry[1] += compute
        entry[2] += memory
    whole = sum(entry[0] for entry in totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_OPS]
    return [
        OpShare(name=name, time_s=entry[0], share=entry[0] / whole,
                bound="compute" if entry[1] >= entry[2] else "memory")
        for name, entry in ranked
    ]


def max_micro_batch(model: ModelLike, hardware: SystemSpec | str | Path,
                    nodes: int | None = None, **options: Any) -> int:
    """The largest micro-batch that fits on each device (0 if none); see `estimate`."""
    return estimate(model, hardware, nodes=nodes, **options).max_micro_batch


def fits(model: ModelLike, hardware: SystemSpec | str | Path,
         nodes: int | None = None, **options: Any) -> bool:
    """Whether the configuration fits in device memory; see `estimate`."""
    return estimate(model, hardware, nodes=nodes, **options).memory.fits
