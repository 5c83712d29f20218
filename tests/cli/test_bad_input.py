"""The bad-input corpus: every input path refuses hostile or broken input the same way.

Each case runs the CLI in-process (`estimator.cli.run`) on an argument list and checks the
contract's §5: exit code 2, nothing on stdout, at most a few lines on stderr that start with
`estimate: error:` and say which file, key or option is wrong and what would be valid, and
never a traceback. Most cases assert the exact message (as typer's own tests do); a few whose
text depends on the platform or a third-party parser assert the part that names the culprit.

A wall-clock check per case is a loose hang detector (a few seconds), not a speed test. The
files that target the parser's limits (alias bomb, deep nesting, huge file) are also run in a
subprocess under an address-space limit, so "bounded memory" is tested, not assumed.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import estimator
from estimator.cli import run
from estimator.specs.hardware import SystemSpec
from estimator.specs.model import TransformerSpec
from estimator.specs.training import TrainingConfig

REPO = Path(__file__).resolve().parents[2]
# Where the imported package lives (a checkout built in place, or site-packages after
# `pip install .`): child processes must import the same build.
PACKAGE_ROOT = Path(estimator.__file__).resolve().parent.parent
HANG_S = 10.0  # generous: the slowest case takes well under a second

PRESETS = (
    "bert-base, bert-large, chinchilla-70b, gpt2, gpt3-1.3b, gpt3-13b, gpt3-175b, gpt3-6.7b, "
    "llama2-70b, llama2-7b, resnet152, resnet18, resnet50, resnet9"
)
# Valid-key lists are the schemas' own field lists, so new fields do not churn the corpus.
TRANSFORMER_KEYS = ", ".join(TransformerSpec.model_fields)
TRAINING_KEYS = ", ".join(TrainingConfig.model_fields)
SYSTEM_KEYS = ", ".join(SystemSpec.model_fields)
LAYER_KINDS = (
    "conv, bn, relu, relu6, gelu, silu, sigmoid, tanh, hardswish, maxpool, avgpool, "
    "global_avgpool, global_maxpool, flatten, linear, dropout, scale, residual, basic, bottleneck"
)
HF_TYPES = "bert, gpt2, gpt_neox, llama, mistral, mixtral, opt, t5"
SEE_HELP = "; see 'estimate --help'"

# ------------------------------------------------------------------------------- the files
TINY = """\
name: tiny
family: transformer
layers: 2
hidden: 64
heads: 4
vocab: 100
seq_len: 32
"""
SYSTEM = """\
name: my-cluster
device: v100
devices_per_node: 8
nodes: 1
intra_node_bandwidth_GBps: 150
inter_node_bandwidth_Gbps: 100
"""
DEVICE = """\
  name: titan-x-12g
  memory_GiB: 12
  memory_bandwidth_GBps: 480
  peak_TFLOPS: {fp32: 11.0, fp16: 11.0}
  tdp_W: 250
