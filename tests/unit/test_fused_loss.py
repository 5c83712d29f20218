"""`--fused-loss`: a fused softmax-cross-entropy kernel instead of PyTorch's fp32 one (DESIGN §2.8)."""

import json

import pytest

import estimator
from estimator.cli import run
from estimator.planner import plan
from estimator.specs.hardware import load_stack

OPTIONS = dict(precision="bf16", micro_batch=1, global_batch=1, attention="fused")


def test_the_loss_keeps_the_logits_instead_of_fp32_log_probabilities_and_gradients() -> None:
    plain = estimator.estimate("gpt2", "h100x1", **OPTIONS)
    fused = estimator.estimate("gpt2", "h100x1", fused_loss=True, **OPTIONS)
    logits = 1024 * 50257  # one sequence of GPT-2's 1,024 tokens over its 50,257 words
    # Saved: fp32 log-probabilities (4 bytes) -> the bf16 logits (2). Backward peak: two fp32
    # gradients (8 bytes) -> one bf16 gradient (2).
    assert plain.memory.activations_bytes - fused.memory.activations_bytes == pytest.approx(
        (4 - 2) * logits + (8 - 2) * logits, rel=1e-12)
    assert fused.config.fused_loss and not plain.config.fused_loss
    assert fused.model.flops_per_sample == plain.model.flops_per_sample


def test_the_cli_and_the_planner_take_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["gpt2", "--hw", "h100x1", "--micro-batch", "2", "--global-batch", "2", "--fused-loss", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["fused_loss"] is True
    fused = plan("gpt2", "h100x8", global_batch=64, fused_loss=True, top=3)
    plain = plan("gpt2", "h100x8", global_batch=64, top=3)
    assert all(best.config.fused_loss for best in fused.plans)
    # The same layouts fit more per device with the fused loss.
    assert fused.search.fitting >= plain.search.fitting


def test_a_language_model_that_does_not_fit_is_pointed_at_the_fused_loss() -> None:
    def hint(model: str, hw: str, **options: object) -> str:
        result = estimator.estimate(model, hw, **options)
        assert not result.memory.fits
        return next(w for w in result.warnings if w.startswith("does not fit"))

    # LLaMA-2 7B: 4,096 tokens over 32,000 words; the fused loss keeps 8 bytes less per logit
    # (§2.8), and the allocator's fragmentation share of activations goes with them (§6).
    logits = 4096 * 32000
    fragmentation = load_stack("cuda").allocator_fragmentation
    saving = 8 * logits * (1 + fragmentation) / 2**30
    assert f"--fused-loss (saves {saving:.1f} GiB)" in hint("llama2-7b", "h100x8", micro_batch=1, global_batch=8)
    assert "--fused-loss" not in hint("llama2-7b", "h100x8", micro_batch=1, global_batch=8, fused_loss=True)
    # ImageNet's 1,000 classes are no large vocabulary.
    assert "--fused-loss" not in hint("resnet50", "k80x1", micro_batch=512, global_batch=512)
