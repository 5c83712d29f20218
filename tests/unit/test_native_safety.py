"""The compiled core's entry points called directly with hostile values.

Every entry point checks its preconditions and throws `std::invalid_argument` (a `ValueError`
here) instead of crashing, looping or returning inf/NaN; values at the edge of the valid range
(10^15 parameters, 10^18 tokens) give finite numbers. `.ci/sanitize` runs this file against an
ASan + UBSan build, where any out-of-bounds access or signed overflow aborts the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimator import _core
from estimator.errors import EstimatorError
from estimator.estimate import estimate
from estimator.specs.model import model_from_mapping

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)
BAD_FLOATS = [math.nan, math.inf, -math.inf, -1.0, -5e-324]
HUGE_INTS = [0, -1, I64_MIN, I64_MAX, (1 << 24) + 1, 1 << 62]


# ----------------------------------------------------------------------- well-formed inputs
def built(native: Any, defaults: dict[str, Any], fields: dict[str, Any]) -> Any:
    """`native` with the defaults, then the test's fields, set on it."""
    for name, value in {**defaults, **fields}.items():
        setattr(native, name, value)
    return native


def op(**fields: Any) -> Any:
    return built(_core.Op(), {"kind": _core.OpKind.matmul, "name": "mm", "m": 64.0, "k": 64.0, "n": 64.0,
                              "params": 4096.0}, fields)


def attention(**fields: Any) -> Any:
    values = {"kind": _core.OpKind.attention, "name": "attn", "m": 64.0, "heads": 4.0, "kv_heads": 2.0,
              "head_dim": 16.0, "seq_kv": 64.0, "params": 0.0}
    return op(**{**values, **fields})


def graph(ops: list[Any] | None = None, repeat: int = 4) -> Any:
    g, segment = _core.Graph(), _core.Segment()
    g.name, segment.name, segment.repeat = "g", "layers", repeat
    segment.ops = [op(), attention()] if ops is None else ops
    g.segments = [segment]
    return g


def device(**fields: Any) -> Any:
    return built(_core.Device(), {"peak_matmul_flops": 1e14, "peak_vector_flops": 1e13, "bandwidth_Bps": 1e12,
                                  "eff_matmul": 0.8, "eff_conv": 0.8, "eff_memory": 0.8, "launch_s": 5e-6,
                                  "capacity_bytes": 16.0 * 2**30, "runtime_context_bytes": 2.0**30,
                                  "fragmentation": 0.1}, fields)


def network(**fields: Any) -> Any:
    return built(_core.Network(), {"devices_per_node": 8, "nodes": 2, "intra_Bps": 1e11, "inter_Bps": 1e10,
                                   "intra_latency_s": 5e-6, "inter_latency_s": 1e-5, "intra_eff": 0.8,
                                   "inter_eff": 0.7}, fields)


def config(**fields: Any) -> Any:
    return built(_core.Config(), {"dp": 16}, fields)


def space(**fields: Any) -> Any:
    return built(_core.PlanSpace(), {"global_batch": 64, "tokens_per_sample": 64, "max_micro_batch": 4,
                                     "threads": 1}, fields)


ENTRY_POINTS: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    "evaluate": _core.evaluate,
    "memory_per_device": _core.memory_per_device,
    "max_micro_batch": lambda g, d, n, c: _core.max_micro_batch(g, d, n, c, 0),
}


def test_the_well_formed_inputs_evaluate() -> None:
    result = _core.evaluate(graph(), device(), network(), config())
    assert math.isfinite(result.step_time_s) and result.step_time_s > 0
    assert _core.max_micro_batch(graph(), device(), network(), config(), 0) >= 1


def refused(function: Callable[..., Any], *args: Any) -> str:
    """The message of the ValueError that `function(*args)` must raise."""
    with pytest.raises(ValueError) as info:
        function(*args)
    return str(info.value)


# ------------------------------------------------------------------------------ the graph
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("field", ["m", "k", "n", "params", "inputs", "flops_per_element", "mask_bytes_per_element"])
@pytest.mark.parametrize("value", BAD_FLOATS)
def test_a_bad_operator_size_is_refused(entry: str, field: str, value: float) -> None:
    message = refused(ENTRY_POINTS[entry], graph([op(**{field: value})]), device(), network(), config())
    assert "operator 'mm'" in message


