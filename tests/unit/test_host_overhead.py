"""An eager host issues every kernel; CUDA graphs take it out of the step (DESIGN §7)."""

import pytest

import estimator
from estimator.specs.hardware import load_stack


def _operators(model: str) -> int:
    return estimator.lower(estimator.load_model(model)).operators


@pytest.mark.parametrize("model", ["gpt2", "resnet50"])
def test_a_tiny_batch_is_bound_by_the_host(model: str) -> None:
    per_op = load_stack("cuda").host_time_per_operator_us * 1e-6
    eager = estimator.estimate(model, "h100x1", micro_batch=1, global_batch=1)
    graphs = estimator.estimate(model, "h100x1", micro_batch=1, global_batch=1, cuda_graphs=True)
    # Forward and backward each wait for the host: at least operators × t_host in all.
    assert eager.step_time_s - eager.breakdown_s["optimizer"] >= _operators(model) * per_op * (1 - 1e-9)
    assert graphs.step_time_s < eager.step_time_s / 2
    assert eager.breakdown_s["overhead"] > graphs.breakdown_s["overhead"]
    assert eager.config.cuda_graphs is False and graphs.config.cuda_graphs is True


def test_a_large_batch_hides_the_host() -> None:
    eager = estimator.estimate("gpt2", "h100x1", micro_batch=32, global_batch=32)
    graphs = estimator.estimate("gpt2", "h100x1", micro_batch=32, global_batch=32, cuda_graphs=True)
    assert eager.step_time_s == graphs.step_time_s


def test_xla_has_no_host_floor() -> None:
    # XLA compiles the whole step: a tiny batch on a TPU is not held back by the host.
    options = dict(micro_batch=1, global_batch=4)  # one sequence per chip of the v4-8
    eager = estimator.estimate("gpt2", "tpu-v4-8", **options)
    assert eager.step_time_s == estimator.estimate("gpt2", "tpu-v4-8", cuda_graphs=True, **options).step_time_s
    assert eager.step_time_s < estimator.lower(estimator.load_model("gpt2")).operators * 1e-6 * load_stack(
        "cuda").host_time_per_operator_us


def test_the_cli_takes_cuda_graphs(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from estimator.cli import run

    assert run(["gpt2", "--hw", "h100x1", "--micro-batch", "1", "--global-batch", "1", "--cuda-graphs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["cuda_graphs"] is True
