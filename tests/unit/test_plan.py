"""The configuration planner: the native search (`_core.plan`) against a brute-force loop over
the same configurations, its divisibility rules and error handling, and `estimator.planner`
end to end (each plan a full estimate, the explanation, the deadline search, the CLI)."""

from __future__ import annotations

import json
import math
import time

import pytest

from estimator import _core
from estimator.cli import run
from estimator.errors import EstimatorError
from estimator.planner import _limits, _native_plan, _Problem, plan, plan_deadline

GiB = 1 << 30


def _op(kind: str, name: str, tp: str = "none", **fields: float | bool) -> _core.Op:
    op = _core.Op()
    op.kind = getattr(_core.OpKind, kind)
    op.name = name
    op.tp = getattr(_core.TpSplit, tp)
    for key, value in fields.items():
        setattr(op, key, value)
    return op


def _segment(name: str, repeat: int, ops: list[_core.Op]) -> _core.Segment:
    segment = _core.Segment()
    segment.name, segment.repeat, segment.ops = name, repeat, ops
    return segment


def tiny_gpt(layers: int = 12, heads: int = 12, hidden: int = 768, seq: int = 1024,
             vocab: int = 50304, fused: bool = False) -> _core.Graph:
    """A GPT-2-small-like graph built by hand: embedding, `layers` × block, head + loss."""
    ffn = 4 * hidden
    block = [
        _op("norm", "ln1", "sequence", elements=seq * hidden, params=2 * hidden, flops_per_element=5),
        _op("matmul", "attention/qkv", "column", m=seq, k=hidden, n=3 * hidden, params=3 * hidden * hidden),
        _op("attention", "attention/core", "heads", m=seq, heads=heads, kv_heads=heads,
            head_dim=hidden // heads, seq_kv=seq, causal=True, fused=fused),
        _op("matmul", "attention/out", "row", m=seq, k=hidden, n=hidden, params=hidden * hidden),
        _op("elementwise", "residual1", "sequence", elements=seq * hidden, inputs=2, flops_per_element=1),
        _op("norm", "ln2", "sequence", elements=seq * hidden, params=2 * hidden, flops_per_element=5),
        _op("matmul", "mlp/fc1", "column", m=seq, k=hidden, n=ffn, params=hidden * ffn),
        _op("elementwise", "mlp/gelu", "column", elements=seq * ffn, flops_per_element=8),
        _op("matmul", "mlp/fc2", "row", m=seq, k=ffn, n=hidden, params=ffn * hidden),
        _op("elementwise", "residual2", "sequence", elements=seq * hidden, inputs=2, flops_per_element=1),
    ]
    graph = _core.Graph()
    graph.name = "tiny-gpt"
    graph.segments = [
        _segment("embedding", 1, [_op("embedding", "embedding", "column", m=seq, k=hidden, n=vocab,
                                      params=vocab * hidden)]),
        _segment("layer", layers, block),
        _segment("head", 1, [
            _op("matmul", "head/logits", "column", m=seq, k=hidden, n=vocab, params=0),
            _op("loss", "head/loss", "column", m=seq, n=vocab),
        ]),
    ]
    return graph


def v100(capacity_GiB: float = 16) -> _core.Device:
    device = _core.Device()
    device.peak_matmul_flops, device.peak_vector_flops = 125e12, 15.7e12
    device.bandwidth_Bps = 900e9
    device.eff_matmul, device.eff_conv, device.eff_memory = 0.7, 0.6, 0.8
    device.launch_s = 5e-6
    device.capacity_bytes = capacity_GiB * GiB
    device.runtime_context_bytes = 0.5 * GiB
    device.fragmentation = 0.1
    return device


def cluster(devices_per_node: int = 8, nodes: int = 2) -> _core.Network:
    network = _core.Network()
    network.devices_per_node, network.nodes = devices_per_node, nodes
    network.intra_Bps, network.inter_Bps = 150e9, 12.5e9
    network.intra_latency_s, network.inter_latency_s = 5e-6, 10e-6
    return network


def space(global_batch: int = 64, seq: int = 1024, top_k: int = 10, threads: int = 0) -> _core.PlanSpace:
    request = _core.PlanSpace()
    request.global_batch = global_batch
    request.tokens_per_sample = seq
    request.max_micro_batch = 16
    request.top_k = top_k
    request.threads = threads
    return request


def _key(config: _core.Config) -> tuple:
    return (config.tp, config.pp, config.dp, config.cp, config.vp, config.micro_batch,
            config.grad_accum, int(config.recompute), config.zero, config.sequence_parallel)


# --- the native search ------------------------------------------------------------------------


def test_candidates_obey_the_divisibility_rules() -> None:
    graph, network, request = tiny_gpt(), cluster(), space()
    candidates = _core.plan_candidates(graph, network, request)
    assert len(candidates) == _core.plan_space_size(graph, network, request)
    assert len({_key(c) for c in candidates}) == len(candidates)  # no configuration twice
    for c in candidates:
        assert c.tp * c.pp * c.dp * c.cp == 16
        assert 12 % c.tp == 0 and c.tp & (c.tp - 1) == 0 and c.tp <= 8
        assert 12 % (c.pp * c.vp) == 0 and c.vp <= 8 and (c.vp == 1 or c.pp > 1)
        assert 1024 % c.cp == 0 and c.cp <= 8
        assert c.dp * c.micro_batch * c.grad_accum == 64 and c.micro_batch <= 16
        assert c.vp == 1 or c.grad_accum % c.pp == 0  # Megatron's interleaved schedule
        assert c.zero == 0 or c.dp * c.cp > 1  # ZeRO shards over the dp·cp replicas
        assert not c.sequence_parallel or c.tp > 1
    # Every value of every searched dimension occurs.
    assert {c.tp for c in candidates} == {1, 2, 4}  # 8 does not divide 12 heads
    assert {c.pp for c in candidates} == {1, 2, 4}  # divisors of 12 that divide 16 devices / tp·cp
    assert {c.cp for c in candidates} == {1, 2, 4, 8}
    assert {int(c.recompute) for c in candidates} == {0, 1, 2}
    assert {c.zero for c in candidates} == {0, 1, 2, 3}


def _brute_force(graph, device, network, request):
    """Every candidate through `_core.evaluate`, ranked like the planner (time, then order)."""
    results = []
    for index, config in enumerate(_core.plan_candidates(graph, network, request)):
        e = _core.evaluate(graph, device, network, config)
        results.append((e.step_time_s, index, e.memory.total, e.fits, config))
    return results


def test_plan_matches_a_brute_force_loop_over_the_same_configurations() -> None:
    graph, device, network, request = tiny_gpt(), v100(), cluster(), space(top_k=8)
    every = _brute_force(graph, device, network, request)
    result = _core.plan(graph, device, network, request)
    assert result.space == len(every)
    assert result.fitting == sum(1 for entry in every if entry[3])
    ranked, seen = [], set()
    for step, index, memory, fits, config in sorted(every, key=lambda entry: entry[:2]):
        if fits and (step, memory) not in seen:  # twins: the first enumerated is kept
            seen.add((step, memory))
            ranked.append((step, index))
    assert [(p.step_time_s, p.index) for p in result.plans] == ranked[:8]
    fastest = min(every, key=lambda entry: entry[:2])
    assert (result.fastest.step_time_s, result.fastest.index) == fastest[:2]
    leanest = min(every, key=lambda entry: (entry[2], entry[1]))
    assert result.leanest.index == leanest[1]
    # The time–memory frontier: no configuration is both faster and leaner than a point on it.
    pareto = {entry[1] for entry in every
              if not any(other[0] <= entry[0] and other[2] <= entry[2]
                         and (other[0], other[2], other[1]) < (entry[0], entry[2], entry[1])
                         for other in every)}
    assert {p.index for p in result.frontier} == pareto
    assert [p.step_time_s for p in result.frontier] == sorted(p.step_time_s for p in result.frontier)
    for plan_ in result.plans:
        assert plan_.fits and plan_.memory_bytes <= device.capacity_bytes
        assert plan_.memory_bytes == pytest.approx(plan_.memory.total, rel=1e-12)
        assert plan_.time.total == pytest.approx(plan_.step_time_s, rel=1e-12)


def test_dimension_summaries_count_every_configuration() -> None:
    graph, device, network, request = tiny_gpt(), v100(), cluster(), space()
    every = _brute_force(graph, device, network, request)
    result = _core.plan(graph, device, network, request)
    names = [d.name for d in result.dimensions]
    assert names == ["tp", "pp", "dp", "cp", "vp", "micro_batch", "recompute", "zero", "sequence_parallel"]
    tp = {v.value: v for v in result.dimensions[0].values}
    for value, summary in tp.items():
        mine = [entry for entry in every if entry[4].tp == value]
        assert summary.configs == len(mine)
        assert summary.fitting == sum(1 for entry in mine if entry[3])
        fitting = [entry for entry in mine if entry[3]]
        if fitting:
            assert summary.best.step_time_s == min(entry[0] for entry in fitting)
    assert sum(v.configs for v in result.dimensions[0].values) == result.space


def test_the_answer_does_not_depend_on_the_thread_count() -> None:
    graph, device, network = tiny_gpt(), v100(), cluster(nodes=4)
    answers = []
    for threads in (1, 2, 3, 8):
        result = _core.plan(graph, device, network, space(top_k=20, threads=threads))
        answers.append(([p.index for p in result.plans], result.fitting, result.fastest.index,
                        [p.index for p in result.frontier], result.leanest.index))
    assert all(answer == answers[0] for answer in answers)


def test_selective_recompute_twins_are_listed_once_with_fused_attention() -> None:
    # Fused attention saves nothing quadratic, so selective recompute changes nothing.
    result = _core.plan(tiny_gpt(fused=True), v100(32), cluster(), space(top_k=30))
    keys = [(p.step_time_s, p.memory_bytes) for p in result.plans]
    assert len(keys) == len(set(keys)) == 30
    assert all(int(p.config.recompute) != 1 for p in result.plans)


def test_progress_is_reported_and_an_exception_from_it_cancels_the_search() -> None:
    calls: list[tuple[int, int]] = []
    result = _core.plan(tiny_gpt(), v100(), cluster(), space(), lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (result.space, result.space)
    assert all(done <= total for done, total in calls)

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        _core.plan(tiny_gpt(), v100(), cluster(), space(), stop)


def test_nothing_fits_is_a_result() -> None:
    result = _core.plan(tiny_gpt(), v100(0.25), cluster(), space())
    assert result.space > 0 and result.fitting == 0 and list(result.plans) == []
    assert not result.leanest.fits and result.leanest.memory_bytes > 0.25 * GiB


def test_no_valid_layout_is_an_empty_space() -> None:
    # 3 heads (tp 1), no repeated segment (pp 1), no tokens (cp 1): dp 16 must divide 7.
    graph = tiny_gpt(layers=1, heads=3, hidden=768)
    request = space(global_batch=7, seq=0)
    result = _core.plan(graph, v100(), cluster(), request)
    assert result.space == 0 and list(result.plans) == [] and result.fitting == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("global_batch", 0, "global_batch"),
        ("global_batch", -5, "global_batch"),
        ("top_k", 0, "top_k"),
        ("max_vp", 0, "max_vp"),
        ("max_cp", 4096, "max_cp"),
        ("max_micro_batch", 0, "max_micro_batch"),
        ("threads", -1, "threads"),
        ("ep", 0, "ep"),
        ("zero", [4], "zero"),
        ("zero", [], "zero"),
        ("recompute", [], "recompute"),
        ("sequence_parallel", [2], "sequence_parallel"),
        ("tokens_per_sample", -1, "tokens_per_sample"),
    ],
)
def test_bad_requests_raise_value_error(field: str, value: object, message: str) -> None:
    request = space()
    setattr(request, field, value)
    with pytest.raises(ValueError, match=message):
        _core.plan(tiny_gpt(), v100(), cluster(), request)


