"""ZeRO-3 gathers that stall compute (`--blocking-gathers`, DeepSpeed ZeRO-3 of 2021): DESIGN §7."""

import pytest

import estimator
from estimator import _core
from estimator.estimate import native_network
from estimator.planner import plan

# One a100x8 node: GPT-2's gathers (a few ms) hide easily behind a micro-batch of 8 × 1024 tokens.
OPTIONS = dict(precision="bf16", global_batch=128, micro_batch=8, zero=3, cuda_graphs=True)


def _param_operators(model: str) -> int:
    graph = estimator.lower(estimator.load_model(model))
    return sum(segment.repeat * sum(op.params > 0 for op in segment.ops) for segment in graph.segments)


@pytest.mark.parametrize(("recompute", "passes"), [("none", 2), ("full", 3)])
def test_every_micro_batch_waits_for_its_own_gathers(recompute: str, passes: int) -> None:
    system = estimator.load_hardware("a100x8")
    prefetched = estimator.estimate("gpt2", system, recompute=recompute, **OPTIONS)
    blocking = estimator.estimate("gpt2", system, recompute=recompute, blocking_gathers=True, **OPTIONS)
    assert blocking.config.blocking_gathers and blocking.config.grad_accum == 2
    # Prefetched, the gathers hide behind compute; blocking, each of the m = 2 micro-batches pays
    # its `passes` gathers in full: G (the bytes) + one ring latency per further operator.
    network = native_network(system)
    gather = _core.group_reduce_scatter_s(2 * blocking.model.params, 8, 1, network)
    ring = (8 - 1) * network.intra_latency_s
    per_pass = gather + (_param_operators("gpt2") - 1) * ring
    added = blocking.communication_s["dp"] - prefetched.communication_s["dp"]
    assert added == pytest.approx(2 * passes * per_pass, rel=1e-9)
    assert blocking.step_time_s - prefetched.step_time_s == pytest.approx(added, rel=1e-9)
    assert blocking.memory == prefetched.memory


def test_blocking_gathers_mean_zero_3() -> None:
    assert estimator.estimate("gpt2", "a100x8", blocking_gathers=True).config.zero == 3
    with pytest.raises(estimator.EstimatorError,
                       match=r"^--blocking-gathers: only sharded parameters \(zero 3\) are gathered, not zero 2$"):
        estimator.estimate("gpt2", "a100x8", blocking_gathers=True, zero=2)


def test_the_planner_blocks_only_its_zero_3_candidates() -> None:
    options = dict(nodes=2, global_batch=64, top=20, max_tp=1, max_cp=1)
    blocking = plan("gpt2", "a100x8", blocking_gathers=True, **options)
    assert any(best.config.zero == 3 for best in blocking.plans)
    for best in blocking.plans:
        assert best.config.blocking_gathers == (best.config.zero == 3)


@pytest.mark.parametrize("option", ["fsdp", "blocking_gathers"])
def test_a_model_files_training_section_may_name_them_without_zero(tmp_path, option: str) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(f"preset: gpt2\ntraining:\n  {option}: true\n  global_batch: 64\n")
    result = estimator.estimate(str(path), "a100x8", nodes=2)
    assert result.config.zero == 3 and getattr(result.config, option)
