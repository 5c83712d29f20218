"""Transformer lowering against closed forms: exact parameter counts of published models, Kaplan et
al. 2020's forward FLOPs per token, and Korthikanti et al. 2022's activation bytes per layer."""

from __future__ import annotations

import time

import pytest

from estimator.graph import Graph, OpKind, Operator, TpSplit
from estimator.lowering import lower
from estimator.specs.model import TransformerSpec, load_model


def spec(**fields: object) -> TransformerSpec:
    base: dict[str, object] = {"name": "t", "layers": 2, "hidden": 256, "heads": 4, "vocab": 1000, "seq_len": 128}
    base.update(fields)
    return TransformerSpec.model_validate(base)


def ops_of(graph: Graph, segment: str) -> dict[str, Operator]:
    (seg,) = [s for s in graph.segments if s.name == segment]
    return {op.name: op for op in seg.ops}


def forward_matmul_flops(op: Operator) -> float:
    """DESIGN §2.1 and §2.3: 2·m·k·n for a matmul; 4·h·s_q·s_k·d·c for the attention core."""
    if op.kind is OpKind.MATMUL:
        return 2 * op.m * op.k * op.n
    if op.kind is OpKind.ATTENTION:
        c = 0.5 if op.causal and op.fused else 1.0
        return 4 * op.heads * op.m * op.seq_kv * op.head_dim * c
    return 0.0


@pytest.mark.parametrize(
    ("preset", "params"),
    [
        ("gpt2", 124_439_808),  # HF GPT2LMHeadModel (tied head)
        ("llama2-7b", 6_738_415_616),  # HF LlamaForCausalLM, meta-llama/Llama-2-7b-hf
        ("llama2-70b", 68_976_648_192),  # HF LlamaForCausalLM, meta-llama/Llama-2-70b-hf
        ("bert-base", 110_106_428),  # HF BertForPreTraining: encoder + pooler + MLM + NSP
        ("bert-large", 336_226_108),  # HF BertForPreTraining
    ],
)
def test_preset_parameter_counts_are_exact(preset: str, params: int) -> None:
    assert lower(load_model(preset)).params == params


def test_gpt2_without_biases_is_nanogpts_124_337_664() -> None:
    # nanoGPT's GPTConfig(bias=False): no linear biases and LayerNorm without its shift.
    model = TransformerSpec(preset="gpt2", bias=False)
    assert lower(model).params == 124_337_664


def test_bert_model_with_pooler_only_is_109_482_240() -> None:
    # HF BertModel (bert-base-uncased): embeddings + 12 layers + pooler, no pre-training heads.
    model = TransformerSpec(preset="bert-base", head="none", pooler=True, nsp=False)
    assert lower(model).params == 109_482_240
    head = ops_of(lower(model), "head")
    assert set(head) == {"head/pooler", "head/pooler_act"}


def test_bert_large_model_is_335_141_888() -> None:
    assert lower(TransformerSpec(preset="bert-large", head="none", nsp=False)).params == 335_141_888


def test_chinchilla_counts_the_transformer_xl_projection() -> None:
    # 80 layers × (13·8192² + 2·8192 norm) + 32000·8192 tied table + 8192 final norm.
    expected = 80 * (13 * 8192**2 + 2 * 8192) + 32000 * 8192 + 8192
    assert lower(load_model("chinchilla-70b")).params == expected == 70_056_681_472


@pytest.mark.parametrize("preset", ["gpt2", "gpt3-1.3b", "gpt3-175b"])
def test_decoder_forward_flops_match_kaplan(preset: str) -> None:
    # Kaplan et al. 2020, Table 1: C_forward = 2N + 2·n_layer·n_ctx·d_attn per token, with
    # N = 2·d_model·n_layer·(2·d_attn + d_ff) (no biases, norms or embeddings). Without biases the
    # layer matmuls and the causal attention core give exactly that.
    model = TransformerSpec(preset=preset, bias=False)
    graph = lower(model)
    (layer,) = [s for s in graph.segments if s.name == "layer"]
    per_token = sum(forward_matmul_flops(op) for op in layer.ops) * layer.repeat / model.seq_len
    d_attn = model.heads * model.head_dim
    n = 2 * model.hidden * model.layers * (2 * d_attn + model.ffn_hidden)
    assert per_token == 2 * n + 2 * model.layers * model.seq_len * d_attn
    # With biases the difference is below 0.01 %.
    biased = lower(load_model(preset))
    (layer,) = [s for s in biased.segments if s.name == "layer"]
    with_bias = sum(forward_matmul_flops(op) for op in layer.ops) * layer.repeat / model.seq_len
    assert with_bias == pytest.approx(per_token, rel=1e-4)
    # The de-embedding adds 2·d_model·n_vocab (Kaplan's "De-embed" row).
    head = ops_of(graph, "head")
    assert forward_matmul_flops(head["head/lm"]) / model.seq_len == 2 * model.hidden * model.vocab


