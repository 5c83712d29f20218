"""Differential test: the native operator formulas against the pure-Python reference.

`estimator.reference` implements DESIGN §2–§3 independently and slowly; the compiled core must
agree with it to rounding on thousands of random shapes of every operator kind.
"""

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from estimator import _core, reference
from estimator.graph import Operator, OpKind, TpSplit

sizes = st.integers(min_value=1, max_value=1 << 16).map(float)
small = st.integers(min_value=1, max_value=64).map(float)
fields = ("fwd_flops", "bwd_flops", "fwd_bytes", "bwd_bytes", "fwd_kernels", "bwd_kernels",
          "saved_bytes", "saved_quadratic_bytes", "transient_bytes", "fwd_side_bytes", "bwd_side_bytes",
          "fwd_strided_bytes", "bwd_strided_bytes")


@st.composite
def operators(draw):
    kind = draw(st.sampled_from(list(OpKind)))
    common = dict(kind=kind, name=f"random/{kind.value}", params=draw(sizes),
                  tp=draw(st.sampled_from(list(TpSplit))), expert=draw(st.booleans()),
                  bias=draw(st.booleans()), fp32_stream=draw(st.booleans()), casts_input=draw(st.booleans()),
                  reads_output=draw(st.booleans()), follows_norm=draw(st.booleans()))
    if kind in (OpKind.MATMUL, OpKind.CONV2D):
        return Operator(**common, m=draw(sizes), k=draw(sizes), n=draw(sizes),
                        in_elements=draw(sizes), weight=draw(st.booleans()))
    if kind is OpKind.ATTENTION:
        heads = draw(small)
        return Operator(**common, m=draw(sizes), seq_kv=draw(sizes), heads=heads,
                        kv_heads=draw(st.integers(1, int(heads)).map(float)), head_dim=draw(small),
                        causal=draw(st.booleans()), fused=draw(st.booleans()),
                        eager=draw(st.booleans()), dropout=draw(st.booleans()))
    if kind in (OpKind.NORM, OpKind.ELEMENTWISE):
        return Operator(**common, elements=draw(sizes), inputs=draw(st.integers(1, 3)),
                        flops_per_element=draw(st.sampled_from([0.0, 1.0, 5.0, 8.0])),
                        saves_input=draw(st.booleans()), fused=draw(st.booleans()),
                        batch_stats=draw(st.booleans()) if kind is OpKind.NORM else False,
                        mask_bytes_per_element=draw(st.sampled_from([0.0, 1.0])))
    if kind is OpKind.POOLING:
        return Operator(**common, elements=draw(sizes), in_elements=draw(sizes),
                        flops_per_element=draw(small))
    if kind is OpKind.LOSS:
        return Operator(**common, m=draw(sizes), k=draw(sizes), n=draw(sizes), fused=draw(st.booleans()))
    return Operator(**common, m=draw(sizes), k=draw(sizes), n=draw(sizes))


def native(op: Operator):
    from estimator.estimate import native_op

    return native_op(op)


@settings(max_examples=3000, deadline=None)
@given(op=operators(), batch=st.integers(1, 4096), mixed=st.booleans(), autocast=st.booleans(),
       fuse=st.booleans(), low_precision_norm=st.booleans())
def test_native_operator_costs_match_the_reference(op, batch, mixed, autocast, fuse, low_precision_norm):
    act, weight = (2.0, 2.0) if mixed else (4.0, 4.0)
    expected = reference.op_cost(op, batch, act, weight, autocast, fuse, low_precision_norm)
    actual = _core.op_cost(native(op), batch, act, weight, autocast, fuse, low_precision_norm)
    for name in fields:
        assert math.isclose(getattr(actual, name), getattr(expected, name), rel_tol=1e-12, abs_tol=0), name


@settings(max_examples=3000, deadline=None)
@given(flops=st.floats(0, 1e18), nbytes=st.floats(0, 1e15), kernels=st.integers(0, 8),
       peak=st.floats(1e9, 1e16), eff_c=st.floats(0.05, 1), bandwidth=st.floats(1e9, 1e13),
       eff_m=st.floats(0.05, 1), launch=st.floats(0, 1e-4))
def test_native_roofline_matches_the_reference(flops, nbytes, kernels, peak, eff_c, bandwidth, eff_m, launch):
    expected = reference.op_time(flops, nbytes, kernels, peak, eff_c, bandwidth, eff_m, launch)
    actual = _core.roofline(flops, nbytes, kernels, peak, eff_c, bandwidth, eff_m, launch)
    assert math.isclose(actual.total, expected, rel_tol=1e-12, abs_tol=1e-300)


@settings(max_examples=2000, deadline=None)
@given(op=operators(), operand_bytes=st.sampled_from([1.0, 2.0, 4.0]),
       factors=st.tuples(*[st.floats(0.01, 1)] * 3))
def test_native_misalignment_factor_matches_the_reference(op, operand_bytes, factors):
    device = _core.Device()
    device.operand_bytes = operand_bytes
    device.misaligned_8B, device.misaligned_4B, device.misaligned_2B = factors
    ref = reference.ReferenceDevice(1e12, 1e12, 1e12, 1, 1, 1, 0, 1, 0, 0,
                                    operand_bytes=operand_bytes, misaligned=factors)
    assert _core.misalignment_factor(native(op), device) == reference.misalignment_factor(op, ref)


