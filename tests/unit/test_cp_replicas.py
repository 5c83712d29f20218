"""Context-parallel ranks hold the same weights: gradients are reduced, and ZeRO shards, over
dp·cp (Megatron-core's data-parallel group "with context parallel"): DESIGN §5."""

import pytest

import estimator
from estimator import _core
from estimator.estimate import native_network

MODEL = "llama2-7b"
OPTIONS = dict(precision="bf16", global_batch=8, micro_batch=1, attention="fused")


@pytest.mark.parametrize(("zero", "sharded"), [(1, ("optimizer",)), (2, ("optimizer", "gradients")),
                                              (3, ("optimizer", "gradients", "weights"))])
def test_zero_shards_over_data_and_context_parallel_ranks(zero: int, sharded: tuple[str, ...]) -> None:
    replicated = estimator.estimate(MODEL, "h100x8", cp=2, zero=0, **OPTIONS)
    result = estimator.estimate(MODEL, "h100x8", cp=2, zero=zero, **OPTIONS)
    assert (result.config.dp, result.config.cp) == (4, 2)
    for part in ("weights", "gradients", "optimizer"):
        whole = getattr(replicated.memory, f"{part}_bytes")
        expected = whole / 8 if part in sharded else whole
        assert getattr(result.memory, f"{part}_bytes") == pytest.approx(expected, rel=1e-12)


def test_context_parallel_ranks_reduce_their_gradients_without_data_parallelism() -> None:
    # dp 1 · cp 8: each rank computed the gradient of its slice of every sequence; the sum
    # needs one all-reduce over the 8 ranks, exposed here through its last bucket at least.
    result = estimator.estimate(MODEL, "h100x8", cp=8, global_batch=1, micro_batch=1,
                                precision="bf16", attention="fused")
    assert (result.config.dp, result.config.cp) == (1, 8)
    network = native_network(estimator.load_hardware("h100x8"))
    last_bucket = _core.group_allreduce_s(25 * 2**20, 8, 1, network)  # DDP bucket_cap_mb=25 default
    assert result.communication_s["dp"] >= last_bucket > 0
