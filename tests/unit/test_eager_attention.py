"""`--attention eager`: unfused attention as plain framework code (DESIGN §2.3).

Against `unfused` (scale and mask inside the softmax kernel), eager attention adds one pass of
the scale over the scores each way, a broadcasting mask add forward, and the copies of Q, K, V
and the context to and from the heads-first layout (and of their gradients backward). The
broadcast and the copies run in PyTorch's non-vectorised elementwise kernel, timed at the stack's
strided efficiency.
"""

import json
from dataclasses import replace

import pytest

import estimator
from estimator import _core, reference
from estimator.cli import run
from estimator.estimate import native_device, native_op
from estimator.graph import Operator, OpKind
from estimator.specs.hardware import load_device, load_stack
from estimator.specs.model import model_from_mapping

# BERT-Large's attention at SQuAD's sequence 384: 16 heads of 64.
ATTENTION = Operator(kind=OpKind.ATTENTION, name="attention/core", m=384, seq_kv=384, heads=16,
                     kv_heads=16, head_dim=64, dropout=True)


@pytest.mark.parametrize("e", [2.0, 4.0])
def test_eager_adds_the_scale_the_mask_and_the_layout_copies(e: float) -> None:
    b = 32
    unfused = _core.op_cost(native_op(ATTENTION), b, e, e)
    eager = _core.op_cost(native_op(replace(ATTENTION, eager=True)), b, e, e)
    scores = b * 16 * 384 * 384
    layout = 2 * e * b * 384 * 16 * 64  # one of Q, K, V or the context, read and written
    assert eager.fwd_side_bytes - unfused.fwd_side_bytes == 2 * e * scores  # the scale
    assert eager.bwd_side_bytes - unfused.bwd_side_bytes == 2 * e * scores  # its gradient
    assert eager.fwd_strided_bytes == 2 * e * scores + 4 * layout  # the mask add, four copies
    assert eager.bwd_strided_bytes == 4 * layout  # the gradients' copies
    assert (eager.fwd_kernels - unfused.fwd_kernels, eager.bwd_kernels - unfused.bwd_kernels) == (6, 5)
    # The same FLOPs, main-kernel bytes and saved tensors: the copies replace what the GEMMs save.
    for name in ("fwd_flops", "bwd_flops", "fwd_bytes", "bwd_bytes", "saved_bytes", "saved_quadratic_bytes"):
        assert getattr(eager, name) == getattr(unfused, name), name


@pytest.mark.parametrize("dropout", [True, False])
def test_under_autocast_the_softmax_and_dropout_run_in_fp32(dropout: bool) -> None:
    """The fp32 mask promotes the scores; autocast runs softmax in fp32 (PyTorch's AMP op
    reference), dropout follows, and a cast brings the probabilities to bf16 for PV."""
    b, e = 32, 2.0
    op = native_op(replace(ATTENTION, eager=True, dropout=dropout))
    plain = _core.op_cost(op, b, e, e)
    amp = _core.op_cost(op, b, e, e, autocast=True)
    scores = b * 16 * 384 * 384
    up = 4 - e  # bytes more per fp32 element
    # softmax reads and writes fp32 (2·up), and dropout too (2·up); backward twice that.
    assert amp.fwd_bytes - plain.fwd_bytes == (2 * up + (2 * up if dropout else 0)) * scores
    assert amp.bwd_bytes == 2 * amp.fwd_bytes
    assert amp.fwd_side_bytes - plain.fwd_side_bytes == (4 + e) * scores  # the cast to bf16
    assert amp.bwd_side_bytes - plain.bwd_side_bytes == (4 + e) * scores  # its gradient back
    assert amp.fwd_strided_bytes - plain.fwd_strided_bytes == up * scores  # the mask add writes fp32
    assert amp.saved_bytes - plain.saved_bytes == up * scores  # softmax keeps its fp32 output
    assert (amp.fwd_kernels - plain.fwd_kernels, amp.bwd_kernels - plain.bwd_kernels) == (1, 1)
    # Unfused attention (a fused softmax kernel) and fp32 training are untouched by autocast.
    unfused = native_op(replace(ATTENTION, dropout=dropout))
    assert _core.op_cost(unfused, b, e, e, autocast=True).fwd_bytes == _core.op_cost(unfused, b, e, e).fwd_bytes
    assert _core.op_cost(op, b, 4.0, 4.0, autocast=True).fwd_bytes == _core.op_cost(op, b, 4.0, 4.0).fwd_bytes


def test_the_strided_bytes_run_at_the_stacks_strided_efficiency() -> None:
    device = reference.ReferenceDevice(1e15, 1e14, 2e12, 0.7, 0.7, 0.9, 5e-6, 80e9, 0, 0, strided_eff=0.4)
    op = replace(ATTENTION, eager=True)
    cost = reference.op_cost(op, 8, 2.0, 2.0)
    plain = replace(cost, fwd_strided_bytes=0.0, bwd_strided_bytes=0.0)
    t_fwd, t_bwd = reference._op_times(op, cost, device)
    p_fwd, p_bwd = reference._op_times(op, plain, device)
    assert t_fwd - p_fwd == pytest.approx(cost.fwd_strided_bytes / (2e12 * 0.9 * 0.4), rel=1e-12)
    assert t_bwd - p_bwd == pytest.approx(cost.bwd_strided_bytes / (2e12 * 0.9 * 0.4), rel=1e-12)
    with pytest.raises(ValueError, match="strided_eff"):
        replace(device, strided_eff=0.0)


@pytest.mark.parametrize("device", ["h100", "v100", "tpu-v3"])
def test_the_core_gets_the_strided_efficiency_of_the_devices_stack(device: str) -> None:
    spec = load_device(device)
    expected = load_stack(spec.stack).strided_elementwise_efficiency
    assert native_device(spec, "bf16" if "bf16" in spec.peak_TFLOPS else "fp16").strided_eff == expected
    # PyTorch on CUDA pays for its non-vectorised kernels; XLA lays tensors out itself.
    assert (expected < 1) == (spec.stack == "cuda")


def test_a_squad_step_is_slower_eager_with_the_same_memory_and_model_flops() -> None:
    options = dict(precision="fp16", micro_batch=32, global_batch=32, optimizer="adamw")
    model = model_from_mapping({"preset": "bert-large", "seq_len": 384}, "bert-large-s384.yaml")
    unfused = estimator.estimate(model, "a100-80gx1", attention="unfused", **options)
    eager = estimator.estimate(model, "a100-80gx1", attention="eager", **options)
    assert eager.step_time_s > 1.05 * unfused.step_time_s
    assert eager.memory.per_device_bytes == unfused.memory.per_device_bytes
    assert eager.model.flops_per_sample == unfused.model.flops_per_sample
    assert eager.config.attention == "eager"


def test_the_cli_takes_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bert-large", "--hw", "v100x1", "--attention", "eager", "--micro-batch", "4",
                "--global-batch", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["attention"] == "eager"