def _devices():
    from estimator.specs.hardware import load_device, load_stack

    for name in ("v100", "a100", "h100", "k80"):
        device = load_device(name)
        stack = load_stack(device.stack)
        yield name, device, stack


def _with_attention(graph, kernel: str):
    """`graph` with its attention operators run by `kernel`, as the core's config applies it."""
    if kernel == "graph":
        return graph
    segments = tuple(dataclasses.replace(seg, ops=tuple(
        dataclasses.replace(op, fused=kernel == "fused", eager=kernel == "eager")
        if op.kind is OpKind.ATTENTION else op for op in seg.ops)) for seg in graph.segments)
    return dataclasses.replace(graph, segments=segments)


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(["gpt2", "bert-base", "resnet18", "resnet9", "llama2-7b"]),
       device_index=st.integers(0, 3), micro_batch=st.integers(1, 64), grad_accum=st.integers(1, 8),
       precision=st.sampled_from(["fp32", "fp16", "bf16"]),
       optimizer=st.sampled_from(["sgd", "momentum", "adam", "lamb", "adafactor"]),
       recompute=st.sampled_from(["none", "selective", "full"]), autocast=st.booleans(), fuse=st.booleans(),
       foreach=st.booleans(), fused_loss=st.booleans(), low_precision_norm=st.booleans(),
       attention=st.sampled_from(["graph", "fused", "unfused", "eager"]), loop=st.booleans())
def test_native_single_device_step_matches_the_reference(model, device_index, micro_batch, grad_accum,
                                                         precision, optimizer, recompute, autocast, fuse,
                                                         foreach, fused_loss, low_precision_norm, attention,
                                                         loop):
    """The whole step on one device (no parallelism) agrees with the slow reference."""
    from estimator.estimate import OPERAND_BYTES, _lowered, native_device, native_network
    from estimator.specs.hardware import load_hardware
    from estimator.specs.model import load_model

    name, device, stack = list(_devices())[device_index]
    if precision not in device.peak_TFLOPS:
        precision = "fp32"
    spec = load_model(model)
    graph, native_graph = _lowered(spec)
    if recompute == "full" and graph.tokens_per_sample is None:
        recompute = "selective"  # the reference checkpoints only transformer layers
    config = _core.Config()
    config.micro_batch, config.grad_accum = micro_batch, grad_accum
    config.precision = getattr(_core.Precision, precision)
    config.optimizer = getattr(_core.Optimizer, optimizer)
    config.recompute = getattr(_core.Recompute, recompute)
    config.autocast = autocast
    config.fuse_norm_activation = fuse
    config.foreach_optimizer = foreach
    config.fused_loss = fused_loss
    config.low_precision_norm = low_precision_norm
    config.attention = getattr(_core.AttentionKernel, attention)
    config.loop_optimizer = loop
    actual = _core.evaluate(native_graph, native_device(device, precision),
                            native_network(load_hardware(f"{name}x1")), config)
    ref_device = reference.ReferenceDevice(
        peak_flops_matmul=device.peak_TFLOPS[precision] * 1e12,
        peak_flops_vector=device.peak_TFLOPS["fp32"] * 1e12,
        bandwidth=device.memory_bandwidth_GBps * 1e9,
        eff_matmul=device.efficiency.matmul_at(precision), eff_conv=device.efficiency.conv,
        eff_memory=device.efficiency.memory, launch_s=stack.kernel_launch_overhead_us * 1e-6,
        capacity_bytes=device.memory_GiB * 2**30,
        runtime_context_bytes=stack.runtime_context_GiB * 2**30,
        fragmentation=stack.allocator_fragmentation,
        eff_attention=device.efficiency.fused_attention, attention_d64=device.efficiency.attention_d64,
        operand_bytes=OPERAND_BYTES[precision], host_s=stack.host_time_per_operator_us * 1e-6,
        foreach_traffic=stack.foreach_optimizer_traffic, strided_eff=stack.strided_elementwise_efficiency,
        loop_tensor_s=stack.loop_optimizer_us_per_tensor * 1e-6,
        misaligned=tuple(stack.matmul_misaligned.get(unit, 1.0) for unit in (8, 4, 2)))
    expected = reference.evaluate_single_device(_with_attention(graph, attention), ref_device, micro_batch, grad_accum,
                                                precision, optimizer, recompute, autocast, fuse,
                                                foreach, fused_loss, low_precision_norm, loop)
    assert math.isclose(actual.step_time_s, expected.step_time_s, rel_tol=1e-9)
    assert math.isclose(actual.time.recompute, expected.recompute_s, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(actual.time.optimizer, expected.optimizer_s, rel_tol=1e-9)
    assert math.isclose(actual.memory.activations, expected.activations_bytes, rel_tol=1e-9)
    assert math.isclose(actual.memory.total, expected.total_bytes, rel_tol=1e-9)
    # Model FLOPs are the graph's as lowered, whichever kernel runs its attention.
    as_lowered = expected if attention == "graph" else reference.evaluate_single_device(
        graph, ref_device, micro_batch, grad_accum, precision, optimizer, recompute, autocast, fuse,
        foreach, fused_loss, low_precision_norm)
    assert math.isclose(actual.model_flops_per_sample, as_lowered.flops_per_sample, rel_tol=1e-9)
