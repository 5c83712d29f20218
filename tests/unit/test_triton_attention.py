"""`--attention triton`: the FlashAttention algorithm written in Triton (DESIGN §3).

The same fused kernel as FlashAttention-2 (the same FLOPs, bytes and saved tensors), slower by
the software stack's `triton_attention_slowdown`: Dao 2023 (arXiv:2307.08691) §4.1 measures
FlashAttention-2 1.3-1.5x faster forward and 2x faster backward, so with a backward of 2.5 forward
FLOPs the pair takes (1.4 + 2.5 x 2) / 3.5 = 1.83x as long.
"""

import json

import pytest

import estimator
from estimator.cli import run
from estimator.estimate import native_device
from estimator.specs.hardware import load_device, load_stack
from estimator.specs.training import AttentionKernel

# A 1.3B GPT's causal attention at 8k tokens, alone: compute-bound on any GPU.
CORE = {"name": "attention-8k", "family": "graph",
        "ops": [{"kind": "attention", "m": 8192, "heads": 16, "head_dim": 128, "causal": True}]}


def test_the_slowdown_follows_from_the_papers_forward_and_backward_speedups() -> None:
    forward, backward, bwd_flops = 1.4, 2.0, 2.5  # midpoint of 1.3-1.5; ~2x; FlashAttention's convention
    assert load_stack("cuda").triton_attention_slowdown == pytest.approx(
        (forward + bwd_flops * backward) / (1 + bwd_flops), abs=0.005)


@pytest.mark.parametrize("device", ["a100-80g", "h100"])
def test_the_kernel_runs_at_the_fused_efficiency_over_the_slowdown(device: str) -> None:
    spec = load_device(device)
    slowdown = load_stack(spec.stack).triton_attention_slowdown
    assert native_device(spec, "bf16", "triton").eff_attention == pytest.approx(
        native_device(spec, "bf16", "fused").eff_attention / slowdown, rel=1e-12)
    fused, triton = (estimator.estimate(CORE, f"{device}x1", precision="bf16", attention=kernel, micro_batch=1,
                                        global_batch=1) for kernel in ("fused", "triton"))
    assert fused.breakdown_s["memory_bound"] == triton.breakdown_s["memory_bound"] == 0
    assert triton.breakdown_s["compute"] == pytest.approx(slowdown * fused.breakdown_s["compute"], rel=1e-12)


def test_it_is_a_fused_kernel_to_the_core() -> None:
    assert AttentionKernel.TRITON.native == "fused"


def test_the_cli_takes_it_and_echoes_it(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["gpt2", "--hw", "a100-80gx1", "--micro-batch", "8", "--global-batch", "8", "--json"]
    assert run(args + ["--attention", "triton"]) == 0
    triton = json.loads(capsys.readouterr().out)
    assert run(args + ["--attention", "fused"]) == 0
    fused = json.loads(capsys.readouterr().out)
    assert triton["config"]["attention"] == "triton"
    assert triton["step_time_s"] > fused["step_time_s"]
    assert triton["memory"]["per_device_bytes"] == fused["memory"]["per_device_bytes"]


def test_a_stack_without_the_kernel_refuses_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["gpt2", "--hw", "tpu-v4-8", "--attention", "triton"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("estimate: error: --attention triton: the xla-tpu software stack of tpu-v4 has no "
                   "Triton attention kernel (valid there: fused, cudnn, unfused, eager)")