@pytest.mark.parametrize("field", ["m", "k", "n"])
def test_a_matmul_with_a_zero_dimension_is_refused(field: str) -> None:
    assert "needs m, k and n > 0" in refused(_core.evaluate, graph([op(**{field: 0.0})]), device(), network(), config())


@pytest.mark.parametrize("fields", [
    {"kv_heads": 8.0}, {"heads": 0.0}, {"kv_heads": 0.0}, {"head_dim": 0.0}, {"seq_kv": 0.0},
    {"heads": math.nan}, {"head_dim": math.inf},
], ids=["kv-above-heads", "no-heads", "no-kv-heads", "no-head-dim", "no-keys", "nan-heads", "inf-head-dim"])
def test_a_bad_attention_is_refused(fields: dict[str, float]) -> None:
    assert "operator 'attn'" in refused(_core.evaluate, graph([attention(**fields)]), device(), network(), config())


@pytest.mark.parametrize("kind", ["norm", "elementwise", "pooling", "embedding", "loss", "conv2d"])
def test_an_empty_operator_of_each_kind_is_refused(kind: str) -> None:
    empty = op(kind=getattr(_core.OpKind, kind), m=0.0, k=0.0, n=0.0, name="empty")
    assert "operator 'empty'" in refused(_core.evaluate, graph([empty]), device(), network(), config())


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_empty_graphs_are_refused(entry: str) -> None:
    assert refused(ENTRY_POINTS[entry], _core.Graph(), device(), network(), config()) == "graph: no segments"
    assert refused(ENTRY_POINTS[entry], graph([]), device(), network(), config()) == "graph: no operators"


@pytest.mark.parametrize("repeat", HUGE_INTS)
def test_a_bad_repeat_is_refused(repeat: int) -> None:
    assert "repeat must be in [1, 2^24]" in refused(_core.evaluate, graph(repeat=repeat), device(), network(), config())


# ------------------------------------------------------------------ device, network, config
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("field", ["peak_matmul_flops", "peak_vector_flops", "bandwidth_Bps", "eff_matmul",
                                   "eff_conv", "eff_memory", "capacity_bytes", "launch_s",
                                   "runtime_context_bytes", "fragmentation", "operand_bytes", "host_s",
                                   "attention_d64", "peak_high_flops", "eff_high", "strided_eff",
                                   "loop_tensor_s", "misaligned_8B", "misaligned_4B", "misaligned_2B"])
@pytest.mark.parametrize("value", BAD_FLOATS)
def test_a_bad_device_is_refused(entry: str, field: str, value: float) -> None:
    assert refused(ENTRY_POINTS[entry], graph(), device(**{field: value}), network(), config()).startswith("device:")


@pytest.mark.parametrize("field", ["peak_matmul_flops", "bandwidth_Bps", "eff_memory", "capacity_bytes"])
def test_a_zero_rate_or_capacity_is_refused(field: str) -> None:
    assert refused(_core.evaluate, graph(), device(**{field: 0.0}), network(), config()).startswith("device:")


@pytest.mark.parametrize("field", ["eff_matmul", "eff_conv", "eff_memory", "misaligned_2B", "strided_eff",
                                   "eff_high"])
def test_an_efficiency_above_one_is_refused(field: str) -> None:
    message = refused(_core.evaluate, graph(), device(**{field: 1.5}), network(), config())
    assert "efficiencies must be in (0, 1]" in message


def test_a_bf16_peak_for_fp8_without_its_efficiency_is_refused() -> None:
    message = refused(_core.evaluate, graph(), device(peak_high_flops=1e14), network(), config())
    assert "eff_high: 0 only without peak_high_flops" in message


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("field", ["intra_Bps", "inter_Bps", "intra_latency_s", "inter_latency_s", "intra_eff",
                                   "inter_eff"])
@pytest.mark.parametrize("value", BAD_FLOATS)
def test_a_bad_network_rate_is_refused(entry: str, field: str, value: float) -> None:
    assert refused(ENTRY_POINTS[entry], graph(), device(), network(**{field: value}), config()).startswith("network:")


