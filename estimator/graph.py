"""The operator graph: the form every model family is lowered to, and the input of the native core.

A `Graph` is an ordered list of `Segment`s; each segment is a list of `Operator`s that runs
`repeat` times in sequence (a transformer is `[embedding ×1, layer ×L, head ×1]`). Pipeline
parallelism splits the repeats of the repeated segment across stages; the segments before it go
to the first stage and the ones after it to the last.

Every shape is **per sample** (one sequence or one image); the core multiplies by the
micro-batch. Shapes are the *unsharded* ones; `tp` says how tensor parallelism divides the
operator, and the core applies it. FLOP and byte formulas per kind are in docs/DESIGN.md §2 and
native/src/operators.cpp (1 multiply-add = 2 FLOP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum


class OpKind(str, Enum):
    """Operator kinds understood by the core; each has one FLOP/byte formula."""

    MATMUL = "matmul"  # X[m,k] @ W[k,n] per sample; `weight` says W is a parameter
    CONV2D = "conv2d"  # implicit GEMM: m = out_h*out_w, k = c_in/groups*kh*kw, n = c_out
    ATTENTION = "attention"  # core of attention after projections: QK^T, softmax, (dropout), AV
    NORM = "norm"  # layer/RMS/batch norm over `elements` values
    ELEMENTWISE = "elementwise"  # activation, residual add, dropout, scale
    EMBEDDING = "embedding"  # row gather of a [vocab, hidden] table for `m` tokens
    POOLING = "pooling"  # max/avg pooling from `in_elements` to `elements`
    LOSS = "loss"  # softmax cross-entropy over `n` classes for `m` positions


class TpSplit(str, Enum):
    """How tensor parallelism divides an operator (Megatron-LM, Shoeybi et al. 2019)."""

    NONE = "none"  # replicated on every tensor-parallel rank
    COLUMN = "column"  # matmul: n / tp (first MLP and QKV projections); embedding/loss: vocab / tp
    ROW = "row"  # matmul: k / tp (second MLP and attention output projections)
    HEADS = "heads"  # attention: heads / tp and kv_heads / tp
    SEQUENCE = "sequence"  # norm/elementwise/dropout: divided only under sequence parallelism


@dataclass(frozen=True)
class Operator:
    """One operator, per sample, unsharded.

    Attributes (only those a kind uses are non-zero; see `OpKind`):
        kind: the operator kind.
        name: hierarchical name such as `attention/qkv` or `layer3.0/conv2`.
        m, k, n: matmul/conv/loss/embedding dimensions (rows per sample, inner, outer).
        heads, kv_heads, head_dim, seq_kv: attention shape; `m` is the query length.
        elements: output elements per sample (norm, elementwise, pooling; conv output is m*n).
        in_elements: input elements per sample (conv2d input image, pooling input).
        inputs: tensors read by an elementwise op (2 for a residual add).
        flops_per_element: elementwise/pooling/norm FLOPs per output element, forward.
        params: trainable parameters owned by this operator (weights + biases).
        weight: matmul/conv: the k×n operand is a parameter (False for activation×activation).
        causal: attention with a causal mask.
        fused: attention runs as one fused (flash) kernel; elementwise is fused into its producer;
            loss is one fused softmax-cross-entropy kernel each way (DESIGN §2.8).
        eager: unfused attention written as plain framework code (Hugging Face's eager BERT,
            NVIDIA's modeling.py run without a fuser): the scale and the mask add are kernels
            of their own, and Q, K, V and the context are copied to and from the heads-first
            layout (DESIGN §2.3).
        dropout: attention applies dropout to its probabilities.
        saves_input: elementwise/norm keeps its input for the backward pass.
        mask_bytes_per_element: bytes of a saved mask per element (dropout: 1).
        batch_stats: norm whose statistics span the batch (BatchNorm): one more pass over the
            input forward and backward (DESIGN §2.4).
        tp: how tensor parallelism divides this operator.
        expert: belongs to a mixture-of-experts expert (divided by expert parallelism).
        bias: matmul with a bias, whose gradient is a reduction of dY over the rows (DESIGN §2.1).
        fp32_stream: norm/elementwise/embedding on the residual stream, which torch.autocast keeps
            in fp32 (DESIGN §2.9).
        casts_input: matmul reading the residual stream; autocast casts its input (DESIGN §2.9).
        reads_output: elementwise whose backward reads its output (ReLU, sigmoid, tanh) though the
            next operator keeps that tensor (DESIGN §2.5).
        follows_norm: a ReLU or residual add right after a BatchNorm (or such an add), which
            fused BatchNorm-add-ReLU kernels absorb (DESIGN §2.5).
        param_tensors: parameter tensors (weight, bias, a norm's shift), for an optimizer that
            steps them in a loop; 0: one for an operator holding parameters, plus its bias (§7).
        high_precision: a matmul an fp8 recipe keeps in bf16, as Megatron-core's output layer
            and a tied-embedding LM head (DESIGN §4).
    """

    kind: OpKind
    name: str
    m: float = 0.0
    k: float = 0.0
    n: float = 0.0
    heads: float = 0.0
    kv_heads: float = 0.0
    head_dim: float = 0.0
    seq_kv: float = 0.0
    elements: float = 0.0
    in_elements: float = 0.0
    inputs: int = 1
    flops_per_element: float = 0.0
    params: float = 0.0
    weight: bool = True
    causal: bool = False
    fused: bool = False
    eager: bool = False
    dropout: bool = False
    saves_input: bool = True
    mask_bytes_per_element: float = 0.0
    batch_stats: bool = False
    tp: TpSplit = TpSplit.NONE
    expert: bool = False
    bias: bool = False
    fp32_stream: bool = False
    casts_input: bool = False
    reads_output: bool = False
    follows_norm: bool = False
    param_tensors: int = 0
    high_precision: bool = False

    def __post_init__(self) -> None:
        for name in ("m", "k", "n", "heads", "kv_heads", "head_dim", "seq_kv", "elements",
                     "in_elements", "flops_per_element", "params", "mask_bytes_per_element", "param_tensors"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"operator {self.name!r}: {name} must be finite and >= 0, got {value}")


@dataclass(frozen=True)
class Segment:
    """Operators run `repeat` times in sequence (the layers of a transformer)."""

    name: str
    ops: tuple[Operator, ...]
    repeat: int = 1


@dataclass(frozen=True)
class Graph:
    """A whole model for one sample: segments in order, plus facts the estimate reports."""

    name: str
    segments: tuple[Segment, ...]
    tokens_per_sample: int | None = None  # sequence length for token models; None for images
    hidden: int = 0  # width of the activations passed between pipeline stages (0: not a stack)
    extra: dict[str, float] = field(default_factory=dict)  # family facts, e.g. image_size

    @property
    def params(self) -> float:
        """Trainable parameters, counting each segment's repeats."""
        return sum(op.params * seg.repeat for seg in self.segments for op in seg.ops)

    @property
    def operators(self) -> int:
        """Operator instances in one forward pass, counting each segment's repeats."""
        return sum(seg.repeat * len(seg.ops) for seg in self.segments)
