"""Tensor-parallel collectives pipelined with their GEMMs (`--tp-overlap`, Transformer Engine's
userbuffers overlap): DESIGN §7."""

from __future__ import annotations

from typing import Any

import pytest

import estimator
from estimator import _core
from estimator.planner import plan

TP = 4
BYTES = 2.0  # bf16 activations


def row_parallel(m: float, k: float, n: float) -> Any:
    op = _core.Op()
    op.kind, op.name, op.tp = _core.OpKind.matmul, "out", _core.TpSplit.row
    op.m, op.k, op.n, op.params = m, k, n, k * n
    return op


def one_op_graph(op: Any) -> Any:
    graph, segment = _core.Graph(), _core.Segment()
    graph.name, segment.name, segment.ops, segment.repeat = "g", "layer", [op], 1
    graph.segments = [segment]
    return graph


def device() -> Any:
    d = _core.Device()
    d.peak_matmul_flops, d.peak_vector_flops, d.bandwidth_Bps = 1e15, 5e13, 3e12
    d.eff_matmul = d.eff_conv = d.eff_memory = 1.0
    d.capacity_bytes = 80 * 2.0**30
    return d


def network() -> Any:
    n = _core.Network()
    n.devices_per_node, n.nodes = TP, 1
    n.intra_Bps, n.inter_Bps, n.intra_latency_s, n.inter_latency_s = 1e11, 1e10, 5e-6, 1e-5
    return n


def tp_seconds(op: Any, overlap: bool) -> tuple[float, float]:
    """(exposed tensor-parallel seconds per step, forward GEMM kernel seconds) of the graph."""
    config = _core.Config()
    config.tp, config.dp, config.tp_overlap = TP, 1, overlap
    result = _core.evaluate(one_op_graph(op), device(), network(), config)
    fwd = result.ops[0].fwd
    return result.time.tp_communication, fwd.compute_s + fwd.memory_s


@pytest.mark.parametrize("k", [64.0, 1024.0, 16384.0])
def test_exposed_time_is_one_chunk_or_what_the_gemm_cannot_cover(k: float) -> None:
    op = row_parallel(8192.0, k, 8192.0)
    comm = _core.ring_allreduce_s(BYTES * 8192 * 8192, TP, _core.Link(1e11, 5e-6))
    plain, _ = tp_seconds(op, overlap=False)
    overlapped, gemm = tp_seconds(op, overlap=True)
    assert plain == pytest.approx(comm, rel=1e-12)
    assert overlapped == pytest.approx(max(comm / TP, comm - gemm), rel=1e-12)


def test_a_long_gemm_hides_all_but_the_first_chunk_and_a_short_one_almost_nothing() -> None:
    long_gemm, _ = tp_seconds(row_parallel(8192.0, 65536.0, 8192.0), overlap=True)
    short_gemm, _ = tp_seconds(row_parallel(8192.0, 16.0, 8192.0), overlap=True)
    plain, _ = tp_seconds(row_parallel(8192.0, 16.0, 8192.0), overlap=False)
    assert long_gemm == pytest.approx(plain / TP, rel=1e-12)
    assert plain / TP < short_gemm < plain


def test_the_option_is_echoed_and_means_nothing_without_tensor_parallelism() -> None:
    options = dict(global_batch=8, micro_batch=1)
    on = estimator.estimate("gpt2", "a100x8", tp_overlap=True, **options)
    off = estimator.estimate("gpt2", "a100x8", **options)
    assert on.config.tp_overlap and not off.config.tp_overlap
    assert on.step_time_s == off.step_time_s


def test_the_planner_carries_the_option_into_its_plans() -> None:
    options = dict(global_batch=64, top=20, max_micro_batch=8)
    on = plan("llama2-7b", "a100x8", tp_overlap=True, **options)
    off = plan("llama2-7b", "a100x8", **options)
    assert all(best.config.tp_overlap for best in on.plans)
    assert on.plans[0].step_time_s <= off.plans[0].step_time_s
    # The same tensor-parallel configuration, re-estimated alone, keeps what the planner found.
    split = next(best for best in on.plans if best.config.tp > 1)
    again = estimator.estimate("llama2-7b", "a100x8", tp=split.config.tp, pp=split.config.pp,
                               cp=split.config.cp, vp=split.config.vp, zero=split.config.zero,
                               micro_batch=split.config.micro_batch, global_batch=64,
                               recompute=split.config.recompute,
                               sequence_parallel=split.config.sequence_parallel, tp_overlap=True)
    assert again.step_time_s == pytest.approx(split.step_time_s, rel=1e-12)