def test_bad_graph_device_or_network_raise_value_error() -> None:
    with pytest.raises(ValueError, match="graph"):
        _core.plan(_core.Graph(), v100(), cluster(), space())
    with pytest.raises(ValueError, match="device"):
        _core.plan(tiny_gpt(), v100(0), cluster(), space())
    network = cluster()
    network.nodes = 0
    with pytest.raises(ValueError, match="network"):
        _core.plan(tiny_gpt(), v100(), network, space())


def test_a_huge_space_is_refused_not_run() -> None:
    # 2^24 devices, 11 tp × 4 cp × 13 pp × up to 7 vp × hundreds of micro-batches (the batch
    # 2^24 · 45045 has many divisors) × 24 recompute/ZeRO/sp choices.
    request = space(global_batch=(1 << 24) * 45045)
    request.max_micro_batch = 65536
    request.max_vp = 64
    with pytest.raises(ValueError, match="2\\^24 configurations"):
        _core.plan_space_size(tiny_gpt(layers=1 << 12, heads=1024, hidden=1024),
                              cluster(1024, 1 << 14), request)


# --- the Python planner -----------------------------------------------------------------------


@pytest.mark.parametrize("attention", [None, "unfused"])
def test_each_plan_is_a_full_estimate_with_the_native_step_time(attention: str | None) -> None:
    report = plan("bert-large", "v100x8", top=3, attention=attention)
    assert 1 <= len(report.plans) <= 3
    problem = _Problem("bert-large", "v100x8", None, {"attention": attention})
    native, _ = _native_plan(problem, problem.system, 3, _limits(0, 8, 8, 64, 0), None, "")
    assert [p.step_time_s for p in report.plans] == pytest.approx(
        [p.step_time_s for p in native.plans], rel=1e-12)
    assert [p.memory.per_device_bytes for p in report.plans] == pytest.approx(
        [p.memory_bytes for p in native.plans], rel=1e-12)
    for estimate_ in report.plans:
        c = estimate_.config
        assert estimate_.memory.fits
        assert c.tp * c.pp * c.dp * c.cp == 8 and c.global_batch == 256
    assert report.explanation.binding in {"memory", "bubble", "communication"}
    data = json.loads(report.to_json())
    assert set(data["plans"][0]) >= {"model", "config", "step_time_s", "breakdown_s", "memory",
                                     "mfu", "samples_per_s", "max_micro_batch", "run", "warnings"}


