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


# --low-precision-norm (llm-foundry's low_precision_layernorm): the norm casts its fp32 input down
# once and normalises in bf16, so the matmul after it casts nothing.

def _native_ops():
    from estimator import _core
    from estimator.graph import OpKind, Operator, TpSplit
    from estimator.estimate import native_op

    norm = Operator(OpKind.NORM, "norm", elements=768, params=2 * 768, flops_per_element=5, saves_input=True,
                    tp=TpSplit.SEQUENCE, fp32_stream=True)
    qkv = Operator(OpKind.MATMUL, "qkv", m=1, k=768, n=2304, params=768 * 2304, tp=TpSplit.COLUMN,
                   casts_input=True)
    return _core, native_op(norm), native_op(qkv)


def test_a_low_precision_norm_casts_once_and_keeps_a_bf16_input() -> None:
    core, norm, qkv = _native_ops()
    b, e, n = 1024, 2.0, 768.0  # tokens, bf16 bytes, hidden
    fp32 = core.op_cost(norm, b, e, e, autocast=True)
    low = core.op_cost(norm, b, e, e, autocast=True, low_precision_norm=True)
    assert fp32.saved_bytes == 4 * b * n and low.saved_bytes == e * b * n
    # Forward: the cast reads fp32 and writes bf16 (its own kernel); the norm reads and writes bf16.
    assert low.fwd_side_bytes == (4 + e) * b * n and low.fwd_kernels == fp32.fwd_kernels + 1
    assert low.fwd_bytes == 2 * e * b * n + e * 2 * n
    assert fp32.fwd_bytes == 2 * 4 * b * n + e * 2 * n
    # A checkpoint at this norm still keeps the fp32 stream.
    assert low.input_bytes == fp32.input_bytes == 4 * b * n
    # The matmul after it no longer casts its input; its weight cast stays.
    cast_input = (4 + e) * b * 768
    assert (core.op_cost(qkv, b, e, e, autocast=True).fwd_side_bytes
            - core.op_cost(qkv, b, e, e, autocast=True, low_precision_norm=True).fwd_side_bytes) == cast_input


def test_low_precision_norms_lower_the_memory_and_time_of_an_autocast_step() -> None:
    amp = estimator.estimate("gpt2", "h100x1", precision="bf16", autocast=True, **OPTIONS)
    low = estimator.estimate("gpt2", "h100x1", precision="bf16", autocast=True, low_precision_norm=True, **OPTIONS)
    # Each of the 25 norms (two per block, the final one) keeps 2 bytes less per element.
    saved = 25 * 2 * OPTIONS["micro_batch"] * 1024 * 768
    assert amp.memory.activations_bytes - low.memory.activations_bytes == pytest.approx(saved, rel=1e-12)
    assert low.step_time_s < amp.step_time_s and low.config.low_precision_norm


def test_low_precision_norms_need_autocast() -> None:
    with pytest.raises(estimator.EstimatorError, match=r"^--low-precision-norm: only under --autocast"):
        estimator.estimate("gpt2", "h100x1", low_precision_norm=True)
