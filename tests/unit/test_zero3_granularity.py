"""ZeRO-3's collectives per operator (DeepSpeed) or per layer (PyTorch FSDP, `--fsdp`): DESIGN §7."""

import pytest

import estimator
from estimator.errors import EstimatorError
from estimator.planner import plan

ALPHA_US = 1e5  # 0.1 s per inter-node hop: every collective is latency, and all of it is exposed
OPTIONS = dict(precision="bf16", global_batch=32, micro_batch=1, zero=3, cuda_graphs=True)


def _slow_network(nodes: int = 4) -> estimator.SystemSpec:
    return estimator.load_hardware("a100x8", nodes=nodes).model_copy(update={"inter_node_latency_us": ALPHA_US})


def _collectives(model: str) -> tuple[int, int]:
    """(operators holding parameters, layers holding parameters) of a model's graph."""
    graph = estimator.lower(estimator.load_model(model))
    operators = sum(segment.repeat * sum(op.params > 0 for op in segment.ops) for segment in graph.segments)
    layers = sum(segment.repeat for segment in graph.segments if any(op.params > 0 for op in segment.ops))
    return operators, layers


def test_fsdp_pays_one_ring_latency_per_layer_where_deepspeed_pays_one_per_operator() -> None:
    operators, layers = _collectives("gpt2")
    assert (operators, layers) == (2 + 12 * 6 + 1, 1 + 12 + 1)  # embeddings, 12 blocks, final norm
    system = _slow_network()
    deepspeed = estimator.estimate("gpt2", system, **OPTIONS)
    fsdp = estimator.estimate("gpt2", system, fsdp=True, **OPTIONS)
    assert fsdp.config.fsdp and fsdp.config.zero == 3 and not deepspeed.config.fsdp
    # Exposed = gathers (2 passes) + the gradient reduce-scatter − the compute window + the last
    # bucket; each gather and the reduce-scatter lose (operators − layers) ring latencies.
    ring = (32 - 1) * ALPHA_US * 1e-6
    saved = (2 + 1) * (operators - layers) * ring
    assert deepspeed.communication_s["dp"] - fsdp.communication_s["dp"] == pytest.approx(saved, rel=1e-9)
    assert deepspeed.memory == fsdp.memory


def test_full_recomputation_gathers_a_third_time() -> None:
    system = _slow_network()
    operators, layers = _collectives("gpt2")
    ring = (32 - 1) * ALPHA_US * 1e-6
    deepspeed = estimator.estimate("gpt2", system, recompute="full", **OPTIONS)
    fsdp = estimator.estimate("gpt2", system, recompute="full", fsdp=True, **OPTIONS)
    assert deepspeed.communication_s["dp"] - fsdp.communication_s["dp"] == pytest.approx(
        (3 + 1) * (operators - layers) * ring, rel=1e-9)


def test_fsdp_means_zero_3() -> None:
    assert estimator.estimate("gpt2", "a100x8", fsdp=True).config.zero == 3
    with pytest.raises(EstimatorError, match=r"^--fsdp: FSDP shards the parameters \(zero 3\), not zero 1$"):
        estimator.estimate("gpt2", "a100x8", fsdp=True, zero=1)


def test_the_planner_runs_its_zero_3_candidates_as_fsdp() -> None:
    options = dict(nodes=2, global_batch=64, zero=3, top=5, max_tp=1, max_cp=1)
    fsdp = plan("gpt2", "a100x8", fsdp=True, **options)
    deepspeed = plan("gpt2", "a100x8", **options)
    for best in fsdp.plans:  # sharded wherever there is data parallelism to shard over
        assert best.config.fsdp == (best.config.zero == 3)
    assert not any(best.config.fsdp for best in deepspeed.plans)
    assert fsdp.plans[0].step_time_s < deepspeed.plans[0].step_time_s
