"""GEMMs whose n or k is not a multiple of 16 bytes run narrower cuBLAS kernels (DESIGN §3)."""

import pytest

import estimator
from estimator.specs.hardware import load_stack


def _gpt2(vocab: int) -> estimator.ModelSpec:
    return estimator.load_model("gpt2").model_copy(update={"vocab": vocab})


def _lm_head_s(result: estimator.Estimate) -> float:
    return next(op.time_s for op in result.top_ops if op.name == "head/lm")


def test_an_odd_vocabulary_slows_the_lm_head_by_the_stack_factor_and_says_so() -> None:
    options = dict(precision="bf16", micro_batch=16, global_batch=16)
    odd = estimator.estimate(_gpt2(50257), "h100x1", **options)
    padded = estimator.estimate(_gpt2(50304), "h100x1", **options)
    assert any("'head/lm'" in w and "pad it" in w for w in odd.warnings)
    assert not any("pad it" in w for w in padded.warnings)
    factor = load_stack("cuda").matmul_misaligned[2]
    # Compute-bound either way: the time scales with FLOPs / efficiency (launches aside).
    ratio = _lm_head_s(odd) / _lm_head_s(padded) * 50304 / 50257
    assert ratio == pytest.approx(1 / factor, rel=0.01)
    assert odd.step_time_s > padded.step_time_s


def test_tensor_parallel_shards_are_what_must_align() -> None:
    # 50,304 / 4 = 12,576 columns per device (a multiple of 8): aligned; 50,264 / 4 = 12,566: 4-byte aligned.
    options = dict(precision="bf16", micro_batch=1, global_batch=1, tp=4)
    assert not any("pad it" in w for w in estimator.estimate(_gpt2(50304), "h100x4", **options).warnings)
    assert any("'head/lm'" in w for w in estimator.estimate(_gpt2(50264), "h100x4", **options).warnings)


def test_xla_pads_for_itself() -> None:
    result = estimator.estimate(_gpt2(50257), "tpu-v3-8", precision="bf16", micro_batch=8, global_batch=64)
    assert not any("pad it" in w for w in result.warnings)
