"""Transformer lowering: `TransformerSpec` -> Graph `[embedding ×1, layer ×L, head ×1]`.

Per layer (pre-norm order; post-norm moves each norm after its residual add, as BERT does):

    attention/norm      norm over s·h                          tp sequence
    attention/qkv       matmul s × h × (q + 2·kv)              tp column   (q = heads·d, kv = kv_heads·d)
    attention/core      attention, causal for decoders, fused  tp heads
    attention/out       matmul s × q × h                       tp row
    attention/dropout   elementwise, 1-byte mask (dropout > 0) tp sequence
    attention/residual  elementwise add, 2 inputs              tp sequence
    mlp/norm, mlp/fc1 (column; gated: gate and up, 2·ffn), mlp/act (gelu 8, silu 4, relu 1 FLOP
    per element), mlp/gate (gated: the multiply), mlp/fc2 (row), mlp/dropout, mlp/residual

Mixture of experts (every `moe_every`-th layer): `mlp/router` (h × experts, replicated), expert
matmuls with `expert=True`, `m = seq·top_k` routed tokens and all experts' parameters. With
`moe_every` > 1 the repeated segment is a group of `moe_every` layers (ops `0/...`, `1/...`), so
the layer segment stays the single repeated segment that pipeline parallelism splits.
Encoder-decoder: with equal depths one repeated segment pairs an encoder layer (`encoder/...`)
with a decoder layer (`decoder/...`, self-attention, `cross_attention/...`, mlp); with unequal
depths there are two repeated segments, `encoder` and `decoder`.

Activations saved (DESIGN §2, e = 2, unfused attention core) reproduce Korthikanti et al. 2022's
`34·s·b·h + 5·a·s²·b` bytes per layer: the norms, the qkv/out/fc1/fc2 inputs, Q/K/V, the GeLU
input and the dropout masks save; residual adds save nothing. ReLU saves nothing of its own (fc2
keeps its output). Rotary embeddings are not an op (a few FLOPs per element of q and k).
"""

from __future__ import annotations

from estimator.graph import Graph, OpKind, Operator, Segment, TpSplit
from estimator.specs.model import TransformerSpec

LAYERNORM_FLOPS = 5  # mean, variance, normalize, scale, shift (DESIGN §2.4)
RMSNORM_FLOPS = 4  # square, mean, rsqrt-scale, scale
# activation -> (function applied, forward FLOPs per element): tanh-GeLU ~8, SiLU x·sigmoid(x) ~4
_ACTIVATIONS = {"gelu": ("gelu", 8), "relu": ("relu", 1), "swiglu": ("silu", 4), "geglu": ("gelu", 8)}


def _matmul(name: str, m: float, k: float, n: float, params: float, tp: TpSplit, expert: bool = False, *,
            bias: bool = False, stream: bool = False, projections: int = 1,
            high_precision: bool = False) -> Operator:
    """`stream`: the input is the residual stream (autocast casts it, DESIGN §2.9). `projections`:
    the separate Linear layers the matmul stands for, each a weight (and a bias) to a looping
    optimizer (DESIGN §7). `high_precision`: stays bf16 under an fp8 recipe (DESIGN §4)."""
    return Operator(OpKind.MATMUL, name, m=m, k=k, n=n, params=params, tp=tp, expert=expert, bias=bias,
                    casts_input=stream, param_tensors=projections * (2 if bias else 1),
                    high_precision=high_precision)


def _norm(spec: TransformerSpec, name: str, tokens: int, tp: TpSplit = TpSplit.SEQUENCE) -> Operator:
    layernorm = spec.norm == "layernorm"
    shift = layernorm and spec.bias  # bias: false drops the LN shift too
    params = spec.hidden * (2 if shift else 1)
    return Operator(OpKind.NORM, name, elements=tokens * spec.hidden, params=params, param_tensors=2 if shift else 1,
                    flops_per_element=LAYERNORM_FLOPS if layernorm else RMSNORM_FLOPS, saves_input=True, tp=tp,
                    fp32_stream=True)