def test_gpt3_175b_on_128_dgx_a100_nodes_plans_in_time_and_names_the_constraint() -> None:
    start = time.perf_counter()
    report = plan("gpt3-175b", "dgx-a100", 128)
    elapsed = time.perf_counter() - start
    assert report.search.configurations > 10_000
    assert report.search.seconds < 2.0 and elapsed < 4.0  # the CLI answer is timed in benchmarks/
    best = report.plans[0]
    assert best.memory.fits and best.config.devices == 1024
    binding = report.explanation.binding
    assert binding in {"memory", "bubble", "communication"}
    assert f"binding constraint: {binding}" in report.explanation.summary
    assert report.explanation.reasons[0].startswith(f"binding constraint {binding}")


def test_plan_rejects_searched_options_and_bad_limits() -> None:
    with pytest.raises(EstimatorError, match="--tp: the planner searches it"):
        plan("bert-large", "v100x8", tp=2)
    with pytest.raises(EstimatorError, match="--top 0"):
        plan("bert-large", "v100x8", top=0)
    with pytest.raises(EstimatorError, match="--max-vp 0"):
        plan("bert-large", "v100x8", max_vp=0)
    with pytest.raises(EstimatorError, match="--objective speed"):
        plan("bert-large", "v100x8", objective="speed")  # type: ignore[arg-type]