def test_llama_forward_flops_are_2n_plus_attention() -> None:
    model = load_model("llama2-7b")
    graph = lower(model)
    (layer,) = [s for s in graph.segments if s.name == "layer"]
    per_token = sum(forward_matmul_flops(op) for op in layer.ops) * layer.repeat / model.seq_len
    n_layers = sum(op.params for op in layer.ops if op.kind is OpKind.MATMUL) * layer.repeat
    assert per_token == 2 * n_layers + 2 * 32 * 4096 * 4096


def saved_bytes_unfused(op: Operator, e: int = 2) -> float:
    """DESIGN §2 saved bytes per sample, with the attention core unfused (Korthikanti's setting)."""
    if op.kind in (OpKind.MATMUL, OpKind.CONV2D):
        return e * op.m * op.k
    if op.kind is OpKind.ATTENTION:
        s_q, s_k, h, g, d = op.m, op.seq_kv, op.heads, op.kv_heads, op.head_dim
        quadratic = e * h * s_q * s_k + ((1 + e) * h * s_q * s_k if op.dropout else 0)
        return e * (h * s_q * d + 2 * g * s_k * d) + quadratic
    if op.kind in (OpKind.NORM, OpKind.ELEMENTWISE):
        return (e * op.elements if op.saves_input else 0) + op.mask_bytes_per_element * op.elements
    return 0.0


def test_layer_activations_match_korthikanti() -> None:
    # Korthikanti et al. 2022, eq. (1): s·b·h·(34 + 5·a·s/h) bytes per layer at 16-bit, b = 1.
    model = load_model("gpt3-175b")
    layer = ops_of(lower(model), "layer")
    s, h, a = model.seq_len, model.hidden, model.heads
    assert sum(saved_bytes_unfused(op) for op in layer.values()) == 34 * s * h + 5 * a * s * s


def test_layer_ops_are_named_and_split_for_tensor_parallelism() -> None:
    graph = lower(load_model("gpt2"))
    assert [s.name for s in graph.segments] == ["embedding", "layer", "head"]
    assert [s.repeat for s in graph.segments] == [1, 12, 1]
    assert graph.tokens_per_sample == 1024 and graph.hidden == 768
    layer = ops_of(graph, "layer")
    assert list(layer) == [
        "attention/norm", "attention/qkv", "attention/core", "attention/out", "attention/dropout",
        "attention/residual", "mlp/norm", "mlp/fc1", "mlp/act", "mlp/fc2", "mlp/dropout", "mlp/residual",
    ]
    tp = {name: op.tp for name, op in layer.items()}
    assert tp["attention/qkv"] is tp["mlp/fc1"] is TpSplit.COLUMN
    assert tp["attention/out"] is tp["mlp/fc2"] is TpSplit.ROW
    assert tp["attention/core"] is TpSplit.HEADS
    assert tp["attention/norm"] is tp["attention/residual"] is tp["mlp/dropout"] is TpSplit.SEQUENCE
    core = layer["attention/core"]
    assert core.causal and core.fused and core.dropout
    assert (core.m, core.seq_kv, core.heads, core.kv_heads, core.head_dim) == (1024, 1024, 12, 12, 64)
    assert layer["mlp/act"].flops_per_element == 8 and layer["mlp/act"].elements == 1024 * 3072
    assert layer["attention/residual"].inputs == 2 and not layer["attention/residual"].saves_input
    assert not layer["attention/residual"].fused and not layer["mlp/dropout"].fused
    assert layer["mlp/dropout"].mask_bytes_per_element == 1
    embedding, head = ops_of(graph, "embedding"), ops_of(graph, "head")
    assert embedding["embedding/tokens"].tp is TpSplit.COLUMN and embedding["embedding/tokens"].n == 50257
    assert embedding["embedding/positions"].params == 1024 * 768
    assert head["head/lm"].params == 0  # tied to the token table
    assert (head["head/loss"].m, head["head/loss"].n, head["head/loss"].tp) == (1024, 50257, TpSplit.COLUMN)