def _dropout(spec: TransformerSpec, name: str, elements: int, tp: TpSplit = TpSplit.SEQUENCE,
             stream: bool = False) -> list[Operator]:
    if spec.dropout <= 0:
        return []
    return [Operator(OpKind.ELEMENTWISE, name, elements=elements, flops_per_element=1, saves_input=False,
                     mask_bytes_per_element=1, tp=tp, fp32_stream=stream)]


def _sublayer(spec: TransformerSpec, name: str, tokens: int, body: list[Operator]) -> list[Operator]:
    """Norm, body, dropout and residual add in pre- or post-norm order."""
    elements = tokens * spec.hidden
    tail = [*_dropout(spec, f"{name}/dropout", elements),
            Operator(OpKind.ELEMENTWISE, f"{name}/residual", elements=elements, inputs=2, flops_per_element=1,
                     saves_input=False, tp=TpSplit.SEQUENCE, fp32_stream=True)]
    norm = _norm(spec, f"{name}/norm", tokens)
    return [norm, *body, *tail] if spec.norm_position == "pre" else [*body, *tail, norm]


def _attention(spec: TransformerSpec, name: str, s_q: int, s_kv: int, causal: bool, cross: bool) -> list[Operator]:
    h, bias = spec.hidden, int(spec.bias)
    q, kv = spec.heads * spec.head_dim, spec.kv_heads * spec.head_dim
    if cross:  # queries from the decoder, keys and values from the encoder output
        ops = [_matmul(f"{name}/q", s_q, h, q, h * q + bias * q, TpSplit.COLUMN, bias=bool(bias), stream=True),
               _matmul(f"{name}/kv", s_kv, h, 2 * kv, h * 2 * kv + bias * 2 * kv, TpSplit.COLUMN, bias=bool(bias),
                       stream=True, projections=2)]
    else:
        n = q + 2 * kv
        # One GEMM's work, but query, key and value are three Linear layers in the code that
        # steps a looping optimizer (Hugging Face's BERT, OPT, T5 and LLaMA, NVIDIA's BERT; GPT-2's
        # Conv1D and Megatron-LM fuse them).
        ops = [_matmul(f"{name}/qkv", s_q, h, n, h * n + bias * n, TpSplit.COLUMN, bias=bool(bias), stream=True,
                       projections=3)]
        if spec.position_embedding == "transformer-xl":
            # Dai et al. 2019 §3.3: per-layer projection W_k,R of the relative position encodings
            # (s rows); the Q·Rᵀ score term (~2·s·d_attn FLOPs per token) is not modelled.
            ops.append(_matmul(f"{name}/position", s_kv, h, q, h * q, TpSplit.COLUMN))
        if spec.position_embedding == "rotary":
            # RoFormer (Su et al. 2021, eq. 34): q and k rotated pairwise by position,
            # x·cos + rotate_half(x)·sin: 3 FLOPs per element, read and written once (a fused
            # kernel). The backward pass needs only the cos/sin tables, so nothing is saved.
            ops.append(Operator(OpKind.ELEMENTWISE, f"{name}/rotary", elements=s_q * (q + kv),
                                flops_per_element=3, saves_input=False, tp=TpSplit.HEADS))
    ops.append(Operator(OpKind.ATTENTION, f"{name}/core", m=s_q, heads=spec.heads, kv_heads=spec.kv_heads,
                        head_dim=spec.head_dim, seq_kv=s_kv, causal=causal, fused=True,
                        dropout=spec.dropout > 0, tp=TpSplit.HEADS))
    ops.append(_matmul(f"{name}/out", s_q, q, h, q * h + bias * h, TpSplit.ROW, bias=bool(bias)))
    return ops