"""
INLINE = "device:\n{device}" + SYSTEM.replace("device: v100\n", "")
HF = (
    '{{"model_type": "gpt2", "n_layer": {layers}, "n_embd": 64, "n_head": 4, '
    '"vocab_size": 100, "n_positions": 32}}'
)
LOL = "\n".join(
    f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9 if prev else ['"lol"'] * 9) + "]"
    for prev, name in zip([None, *"abcdefgh"], "abcdefghi")
)  # "billion laughs": 9^9 strings if aliases were expanded without a limit
CNN = "name: c\nfamily: cnn\nimage_size: {size}\nlayers:\n{layers}"


def _tiny(old: str, new: str) -> str:
    assert old in TINY
    return TINY.replace(old, new)


def _system(old: str, new: str) -> str:
    assert old in SYSTEM
    return SYSTEM.replace(old, new)


def _inline(old: str = "", new: str = "") -> str:
    assert old in DEVICE
    return INLINE.format(device=DEVICE.replace(old, new) if old else DEVICE + new)


def _hf(old: str = "", new: str = "") -> str:
    text = HF.format(layers=2)
    assert old in text
    return text.replace(old, new) if old else text


FILES: dict[str, str | bytes] = {
    # model YAML: the parser
    "syntax.yaml": "name: [unclosed\nfamily: transformer\n",
    "tab.yaml": "name: x\n\tfamily: transformer\n",
    "empty.yaml": "",
    "comment.yaml": "# nothing but a comment\n",
    "list.yaml": "- 1\n- 2\n",
    "scalar.yaml": "hello\n",
    "binary.yaml": bytes(range(256)) * 8,
    "nul.yaml": b"name: x\x00\n",
    "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
    "huge.yaml": "name: " + "x" * (2 << 20) + "\n",
    "deep.yaml": "a: " + "[" * 100 + "]" * 100 + "\n",
    "bomb.yaml": LOL + "\n",
    "pyobj.yaml": '!!python/object/apply:os.system ["echo owned"]\n',
    "pyname.yaml": "name: !!python/name:os.system\nfamily: transformer\n",
    "custom-tag.yaml": "name: !custom x\n",
    "unhashable.yaml": "? [a, b]\n: 1\n",
    "float-tag.yaml": TINY + "dropout: !!float abc\n",
    "bool-tag.yaml": TINY + "bias: !!bool maybe\n",
    "map-tag.yaml": TINY + "training: !!map [1]\n",
    "dup.yaml": TINY + "hidden: 128\n",
    "merge.yaml": "base: &base {layers: 2, hidden: 64}\n" + TINY.replace("layers: 2\nhidden: 64\n", "<<: *base\n"),
    "merge-bomb.yaml": "\n".join(
        ["l0: &l0 {" + ", ".join(f"k{i}: {i}" for i in range(9)) + "}"]
        + [f"l{n}: &l{n} {{<<: [" + ", ".join([f"*l{n - 1}"] * 8) + "]}" for n in range(1, 8)]
    ) + "\n",  # nested merge keys: 9·8^7 pairs to flatten if merges were allowed
    # model YAML: the schema
    "unknown.yaml": TINY + "hiden: 128\n",
    "str-int.yaml": _tiny("hidden: 64", "hidden: sixty-four"),
    "float-int.yaml": _tiny("layers: 2", "layers: 2.5"),
    "bool-int.yaml": _tiny("hidden: 64", "hidden: true"),
    "negative.yaml": _tiny("layers: 2", "layers: -3"),
    "zero.yaml": _tiny("hidden: 64", "hidden: 0"),
    "nan.yaml": _tiny("hidden: 64", "hidden: .nan"),
    "inf.yaml": _tiny("hidden: 64", "hidden: .inf"),
    "astronomical.yaml": _tiny("hidden: 64", "hidden: 100000000000000000000000000000"),
    "heads.yaml": _tiny("heads: 4", "heads: 5"),
    "kv-heads.yaml": TINY + "kv_heads: 8\n",
    "kv-divide.yaml": TINY + "kv_heads: 3\n",
    "family.yaml": _tiny("family: transformer", "family: rnn"),
    "no-family.yaml": _tiny("family: transformer\n", ""),
    "arch.yaml": TINY + "arch: decoder-only\n",
    "activation.yaml": TINY + "activation: tanh\n",
    "schema.yaml": TINY + "schema_version: 2\n",
    "control.yaml": _tiny("name: tiny", 'name: "a\\x01b"'),
    "long-name.yaml": _tiny("name: tiny", "name: " + "n" * 300),
    "dropout.yaml": TINY + "dropout: 1.5\n",
    "missing-key.yaml": _tiny("vocab: 100\n", ""),
    "preset.yaml": "preset: gpt5\n",
    "preset-family.yaml": "family: cnn\npreset: gpt2\n",
    "cnn-layer.yaml": CNN.format(size=32, layers="  - conv: {out: 8, kernel: 3}\n  - blah\n"),
    "cnn-shape.yaml": CNN.format(size=4, layers="  - conv: {out: 8, kernel: 7}\n  - flatten\n  - linear\n"),
    "cnn-empty.yaml": "name: c\nfamily: cnn\nlayers: []\n",
    "cnn-args.yaml": CNN.format(size=32, layers="  - conv: 8\n"),
    "graph-empty.yaml": "name: g\nfamily: graph\nops: []\n",
    "graph-zero.yaml": "name: g\nfamily: graph\nops:\n  - {kind: matmul, m: 0, k: 1, n: 1}\n",
    "graph-kind.yaml": "name: g\nfamily: graph\nops:\n  - {kind: lstm, m: 1}\n",
    "graph-field.yaml": "name: g\nfamily: graph\nops:\n  - {kind: norm, elements: 8, heads: 2}\n",
    "graph-kv.yaml": (
        "name: g\nfamily: graph\nops:\n  - {kind: attention, m: 8, heads: 2, kv_heads: 4, head_dim: 8}\n"
    ),
    "graph-nan.yaml": "name: g\nfamily: graph\nops:\n  - {kind: matmul, m: .nan, k: 1, n: 1}\n",
    "graph-huge.yaml": "name: g\nfamily: graph\nops:\n  - {kind: matmul, m: 1.0e+30, k: 1, n: 1}\n",
    # the training section
    "tr-unknown.yaml": TINY + "training:\n  precison: bf16\n",
    "tr-precision.yaml": TINY + "training:\n  precision: fp64\n",
    "tr-optimizer.yaml": TINY + "training:\n  optimizer: rmsprop\n",
    "tr-negative.yaml": TINY + "training:\n  global_batch: -8\n",
    "tr-text.yaml": TINY + "training: fast\n",
    "tr-inf.yaml": TINY + "training:\n  tokens: .inf\n",
    "tr-micro.yaml": TINY + "training:\n  micro_batch: biggest\n",
    "tr-zero.yaml": TINY + "training:\n  zero: 5\n",
    "tr-tp.yaml": TINY + "training:\n  tp: 3\n",
    "tr-dp.yaml": TINY + "training:\n  dp: 3\n",
    "tr-batch.yaml": TINY + "training:\n  global_batch: 12\n",
    "tr-huge.yaml": TINY + "training:\n  tokens: 1.0e+300\n",
    "tr-dup.yaml": TINY + "training:\n  tp: 2\n  tp: 4\n",
    # Hugging Face config.json
    "ok.json": _hf(),
    "syntax.json": '{"model_type": "gpt2", "n_layer": 2,',
    "dup.json": '{"model_type": "gpt2", "n_layer": 2, "n_layer": 3}',
    "nan.json": _hf('"n_layer": 2', '"n_layer": NaN'),
    "infinity.json": _hf('"n_embd": 64', '"n_embd": Infinity'),
    "model-type.json": '{"model_type": "rwkv", "n_layer": 2}',
    "no-model-type.json": '{"n_layer": 2}',
    "int-model-type.json": '{"model_type": 5}',
    "list.json": "[1, 2]",
    "empty.json": "",
    "missing.json": '{"model_type": "gpt2", "n_layer": 2}',
    "negative.json": _hf('"n_layer": 2', '"n_layer": -2'),
    "string.json": _hf('"n_layer": 2', '"n_layer": "2"'),
    "huge.json": _hf('"n_layer": 2', '"n_layer": 1e999'),
    "deep.json": '{"model_type": "gpt2", "x": ' + "[" * 100 + "]" * 100 + "}",
    "kv.json": (
        '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, '
        '"num_attention_heads": 4, "num_key_value_heads": 8, "intermediate_size": 128, '
        '"vocab_size": 100, "max_position_embeddings": 32}'
    ),
    "binary.json": b'{"model_type": "gpt2"\xff\xfe}',
    # system YAML (--hw PATH)
    "sys-ok.yaml": SYSTEM,
    "sys-device.yaml": _system("device: v100", "device: v999"),
    "sys-unknown.yaml": SYSTEM + "bandwidth: 5\n",
    "sys-dup.yaml": SYSTEM + "nodes: 2\n",
    "sys-zero.yaml": _system("devices_per_node: 8", "devices_per_node: 0"),
    "sys-negative.yaml": _system("intra_node_bandwidth_GBps: 150", "intra_node_bandwidth_GBps: -150"),
    "sys-nan.yaml": _system("intra_node_bandwidth_GBps: 150", "intra_node_bandwidth_GBps: .nan"),
    "sys-inf.yaml": _system("inter_node_bandwidth_Gbps: 100", "inter_node_bandwidth_Gbps: .inf"),
    "sys-astronomical.yaml": _system("nodes: 1", "nodes: 100000000000000000000"),
    "sys-too-many.yaml": _system("nodes: 1", "nodes: 16777216"),
    "sys-text.yaml": _system("devices_per_node: 8", "devices_per_node: eight"),
    "sys-spot.yaml": SYSTEM + "price_usd_per_hour: {on_demand: 10, spot: 20}\n",
    "sys-price.yaml": SYSTEM + "price_usd_per_hour: {on_demand: -1}\n",
    "sys-missing.yaml": "name: x\ndevice: v100\n",
    "sys-name.yaml": _system("name: my-cluster", "name: My Cluster!"),
    "sys-latency.yaml": SYSTEM + "intra_node_latency_us: -5\n",
    "sys-efficiency.yaml": SYSTEM + "network_efficiency: {intra: 0}\n",
    "sys-device-list.yaml": _system("device: v100", "device: [v100]"),
    "sys-pyobj.yaml": '!!python/object/new:subprocess.Popen [["ls"]]\n',
    "sys-date.yaml": SYSTEM + "price_usd_per_hour: {on_demand: 10, date: 2018-02-30}\n",
    "dev-precision.yaml": _inline("fp16: 11.0", "fp64: 11.0"),
    "dev-no-fp32.yaml": _inline("fp32: 11.0, fp16: 11.0", "fp16: 11.0"),
    "dev-memory.yaml": _inline("memory_GiB: 12", "memory_GiB: 0"),
    "dev-nan.yaml": _inline("memory_GiB: 12", "memory_GiB: .nan"),
    "dev-efficiency.yaml": _inline(new="  efficiency: {matmul: 1.5}\n"),
    "dev-stack.yaml": _inline(new="  stack: rocm\n"),
    "dev-unknown.yaml": _inline(new="  hbm: 3\n"),
    "dev-tflops.yaml": _inline("fp32: 11.0", "fp32: 1.0e+300"),
}
DIRECTORIES = ("folder.yaml", "sys-folder.yaml")


# ------------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """One bad invocation: `message` is the exact text after 'estimate: error: ', or, with
    `exact=False`, a fragment that must appear in it."""

    id: str
    argv: tuple[str, ...]
    message: str
    exact: bool = True


def model(name: str, message: str, *extra: str, exact: bool = True) -> Case:
    return Case(f"model:{name}", (name, "--hw", "v100x8", *extra), message, exact)


def option(case_id: str, extra: str, message: str, model_name: str = "bert-large",
           hw: str = "v100x8", exact: bool = True) -> Case:
    return Case(f"option:{case_id}", (model_name, "--hw", hw, *extra.split()), message, exact)


def hw(case_id: str, value: str, message: str, exact: bool = True) -> Case:
    return Case(f"hw:{case_id}", ("tiny.yaml", "--hw", value), message, exact)


def invalid(option_name: str, problem: str) -> str:
    return f"Invalid value for '{option_name}': {problem}{SEE_HELP}"


VALID_HW = "a shipped system a100-80gx8, a100x8"  # the start of the --hw valid list
CASES = [
    # --- model YAML: files and the parser ------------------------------------------------
    model("syntax.yaml", "syntax.yaml: invalid YAML: line 2: expected ',' or ']', but got ':'"),
    model("tab.yaml", "tab.yaml: invalid YAML: line 2: found character '\\t' that cannot start any token"),
    model("empty.yaml", "empty.yaml: expected a mapping of keys at the top level, found empty"),
    model("comment.yaml", "comment.yaml: expected a mapping of keys at the top level, found empty"),
    model("list.yaml", "list.yaml: expected a mapping of keys at the top level, found a list"),
    model("scalar.yaml", "scalar.yaml: expected a mapping of keys at the top level, found a str"),
    model("binary.yaml", "binary.yaml: not UTF-8 text"),
    model("nul.yaml", "nul.yaml: binary data, not YAML"),
    model("latin1.yaml", "latin1.yaml: not UTF-8 text"),
    model("huge.yaml", "huge.yaml: larger than 1024 KiB; not a spec file"),
    model("deep.yaml", "deep.yaml: invalid YAML: line 1: nested deeper than 32 levels"),
    model("bomb.yaml", "bomb.yaml: invalid YAML: line 9: more than 64 aliases"),
    model("pyobj.yaml",
          "pyobj.yaml: line 1: could not determine a constructor for the tag "
          "'tag:yaml.org,2002:python/object/apply:os.system' (tags that construct objects are not allowed)"),
    model("pyname.yaml",
          "pyname.yaml: line 1: could not determine a constructor for the tag "
          "'tag:yaml.org,2002:python/name:os.system' (tags that construct objects are not allowed)"),
    model("custom-tag.yaml",
          "custom-tag.yaml: line 1: could not determine a constructor for the tag '!custom' "
          "(tags that construct objects are not allowed)"),
    model("unhashable.yaml", "unhashable.yaml: invalid YAML: line 1: a mapping key must be a plain value"),
    model("dup.yaml", "dup.yaml: invalid YAML: line 8: duplicate key 'hidden'"),
    model("float-tag.yaml",
          "float-tag.yaml: invalid YAML: line 8: 'abc' is not a valid float "
          "(could not convert string to float: 'abc'); quote it to keep it as text"),
    model("bool-tag.yaml", "bool-tag.yaml: invalid YAML: line 8: 'maybe' is not a valid bool; quote it to keep it as text"),
    model("map-tag.yaml", "map-tag.yaml: invalid YAML: a value its tag cannot hold (TypeError)"),
    model("merge.yaml", "merge.yaml: invalid YAML: line 4: merge keys ('<<') are not supported; write the keys out"),
    model("merge-bomb.yaml",
          "merge-bomb.yaml: invalid YAML: line 2: merge keys ('<<') are not supported; write the keys out"),
    model("missing.yaml", f"MODEL 'missing.yaml': no such file or preset (presets: {PRESETS})"),
    model("folder.yaml", "folder.yaml", exact=False),
    # --- model YAML: the schema ------------------------------------------------------------
    model("unknown.yaml", f"unknown.yaml: hiden: unknown key (valid: {TRANSFORMER_KEYS})"),
    model("str-int.yaml", "str-int.yaml: hidden: expected an integer, got 'sixty-four'"),
    model("float-int.yaml", "float-int.yaml: layers: expected an integer, got 2.5"),
    model("bool-int.yaml", "bool-int.yaml: hidden: expected an integer, got true"),
    model("negative.yaml", "negative.yaml: layers: must be >= 1, got -3"),
    model("zero.yaml", "zero.yaml: hidden: must be >= 1, got 0"),
    model("nan.yaml", "nan.yaml: hidden: expected an integer, got nan"),
    model("inf.yaml", "inf.yaml: hidden: expected an integer, got inf"),
    model("astronomical.yaml", "astronomical.yaml: hidden: must be <= 1048576, got 100000000000000000000000000000"),
    model("heads.yaml", "heads.yaml: heads: 5 does not divide hidden 64 (valid: a divisor of hidden, or set head_dim)"),
    model("kv-heads.yaml", "kv-heads.yaml: kv_heads: 8 is more than heads 4 (valid: a divisor of heads)"),
    model("kv-divide.yaml", "kv-divide.yaml: kv_heads: 3 does not divide heads 4 (valid: a divisor of heads)"),
    model("family.yaml", "family.yaml: family: 'rnn' is not valid (valid: transformer, cnn, graph)"),
    model("no-family.yaml", "no-family.yaml: family: missing (valid: transformer, cnn, graph)"),
    model("arch.yaml", "arch.yaml: arch: 'decoder-only' is not valid (valid: decoder, encoder, encoder-decoder)"),
    model("activation.yaml", "activation.yaml: activation: 'tanh' is not valid (valid: gelu, relu, swiglu, geglu)"),
    model("schema.yaml", "schema.yaml: schema_version: 2 is not valid (valid: 1)"),
    model("control.yaml", "control.yaml: name: contains control characters"),
    model("long-name.yaml", "long-name.yaml: name: longer than 200 characters"),
    model("dropout.yaml", "dropout.yaml: dropout: must be < 1, got 1.5"),
    model("missing-key.yaml", "missing-key.yaml: vocab: missing (required)"),
    model("preset.yaml", f"preset.yaml: preset: 'gpt5' is not a preset (valid: {PRESETS})"),
    model("preset-family.yaml",
          "preset-family.yaml: preset: 'gpt2' is not a cnn preset (transformer) "
          "(valid: resnet152, resnet18, resnet50, resnet9)"),
    model("cnn-layer.yaml", f"cnn-layer.yaml: layers.1: unknown layer 'blah' (valid: {LAYER_KINDS})"),
    model("cnn-shape.yaml",
          "cnn-shape.yaml: layers.0.conv: kernel 7 (stride 1, padding 0) does not fit the 3×4×4 input"),
    model("cnn-empty.yaml", "cnn-empty.yaml: layers: needs at least 1 entries"),
    model("cnn-args.yaml", "cnn-args.yaml: layers.0", exact=False),
    model("graph-empty.yaml", "graph-empty.yaml: ops: needs at least 1 entries"),
    model("graph-zero.yaml", "graph-zero.yaml: ops.0: m: matmul operators need k, m, n > 0"),
    model("graph-kind.yaml",
          "graph-kind.yaml: ops.0.kind: 'lstm' is not valid "
          "(valid: matmul, conv2d, attention, norm, elementwise, embedding, pooling, loss)"),
    model("graph-field.yaml", "graph-field.yaml: ops.0: heads: not used by norm operators", exact=False),
    model("graph-kv.yaml", "operator 'attention0': kv_heads must not exceed heads", exact=False),
    model("graph-nan.yaml", "graph-nan.yaml: ops.0.m: must be a finite number, got nan"),
    model("graph-huge.yaml", "graph-huge.yaml: ops.0.m: must be <= 1000000000000000000, got 1e+30"),
    # --- presets -------------------------------------------------------------------------
    model("gpt5", f"MODEL 'gpt5': no such file or preset (presets: {PRESETS})"),
    model("GPT2", f"MODEL 'GPT2': no such file or preset (presets: {PRESETS})"),
    model("gpt2.yaml", f"MODEL 'gpt2.yaml': no such file or preset (presets: {PRESETS})"),
    model("../presets/gpt2", f"MODEL '../presets/gpt2': no such file or preset (presets: {PRESETS})"),
    model("", f"MODEL '': no such file or preset (presets: {PRESETS})"),
    model("x" * 5000, "no such file or preset", exact=False),
    # --- the training section ------------------------------------------------------------
    model("tr-unknown.yaml", f"tr-unknown.yaml: training.precison: unknown key (valid: {TRAINING_KEYS})"),
    model("tr-precision.yaml",
          "tr-precision.yaml: training.precision: 'fp64' is not valid (valid: fp32, tf32, fp16, bf16, fp8)"),
    model("tr-optimizer.yaml",
          "tr-optimizer.yaml: training.optimizer: 'rmsprop' is not valid "
          "(valid: sgd, momentum, adam, adamw, adafactor, lamb)"),
    model("tr-negative.yaml", "tr-negative.yaml: training.global_batch: must be >= 1, got -8"),
    model("tr-text.yaml", "tr-text.yaml: training: expected a mapping of keys, got 'fast'"),
    model("tr-inf.yaml", "tr-inf.yaml: training.tokens: must be a finite number, got inf"),
    model("tr-micro.yaml", "tr-micro.yaml: training.micro_batch: expected an integer, got 'biggest'"),
    model("tr-zero.yaml", "tr-zero.yaml: training.zero: must be <= 3, got 5"),
    model("tr-huge.yaml", "tr-huge.yaml: training.tokens: must be <= 1000000000000000000000, got 1e+300"),
    model("tr-dup.yaml", "tr-dup.yaml: invalid YAML: line 10: duplicate key 'tp'"),
    model("tr-tp.yaml",
          "--tp 3 --pp 1 --cp 1: tp·pp·cp = 3 does not divide the 8 devices "
          "(choose degrees whose product divides 8)"),
    model("tr-dp.yaml",
          "--dp 3: tp·pp·dp·cp = 3 but the hardware has 8 devices (leave --dp out to derive it, or use --nodes)"),
    model("tr-batch.yaml", "--global-batch 12: not divisible by dp = 8"),
    # --- Hugging Face config.json --------------------------------------------------------
    model("syntax.json", "syntax.json: invalid JSON: line 1: Expecting property name enclosed in double quotes"),
    model("dup.json", "dup.json: duplicate key 'n_layer'"),
    model("nan.json", "nan.json: NaN is not a number JSON allows (valid: finite numbers)"),
    model("infinity.json", "infinity.json: Infinity is not a number JSON allows (valid: finite numbers)"),
    model("model-type.json", f"model-type.json: model_type: 'rwkv' is not supported (valid: {HF_TYPES})"),
    model("no-model-type.json", f"no-model-type.json: model_type: missing (valid: {HF_TYPES})"),
    model("int-model-type.json", f"int-model-type.json: model_type: 5 is not supported (valid: {HF_TYPES})"),
    model("list.json", "list.json: expected a JSON object at the top level"),
    model("empty.json", "empty.json: invalid JSON: line 1: Expecting value"),
    model("missing.json", "missing.json: n_embd: missing (model_type gpt2 needs it)"),
    model("negative.json", "negative.json: n_layer: must be >= 1, got -2"),
    model("string.json", "string.json: n_layer: expected an integer, got '2'"),
    model("huge.json", "huge.json: n_layer", exact=False),
    model("deep.json", "deep.json: nested deeper than 32 levels"),
    model("kv.json",
          "kv.json: num_key_value_heads: 8 is more than num_attention_heads 4 "
          "(valid: a divisor of num_attention_heads)"),
    model("binary.json", "binary.json: not UTF-8 text"),
    # --- system and device YAML through --hw PATH ----------------------------------------
    hw("device", "sys-device.yaml",
       "sys-device.yaml: device: unknown device 'v999' (valid: a100, a100-80g, h100, h200, k80, "
       "n1-skylake-48vcpu, p100, t4, tpu-v2, tpu-v3, tpu-v4, tpu-v5p, v100, v100-32g, xeon-8124m)"),
    hw("unknown-key", "sys-unknown.yaml", f"sys-unknown.yaml: unknown key 'bandwidth' (valid: {SYSTEM_KEYS})"),
    hw("duplicate", "sys-dup.yaml", "sys-dup.yaml: invalid YAML: line 7: duplicate key 'nodes'"),
    hw("zero", "sys-zero.yaml", "sys-zero.yaml: devices_per_node: must be greater than or equal to 1, got 0"),
    hw("negative", "sys-negative.yaml",
       "sys-negative.yaml: intra_node_bandwidth_GBps: must be greater than 0, got -150"),
    hw("nan", "sys-nan.yaml", "sys-nan.yaml: intra_node_bandwidth_GBps: must be a finite number, got nan"),
    hw("inf", "sys-inf.yaml", "sys-inf.yaml: inter_node_bandwidth_Gbps: must be a finite number, got inf"),
    hw("astronomical", "sys-astronomical.yaml",
       "sys-astronomical.yaml: nodes: must be less than or equal to 16777216, got 100000000000000000000"),
    hw("too-many", "sys-too-many.yaml",
       "sys-too-many.yaml: (top level): 8 devices per node × 16777216 nodes exceeds 16777216 devices"),
    hw("text", "sys-text.yaml", "sys-text.yaml: devices_per_node: must be a valid integer", exact=False),
    hw("spot", "sys-spot.yaml",
       "sys-spot.yaml: price_usd_per_hour: spot (20.0) must not exceed on_demand (10.0)"),
    hw("price", "sys-price.yaml",
       "sys-price.yaml: price_usd_per_hour.on_demand: must be greater than or equal to 0, got -1"),
    hw("missing-keys", "sys-missing.yaml",
       "sys-missing.yaml: devices_per_node: missing required key (and 2 more problems)"),
    hw("name", "sys-name.yaml",
       "sys-name.yaml: name: must be lower-case letters, digits, '.', '_' or '-', starting with a "
       "letter or digit, got 'My Cluster!'"),
    hw("latency", "sys-latency.yaml",
       "sys-latency.yaml: intra_node_latency_us: must be greater than or equal to 0, got -5"),
    hw("efficiency", "sys-efficiency.yaml",
       "sys-efficiency.yaml: network_efficiency.intra: must be greater than 0, got 0"),
    hw("device-list", "sys-device-list.yaml", "sys-device-list.yaml: device:", exact=False),
    hw("pyobj", "sys-pyobj.yaml",
       "sys-pyobj.yaml: line 1: could not determine a constructor for the tag "
       "'tag:yaml.org,2002:python/object/new:subprocess.Popen' (tags that construct objects are not allowed)"),
    hw("impossible-date", "sys-date.yaml",
       "sys-date.yaml: invalid YAML: line 7: '2018-02-30' is not a valid timestamp "
       "(day is out of range for month); quote it to keep it as text"),
    hw("bomb", "bomb.yaml", "bomb.yaml: invalid YAML: line 9: more than 64 aliases"),
    hw("deep", "deep.yaml", "deep.yaml: invalid YAML: line 1: nested deeper than 32 levels"),
    hw("huge", "huge.yaml", "huge.yaml: larger than 1024 KiB; not a spec file"),
    hw("binary", "binary.yaml", "binary.yaml: not UTF-8 text"),
    hw("empty", "empty.yaml", "empty.yaml: expected a mapping of keys at the top level, found empty"),
    hw("syntax", "syntax.yaml", "syntax.yaml: invalid YAML: line 2: expected ',' or ']', but got ':'"),
    hw("model-file", "tiny.yaml", f"tiny.yaml: unknown key 'family' (valid: {SYSTEM_KEYS}) (and 9 more problems)"),
    hw("folder", "sys-folder.yaml", "--hw sys-folder.yaml: not a file; expected a system YAML file"),
    hw("missing-file", "nowhere.yaml", "--hw nowhere.yaml: no such file"),
    hw("dev-null", "/dev/null", "--hw /dev/null: not a file; expected a system YAML file"),
    hw("device-precision", "dev-precision.yaml",
       "dev-precision.yaml: device.peak_TFLOPS: unknown precision 'fp64' (valid: fp32, tf32, fp16, bf16, fp8)"),
    hw("device-fp32", "dev-no-fp32.yaml",
       "dev-no-fp32.yaml: device.peak_TFLOPS: fp32 is required (the vector rate used by non-matmul operators)"),
    hw("device-memory", "dev-memory.yaml", "dev-memory.yaml: device.memory_GiB: must be greater than 0, got 0"),
    hw("device-nan", "dev-nan.yaml", "dev-nan.yaml: device.memory_GiB: must be a finite number, got nan"),
    hw("device-efficiency", "dev-efficiency.yaml",
       "dev-efficiency.yaml: device.efficiency.matmul: must be less than or equal to 1, got 1.5"),
    hw("device-stack", "dev-stack.yaml",
       "dev-stack.yaml: device.stack: unknown software stack 'rocm' (valid: cpu, cuda, xla-tpu)"),
    hw("device-unknown", "dev-unknown.yaml", "dev-unknown.yaml: device: unknown key 'hbm'", exact=False),
    hw("device-tflops", "dev-tflops.yaml",
       "dev-tflops.yaml: device.peak_TFLOPS.fp32: must be less than or equal to 1000000, got 1e+300"),
    # --- --hw names: unknown, shorthand, traversal ----------------------------------------
    hw("unknown", "nosuch", f"--hw nosuch: unknown hardware (valid: {VALID_HW}", exact=False),
    hw("empty-name", "", f"--hw : unknown hardware (valid: {VALID_HW}", exact=False),
    hw("space", "v100 x8", f"--hw v100 x8: unknown hardware (valid: {VALID_HW}", exact=False),
    hw("minus", "h100x-1", f"--hw h100x-1: unknown hardware (valid: {VALID_HW}", exact=False),
    hw("dotdot", "..", f"--hw ..: unknown hardware (valid: {VALID_HW}", exact=False),
    hw("zero-devices", "v100x0", "--hw v100x0: the device count must be from 1 to 16777216"),
    hw("astronomical-devices", "v100x99999999999",
       "--hw v100x99999999999: the device count must be from 1 to 16777216"),
    hw("partial-node", "xeon-8124mx3",
       "--hw xeon-8124mx3: 3 devices do not fill whole c5.18xlarge nodes of 2; use a multiple of 2, "
       "or fewer than 2 for one partial node"),
    hw("traversal", "../" * 40 + "etc/no-such-spec", f"--hw {'../' * 40}etc/no-such-spec: no such file"),
    hw("traversal-name", "v100x8/../../../etc/passwd", "--hw v100x8/../../../etc/passwd: no such file"),
    hw("traversal-shipped", "systems/../devices/v100", "--hw systems/../devices/v100: no such file"),
    # control characters in the user's text are shown escaped: one line, no terminal escapes
    hw("nul-byte", "v100x8\x00", f"--hw v100x8\\x00: unknown hardware (valid: {VALID_HW}", exact=False),
    hw("ansi-escape", "\x1b[2J", f"--hw \\x1b[2J: unknown hardware (valid: {VALID_HW}", exact=False),
    model("new\nline.yaml", f"MODEL 'new\\nline.yaml': no such file or preset (presets: {PRESETS})"),
    Case("option:record-separator", ("bert-large", "--hw", "v100x8", "--global-batch\x1e", "5"),
         "no such option: --global-batch\\x1e (did you mean --global-batch, --micro-batch?)" + SEE_HELP),
    # --- every CLI option ----------------------------------------------------------------
    option("nodes-zero", "--nodes 0", invalid("--nodes", "Input should be greater than or equal to 1")),
    option("nodes-huge", "--nodes 99999999999999999999",
           invalid("--nodes", "Input should be less than or equal to 16777216")),
    option("nodes-text", "--nodes two",
           invalid("--nodes", "Input should be a valid integer, unable to parse string as an integer")),
    option("precision", "--precision fp64",
           invalid("--precision", "'fp64' is not one of 'fp32', 'tf32', 'fp16', 'bf16', 'fp8'")),
    option("optimizer", "--optimizer rmsprop",
           invalid("--optimizer", "'rmsprop' is not one of 'sgd', 'momentum', 'adam', 'adamw', 'adafactor', 'lamb'")),
    option("global-batch-zero", "--global-batch 0",
           invalid("--global-batch", "Input should be greater than or equal to 1")),
    option("global-batch-negative", "--global-batch -8",
           invalid("--global-batch", "Input should be greater than or equal to 1")),
    option("global-batch-huge", "--global-batch 10000000000000",
           invalid("--global-batch", "Input should be less than or equal to 1073741824")),
    option("global-batch-float", "--global-batch 1e3",
           invalid("--global-batch", "Input should be a valid integer, unable to parse string as an integer")),
    option("global-batch-divisible", "--global-batch 7", "--global-batch 7: not divisible by dp = 8"),
    option("micro-batch-zero", "--micro-batch 0", invalid("--micro-batch", "expected a positive integer or 'auto'")),
    option("micro-batch-text", "--micro-batch big", invalid("--micro-batch", "expected a positive integer or 'auto'")),
    option("micro-batch-divisible", "--micro-batch 3 --global-batch 64",
           "--global-batch 64: not divisible by dp·micro_batch = 8·3"),
    option("tp-zero", "--tp 0", invalid("--tp", "Input should be greater than or equal to 1")),
    option("tp-negative", "--tp -1", invalid("--tp", "Input should be greater than or equal to 1")),
    option("tp-nan", "--tp nan",
           invalid("--tp", "Input should be a valid integer, unable to parse string as an integer")),
    option("tp-huge", "--tp 4294967296", invalid("--tp", "Input should be less than or equal to 16777216")),
    option("tp-devices", "--tp 3",
           "--tp 3 --pp 1 --cp 1: tp·pp·cp = 3 does not divide the 8 devices (choose degrees whose product divides 8)"),
    option("tp-heads", "--tp 8", "--tp 8: must divide the 12 attention heads of gpt2", model_name="gpt2"),
    option("pp-devices", "--pp 5",
           "--tp 1 --pp 5 --cp 1: tp·pp·cp = 5 does not divide the 8 devices (choose degrees whose product divides 8)"),
    option("pp-layers", "--pp 8", "--pp 8 --vp 1: pp·vp = 8 must divide the 12 layers of gpt2", model_name="gpt2"),
    option("dp", "--dp 3",
           "--dp 3: tp·pp·dp·cp = 3 but the hardware has 8 devices (leave --dp out to derive it, or use --nodes)"),
    option("cp-devices", "--cp 3",
           "--tp 1 --pp 1 --cp 3: tp·pp·cp = 3 does not divide the 8 devices (choose degrees whose product divides 8)"),
    option("cp-image", "--cp 2", "--cp 2: context parallelism needs a token model, not resnet50",
           model_name="resnet50"),
    option("vp", "--vp 2", "--vp: virtual pipeline stages need --pp > 1"),
    option("mean-seq-len-zero", "--mean-seq-len 0",
           invalid("--mean-seq-len", "Input should be greater than or equal to 1")),
    option("mean-seq-len-long", "--mean-seq-len 513",
           "--mean-seq-len 513: longer than the seq_len 512 of bert-large"),
    option("mean-seq-len-image", "--mean-seq-len 64",
           "--mean-seq-len: only for transformer models, not resnet50 (cnn)", model_name="resnet50"),
    option("ep", "--ep 2", "--ep 2: expert parallelism needs a mixture-of-experts model"),
    option("zero", "--zero 4", invalid("--zero", "'4' is not one of '0', '1', '2', '3'")),
    option("fsdp-zero", "--fsdp --zero 1", "--fsdp: FSDP shards the parameters (zero 3), not zero 1"),
    option("blocking-gathers-zero", "--blocking-gathers --zero 1",
           "--blocking-gathers: only sharded parameters (zero 3) are gathered, not zero 1"),
    option("recompute", "--recompute some",
           invalid("--recompute", "'some' is not one of 'none', 'selective', 'full'")),
    option("attention", "--attention slow", invalid("--attention", "'slow' is not one of 'fused', 'triton', 'cudnn', 'unfused', 'eager'")),
    option("tokens-nan", "--tokens nan", invalid("--tokens", "Input should be greater than or equal to 0")),
    option("tokens-inf", "--tokens inf", "--tokens: Input should be a finite number"),
    option("tokens-negative", "--tokens -1", invalid("--tokens", "Input should be greater than or equal to 0")),
    option("tokens-zero", "--tokens 0", "--tokens: Input should be greater than 0"),
    option("tokens-astronomical", "--tokens 1e300",
           "--tokens: Input should be less than or equal to 1000000000000000000000"),
    option("tokens-text", "--tokens lots",
           invalid("--tokens", "Input should be a valid number, unable to parse string as a number")),
    option("tokens-image", "--tokens 1e9", "--tokens: resnet50 has no tokens; use --samples or --epochs",
           model_name="resnet50"),
    option("samples-negative", "--samples -5", invalid("--samples", "Input should be greater than or equal to 0")),
    option("epochs-dataset", "--epochs 1",
           "--epochs: bert-large has no dataset_samples; set it in the model file or use --samples"),
    option("epochs-inf", "--epochs inf", "--epochs: Input should be a finite number", model_name="resnet50"),
    option("two-sizes", "--tokens 1e9 --samples 5", "--tokens and --samples: give only one data size"),
    option("unknown", "--bogus", f"no such option: --bogus{SEE_HELP}"),
    option("misspelt", "--tokns 5", f"no such option: --tokns (did you mean --tokens?){SEE_HELP}"),
    option("hw-no-value", "--tp 2 --hw", f"Option '--hw' requires an argument{SEE_HELP}"),
    option("flag-value", "--sequence-parallel=3", f"Option '--sequence-parallel' does not take a value{SEE_HELP}"),
    option("extra-argument", "extra", f"Got unexpected extra argument(s) (extra){SEE_HELP}"),
    Case("option:missing-hw", ("bert-large",), f"Missing option '--hw'{SEE_HELP}"),
    Case("option:missing-model", ("--hw", "v100x8"), f"Missing argument 'model'{SEE_HELP}"),
    Case("option:nothing", (), f"Missing argument 'model'{SEE_HELP}"),
    Case("hw-command:unknown", ("hw", "--bogus"), "no such option: --bogus; see 'estimate hw --help'"),
    Case("hw-command:extra", ("hw", "extra"), "Got unexpected extra argument(s) (extra); see 'estimate hw --help'"),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "tiny.yaml").write_text(TINY, encoding="utf-8")
    for name, content in FILES.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for name in DIRECTORIES:
        (root / name).mkdir()
    return root


def check_refusal(code: int, out: str, err: str) -> str:
    """The contract's §5 shape; returns the message after the prefix."""
    assert "Traceback" not in out + err
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert 1 <= len(lines) <= 3, err
    assert lines[0].startswith("estimate: error: "), err
    return err.removeprefix("estimate: error: ").rstrip("\n")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_with_a_message(case: Case, corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(corpus)
    start = time.monotonic()
    code = run(list(case.argv))
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    message = check_refusal(code, captured.out, captured.err)
    if case.exact:
        assert message == case.message
    else:
        assert case.message in message
    assert elapsed < HANG_S


def test_the_corpus_is_large_and_covers_every_input_path() -> None:
    kinds = {case.id.split(":")[0] for case in CASES}
    assert kinds >= {"model", "hw", "option", "hw-command"}
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    assert sum(case.exact for case in CASES) >= 0.8 * len(CASES)


def test_the_control_files_of_the_corpus_are_accepted(corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The templates the bad files are made from are themselves valid, so each bad file is bad
    for the one reason its case names."""
    monkeypatch.chdir(corpus)
    for argv in (["tiny.yaml", "--hw", "v100x8"], ["ok.json", "--hw", "v100x8"],
                 ["tiny.yaml", "--hw", "sys-ok.yaml"], ["tiny.yaml", "--hw", "./sys-ok.yaml"]):
        assert run(argv) == 0, capsys.readouterr().err
    inline = corpus / "inline-ok.yaml"
    inline.write_text(_inline(), encoding="utf-8")
    assert run(["tiny.yaml", "--hw", str(inline)]) == 0, capsys.readouterr().err


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    limit = 1 << 30  # 1 GiB of address space: far above a normal run, far below a bomb
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("argv", [
    ["bomb.yaml", "--hw", "v100x8"],
    ["deep.yaml", "--hw", "v100x8"],
    ["huge.yaml", "--hw", "v100x8"],
    ["tiny.yaml", "--hw", "bomb.yaml"],
    ["merge-bomb.yaml", "--hw", "v100x8"],
    ["deep.json", "--hw", "v100x8"],
], ids=["alias-bomb", "deep-yaml", "huge-file", "alias-bomb-hw", "merge-bomb", "deep-json"])
def test_hostile_files_are_refused_in_bounded_memory_and_time(argv: list[str], corpus: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("LD_PRELOAD", None)  # an ASan runtime (.ci/sanitize) reserves terabytes of address space
    result = subprocess.run(
        [sys.executable, "-m", "estimator", *argv], cwd=corpus, env=env, capture_output=True,
        text=True, timeout=60, preexec_fn=_limit_memory, check=False,
    )
    check_refusal(result.returncode, result.stdout, result.stderr)