@pytest.mark.parametrize("field", ["devices_per_node", "nodes"])
@pytest.mark.parametrize("value", HUGE_INTS)
def test_a_bad_network_size_is_refused(field: str, value: int) -> None:
    assert "must be in [1, 2^24]" in refused(_core.evaluate, graph(), device(), network(**{field: value}), config())


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("field", ["tp", "pp", "dp", "cp", "vp", "ep", "micro_batch", "grad_accum"])
@pytest.mark.parametrize("value", [0, -1, I64_MIN, I64_MAX, 1 << 62, (1 << 40) + 1])
def test_a_bad_degree_or_batch_is_refused(entry: str, field: str, value: int) -> None:
    assert refused(ENTRY_POINTS[entry], graph(), device(), network(), config(**{field: value})).startswith("config:")


@pytest.mark.parametrize("value", [-1, 4, 1 << 30, -(1 << 31), (1 << 31) - 1])
def test_a_bad_zero_stage_is_refused(value: int) -> None:
    assert "zero must be 0, 1, 2 or 3" in refused(_core.evaluate, graph(), device(), network(), config(zero=value))


@pytest.mark.parametrize("zero", [0, 1, 2])
def test_fsdp_without_sharded_parameters_is_refused(zero: int) -> None:
    assert refused(_core.evaluate, graph(), device(), network(), config(zero=zero, fsdp=True)) == (
        "config: fsdp shards parameters (zero 3)")


@pytest.mark.parametrize("zero", [0, 1, 2])
def test_blocking_gathers_without_sharded_parameters_are_refused(zero: int) -> None:
    assert refused(_core.evaluate, graph(), device(), network(), config(zero=zero, blocking_gathers=True)) == (
        "config: blocking_gathers needs sharded parameters (zero 3)")


@pytest.mark.parametrize("fields", [
    {"tp": 1 << 24, "dp": 1 << 24, "cp": 1 << 24, "pp": 1 << 24},  # the product would overflow int64
    {"tp": 4, "dp": 8},  # 32 devices on a 16-device cluster
    {"ep": 32},  # more than tp·dp·cp
    {"pp": 3, "dp": 4},  # 3 does not divide the 4 layers
    {"pp": 2, "vp": 4, "dp": 8},  # pp·vp = 8 does not divide 4 layers
], ids=["overflowing-product", "too-many-devices", "ep-too-large", "pp-layers", "pp-vp-layers"])
def test_inconsistent_parallelism_is_refused(fields: dict[str, int]) -> None:
    assert refused(_core.evaluate, graph(), device(), network(), config(**fields)).startswith("config:")


@pytest.mark.parametrize("global_batch", [-1, I64_MIN, I64_MAX, (1 << 40) + 1])
def test_max_micro_batch_refuses_a_bad_global_batch(global_batch: int) -> None:
    message = refused(_core.max_micro_batch, graph(), device(), network(), config(), global_batch)
    assert "global_batch must be in [0, 2^40]" in message


def test_max_micro_batch_stays_bounded_with_endless_memory() -> None:
    tiny = graph([op(m=1.0, k=1.0, n=1.0, params=1.0)], repeat=1)
    roomy = device(capacity_bytes=1e300, runtime_context_bytes=0.0)
    assert _core.max_micro_batch(tiny, roomy, network(), config(), 0) == 1 << 40
    assert _core.max_micro_batch(tiny, roomy, network(), config(), 1 << 40) == (1 << 40) // 16


# ------------------------------------------------------------------ overflow to inf is an error
@pytest.mark.parametrize("fields", [
    {"m": 1e300, "k": 1e300},
    {"params": 1e308, "m": 1e10},
])
def test_a_result_that_would_overflow_is_an_error_not_inf(fields: dict[str, float]) -> None:
    message = refused(_core.evaluate, graph([op(**fields)]), device(), network(), config())
    assert "finite" in message  # the result, or an intermediate size such as the gradient bytes


def test_a_slow_device_that_would_overflow_is_an_error_not_inf() -> None:
    slow = device(peak_matmul_flops=5e-324, peak_vector_flops=5e-324)
    assert "is not finite" in refused(_core.evaluate, graph(), slow, network(), config())


def test_memory_per_device_never_returns_inf() -> None:
    assert "not finite" in refused(_core.memory_per_device, graph([op(params=1e308)]), device(), network(), config())