def _mlp(spec: TransformerSpec, name: str, tokens: int, moe: bool) -> list[Operator]:
    h, f, bias = spec.hidden, spec.ffn_hidden, int(spec.bias)
    gated = spec.activation in ("swiglu", "geglu")
    n1 = 2 * f if gated else f  # gated: gate and up projections in one matmul
    experts = spec.experts if moe else 1
    routed = tokens * spec.top_k if moe else tokens
    ops = []
    if moe:
        ops.append(_matmul(f"{name}/router", tokens, h, spec.experts, h * spec.experts, TpSplit.NONE, stream=True))
    ops.append(_matmul(f"{name}/fc1", routed, h, n1, experts * (h * n1 + bias * n1), TpSplit.COLUMN, moe,
                       bias=bool(bias), stream=True, projections=experts * (2 if gated else 1)))
    function, flops = _ACTIVATIONS[spec.activation]
    ops.append(Operator(OpKind.ELEMENTWISE, f"{name}/act", elements=routed * f, flops_per_element=flops,
                        saves_input=function != "relu", reads_output=function == "relu", tp=TpSplit.COLUMN,
                        expert=moe))
    if gated:  # act(gate) * up; with act's saved gate this keeps both halves of the fc1 output
        ops.append(Operator(OpKind.ELEMENTWISE, f"{name}/gate", elements=routed * f, inputs=2, flops_per_element=1,
                            saves_input=True, tp=TpSplit.COLUMN, expert=moe))
    ops.append(_matmul(f"{name}/fc2", routed, f, h, experts * (f * h + bias * h), TpSplit.ROW, moe, bias=bool(bias),
                       projections=experts))
    return ops


def _layer(spec: TransformerSpec, prefix: str, tokens: int, causal: bool, moe: bool,
           cross_tokens: int | None = None) -> list[Operator]:
    ops = _sublayer(spec, f"{prefix}attention", tokens,
                    _attention(spec, f"{prefix}attention", tokens, tokens, causal, cross=False))
    if cross_tokens is not None:
        ops += _sublayer(spec, f"{prefix}cross_attention", tokens,
                         _attention(spec, f"{prefix}cross_attention", tokens, cross_tokens, False, cross=True))
    ops += _sublayer(spec, f"{prefix}mlp", tokens, _mlp(spec, f"{prefix}mlp", tokens, moe))
    return ops


def _embedding(spec: TransformerSpec) -> list[Operator]:
    h, vocab = spec.hidden, spec.vocab
    if spec.arch == "encoder-decoder":
        stacks = [("encoder/", spec.seq_len), ("decoder/", spec.decoder_seq_len)]
    else:
        stacks = [("", spec.seq_len)]
    ops: list[Operator] = []
    for index, (prefix, tokens) in enumerate(stacks):
        name = f"embedding/{prefix}"
        # the token table is shared by both stacks of an encoder-decoder (T5, BART)
        tables = [Operator(OpKind.EMBEDDING, f"{name}tokens", m=tokens, k=h, n=vocab,
                           params=vocab * h if index == 0 else 0, tp=TpSplit.COLUMN, fp32_stream=True)]
        if spec.position_embedding == "learned":
            tables.append(Operator(OpKind.EMBEDDING, f"{name}positions", m=tokens, k=h, n=spec.max_position,
                                   params=spec.max_position * h, fp32_stream=True))
        if spec.type_vocab and index == 0:
            tables.append(Operator(OpKind.EMBEDDING, f"{name}token_types", m=tokens, k=h, n=spec.type_vocab,
                                   params=spec.type_vocab * h, fp32_stream=True))
        ops += tables
        if len(tables) > 1:
            ops.append(Operator(OpKind.ELEMENTWISE, f"{name}add", elements=tokens * h, inputs=len(tables),
                                flops_per_element=len(tables) - 1, saves_input=False, tp=TpSplit.SEQUENCE,
                                fp32_stream=True))
        if spec.position_embedding == "relative":
            # T5 (Raffel et al. 2020 §2.1): a [buckets, heads] table gathered for every (query, key) pair
            buckets = spec.relative_buckets
            ops.append(Operator(OpKind.EMBEDDING, f"{name}relative_bias", m=tokens * tokens, k=spec.heads,
                                n=buckets, params=buckets * spec.heads))
        if spec.norm_position == "post":
            ops.append(_norm(spec, f"{name}norm", tokens))
        ops += _dropout(spec, f"{name}dropout", tokens * h, stream=True)
    return ops


