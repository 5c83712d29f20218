"""Model specs: presets, `load_model` from YAML / preset / Hugging Face config.json, the raw graph
family, and the exact one-line message of every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from estimator.errors import EstimatorError
from estimator.graph import OpKind, TpSplit
from estimator.lowering import lower
from estimator.specs.model import (
    PRESETS_DIR,
    CnnSpec,
    GraphSpec,
    ModelSpec,
    TransformerSpec,
    list_presets,
    load_model,
)
from estimator.specs.training import TrainingConfig

REQUIRED_PRESETS = {
    "resnet18", "resnet50", "resnet152", "resnet9", "bert-base", "bert-large", "gpt2", "gpt3-175b",
    "llama2-7b", "llama2-70b", "chinchilla-70b",
}
TINY = "family: transformer\nlayers: 2\nhidden: 64\nheads: 4\nvocab: 100\nseq_len: 32\n"
TRANSFORMER_KEYS = (
    "schema_version, family, name, preset, arch, layers, encoder_layers, decoder_layers, hidden, heads, "
    "kv_heads, head_dim, ffn_hidden, activation, vocab, seq_len, decoder_seq_len, norm, norm_position, bias, "
    "position_embedding, max_position, relative_buckets, tied_embeddings, dropout, experts, top_k, moe_every, "
    "type_vocab, head, pooler, nsp, training"
)
PRESETS = ", ".join(sorted(list_presets()))
MODEL_TYPES = "bert, gpt2, gpt_neox, llama, mistral, mixtral, opt, t5"


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(source: str | Path) -> str:
    with pytest.raises(EstimatorError) as info:
        load_model(source)
    return str(info.value)


# ------------------------------------------------------------------------------------- presets
def test_required_presets_ship() -> None:
    assert REQUIRED_PRESETS <= set(list_presets())
    assert list_presets() == sorted(list_presets())


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_lowers_and_cites_its_source(name: str) -> None:
    model = load_model(name)
    assert model.name == name and (PRESETS_DIR / f"{name}.yaml").read_text().startswith("# ")
    assert model.training is not None and model.training.global_batch is not None
    assert lower(model).params > 0
    if isinstance(model, CnnSpec):
        assert model.dataset_samples is not None


def test_presets_are_cached() -> None:
    assert load_model("gpt2") is load_model("gpt2")


def test_preset_training_defaults_are_visible_as_set_fields() -> None:
    model = load_model("gpt2")
    assert "training" in model.model_fields_set
    assert model.training is not None and model.training.model_fields_set == {"global_batch"}
    assert load_model("bert-base").training.global_batch == 256  # type: ignore[union-attr]
    assert load_model("gpt3-175b").training.global_batch == 1536  # type: ignore[union-attr]


def test_yaml_from_a_preset_with_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "preset: gpt2\nseq_len: 512\ntraining: {precision: fp16}\n", "short-gpt2.yaml")
    model = load_model(path)
    assert isinstance(model, TransformerSpec)
    assert (model.name, model.preset, model.seq_len, model.hidden, model.max_position) == (
        "short-gpt2", "gpt2", 512, 768, 1024)
    assert model.training is not None
    assert model.training.global_batch == 512 and model.training.precision.value == "fp16"
    assert model.training.model_fields_set == {"global_batch", "precision"}
    assert lower(model).tokens_per_sample == 512


def test_preset_in_python_with_overrides() -> None:
    model = TransformerSpec(preset="llama2-7b", seq_len=2048)
    assert (model.name, model.seq_len, model.layers) == ("llama2-7b", 2048, 32)


def test_derived_fields_are_filled_and_not_marked_set(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, TINY))
    assert isinstance(model, TransformerSpec)
    assert (model.name, model.kv_heads, model.head_dim, model.ffn_hidden, model.top_k) == ("model", 4, 16, 256, 1)
    assert (model.head, model.max_position, model.encoder_layers, model.decoder_layers) == ("lm", 32, 0, 2)
    assert "kv_heads" not in model.model_fields_set and model.training is None
    assert load_model(write(tmp_path, TINY + "arch: encoder\n")).head == "mlm"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", list_presets())
def test_specs_survive_a_dump_and_validate_round_trip(name: str) -> None:
    model = load_model(name)
    again = type(model).model_validate(model.model_dump())
    assert again == model and hash(again) == hash(model)
    assert lower(again).params == lower(model).params
    assert type(model).model_validate_json(model.model_dump_json()) == model  # estimate.py's cache key


def test_model_spec_union_discriminates_on_family() -> None:
    adapter = TypeAdapter(ModelSpec)
    model = adapter.validate_python({"family": "cnn", "name": "r", "preset": "resnet18"})
    assert isinstance(model, CnnSpec) and model.layers is not None


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TINY + "foo: 1\n", f"foo: unknown key (valid: {TRANSFORMER_KEYS})"),
        (TINY.replace("heads: 4", "heads: 5"),
         "heads: 5 does not divide hidden 64 (valid: a divisor of hidden, or set head_dim)"),
        (TINY + "kv_heads: 8\n", "kv_heads: 8 is more than heads 4 (valid: a divisor of heads)"),
        (TINY + "kv_heads: 3\n", "kv_heads: 3 does not divide heads 4 (valid: a divisor of heads)"),
        (TINY.replace("layers: 2", "layers: -2"), "layers: must be >= 1, got -2"),
        (TINY.replace("hidden: 64", "hidden: big"), "hidden: expected an integer, got 'big'"),
        (TINY.replace("hidden: 64", "hidden: 64.5"), "hidden: expected an integer, got 64.5"),
        (TINY + "bias: maybe\n", "bias: expected true or false, got 'maybe'"),
        (TINY + "dropout: 1.0\n", "dropout: must be < 1, got 1.0"),
        (TINY + "activation: tanh\n", "activation: 'tanh' is not valid (valid: gelu, relu, swiglu, geglu)"),
        (TINY + "seq_len: 8\n", "invalid YAML: line 7: duplicate key 'seq_len'"),
        (TINY + "max_position: 16\n",
         "seq_len: 32 is longer than max_position 16 of the learned position embedding (valid: seq_len <= "
         "max_position, or raise max_position)"),
        (TINY + "experts: 4\ntop_k: 5\n", "top_k: 5 is more than experts 4"),
        (TINY + "experts: 4\nmoe_every: 3\n", "moe_every: 3 does not divide layers 2"),
        (TINY + "moe_every: 2\n", "moe_every: 2 needs experts > 1 (valid: set experts)"),
        (TINY + "encoder_layers: 2\n", "encoder_layers: only for arch: encoder-decoder (valid: layers)"),
        (TINY + "nsp: true\n", "nsp: the next-sentence head reads the pooler output (valid: set pooler: true)"),
        (TINY + "training: {global_batch: 0}\n", "training.global_batch: must be >= 1, got 0"),
        (TINY + "training: {tensor_parallel: 2}\n",
         "training.tensor_parallel: unknown key (valid: " + ", ".join(TrainingConfig.model_fields) + ")"),
        (TINY.replace("layers: 2\n", ""), "layers: missing (required)"),
        (TINY.replace("vocab: 100\n", ""), "vocab: missing (required)"),
        (TINY.replace("family: transformer\n", ""), "family: missing (valid: transformer, cnn, graph)"),
        (TINY.replace("family: transformer", "family: rnn"),
         "family: 'rnn' is not valid (valid: transformer, cnn, graph)"),
        ("preset: gpt5\n", f"preset: 'gpt5' is not a preset (valid: {PRESETS})"),
        ("family: transformer\npreset: gpt5\n",
         "preset: 'gpt5' is not a transformer preset (valid: bert-base, bert-large, chinchilla-70b, gpt2, "
         "gpt3-1.3b, gpt3-13b, gpt3-175b, gpt3-6.7b, llama2-70b, llama2-7b)"),
        ("preset: gpt2\nseq_len: 2048\n",
         "seq_len: 2048 is longer than max_position 1024 of the learned position embedding (valid: seq_len <= "
         "max_position, or raise max_position)"),
        ("- a list\n", "expected a mapping of keys at the top level, found a list"),
    ],
)
def test_yaml_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {message}"


@pytest.mark.parametrize("source", ["gpt5", "../presets/gpt2", "GPT2", "gpt2.yaml", "no/such/file.yaml", ""])
def test_unknown_model_names_every_preset(source: str) -> None:
    assert error_of(source) == f"MODEL '{source}': no such file or preset (presets: {PRESETS})"


def test_a_name_with_a_nul_byte_is_not_a_crash() -> None:
    assert error_of("gpt2\x00").startswith("MODEL 'gpt2\x00': no such file or preset")


# -------------------------------------------------------------------------- Hugging Face configs
GPT2 = {"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257,
        "n_positions": 1024, "activation_function": "gelu_new", "resid_pdrop": 0.1}
LLAMA2_7B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
             "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000,
             "max_position_embeddings": 4096, "hidden_act": "silu", "tie_word_embeddings": False,
             "rms_norm_eps": 1e-05}
MISTRAL_7B = {**LLAMA2_7B, "model_type": "mistral", "intermediate_size": 14336, "num_key_value_heads": 8,
              "max_position_embeddings": 32768, "sliding_window": 4096}
MIXTRAL = {**MISTRAL_7B, "model_type": "mixtral", "num_local_experts": 8, "num_experts_per_tok": 2}
BERT = {"model_type": "bert", "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
        "num_attention_heads": 12, "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1}
PYTHIA_160M = {"model_type": "gpt_neox", "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
               "num_attention_heads": 12, "vocab_size": 50304, "max_position_embeddings": 2048,
               "hidden_act": "gelu", "rotary_pct": 0.25, "tie_word_embeddings": False}
OPT_125M = {"model_type": "opt", "hidden_size": 768, "ffn_dim": 3072, "num_hidden_layers": 12,
            "num_attention_heads": 12, "vocab_size": 50272, "max_position_embeddings": 2048,
            "activation_function": "relu", "do_layer_norm_before": True, "word_embed_proj_dim": 768}
T5_SMALL = {"model_type": "t5", "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_heads": 8,
            "vocab_size": 32128, "relative_attention_num_buckets": 32, "feed_forward_proj": "relu"}


@pytest.mark.parametrize(
    ("config", "params"),
    [  # transformers' model.num_parameters() for the published checkpoints
        (GPT2, 124_439_808),  # openai-community/gpt2
        (LLAMA2_7B, 6_738_415_616),  # meta-llama/Llama-2-7b-hf
        (MISTRAL_7B, 7_241_732_096),  # mistralai/Mistral-7B-v0.1
        (MIXTRAL, 46_702_792_704),  # mistralai/Mixtral-8x7B-v0.1
        ({**BERT, "architectures": ["BertForMaskedLM"]}, 109_514_298),  # google-bert/bert-base-uncased
        ({**BERT, "architectures": ["BertModel"]}, 109_482_240),
        (BERT, 110_106_428),  # no architectures: pre-training heads (BertForPreTraining)
        (PYTHIA_160M, 162_322_944),  # EleutherAI/pythia-160m
        (OPT_125M, 125_239_296),  # facebook/opt-125m
        (T5_SMALL, 60_506_624),  # google-t5/t5-small (T5ForConditionalGeneration)
    ],
)
def test_hugging_face_configs_give_exact_parameter_counts(tmp_path: Path, config: dict, params: int) -> None:
    folder = tmp_path / "some-model"
    folder.mkdir()
    write(folder, json.dumps(config), "config.json")
    model = load_model(folder / "config.json")
    assert model.name == "some-model"
    assert lower(model).params == params
    assert load_model(str(folder)) == model  # a folder holding config.json works too


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"model_type": "llama", "hidden_size": 4096, "hidden_size": 11}', "duplicate key 'hidden_size'"),
        ('{"model_type": "falcon"}', f"model_type: 'falcon' is not supported (valid: {MODEL_TYPES})"),
        ('{"hidden_size": 4096}', f"model_type: missing (valid: {MODEL_TYPES})"),
        (json.dumps({**GPT2, "n_embd": 770}),
         "n_head: 12 does not divide n_embd 770 (valid: a divisor of n_embd, or set head_dim)"),
        (json.dumps({**GPT2, "n_layer": "twelve"}), "n_layer: expected an integer, got 'twelve'"),
        (json.dumps({**LLAMA2_7B, "num_key_value_heads": 64}),
         "num_key_value_heads: 64 is more than num_attention_heads 32 (valid: a divisor of num_attention_heads)"),
        (json.dumps({k: v for k, v in LLAMA2_7B.items() if k != "intermediate_size"}),
         "intermediate_size: missing (model_type llama needs it)"),
        (json.dumps({**LLAMA2_7B, "hidden_act": "tanh"}), "hidden_act: 'tanh' is not supported (valid: silu, gelu)"),
        ('{"model_type": "gpt2", "n_layer": NaN}', "NaN is not a number JSON allows (valid: finite numbers)"),
        ('{"model_type": "gpt2",}', "invalid JSON: line 1: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "expected a JSON object at the top level"),
        ("[" * 40 + "]" * 40, "nested deeper than 32 levels"),
    ],
)
def test_hugging_face_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text, "config.json")
    assert error_of(path) == f"{path}: {message}"


# ---------------------------------------------------------------------------------- raw graphs
GRAPH = """\
name: tiny
family: graph
tokens_per_sample: 16
hidden: 8
segments:
  - name: layer
    repeat: 3
    ops:
      - {kind: matmul, name: mlp/fc1, m: 16, k: 8, n: 32, params: 256, tp: column}
      - {kind: attention, m: 16, heads: 2, head_dim: 4, causal: true, fused: true, tp: heads}
      - {kind: elementwise, elements: 128, inputs: 2, saves_input: false}