def test_fixed_choices_are_kept() -> None:
    report = plan("bert-large", "v100x8", top=5, recompute="full", zero=1)
    assert {(p.config.recompute, p.config.zero) for p in report.plans} <= {("full", 1), ("full", 0)}


def test_deadline_finds_the_fewest_nodes_that_finish() -> None:
    report = plan_deadline("gpt3-175b", "dgx-a100", 30, tokens=300e9)
    info = report.deadline
    assert info is not None and info.nodes is not None
    chosen = report.plans[0]
    assert chosen.config.nodes == info.nodes
    assert chosen.run is not None and chosen.run.time_s <= 30 * 86400
    tried = {t.nodes: t for t in info.tried}
    assert tried[info.nodes].finishes
    assert all(not t.finishes for t in info.tried if t.nodes < info.nodes)
    assert info.steps == math.ceil(300e9 / 2048 / 1536)


def test_deadline_needs_a_run_size_and_reports_an_impossible_one() -> None:
    with pytest.raises(EstimatorError, match="--deadline: needs the run size"):
        plan_deadline("gpt2", "v100x8", 1)
    report = plan_deadline("gpt3-175b", "dgx-a100", 0.01, tokens=300e9, max_nodes=4)
    assert report.plans == [] and report.deadline is not None and report.deadline.nodes is None
    assert "no configuration finishes" in report.explanation.summary


# --- the command ------------------------------------------------------------------------------


def test_cli_json_is_one_object_with_plans(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "bert-large", "--hw", "v100x8", "--top", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["plans"]) == 2 and data["explanation"]["binding"] in {"memory", "bubble", "communication"}


def test_cli_table_explains_the_winner(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "bert-large", "--hw", "v100x8", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Best 3 plans" in out and "Why #1:" in out and "binding constraint" in out


def test_cli_bad_input_is_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "bert-large", "--hw", "v100x8", "--deadline", "3"]) == 2
    assert "--deadline: needs the run size" in capsys.readouterr().err
    assert run(["plan", "bert-large", "--hw", "v100x8", "--top", "0"]) == 2
    assert "--top" in capsys.readouterr().err


def test_the_progress_bar_appears_only_after_a_second_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from estimator.planner_cli import LazyProgress

    stream = io.StringIO()
    progress = LazyProgress(Console(file=stream, force_terminal=True, width=100))
    progress(10, 100, "128 nodes")
    assert progress.bar is None  # under a second: nothing shown
    progress.start -= 2.0
    progress(50, 100, "128 nodes")
    assert progress.bar is not None
    progress.close()
    assert "planning 128 nodes" in stream.getvalue()
    piped = LazyProgress(Console(file=io.StringIO(), force_terminal=False))
    piped.start -= 2.0
    piped(50, 100, "128 nodes")
    assert piped.bar is None  # never on a pipe


def test_a_failure_on_a_worker_thread_is_a_value_error() -> None:
    graph = tiny_gpt()
    layer = graph.segments[1]
    ops = list(layer.ops)
    ops[1].m = ops[1].k = ops[1].n = 1e120  # FLOPs overflow to infinity
    layer.ops = ops
    graph.segments = [graph.segments[0], layer, graph.segments[2]]
    with pytest.raises(ValueError, match="not finite"):
        _core.plan(graph, v100(), cluster(8, 4), space(threads=4))