def _head(spec: TransformerSpec) -> list[Operator]:
    h, vocab, bias = spec.hidden, spec.vocab, int(spec.bias)
    tokens = spec.decoder_seq_len if spec.arch == "encoder-decoder" else spec.seq_len
    ops: list[Operator] = []
    if spec.norm_position == "pre":  # the final norm of each pre-norm stack
        if spec.arch == "encoder-decoder" and spec.encoder_layers:
            ops.append(_norm(spec, "head/encoder_norm", spec.seq_len))
        ops.append(_norm(spec, "head/norm", tokens))
    table = 0 if spec.tied_embeddings else vocab * h
    if spec.head == "lm":
        ops.append(_matmul("head/lm", tokens, h, vocab, table, TpSplit.COLUMN, stream=True, high_precision=True))
        ops.append(Operator(OpKind.LOSS, "head/loss", m=tokens, n=vocab, tp=TpSplit.COLUMN))
    elif spec.head == "mlm":  # BERT: dense + act + norm, then the vocabulary projection with a bias
        function, flops = _ACTIVATIONS["gelu" if spec.activation in ("swiglu", "geglu") else spec.activation]
        ops.append(_matmul("head/transform", tokens, h, h, h * h + bias * h, TpSplit.NONE, bias=bool(bias),
                           stream=True))
        ops.append(Operator(OpKind.ELEMENTWISE, "head/transform_act", elements=tokens * h, flops_per_element=flops,
                            saves_input=function != "relu"))
        ops.append(_norm(spec, "head/transform_norm", tokens, TpSplit.NONE))
        ops.append(_matmul("head/lm", tokens, h, vocab, table + bias * vocab, TpSplit.COLUMN, bias=bool(bias),
                           stream=True, high_precision=True))
        ops.append(Operator(OpKind.LOSS, "head/loss", m=tokens, n=vocab, tp=TpSplit.COLUMN))
    if spec.pooler:  # dense + tanh on the first token
        ops.append(_matmul("head/pooler", 1, h, h, h * h + bias * h, TpSplit.NONE, bias=bool(bias), stream=True))
        ops.append(Operator(OpKind.ELEMENTWISE, "head/pooler_act", elements=h, flops_per_element=4,
                            saves_input=False))
    if spec.nsp:
        ops.append(_matmul("head/nsp", 1, h, 2, 2 * h + bias * 2, TpSplit.NONE, bias=bool(bias)))
        ops.append(Operator(OpKind.LOSS, "head/nsp_loss", m=1, n=2))
    return ops


def _layer_segments(spec: TransformerSpec) -> list[Segment]:
    if spec.arch == "encoder-decoder":
        enc, dec = spec.encoder_layers, spec.decoder_layers
        s_enc, s_dec = spec.seq_len, spec.decoder_seq_len
        encoder = _layer(spec, "encoder/", s_enc, causal=False, moe=False)
        decoder = _layer(spec, "decoder/", s_dec, causal=True, moe=False, cross_tokens=s_enc)
        if enc == dec:
            return [Segment("layer", tuple(encoder + decoder), enc)]
        return [Segment(name, tuple(ops), count)
                for name, ops, count in (("encoder", encoder, enc), ("decoder", decoder, dec)) if count]
    causal = spec.arch == "decoder"
    moe = spec.experts > 1
    group = spec.moe_every if moe else 1
    if group == 1:
        ops = _layer(spec, "", spec.seq_len, causal, moe)
    else:  # the last layer of each group of moe_every is the MoE layer (GShard: every other layer)
        ops = [op for index in range(group)
               for op in _layer(spec, f"{index}/", spec.seq_len, causal, moe and index == group - 1)]
    return [Segment("layer", tuple(ops), spec.layers // group)]


def lower_transformer(spec: TransformerSpec) -> Graph:
    """Graph of one sequence: embedding, the repeated layer(s), head; tokens_per_sample = seq_len."""
    segments = [Segment("embedding", tuple(_embedding(spec)), 1), *_layer_segments(spec),
                Segment("head", tuple(_head(spec)), 1)]
    return Graph(name=spec.name, segments=tuple(segments), tokens_per_sample=spec.seq_len, hidden=spec.hidden)
