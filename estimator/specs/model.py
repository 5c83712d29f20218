"""Model specifications: the transformer, CNN and raw-graph families, presets, and `load_model`.

A model file is YAML (contract §2) validated strictly by the pydantic models here: unknown keys,
wrong types, out-of-range sizes and inconsistent fields (heads that do not divide hidden, kv_heads
above heads) are `EstimatorError`s of one line, `FILE: key: problem (valid: ...)`. `load_model`
also accepts a shipped preset name (`estimator/lowering/presets/*.yaml`), a YAML file that starts
from a preset (`preset: gpt2` plus overrides), and a Hugging Face `config.json`
(`estimator.lowering.hf`). Lowering to the operator graph is `estimator.lowering.lower`.

Fields that a file may leave out and that depend on others (`kv_heads`, `head_dim`,
`ffn_hidden`, `top_k`, `head`, `max_position`, ...) are filled in after validation, so a spec's
attributes are always concrete; `model_fields_set` still says what the file itself set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    ValidationError,
    model_validator,
)

from estimator.errors import EstimatorError
from estimator.graph import OpKind, TpSplit
from estimator.specs import yaml_io
from estimator.specs.training import TrainingConfig

# Bounds that keep arithmetic finite and catch typos (the largest published models are far inside).
MAX_LAYERS = 1 << 16
MAX_WIDTH = 1 << 20  # hidden, ffn_hidden, head_dim, channels
MAX_HEADS = 1 << 14
MAX_VOCAB = 1 << 24
MAX_SEQ = 1 << 24
MAX_EXPERTS = 1 << 16
MAX_IMAGE = 1 << 16
MAX_SAMPLES = 10**13
MAX_SIZE = 1e18  # any per-sample dimension of a raw graph operator

PRESETS_DIR = Path(__file__).resolve().parent.parent / "lowering" / "presets"
PRESET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

Name = Annotated[str, Strict(), Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Layers = Annotated[int, Strict(), Field(ge=1, le=MAX_LAYERS)]
Width = Annotated[int, Strict(), Field(ge=1, le=MAX_WIDTH)]
Heads = Annotated[int, Strict(), Field(ge=1, le=MAX_HEADS)]
Vocab = Annotated[int, Strict(), Field(ge=1, le=MAX_VOCAB)]
Tokens = Annotated[int, Strict(), Field(ge=1, le=MAX_SEQ)]
Experts = Annotated[int, Strict(), Field(ge=1, le=MAX_EXPERTS)]
Probability = Annotated[float, Strict(), Field(ge=0, lt=1)]
Count = Annotated[int, Strict(), Field(ge=1, le=1 << 20)]
Size = Annotated[float, Strict(), Field(ge=0, le=MAX_SIZE)]
Pair = Annotated[int, Strict(), Field(ge=1, le=MAX_IMAGE)] | tuple[
    Annotated[int, Strict(), Field(ge=1, le=MAX_IMAGE)], Annotated[int, Strict(), Field(ge=1, le=MAX_IMAGE)]
]
Padding = Annotated[int, Strict(), Field(ge=0, le=MAX_IMAGE)] | tuple[
    Annotated[int, Strict(), Field(ge=0, le=MAX_IMAGE)], Annotated[int, Strict(), Field(ge=0, le=MAX_IMAGE)]
]

_SPEC = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _fill(model: BaseModel, name: str, value: object) -> None:
    """Sets a derived field on a frozen spec during its own validation (not a user-set field)."""
    object.__setattr__(model, name, value)


# --------------------------------------------------------------------------------- transformer
class TransformerSpec(BaseModel):
    """A decoder (GPT, LLaMA), encoder (BERT) or encoder-decoder (T5) transformer.

    Sizes are those of the published configs: `hidden` is d_model, `ffn_hidden` the inner MLP
    width (for gated activations the width of each of the gate and up projections, as LLaMA's
    `intermediate_size`), `seq_len` the training sequence length in tokens.
    """

    model_config = _SPEC

    schema_version: Literal[1] = 1
    family: Literal["transformer"] = "transformer"
    name: Name
    preset: Name | None = None  # the preset this spec started from, if any
    arch: Literal["decoder", "encoder", "encoder-decoder"] = "decoder"
    layers: Layers | None = None  # encoder-decoder: layers of each stack unless given separately
    encoder_layers: Annotated[int, Strict(), Field(ge=0, le=MAX_LAYERS)] | None = None
    decoder_layers: Annotated[int, Strict(), Field(ge=0, le=MAX_LAYERS)] | None = None
    hidden: Width
    heads: Heads
    kv_heads: Heads | None = None  # grouped-query (Ainslie et al. 2023) / multi-query attention
    head_dim: Width | None = None  # default hidden / heads
    ffn_hidden: Width | None = None  # default 4 * hidden
    activation: Literal["gelu", "relu", "swiglu", "geglu"] = "gelu"
    vocab: Vocab
    seq_len: Tokens
    decoder_seq_len: Tokens | None = None  # encoder-decoder: target length, default seq_len
    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    norm_position: Literal["pre", "post"] = "pre"  # post: BERT and the original Transformer
    bias: StrictBool = True  # additive biases of linear layers and layer norms
    position_embedding: Literal["learned", "rotary", "relative", "transformer-xl", "none"] = "learned"
    max_position: Tokens | None = None  # rows of the learned position table, default seq_len
    relative_buckets: Annotated[int, Strict(), Field(ge=1, le=1 << 16)] | None = None  # T5: 32
    tied_embeddings: StrictBool = True
    dropout: Probability = 0.0
    experts: Experts = 1
    top_k: Experts | None = None  # default 2 with experts > 1 (GShard, Lepikhin et al. 2020)
    moe_every: Layers = 1  # every n-th layer is a mixture-of-experts layer
    type_vocab: Annotated[int, Strict(), Field(ge=0, le=MAX_VOCAB)] = 0  # BERT token types: 2
    head: Literal["lm", "mlm", "none"] | None = None  # default: mlm for encoders, lm otherwise
    pooler: StrictBool = False  # BERT pooler (dense + tanh on the first token)
    nsp: StrictBool = False  # BERT next-sentence classifier (needs pooler)
    training: TrainingConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        return _merge_preset(data, "transformer")

    @model_validator(mode="after")
    def _derive(self) -> TransformerSpec:
        self._check_layers()
        if self.head_dim is None:
            if self.hidden % self.heads:
                raise ValueError(
                    f"heads: {self.heads} does not divide hidden {self.hidden} "
                    f"(valid: a divisor of hidden, or set head_dim)"
                )
            _fill(self, "head_dim", self.hidden // self.heads)
        if self.kv_heads is None:
            _fill(self, "kv_heads", self.heads)
        elif self.kv_heads > self.heads:
            raise ValueError(f"kv_heads: {self.kv_heads} is more than heads {self.heads} (valid: a divisor of heads)")
        elif self.heads % self.kv_heads:
            raise ValueError(
                f"kv_heads: {self.kv_heads} does not divide heads {self.heads} (valid: a divisor of heads)"
            )
        if self.ffn_hidden is None:
            _fill(self, "ffn_hidden", 4 * self.hidden)
        self._check_experts()
        self._check_positions()
        if self.head is None:
            _fill(self, "head", "mlm" if self.arch == "encoder" else "lm")
        if self.nsp and not self.pooler:
            raise ValueError("nsp: the next-sentence head reads the pooler output (valid: set pooler: true)")
        if self.nsp and self.head != "mlm":
            raise ValueError(f"nsp: needs head: mlm, not head: {self.head}")
        return self

    def _check_layers(self) -> None:
        enc, dec = self.encoder_layers, self.decoder_layers
        if self.arch != "encoder-decoder":
            if self.layers is None:
                raise ValueError("layers: missing (required)")
            derived = {"encoder_layers": self.layers if self.arch == "encoder" else 0,
                       "decoder_layers": self.layers if self.arch == "decoder" else 0}
            for key, value in derived.items():  # a dumped spec carries the derived values back
                if getattr(self, key) not in (None, value):
                    raise ValueError(f"{key}: only for arch: encoder-decoder (valid: layers)")
                _fill(self, key, value)
            if self.decoder_seq_len is not None:
                raise ValueError("decoder_seq_len: only for arch: encoder-decoder (valid: seq_len)")
            return
        enc = self.layers if enc is None else enc
        dec = self.layers if dec is None else dec
        if enc is None or dec is None:
            raise ValueError("layers: missing (valid: layers, or encoder_layers and decoder_layers)")
        if enc + dec == 0:
            raise ValueError("layers: an encoder-decoder needs at least one layer")
        _fill(self, "encoder_layers", enc)
        _fill(self, "decoder_layers", dec)
        if self.decoder_seq_len is None:
            _fill(self, "decoder_seq_len", self.seq_len)

    def _check_experts(self) -> None:
        if self.experts == 1:
            if self.top_k not in (None, 1):
                raise ValueError(f"top_k: {self.top_k} needs experts > 1 (valid: set experts)")
            if self.moe_every != 1:
                raise ValueError(f"moe_every: {self.moe_every} needs experts > 1 (valid: set experts)")
            _fill(self, "top_k", 1)
            return
        if self.top_k is None:
            _fill(self, "top_k", min(2, self.experts))
        elif self.top_k > self.experts:
            raise ValueError(f"top_k: {self.top_k} is more than experts {self.experts}")
        if self.arch == "encoder-decoder":
            raise ValueError("experts: mixture of experts is supported for decoder and encoder stacks only")
        if self.layers is not None and self.layers % self.moe_every:
            raise ValueError(f"moe_every: {self.moe_every} does not divide layers {self.layers}")

    def _check_positions(self) -> None:
        longest = max(self.seq_len, self.decoder_seq_len or 0)
        if self.position_embedding == "learned":
            if self.max_position is None:
                _fill(self, "max_position", longest)
            elif self.max_position < longest:
                raise ValueError(
                    f"seq_len: {longest} is longer than max_position {self.max_position} of the learned "
                    f"position embedding (valid: seq_len <= max_position, or raise max_position)"
                )
        elif self.max_position is None:
            _fill(self, "max_position", longest)
        if self.position_embedding == "relative":
            if self.relative_buckets is None:
                _fill(self, "relative_buckets", 32)  # T5 (Raffel et al. 2020, §2.1)
        elif self.relative_buckets is not None:
            raise ValueError("relative_buckets: only with position_embedding: relative")


# ------------------------------------------------------------------------------------------ cnn
class _Layer(BaseModel):
    model_config = _SPEC
    name: Name | None = None  # op name prefix; default "<index>.<kind>"


class ConvLayer(_Layer):
    """2-D convolution, as torch.nn.Conv2d (same defaults: stride 1, padding 0, bias true)."""

    type: Literal["conv"]
    out: Width
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
    dilation: Pair = 1
    groups: Width = 1
    bias: StrictBool = True


class BatchNormLayer(_Layer):
    """Batch normalization over the channels (2 parameters per channel)."""

    type: Literal["bn"]


ACTIVATION_FLOPS = {"relu": 1, "relu6": 2, "gelu": 8, "silu": 4, "sigmoid": 4, "tanh": 4, "hardswish": 4}


class ActivationLayer(_Layer):
    """An elementwise activation (FLOPs per element in ACTIVATION_FLOPS)."""

    type: Literal["relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish"]


class PoolLayer(_Layer):
    """Max or average pooling over a window (stride defaults to the kernel, as in PyTorch)."""

    type: Literal["maxpool", "avgpool"]
    kernel: Pair
    stride: Pair | None = None
    padding: Padding = 0


class GlobalPoolLayer(_Layer):
    """Pooling over the whole feature map: C x H x W -> C x 1 x 1."""

    type: Literal["global_avgpool", "global_maxpool"]


class FlattenLayer(_Layer):
    """C x H x W -> C*H*W features (no operator)."""

    type: Literal["flatten"]


class LinearLayer(_Layer):
    """A fully connected layer on flat features; without `out` it is the classifier (num_classes)."""

    type: Literal["linear"]
    out: Width | None = None
    bias: StrictBool = True


class DropoutLayer(_Layer):
    type: Literal["dropout"]
    p: Probability = 0.5


class ScaleLayer(_Layer):
    """Multiplication by a constant (the 0.125 logit scale of Page's ResNet-9)."""

    type: Literal["scale"]
    factor: Annotated[float, Strict()] = 1.0


class ResidualLayer(_Layer):
    """`body` and `shortcut` (identity when absent) applied to the same input, then added."""

    type: Literal["residual"]
    body: tuple[LayerItem, ...] = Field(min_length=1)
    shortcut: tuple[LayerItem, ...] | None = None


class StageLayer(_Layer):
    """`blocks` ResNet blocks (He et al. 2016); the first has `stride` and a projection shortcut
    when the shape changes. `basic`: two 3x3 convs of `width`. `bottleneck`: 1x1 `width`, 3x3
    `width` with the stride (torchvision's v1.5), 1x1 `width * expansion`."""

    type: Literal["basic", "bottleneck"]
    width: Width
    blocks: Count = 1
    stride: Annotated[int, Strict(), Field(ge=1, le=MAX_IMAGE)] = 1
    expansion: Annotated[int, Strict(), Field(ge=1, le=64)] | None = None  # bottleneck: 4


LAYER_KINDS = (
    "conv", "bn", *ACTIVATION_FLOPS, "maxpool", "avgpool", "global_avgpool", "global_maxpool",
    "flatten", "linear", "dropout", "scale", "residual", "basic", "bottleneck",
)


def _normalize_layer(value: Any) -> Any:
    """`relu` -> {type: relu}; `{conv: {out: 64}}` -> {type: conv, out: 64}; residual list -> body."""
    if isinstance(value, str):
        return {"type": value}
    if isinstance(value, Mapping):
        if "type" in value:  # already normalized (a spec built in Python)
            return value
        if len(value) != 1:
            keys = ", ".join(str(key) for key in value)
            raise ValueError(
                f"a layer is one kind with its arguments, such as {{conv: {{out: 64, kernel: 3}}}}; "
                f"found the keys {keys}"
            )
        ((kind, args),) = value.items()
        if args is None:
            return {"type": kind}
        if kind == "residual" and isinstance(args, (list, tuple)):
            return {"type": kind, "body": args}
        if not isinstance(args, Mapping):
            raise ValueError(f"{kind}: expected a mapping of arguments such as {{out: 64, kernel: 3}}")
        if "type" in args:
            raise ValueError(f"{kind}: type: unknown key")
        return {"type": kind, **args}
    return value


LayerItem = Annotated[
    Union[
        ConvLayer, BatchNormLayer, ActivationLayer, PoolLayer, GlobalPoolLayer, FlattenLayer,
        LinearLayer, DropoutLayer, ScaleLayer, ResidualLayer, StageLayer,
    ],
    Field(discriminator="type"),
    BeforeValidator(_normalize_layer),
]
ResidualLayer.model_rebuild()


class CnnSpec(BaseModel):
    """A convolutional network: a shipped preset or a `layers:` list (format in lowering/cnn.py)."""

    model_config = _SPEC

    schema_version: Literal[1] = 1
    family: Literal["cnn"] = "cnn"
    name: Name
    preset: Name | None = None
    layers: tuple[LayerItem, ...] | None = Field(default=None, min_length=1)
    image_size: Annotated[int, Strict(), Field(ge=1, le=MAX_IMAGE)] = 224
    in_channels: Width = 3
    num_classes: Width = 1000
    dataset_samples: Annotated[int, Strict(), Field(ge=1, le=MAX_SAMPLES)] | None = None
    training: TrainingConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        return _merge_preset(data, "cnn")

    @model_validator(mode="after")
    def _check_shapes(self) -> CnnSpec:
        if self.layers is None:
            raise ValueError(f"layers: missing (give a layers list or preset: one of {', '.join(presets_of('cnn'))})")
        from estimator.lowering.cnn import cnn_ops  # runs the shape arithmetic; raises ValueError

        cnn_ops(self)
        return self


# ---------------------------------------------------------------------------------------- graph
_COMMON_OP_FIELDS = {"kind", "name", "params", "tp", "expert"}
OP_FIELDS: dict[OpKind, tuple[set[str], set[str]]] = {  # kind -> (required > 0, also allowed)
    OpKind.MATMUL: ({"m", "k", "n"}, {"weight", "bias", "casts_input"}),
    OpKind.CONV2D: ({"m", "k", "n", "in_elements"}, {"weight"}),
    OpKind.ATTENTION: ({"m", "heads", "head_dim"}, {"kv_heads", "seq_kv", "causal", "fused", "dropout"}),
    OpKind.NORM: ({"elements"}, {"flops_per_element", "saves_input", "batch_stats", "fp32_stream"}),
    OpKind.ELEMENTWISE: (
        {"elements"},
        {"inputs", "flops_per_element", "fused", "saves_input", "mask_bytes_per_element", "fp32_stream",
         "reads_output", "follows_norm"},
    ),
    OpKind.EMBEDDING: ({"m", "k", "n"}, {"fp32_stream"}),
    OpKind.POOLING: ({"elements", "in_elements"}, {"flops_per_element"}),
    OpKind.LOSS: ({"m", "n"}, set()),
}


class OpSpec(BaseModel):
    """One operator of a `family: graph` file: the fields of `estimator.graph.Operator`."""

    model_config = _SPEC

    kind: OpKind
    name: Name | None = None  # default "<kind><index>"
    m: Size = 0.0
    k: Size = 0.0
    n: Size = 0.0
    heads: Size = 0.0
    kv_heads: Size = 0.0  # attention: default heads
    head_dim: Size = 0.0
    seq_kv: Size = 0.0  # attention: default m
    elements: Size = 0.0
    in_elements: Size = 0.0
    inputs: Annotated[int, Strict(), Field(ge=1, le=64)] = 1
    flops_per_element: Size = 0.0
    params: Size = 0.0
    weight: StrictBool = True
    causal: StrictBool = False
    fused: StrictBool = False
    dropout: StrictBool = False
    saves_input: StrictBool = True
    mask_bytes_per_element: Size = 0.0
    batch_stats: StrictBool = False  # norm: BatchNorm's statistics over the batch (DESIGN §2.4)
    tp: TpSplit = TpSplit.NONE
    expert: StrictBool = False

    @model_validator(mode="after")
    def _check_kind(self) -> OpSpec:
        required, optional = OP_FIELDS[self.kind]
        allowed = required | optional | _COMMON_OP_FIELDS
        for key in sorted(self.model_fields_set - allowed):  # a dump's defaults are fine
            if getattr(self, key) != type(self).model_fields[key].default:
                valid = ", ".join(sorted(allowed))
                raise ValueError(f"{key}: not used by {self.kind.value} operators (valid: {valid})")
        missing = sorted(key for key in required if getattr(self, key) <= 0)
        if missing:
            raise ValueError(f"{missing[0]}: {self.kind.value} operators need {', '.join(sorted(required))} > 0")
        return self


class SegmentSpec(BaseModel):
    model_config = _SPEC

    name: Name
    repeat: Count = 1
    ops: tuple[OpSpec, ...] = Field(min_length=1)


class GraphSpec(BaseModel):
    """A model given directly as operators: `segments:` (name, repeat, ops) or a flat `ops:` list."""

    model_config = _SPEC

    schema_version: Literal[1] = 1
    family: Literal["graph"] = "graph"
    name: Name
    tokens_per_sample: Tokens | None = None
    hidden: Annotated[int, Strict(), Field(ge=0, le=MAX_WIDTH)] = 0  # activation width between stages
    segments: tuple[SegmentSpec, ...] | None = Field(default=None, min_length=1)
    ops: tuple[OpSpec, ...] | None = Field(default=None, min_length=1)
    training: TrainingConfig | None = None

    @model_validator(mode="after")
    def _one_form(self) -> GraphSpec:
        if (self.segments is None) == (self.ops is None):
            problem = "missing" if self.segments is None else "give either segments or ops, not both"
            raise ValueError(f"ops: {problem} (valid: segments: [{{name, repeat, ops}}], or ops: [...])")
        return self


ModelSpec = Annotated[Union[TransformerSpec, CnnSpec, GraphSpec], Field(discriminator="family")]
FAMILIES: dict[str, type[BaseModel]] = {"transformer": TransformerSpec, "cnn": CnnSpec, "graph": GraphSpec}


# -------------------------------------------------------------------------------------- presets
@functools.cache
def _preset_paths() -> dict[str, Path]:
    return {
        path.stem: path
        for path in sorted(PRESETS_DIR.glob("*.yaml"))
        if PRESET_NAME.match(path.stem)
    }


def list_presets() -> list[str]:
    """Names of the shipped model presets, sorted."""
    return list(_preset_paths())


@functools.cache
def _preset_mapping(name: str) -> dict[str, Any]:
    """The parsed YAML of a shipped preset (cached; callers must not mutate it)."""
    return yaml_io.read_mapping(_preset_paths()[name], "preset file")


def presets_of(family: str) -> list[str]:
    """Shipped presets of one family."""
    return [name for name in _preset_paths() if _preset_mapping(name).get("family") == family]


def _merge_preset(data: Any, family: str) -> Any:
    """`preset: NAME` plus overrides -> the preset's keys, each overridden by the file's (`layers`
    included); the `training:` sections merge key by key. `preset` stays as provenance."""
    if not isinstance(data, Mapping) or not isinstance(data.get("preset"), str):
        return data
    name = data["preset"]
    base = _preset_mapping(name) if name in _preset_paths() else None
    if base is None or base.get("family") != family:
        kind = "" if base is None else f" ({base.get('family')})"
        raise ValueError(f"preset: '{name}' is not a {family} preset{kind} (valid: {', '.join(presets_of(family))})")
    merged = {key: value for key, value in base.items() if key != "family"}
    merged.update(data)
    base_training, training = base.get("training"), data.get("training")
    if isinstance(base_training, Mapping) and isinstance(training, Mapping):
        merged["training"] = {**base_training, **training}
    return merged


@functools.cache
def _preset_spec(name: str) -> TransformerSpec | CnnSpec | GraphSpec:
    path = _preset_paths()[name]
    return model_from_mapping(_preset_mapping(name), str(path))


# --------------------------------------------------------------------------------------- errors
def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    return str(value)


def _choices(expected: str) -> str:
    """"'a', 'b' or 'c'" (pydantic's wording) -> "a, b, c"."""
    return ", ".join(part.strip().strip("'") for part in re.split(r",| or ", expected) if part.strip())


def _leaves(annotation: Any) -> list[Any]:
    """The alternatives of an annotation with Annotated/Optional/Union unwrapped."""
    if hasattr(annotation, "__metadata__"):  # Annotated[X, ...]
        return _leaves(annotation.__origin__)
    if getattr(annotation, "__origin__", None) is Union or type(annotation).__name__ == "UnionType":
        return [leaf for arg in annotation.__args__ for leaf in _leaves(arg)]
    return [annotation]


def _walk(cls: type[BaseModel], loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """The user's key path of a pydantic error location, and the model that holds its last key."""
    parts: list[str] = []
    candidates: list[Any] = [cls]
    owner: type[BaseModel] | None = cls
    for item in loc:
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if isinstance(item, int):
            parts.append(str(item))
            inner = [a for c in candidates for a in (getattr(c, "__args__", None) or ()) if a is not Ellipsis]
            candidates = [leaf for a in inner for leaf in _leaves(a)]
            continue
        field_owner = next((m for m in models if item in m.model_fields), None)
        if field_owner is not None:
            parts.append(item)
            owner = field_owner
            candidates = _leaves(field_owner.model_fields[item].annotation)
            continue
        tagged = [m for m in models if "type" in m.model_fields and item in _leaves_literal(m)]
        if tagged:  # the layer kind of a discriminated union, written by the user
            parts.append(item)
            owner = tagged[0]
            candidates = tagged
            continue
        if models and item == loc[-1]:  # an unknown key of a mapping
            parts.append(item)
            owner = models[0]
            continue
        # a union-branch label such as 'int' or "literal['auto']": not a key the user wrote
    return parts, owner


def _leaves_literal(model: type[BaseModel]) -> tuple[Any, ...]:
    return getattr(model.model_fields["type"].annotation, "__args__", ())


def _describe(err: Mapping[str, Any], owner: type[BaseModel] | None) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        valid = [key for key in (owner.model_fields if owner else ()) if key != "type"]
        return f"unknown key (valid: {', '.join(valid)})"
    if kind == "missing":
        return "missing (required)"
    if kind in ("literal_error", "enum"):
        return f"{_show(value)} is not valid (valid: {_choices(ctx.get('expected', ''))})"
    if kind == "union_tag_invalid":
        return f"unknown layer {_show(ctx.get('tag'))} (valid: {', '.join(LAYER_KINDS)})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {_show(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {_show(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(value)}"
    if kind in ("string_type",):
        return f"expected text, got {_show(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_show(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_show(value)}"
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
              "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        symbol, key = bounds[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {symbol} {bound}, got {_show(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_show(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} entries"
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} entries"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"longer than {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return "contains control characters"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    return str(err.get("msg", kind))


def format_error(exc: ValidationError, cls: type[BaseModel], source: str,
                 rename: Mapping[str, str] | None = None) -> EstimatorError:
    """One line `SOURCE: key.path: problem (valid: ...)` for the first error of a validation.

    `rename` maps top-level spec keys back to the names the user wrote (Hugging Face keys).
    """
    errors = exc.errors(include_url=False)
    # a misspelt key also makes its intended key "missing": name the unknown key first
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    parts, owner = _walk(cls, tuple(err["loc"]))
    message = _describe(err, owner)
    if rename:
        if parts and parts[0] in rename:
            parts[0] = rename[parts[0]]
        keys = "|".join(re.escape(key) for key in sorted(rename, key=len, reverse=True))
        message = re.sub(rf"(?<![\w.])({keys})(?!\w)", lambda match: rename[match.group(1)], message)
    line = f"{source}: {'.'.join(parts)}: {message}" if parts else f"{source}: {message}"
    return EstimatorError(" ".join(line.split()))


def respecified(spec: TransformerSpec | CnnSpec | GraphSpec, source: str,
                **changes: Any) -> TransformerSpec | CnnSpec | GraphSpec:
    """`spec` with `changes` applied and validated again, without its training section (the
    specs derived for a schedule phase or a mean computed length); errors name `source`."""
    data = {**spec.model_dump(), "training": None, **changes}
    try:
        return type(spec).model_validate(data)
    except ValidationError as exc:
        raise format_error(exc, type(spec), source) from None


# -------------------------------------------------------------------------------------- loading
def model_from_mapping(data: Mapping[str, Any], source: str,
                       rename: Mapping[str, str] | None = None) -> TransformerSpec | CnnSpec | GraphSpec:
    """Validates a parsed model mapping; `source` names it in errors (a file path)."""
    family = data.get("family")
    preset = data.get("preset")
    if family is None and isinstance(preset, str):
        if preset not in _preset_paths():
            valid = ", ".join(list_presets())
            raise EstimatorError(f"{source}: preset: {_show(preset)} is not a preset (valid: {valid})")
        family = _preset_mapping(preset).get("family")
    if family is None:
        raise EstimatorError(f"{source}: family: missing (valid: {', '.join(FAMILIES)})")
    cls = FAMILIES.get(family) if isinstance(family, str) else None
    if cls is None:
        raise EstimatorError(f"{source}: family: {_show(family)} is not valid (valid: {', '.join(FAMILIES)})")
    try:
        return cls.model_validate(dict(data))
    except ValidationError as exc:
        raise format_error(exc, cls, source, rename) from None


def _load_file(path: Path) -> TransformerSpec | CnnSpec | GraphSpec:
    if path.suffix.lower() == ".json":
        from estimator.lowering import hf

        data, rename = hf.spec_mapping(path)
        return model_from_mapping(data, str(path), rename)
    data = yaml_io.read_mapping(path, "model file")
    if "name" not in data:
        data = {**data, "name": path.stem}
    return model_from_mapping(data, str(path))


def load_model(source: str | Path) -> TransformerSpec | CnnSpec | GraphSpec:
    """Loads MODEL as the CLI names it: a model YAML, a Hugging Face config.json, or a preset name.

    Args:
        source: a path to a YAML or `.json` file (a directory holding `config.json` works too), or
            the name of a shipped preset (`list_presets()`).

    Raises:
        EstimatorError: one line naming the file, the key and what would be valid.
    """
    text = str(source)
    path = Path(source)
    try:
        is_file = bool(text) and path.is_file()
        is_hf_dir = bool(text) and not is_file and path.is_dir() and (path / "config.json").is_file()
    except (OSError, ValueError):  # a name too long for the OS, or with a NUL byte
        is_file = is_hf_dir = False
    if is_file:
        return _load_file(path)
    if is_hf_dir:
        return _load_file(path / "config.json")
    if isinstance(source, str) and PRESET_NAME.match(source) and source in _preset_paths():
        return _preset_spec(source)
    shown = text if len(text) <= 80 else text[:77] + "..."
    raise EstimatorError(f"MODEL '{shown}': no such file or preset (presets: {', '.join(list_presets())})")
