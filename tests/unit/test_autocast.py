"""Plain PyTorch AMP (torch.autocast over fp32 weights) against weights held in bf16 (DESIGN §2.9)."""

import json

import pytest

import estimator
from estimator.cli import run

OPTIONS = dict(micro_batch=16, global_batch=16, cuda_graphs=True)


def test_autocast_slows_a_transformer_by_its_stream_traffic() -> None:
    held = estimator.estimate("gpt2", "h100x1", precision="bf16", **OPTIONS)
    amp = estimator.estimate("gpt2", "h100x1", precision="bf16", autocast=True, **OPTIONS)
    assert amp.breakdown_s["compute"] == pytest.approx(held.breakdown_s["compute"], rel=1e-12)
    assert amp.breakdown_s["memory_bound"] > 1.1 * held.breakdown_s["memory_bound"]
    # fp32 norms save fp32 inputs: more activation memory, never less.
    assert amp.memory.activations_bytes > held.memory.activations_bytes
    assert amp.config.autocast and not held.config.autocast


def test_autocast_changes_nothing_in_fp32() -> None:
    plain = estimator.estimate("gpt2", "h100x1", precision="fp32", **OPTIONS)
    amp = estimator.estimate("gpt2", "h100x1", precision="fp32", autocast=True, **OPTIONS)
    assert amp.step_time_s == plain.step_time_s
    assert amp.memory.per_device_bytes == plain.memory.per_device_bytes


def test_the_cli_takes_autocast(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["gpt2", "--hw", "h100x1", "--micro-batch", "4", "--global-batch", "4", "--autocast", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["autocast"] is True