def test_op_cost_never_returns_inf() -> None:
    assert "not finite" in refused(_core.op_cost, op(m=1e300, k=1e300), 1e300, 2.0, 2.0)
    for batch in (0.0, -1.0, math.nan, math.inf):
        assert "batch" in refused(_core.op_cost, op(), batch, 2.0, 2.0)
    for size in (0.0, 9.0, math.nan, -2.0):
        assert "bytes per element" in refused(_core.op_cost, op(), 1.0, size, 2.0)


def test_roofline_refuses_bad_values_and_never_returns_inf() -> None:
    good = [1e12, 1e9, 2.0, 1e14, 0.8, 1e12, 0.8, 5e-6]
    for index in range(len(good)):
        for value in (math.nan, math.inf, -1.0):
            args = list(good)
            args[index] = value
            assert "roofline" in refused(_core.roofline, *args)
    assert "not finite" in refused(_core.roofline, 1e300, 1e300, 1.0, 5e-324, 5e-324, 5e-324, 5e-324, 0.0)


@pytest.mark.parametrize("field", ["tp", "cp", "ep"])
@pytest.mark.parametrize("value", [0, -1, I64_MIN, I64_MAX])
def test_shard_refuses_bad_degrees(field: str, value: int) -> None:
    assert "shard" in refused(_core.shard, op(tp=_core.TpSplit.column, expert=True), config(**{field: value}))


# ------------------------------------------------------------------------------ collectives
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("axes", "link"), [(4, 1e11), (-1, 1e11), (I64_MIN, 1e11), (I64_MAX, 1e11),
                                            (2, 0.0), (2, math.nan), (2, math.inf), (0, math.nan),
                                            (0, -1.0), (3, -5e-324)])
def test_a_bad_torus_is_refused(entry: str, axes: int, link: float) -> None:
    bad = network(torus_axes=axes, torus_link_Bps=link)
    assert refused(ENTRY_POINTS[entry], graph(), device(), bad, config()).startswith("network:")


@pytest.mark.parametrize("name", ["torus_allreduce_s", "torus_reduce_scatter_s", "torus_alltoall_s"])
def test_torus_collectives_refuse_bad_arguments(name: str) -> None:
    function = getattr(_core, name)
    good = network(torus_axes=3, torus_link_Bps=4.5e10)
    assert function(1e9, 4096, good) > 0
    for ranks in (0, -1, I64_MIN, I64_MAX):
        assert "ranks" in refused(function, 1e9, ranks, good)
    assert "bytes" in refused(function, math.inf, 64, good)
    assert "not a torus" in refused(function, 1e9, 64, network())
    assert "torus" in refused(function, 1e9, 64, network(torus_axes=3, torus_link_Bps=math.nan))
    assert "not finite" in refused(function, 1.7e308, 64, network(torus_axes=3, torus_link_Bps=1e-300))
    for ranks, axes in ((0, 2), (I64_MAX, 2), (8, 0), (8, 4)):
        assert "torus_shape" in refused(_core.torus_shape, ranks, axes)


LINK_FUNCTIONS = ["ring_allreduce_s", "ring_reduce_scatter_s", "tree_allreduce_s", "alltoall_s"]


@pytest.mark.parametrize("name", LINK_FUNCTIONS)
def test_link_collectives_refuse_bad_arguments(name: str) -> None:
    function = getattr(_core, name)
    link = _core.Link(1e10, 1e-6)
    assert function(1e6, 8, link) > 0
    for size in (math.nan, math.inf, -1.0):
        assert "bytes" in refused(function, size, 8, link)
    for ranks in (0, -1, I64_MIN, I64_MAX):
        assert "ranks" in refused(function, 1e6, ranks, link)
    for bandwidth in (0.0, -1.0, math.nan, math.inf):
        assert "bandwidth" in refused(function, 1e6, 8, _core.Link(bandwidth, 1e-6))
    for latency in (-1.0, math.nan, math.inf):
        assert "latency" in refused(function, 1e6, 8, _core.Link(1e10, latency))


