"""`--loop-optimizer`: an optimizer step written as a Python loop over the parameter tensors
(PyTorch 1.x's default optimizers, Hugging Face's AdamW, BertAdam), host-bound (DESIGN §7)."""

import json

import pytest

import estimator
from estimator.cli import run
from estimator.reference import param_tensors
from estimator.specs.hardware import load_stack
from estimator.specs.model import model_from_mapping

SQUAD = {"preset": "bert-large", "vocab": 30528, "seq_len": 384, "head": "none", "nsp": False}


def _tensors(model: object) -> float:
    graph = estimator.lower(model)
    return sum(param_tensors(op) * seg.repeat for seg in graph.segments for op in seg.ops)


@pytest.mark.parametrize("model, tensors", [
    # len(list(model.parameters())) of the reference implementations:
    ("resnet50", 161),  # torchvision: 53 convolutions, 53 BatchNorms (weight, bias), fc (weight, bias)
    ("llama2-7b", 291),  # Hugging Face: 32 x (q, k, v, o, gate, up, down, 2 RMSNorms), embed, norm, lm_head
    (SQUAD, 391),  # BertModel: 5 embedding tensors, 24 x 16 (q, k, v separate), pooler
])
def test_parameter_tensors_are_counted_as_the_frameworks_hold_them(model: object, tensors: int) -> None:
    spec = model_from_mapping(model, "squad.yaml") if isinstance(model, dict) else estimator.load_model(model)
    assert _tensors(spec) == tensors


def test_the_host_issues_the_loop_and_binds_where_its_traffic_does_not() -> None:
    spec = model_from_mapping(SQUAD, "squad.yaml")
    options = dict(precision="tf32", optimizer="adamw", micro_batch=32, global_batch=32, attention="eager")
    loop = estimator.estimate(spec, "h200x1", loop_optimizer=True, **options)
    foreach = estimator.estimate(spec, "h200x1", foreach_optimizer=True, **options)
    per_tensor = load_stack("cuda").loop_optimizer_us_per_tensor * 1e-6
    assert loop.breakdown_s["optimizer"] == pytest.approx(391 * per_tensor, rel=1e-12)
    assert foreach.breakdown_s["optimizer"] < loop.breakdown_s["optimizer"]
    assert loop.step_time_s - foreach.step_time_s == pytest.approx(
        loop.breakdown_s["optimizer"] - foreach.breakdown_s["optimizer"], rel=1e-9)
    assert loop.config.loop_optimizer and not loop.config.foreach_optimizer
    # Gradient accumulation amortises it: one step of the loop per 8 micro-batches.
    accumulated = estimator.estimate(spec, "h200x1", loop_optimizer=True,
                                     **{**options, "global_batch": 256})
    assert accumulated.breakdown_s["optimizer"] == loop.breakdown_s["optimizer"]


def test_without_a_host_cost_per_tensor_the_loop_is_its_traffic() -> None:
    """XLA compiles the update into the step (the TPU stack carries no loop cost): a looping
    optimizer then costs what the multi-tensor step's passes cost."""
    options = dict(precision="bf16", optimizer="adamw", micro_batch=8, global_batch=64)
    loop = estimator.estimate("bert-large", "tpu-v3-8", loop_optimizer=True, **options)
    foreach = estimator.estimate("bert-large", "tpu-v3-8", foreach_optimizer=True, **options)
    assert load_stack("xla-tpu").loop_optimizer_us_per_tensor == 0.0
    assert loop.breakdown_s["optimizer"] == foreach.breakdown_s["optimizer"]


def test_the_cli_takes_it_and_refuses_it_with_the_multi_tensor_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bert-large", "--hw", "v100x1", "--loop-optimizer", "--micro-batch", "4", "--global-batch", "4",
                "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["loop_optimizer"] is True
    assert run(["bert-large", "--hw", "v100x1", "--loop-optimizer", "--foreach-optimizer"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "a Python loop over the tensors is not also the multi-tensor (foreach) step; choose one")