def test_untied_head_and_no_dropout() -> None:
    graph = lower(load_model("llama2-7b"))
    head, layer = ops_of(graph, "head"), ops_of(graph, "layer")
    assert head["head/lm"].params == 32000 * 4096
    assert "attention/dropout" not in layer and not layer["attention/core"].dropout
    assert layer["attention/norm"].params == 4096  # RMSNorm: scale only
    assert layer["mlp/fc1"].n == 2 * 11008 and layer["mlp/act"].flops_per_element == 4
    assert layer["mlp/gate"].inputs == 2 and layer["mlp/gate"].elements == 4096 * 11008


def test_grouped_query_attention_shrinks_kv() -> None:
    layer = ops_of(lower(load_model("llama2-70b")), "layer")
    assert layer["attention/qkv"].n == 8192 + 2 * 8 * 128
    assert layer["attention/core"].kv_heads == 8 and layer["attention/core"].heads == 64


def test_encoder_is_not_causal_and_post_norm_orders_norm_last() -> None:
    graph = lower(load_model("bert-base"))
    layer = list(ops_of(graph, "layer"))
    assert layer[-1] == "mlp/norm" and layer.index("attention/norm") == layer.index("attention/residual") + 1
    assert not ops_of(graph, "layer")["attention/core"].causal
    embedding = ops_of(graph, "embedding")
    assert {"embedding/token_types", "embedding/norm", "embedding/add"} <= set(embedding)
    assert embedding["embedding/add"].inputs == 3
    head = ops_of(graph, "head")
    assert head["head/lm"].params == 30522  # tied decoder weight, its own bias
    assert head["head/nsp_loss"].n == 2 and "head/norm" not in head


def test_mixture_of_experts_routes_top_k_tokens() -> None:
    model = spec(experts=8, top_k=2, ffn_hidden=512, bias=False)
    layer = ops_of(lower(model), "layer")
    router, fc1, fc2 = layer["mlp/router"], layer["mlp/fc1"], layer["mlp/fc2"]
    assert (router.n, router.params, router.tp, router.expert) == (8, 256 * 8, TpSplit.NONE, False)
    assert fc1.expert and fc2.expert and layer["mlp/act"].expert
    assert fc1.m == 128 * 2 and fc1.params == 8 * 256 * 512 and fc2.params == 8 * 512 * 256
    assert spec(experts=8).top_k == 2 and spec().top_k == 1


def test_moe_every_groups_layers_into_one_repeated_segment() -> None:
    graph = lower(spec(layers=4, experts=4, moe_every=2))
    repeated = [s for s in graph.segments if s.repeat > 1 or s.name == "layer"]
    assert [(s.name, s.repeat) for s in repeated] == [("layer", 2)]
    layer = ops_of(graph, "layer")
    assert "0/mlp/fc1" in layer and not layer["0/mlp/fc1"].expert and "0/mlp/router" not in layer
    assert layer["1/mlp/fc1"].expert and "1/mlp/router" in layer


def test_encoder_decoder_pairs_layers_in_one_segment() -> None:
    model = spec(arch="encoder-decoder", decoder_seq_len=32, position_embedding="relative", bias=False)
    graph = lower(model)
    assert [(s.name, s.repeat) for s in graph.segments] == [("embedding", 1), ("layer", 2), ("head", 1)]
    layer = ops_of(graph, "layer")
    assert not layer["encoder/attention/core"].causal and layer["decoder/attention/core"].causal
    cross = layer["decoder/cross_attention/core"]
    assert (cross.m, cross.seq_kv, cross.causal) == (32, 128, False)
    assert layer["decoder/cross_attention/kv"].m == 128 and layer["decoder/cross_attention/q"].m == 32
    assert ops_of(graph, "head")["head/loss"].m == 32
    unequal = lower(spec(arch="encoder-decoder", encoder_layers=3, decoder_layers=1))
    assert [(s.name, s.repeat) for s in unequal.segments][1:3] == [("encoder", 3), ("decoder", 1)]


def test_rotary_has_no_position_table_and_learned_has_one() -> None:
    assert "embedding/positions" not in ops_of(lower(spec(position_embedding="rotary")), "embedding")
    assert ops_of(lower(spec(max_position=512)), "embedding")["embedding/positions"].n == 512


def test_lowering_is_fast() -> None:
    model = load_model("llama2-70b")
    start = time.perf_counter()
    for _ in range(20):
        lower(model)
    assert (time.perf_counter() - start) / 20 < 0.01


def test_operators_count_each_repeat() -> None:
    from estimator.lowering import lower
    from estimator.specs.model import load_model

    graph = lower(load_model("gpt2"))
    # 12 layers of 12 operators, 4 before them (two tables, their add, dropout), 3 after.
    assert [seg.repeat for seg in graph.segments] == [1, 12, 1]
    assert graph.operators == 4 + 12 * 12 + 3 == 151