def test_p2p_refuses_bad_arguments() -> None:
    assert _core.p2p_s(1e6, _core.Link(1e10, 1e-6)) > 0
    assert "bytes" in refused(_core.p2p_s, math.nan, _core.Link(1e10, 1e-6))
    assert "latency" in refused(_core.p2p_s, 1.0, _core.Link(1e10, math.nan))


@pytest.mark.parametrize("name", ["group_allreduce_s", "group_reduce_scatter_s", "group_alltoall_s"])
def test_group_collectives_refuse_bad_arguments(name: str) -> None:
    function = getattr(_core, name)
    assert function(1e9, 16, 1, network()) > 0
    for ranks in (0, -1, I64_MIN, I64_MAX):  # I64_MAX once overflowed (ranks + per_node - 1)
        assert "ranks" in refused(function, 1e9, ranks, 1, network())
    for stride in (0, -1, I64_MIN, I64_MAX):
        assert "stride" in refused(function, 1e9, 16, stride, network())
    assert "bytes" in refused(function, math.nan, 16, 1, network())
    assert "network" in refused(function, 1e9, 16, 1, network(nodes=0))
    assert "network" in refused(function, 1e9, 16, 1, network(inter_Bps=math.nan))
    assert "not finite" in refused(function, 1.7e308, 16, 1, network(inter_Bps=1e-300, intra_Bps=1e-300))


# ---------------------------------------------------------------------------------- planner
@pytest.mark.parametrize("fields", [
    {"global_batch": 0}, {"global_batch": I64_MAX}, {"tokens_per_sample": -1}, {"max_tp": -1},
    {"max_cp": 0}, {"max_vp": 0}, {"max_micro_batch": 0}, {"max_micro_batch": I64_MAX}, {"ep": 0},
    {"top_k": 0}, {"threads": -1}, {"zero": []}, {"zero": [7]}, {"recompute": []},
    {"sequence_parallel": [2]},
])
def test_the_planner_refuses_a_bad_search_space(fields: dict[str, Any]) -> None:
    assert refused(_core.plan, graph(), device(), network(), space(**fields)).startswith("plan:")
    assert refused(_core.plan_candidates, graph(), network(), space(**fields)).startswith("plan:")


def test_the_planner_refuses_a_bad_graph_or_device() -> None:
    assert "operator 'attn'" in refused(_core.plan, graph([attention(kv_heads=8.0)]), device(), network(), space())
    assert refused(_core.plan, graph(), device(bandwidth_Bps=math.nan), network(), space()).startswith("device:")
    assert refused(_core.plan, _core.Graph(), device(), network(), space()) == "graph: no segments"
    # The graph that times the step (`--mean-seq-len`) is checked like the one that sizes it.
    assert refused(_core.plan, graph(), device(), network(), space(), None, _core.Graph()) == "graph: no segments"
    assert "operator 'attn'" in refused(_core.plan, graph(), device(), network(), space(), None,
                                        graph([attention(kv_heads=8.0)]))


def test_the_planner_runs_on_the_well_formed_inputs() -> None:
    result = _core.plan(graph(), device(), network(), space())
    assert result.space > 0
    assert all(math.isfinite(candidate.step_time_s) for candidate in result.plans)
    timed = _core.plan(graph(), device(), network(), space(), None, graph())
    assert [c.step_time_s for c in timed.plans] == [c.step_time_s for c in result.plans]


# --------------------------------------------------------------- random hostile structs
hostile_floats = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e-300, 1e300, 1.7e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)
hostile_ints = st.one_of(st.sampled_from([0, -1, 1, 2, I64_MIN, I64_MAX, 1 << 24, 1 << 40]),
                         st.integers(I64_MIN, I64_MAX))
OP_FLOATS = ["m", "k", "n", "heads", "kv_heads", "head_dim", "seq_kv", "elements", "in_elements",
             "inputs", "flops_per_element", "params", "mask_bytes_per_element"]


@st.composite
def hostile_ops(draw: st.DrawFn) -> Any:
    o = _core.Op()
    o.kind = draw(st.sampled_from(list(_core.OpKind.__members__.values())))
    o.tp = draw(st.sampled_from(list(_core.TpSplit.__members__.values())))
    o.name = "fuzz"
    for field in OP_FLOATS:
        setattr(o, field, draw(st.one_of(hostile_floats, st.floats(1, 1e6))))
    for field in ("weight", "causal", "fused", "dropout", "saves_input", "expert"):
        setattr(o, field, draw(st.booleans()))
    return o