"""


def test_raw_graph_lowers_as_written(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, GRAPH))
    assert isinstance(model, GraphSpec)
    graph = lower(model)
    (segment,) = graph.segments
    assert (segment.name, segment.repeat, graph.tokens_per_sample, graph.hidden) == ("layer", 3, 16, 8)
    fc1, core, add = segment.ops
    assert (fc1.name, fc1.kind, fc1.tp, fc1.params) == ("mlp/fc1", OpKind.MATMUL, TpSplit.COLUMN, 256)
    assert (core.name, core.kv_heads, core.seq_kv, core.causal) == ("attention1", 2, 16, True)
    assert (add.name, add.inputs, add.saves_input) == ("elementwise2", 2, False)
    assert graph.params == 3 * 256


def test_raw_graph_and_hf_specs_survive_a_json_round_trip(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, GRAPH))
    assert GraphSpec.model_validate_json(model.model_dump_json()) == model
    folder = tmp_path / "t5"
    folder.mkdir()
    t5 = load_model(write(folder, json.dumps(T5_SMALL), "config.json"))
    assert TransformerSpec.model_validate_json(t5.model_dump_json()) == t5


def test_raw_graph_flat_ops(tmp_path: Path) -> None:
    graph = lower(load_model(write(tmp_path, "family: graph\nops:\n  - {kind: loss, m: 1, n: 10}\n")))
    assert [(s.name, s.repeat, len(s.ops)) for s in graph.segments] == [("model", 1, 1)]
    assert graph.tokens_per_sample is None


def test_graph_file_norm_can_be_a_batch_norm(tmp_path: Path) -> None:
    text = "family: graph\nops:\n  - {kind: norm, elements: 64, batch_stats: true}\n"
    (op,) = lower(load_model(write(tmp_path, text))).segments[0].ops
    assert op.batch_stats


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ops:\n  - {kind: matmul, m: 1, k: 1, n: 1}\n  - {kind: matmul, m: 1, k: 1, n: 1, bogus: 2}",
         "ops.1.bogus: unknown key (valid: kind, name, m, k, n, heads, kv_heads, head_dim, seq_kv, elements, "
         "in_elements, inputs, flops_per_element, params, weight, causal, fused, dropout, saves_input, "
         "mask_bytes_per_element, batch_stats, tp, expert)"),
        ("ops:\n  - {kind: matmul, m: 1, k: 1, n: 1, heads: 2}",
         "ops.0: heads: not used by matmul operators (valid: bias, casts_input, expert, k, kind, m, n, name, params, tp, weight)"),
        ("ops:\n  - {kind: matmul, m: 1, k: 1}", "ops.0: n: matmul operators need k, m, n > 0"),
        ("ops:\n  - {kind: matmul, m: -1, k: 1, n: 1}", "ops.0.m: must be >= 0, got -1"),
        ("ops:\n  - {kind: gemm, m: 1}",
         "ops.0.kind: 'gemm' is not valid (valid: matmul, conv2d, attention, norm, elementwise, embedding, "
         "pooling, loss)"),
        ("ops:\n  - {kind: matmul, m: 1, k: 1, n: 1, tp: rows}",
         "ops.0.tp: 'rows' is not valid (valid: none, column, row, heads, sequence)"),
        ("segments:\n  - {name: a, repeat: 0, ops: [{kind: loss, m: 1, n: 2}]}",
         "segments.0.repeat: must be >= 1, got 0"),
        ("tokens_per_sample: 4",
         "ops: missing (valid: segments: [{name, repeat, ops}], or ops: [...])"),
        ("ops: [{kind: loss, m: 1, n: 2}]\nsegments: [{name: a, ops: [{kind: loss, m: 1, n: 2}]}]",
         "ops: give either segments or ops, not both (valid: segments: [{name, repeat, ops}], or ops: [...])"),
    ],
)
def test_raw_graph_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, f"family: graph\n{text}\n")
    assert error_of(path) == f"{path}: {message}"


def test_the_library_takes_a_model_as_a_mapping_and_refuses_what_is_not_a_model() -> None:
    """A planner can write a model inline, as a model file's contents; anything else is an
    EstimatorError that says what a model may be, never an AttributeError from deep inside."""
    import estimator

    inline = estimator.estimate({"preset": "bert-large", "seq_len": 384}, "v100x1", micro_batch=2, global_batch=2)
    from_file = estimator.estimate(
        estimator.load_model("bert-large").model_copy(update={"seq_len": 384}), "v100x1", micro_batch=2, global_batch=2)
    assert inline.step_time_s == from_file.step_time_s
    with pytest.raises(EstimatorError, match=r"^model mapping: preset: 'nope' is not a preset"):
        estimator.estimate({"preset": "nope"}, "v100x1")
    with pytest.raises(EstimatorError, match=r"^model: int is not a model \(valid: a preset name"):
        estimator.estimate(3, "v100x1")
