"""Command-line options that `estimate` and `estimate plan` share, declared once.

Each is a `typing.Annotated` type for a typer parameter; a default of None means "not given",
so the model file's `training:` section or the default applies (estimator.estimate).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from estimator.specs.training import AttentionKernel


class Level(str, Enum):
    """ZeRO stage."""

    ZERO0 = "0"
    ZERO1 = "1"
    ZERO2 = "2"
    ZERO3 = "3"


AttentionOption = Annotated[Optional[AttentionKernel], typer.Option(
    help="Attention kernel: fused (FlashAttention-2), triton (FlashAttention in Triton, as MPT ran "
         "it in 2023), cudnn (cuDNN fused attention, as Transformer "
         "Engine runs it), unfused (materialised scores; scale and mask inside the softmax kernel) "
         "or eager (plain framework code: a kernel per operation and head-layout copies).")]
CudaGraphsOption = Annotated[Optional[bool], typer.Option(
    "--cuda-graphs", help="The step runs as a CUDA graph: no host time per operator.")]
AutocastOption = Annotated[Optional[bool], typer.Option(
    "--autocast", help="Plain PyTorch AMP (torch.autocast over fp32 weights): fp32 residual stream, "
                       "casts per use.")]
LowPrecisionNormOption = Annotated[Optional[bool], typer.Option(
    "--low-precision-norm", help="With --autocast: norms cast their input down and run in the compute "
                                 "precision (llm-foundry's low_precision_layernorm).")]
FuseBnReluOption = Annotated[Optional[bool], typer.Option(
    "--fuse-bn-relu", help="cuDNN's fused BatchNorm(+add)+ReLU kernels (NVIDIA's MLPerf ResNet).")]
ForeachOptimizerOption = Annotated[Optional[bool], typer.Option(
    "--foreach-optimizer", help="PyTorch's default multi-tensor optimizer step, not a fused kernel.")]
LoopOptimizerOption = Annotated[Optional[bool], typer.Option(
    "--loop-optimizer", help="The optimizer steps each parameter tensor in a Python loop (PyTorch 1.x's "
                             "default, Hugging Face's AdamW, BertAdam): host-bound.")]
FusedLossOption = Annotated[Optional[bool], typer.Option(
    "--fused-loss", help="A fused cross-entropy kernel (flash-attn/apex xentropy, Megatron-core, "
                         "Transformer Engine), not PyTorch's fp32 log_softmax + nll_loss.")]
BlockingGathersOption = Annotated[Optional[bool], typer.Option(
    "--blocking-gathers", help="ZeRO-3's parameter all-gathers stall compute instead of being prefetched "
                               "(DeepSpeed ZeRO-3 before its late-2021 rewrite); implies --zero 3.")]
TpOverlapOption = Annotated[Optional[bool], typer.Option(
    "--tp-overlap", help="Tensor-parallel collectives run in chunks beside their GEMMs (Transformer Engine's "
                         "userbuffers overlap, as NeMo's recipes enable).")]
MeanSeqLenOption = Annotated[Optional[int], typer.Option(
    "--mean-seq-len", min=1, max=1 << 24,
    help="Mean tokens computed per sample when batches are padded only to their longest sample "
         "(length bucketing, dynamic padding): time uses it, memory keeps seq_len.")]