@settings(max_examples=400, deadline=None)
@given(ops=st.lists(hostile_ops(), max_size=4), repeat=hostile_ints,
       device_values=st.lists(st.one_of(hostile_floats, st.floats(0.1, 1e15)), min_size=10, max_size=10),
       degrees=st.lists(st.one_of(hostile_ints, st.integers(1, 16)), min_size=8, max_size=8),
       zero=st.integers(-3, 6), global_batch=st.one_of(hostile_ints, st.integers(0, 4096)))
def test_random_hostile_structs_give_a_value_error_or_finite_numbers(
        ops: list[Any], repeat: int, device_values: list[float], degrees: list[int], zero: int,
        global_batch: int) -> None:
    fields = ["peak_matmul_flops", "peak_vector_flops", "bandwidth_Bps", "eff_matmul", "eff_conv",
              "eff_memory", "launch_s", "capacity_bytes", "runtime_context_bytes", "fragmentation"]
    d = device(**dict(zip(fields, device_values)))
    c = config(**dict(zip(["tp", "pp", "dp", "cp", "vp", "ep", "micro_batch", "grad_accum"], degrees)), zero=zero)
    g = graph(ops, repeat=repeat)
    try:
        result = _core.evaluate(g, d, network(), c)
    except ValueError:
        pass
    else:
        numbers = [result.step_time_s, result.memory.total, result.params_total, result.model_flops_per_sample,
                   result.time.total, result.hardware_flops_per_device]
        assert all(math.isfinite(x) for x in numbers)
        assert result.step_time_s > 0
    try:
        best = _core.max_micro_batch(g, d, network(), c, global_batch)
    except ValueError:
        pass
    else:
        assert 0 <= best <= 1 << 40


# ------------------------------------------------- the Python API at the edge of its range
def huge_transformer() -> Any:
    """About 1.3·10^15 parameters: 4096 layers of width 163,840 (12·L·h² + embeddings)."""
    return model_from_mapping({"name": "huge", "family": "transformer", "layers": 4096, "hidden": 163840,
                               "heads": 1280, "vocab": 1 << 20, "seq_len": 1 << 16}, "huge.yaml")


def tiny_transformer() -> Any:
    return model_from_mapping({"name": "tiny", "family": "transformer", "layers": 1, "hidden": 1, "heads": 1,
                               "vocab": 1, "seq_len": 1}, "tiny.yaml")


def finite_or_null(value: Any) -> bool:
    if isinstance(value, dict):
        return all(finite_or_null(item) for item in value.values())
    if isinstance(value, list):
        return all(finite_or_null(item) for item in value)
    return not isinstance(value, float) or math.isfinite(value)


@pytest.mark.parametrize("hardware", ["v100x1", "h100x8", "h100x1048576"])
@pytest.mark.parametrize("tokens", [1e6, 1e18])
def test_a_quadrillion_parameters_and_10e18_tokens_give_finite_numbers(hardware: str, tokens: float) -> None:
    result = estimate(huge_transformer(), hardware, tokens=tokens, zero=3, recompute="full")
    assert result.model.params > 1e15
    assert finite_or_null(result.model_dump())
    assert result.run is not None and result.run.steps >= 1


def test_10e18_tokens_of_a_small_model_give_finite_numbers() -> None:
    result = estimate("gpt2", "h100x1048576", tokens=1e18, global_batch=1 << 20)
    assert finite_or_null(result.model_dump())


def test_astronomical_sizes_are_refused_with_the_option_named() -> None:
    with pytest.raises(EstimatorError, match=r"^--tokens: .*1000000000000000000000$"):
        estimate(huge_transformer(), "h100x8", tokens=1e300)
    with pytest.raises(EstimatorError, match=r"^--tokens: .*finite"):
        estimate(huge_transformer(), "h100x8", tokens=math.inf)


def test_the_smallest_possible_model_gives_finite_numbers() -> None:
    result = estimate(tiny_transformer(), "v100x1", tokens=1.0, micro_batch=1)
    assert finite_or_null(result.model_dump())
    assert result.step_time_s > 0
    assert result.run is not None and result.run.steps == 1
