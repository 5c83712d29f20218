"""Hardware specifications: devices, software stacks and systems, and how `--hw` finds them.

The shipped library lives in `hardware_specs/` (see its README for the schema and the traps in
vendor numbers): `devices/*.yaml` (one accelerator die/chip or CPU socket), `stacks/*.yaml`
(software constants: launch overhead, runtime memory, allocator waste) and `systems/*.yaml`
(a node of devices, its network and its price). Units are in the key names and are converted
to SI by the consumers (DESIGN §1): GiB = 2^30 bytes, GB/s = 1e9 B/s, Gbit/s = 1e9 bit/s.

`load_hardware` resolves what the user typed after `--hw`, in this order:

1. a path (it has a path separator or ends in .yaml/.yml): read only if that file exists;
2. a shipped system name or alias, case-insensitive;
3. the shorthand DEVICExN: N devices of a shipped device in nodes of its `default_system`;
4. otherwise an `EstimatorError` naming the valid choices.

A name is only ever looked up inside `hardware_dir()` and must match `NAME_PATTERN`, so user text
is never joined into a path. Parsed shipped files are cached: the CLI's cold start matters.
"""

from __future__ import annotations

import datetime
import functools
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from estimator.errors import EstimatorError
from estimator.specs.training import MAX_DEVICES
from estimator.specs.yaml_io import read_mapping

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp8")

# DESIGN §4: a missing precision falls back along fp8 → bf16 → fp16 → tf32 → fp32. A requested
# fp16 tries its sibling bf16 first (same 2-byte storage, so a TPU runs fp16 jobs as bf16 rather
# than as fp32), which the plain chain would skip.
_FALLBACKS: dict[str, tuple[str, ...]] = {
    "fp8": ("bf16", "fp16", "tf32", "fp32"),
    "bf16": ("fp16", "tf32", "fp32"),
    "fp16": ("bf16", "tf32", "fp32"),
    "tf32": ("fp32",),
    "fp32": (),
}

# Ranges that catch typos and unit slips (a bandwidth in bit/s, a memory in bytes) while leaving
# room for hardware well beyond today's (an H200 has 141 GiB, 4.8e3 GB/s, 1979 dense fp8 TFLOPS).
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
NonNegativeFraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
GiB = Annotated[float, Field(gt=0, le=1 << 20, allow_inf_nan=False)]
GBps = Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]
Gbps = Annotated[float, Field(gt=0, le=1e7, allow_inf_nan=False)]
TFLOPS = Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]
Watts = Annotated[float, Field(gt=0, le=1e5, allow_inf_nan=False)]
Microseconds = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
Dollars = Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=NAME_PATTERN.pattern, max_length=100)]

_STRICT = ConfigDict(extra="forbid", frozen=True)


def hardware_dir() -> Path:
    """The hardware library: `<repo>/hardware_specs` in a checkout, else the installed copy.

    setup.py copies the top-level folder into the package at build time, so after
    `pip install .` it is `<site-packages>/estimator/hardware_specs`.
    """
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "hardware_specs"
    if (checkout / "devices").is_dir():
        return checkout
    return package / "hardware_specs"


class Price(BaseModel):
    """Price of one node per hour in USD, with the date it was read."""

    model_config = _STRICT

    on_demand: Dollars
    spot: Dollars | None = None  # None: unknown (an estimate then warns and uses on_demand)
    date: str | None = None
    source: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        # An unquoted 2018-10-09 in YAML arrives as a datetime.date.
        return value.isoformat() if isinstance(value, datetime.date) else value

    @model_validator(mode="after")
    def _spot_below_on_demand(self) -> "Price":
        if self.spot is not None and self.spot > self.on_demand:
            raise ValueError(f"spot ({self.spot}) must not exceed on_demand ({self.on_demand})")
        return self


class Efficiency(BaseModel):
    """Achievable fractions of the datasheet peaks (DESIGN §3), kept apart from the peaks.

    Defaults are the lower ends of the "suggested defaults" in hardware_notes.md §6 (a synthesis,
    not a measurement): large-GEMM 0.75–0.85 of dense peak on NVIDIA A100/H100, memory-bound
    kernels 0.80–0.90 of HBM peak. Shipped devices carry their own measured or argued values.
    """

    model_config = _STRICT

    matmul: Fraction = 0.75  # large GEMM / dense peak (MAMF-style measurement)
    conv: Fraction = 0.75  # cuDNN/oneDNN convolution / dense peak
    memory: Fraction = 0.80  # streaming kernels / memory_bandwidth_GBps
    attention: Fraction | None = None  # fused (flash) attention fwd+bwd / dense peak; None: = matmul
    attention_cudnn: Fraction | None = None  # cuDNN fused attention fwd+bwd; None: = attention
    attention_d64: Fraction = 1.0  # fused attention at head dim 64 relative to 128
    matmul_fp8: Fraction | None = None  # fp8 GEMM / fp8 dense peak; None: = matmul
    # fp32 GEMMs on the CUDA cores of a tensor-core GPU (SGEMM) / fp32 peak; None: = matmul.
    matmul_fp32: Fraction | None = None

    def matmul_at(self, precision: str) -> float:
        """GEMM efficiency at a compute precision: fp8 GEMMs reach a lower share of their peak,
        and fp32 GEMMs run on other units (CUDA cores, not tensor cores) than the rest."""
        if precision == "fp8" and self.matmul_fp8 is not None:
            return self.matmul_fp8
        if precision == "fp32" and self.matmul_fp32 is not None:
            return self.matmul_fp32
        return self.matmul

    @property
    def fused_attention(self) -> float:
        """Efficiency of fused attention kernels (the matmul figure when none is given)."""
        return self.attention if self.attention is not None else self.matmul

    def attention_for(self, kernel: str) -> float:
        """Efficiency of the fused attention kernel `kernel` (fused or cudnn)."""
        if kernel == "cudnn" and self.attention_cudnn is not None:
            return self.attention_cudnn
        return self.fused_attention


class NetworkEfficiency(BaseModel):
    """Achievable collective bus bandwidth as a fraction of the per-direction link rate.

    Defaults from hardware_notes.md §6: about 0.80 of per-direction NVLink for large messages,
    0.7–0.8 of NIC wire rate across nodes. In-switch reduction (NVLS) can exceed the wire
    (1.07 measured on H200), hence the upper bound above 1.
    """

    model_config = _STRICT

    intra: Annotated[float, Field(gt=0, le=1.5, allow_inf_nan=False)] = 0.80
    inter: Annotated[float, Field(gt=0, le=1.5, allow_inf_nan=False)] = 0.75


class SoftwareStack(BaseModel):
    """Constants of a framework + runtime (PyTorch on CUDA, XLA on TPU, PyTorch on CPU)."""

    model_config = _STRICT

    schema_version: Literal[1] = 1
    name: Name
    description: str = ""
    kernel_launch_overhead_us: Microseconds  # fixed cost per kernel: launch + framework dispatch
    # Host (CPU) time per operator, forward + backward, of an eager framework: a micro-batch
    # takes at least this × its operators (DESIGN §7). 0: the host never binds (XLA).
    host_time_per_operator_us: Microseconds = 0.0
    # Bytes a multi-tensor ("foreach") optimizer step moves over a fused one's (DESIGN §7).
    foreach_optimizer_traffic: Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)] = 1.0
    # Host time per parameter tensor of an optimizer step written as a Python loop (DESIGN §7).
    loop_optimizer_us_per_tensor: Microseconds = 0.0
    # Non-vectorised elementwise kernels (copies of permuted tensors, broadcasting adds): their
    # fraction of the device's memory efficiency (DESIGN §3). 1: no such penalty (XLA fuses them).
    strided_elementwise_efficiency: Fraction = 1.0
    runtime_context_GiB: Annotated[float, Field(ge=0, le=1024, allow_inf_nan=False)]
    allocator_fragmentation: NonNegativeFraction  # of activation bytes (DESIGN §6)
    # Efficiency multiplier of a GEMM whose n or k is a multiple of 8, 4 or 2 bytes but not of
    # 16 (DESIGN §3); an alignment left out costs nothing.
    matmul_misaligned: dict[Literal[8, 4, 2], Fraction] = {}
    # How many times faster FlashAttention-2 runs than the FlashAttention kernel written in
    # Triton (--attention triton); None: the stack has no such kernel.
    triton_attention_slowdown: Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)] | None = None
    sources: dict[str, str] = {}


@functools.lru_cache(maxsize=None)
def _names(folder: str) -> tuple[str, ...]:
    """File stems of `hardware_specs/<folder>/*.yaml`, sorted: the valid names there."""
    return tuple(sorted(path.stem for path in (hardware_dir() / folder).glob("*.yaml")))


class DeviceSpec(BaseModel):
    """One accelerator (GPU die, TPU chip) or CPU socket, with dense datasheet peaks."""

    model_config = _STRICT

    schema_version: Literal[1] = 1
    name: Name
    description: str = ""
    kind: Literal["gpu", "tpu", "cpu"] = "gpu"
    memory_GiB: GiB
    memory_bandwidth_GBps: GBps  # theoretical peak
    peak_TFLOPS: dict[str, TFLOPS]  # DENSE; a precision left out is not supported
    tdp_W: Watts
    efficiency: Efficiency = Efficiency()
    stack: Name = "cuda"
    default_system: Name | None = None
    sources: dict[str, str] = {}
    notes: str | None = None

    @field_validator("peak_TFLOPS", mode="before")
    @classmethod
    def _known_precisions(cls, value: object) -> object:
        if isinstance(value, dict):
            for key in value:
                if key not in PRECISIONS:
                    raise ValueError(
                        f"unknown precision '{key}' (valid: {', '.join(PRECISIONS)})"
                    )
            if "fp32" not in value:
                raise ValueError("fp32 is required (the vector rate used by non-matmul operators)")
        return value

    @field_validator("stack")
    @classmethod
    def _known_stack(cls, value: str) -> str:
        names = _names("stacks")
        if value not in names:
            raise ValueError(f"unknown software stack '{value}' (valid: {', '.join(names)})")
        return value

    @property
    def capacity_bytes(self) -> int:
        """Device memory in bytes (memory_GiB × 2^30)."""
        return int(self.memory_GiB * 2**30)

    def resolve_precision(self, requested: str) -> tuple[str, str | None]:
        """The precision actually used for `requested`, and a warning when it differs.

        Falls back along fp8 → bf16 → fp16 → tf32 → fp32 (DESIGN §4): bf16 on a V100 becomes
        fp16, tf32 on a V100 becomes fp32. A TPU keeps fp32 storage but its MXU multiplies in
        bf16 passes (XLA's default matmul precision), which the warning says.
        """
        requested = str(getattr(requested, "value", requested)).lower()
        if requested not in PRECISIONS:
            raise EstimatorError(
                f"--precision {requested}: unknown precision (valid: {', '.join(PRECISIONS)})"
            )
        if requested in self.peak_TFLOPS:
            if self.kind == "tpu" and requested == "fp32":
                return "fp32", (
                    f"{self.name} multiplies fp32 matrices in bf16 passes on the MXU (XLA default "
                    "precision); fp32 storage, bf16-rate matmuls"
                )
            return requested, None
        for candidate in _FALLBACKS[requested]:
            if candidate in self.peak_TFLOPS:
                return candidate, (
                    f"{self.name} does not support {requested}; using {candidate} instead"
                )
        raise AssertionError("unreachable: fp32 is a required precision")  # pragma: no cover


class Torus(BaseModel):
    """TPU inter-chip interconnect: the slice is a torus of chips (DESIGN §8).

    Every collective then runs as bidirectional rings on all axes at once over ICI links of
    `link_GBps` per direction, whatever the host ("node") boundaries; `network_efficiency.intra`
    and `intra_node_latency_us` apply to the links.
    """

    model_config = _STRICT

    axes: Literal[2, 3]  # TPU v2/v3: 2D torus; v4/v5p: 3D
    link_GBps: GBps  # one ICI link, one direction


class HostEfficiency(BaseModel):
    """Achievable fractions of the host link and host memory (used by optimizer offload).

    link 0.88: PCIe Gen5 host-to-device copies measured at 55.4 of 63 GB/s on 8×H200
    (hardware_notes.md §6, ML Engineering). memory 0.75: STREAM-like fraction of a server's
    theoretical DRAM bandwidth, the middle of the 0.70–0.85 range in hardware_db's CPU notes.
    """

    model_config = _STRICT

    link: Fraction = 0.88
    memory: Fraction = 0.75


class SystemSpec(BaseModel):
    """A node of identical devices (× `nodes`), its links and its price per node-hour."""

    model_config = _STRICT

    schema_version: Literal[1] = 1
    name: Name
    description: str = ""
    aliases: tuple[Name, ...] = ()
    device: DeviceSpec
    devices_per_node: Annotated[int, Field(ge=1, le=1 << 16)]
    nodes: Annotated[int, Field(ge=1, le=MAX_DEVICES)] = 1
    intra_node_bandwidth_GBps: GBps  # per device, one direction
    inter_node_bandwidth_Gbps: Gbps  # per node, all NICs together, one direction
    # hardware_notes.md §6: "a latency term of about 5–20 µs per hop or collective step".
    intra_node_latency_us: Microseconds = 5.0
    inter_node_latency_us: Microseconds = 10.0
    network_efficiency: NetworkEfficiency = NetworkEfficiency()
    # Host side, for optimizer offload: PCIe per device and direction; DRAM per node.
    host_link_GBps: GBps | None = None
    host_memory_bandwidth_GBps: GBps | None = None
    host_efficiency: HostEfficiency = HostEfficiency()
    torus: Torus | None = None  # TPU ICI; GPU systems leave it out
    price_usd_per_hour: Price | None = None  # per NODE
    sources: dict[str, str] = {}
    notes: str | None = None

    @field_validator("device", mode="before")
    @classmethod
    def _shipped_device(cls, value: object) -> object:
        if isinstance(value, str):
            return load_device(value)
        return value

    @model_validator(mode="after")
    def _device_count(self) -> "SystemSpec":
        if self.devices_per_node * self.nodes > MAX_DEVICES:
            raise ValueError(
                f"{self.devices_per_node} devices per node × {self.nodes} nodes exceeds "
                f"{MAX_DEVICES} devices"
            )
        return self

    @property
    def devices(self) -> int:
        """All devices of the system: devices_per_node × nodes."""
        return self.devices_per_node * self.nodes

    def with_nodes(self, nodes: int) -> "SystemSpec":
        """A copy with `nodes` nodes (what `--nodes N` does)."""
        if isinstance(nodes, bool) or not isinstance(nodes, int) or not 1 <= nodes <= MAX_DEVICES:
            raise EstimatorError(f"--nodes {nodes}: must be a whole number from 1 to {MAX_DEVICES}")
        if nodes * self.devices_per_node > MAX_DEVICES:
            raise EstimatorError(
                f"--nodes {nodes}: {nodes} × {self.devices_per_node} devices exceeds {MAX_DEVICES}"
            )
        return self.model_copy(update={"nodes": nodes})


# ---------------------------------------------------------------------------------------------
# Validation errors as one line: "FILE: key.sub: message (valid: ...)".


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of `loc`, for listing valid keys."""
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        found = None
        for candidate in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found = candidate
        if found is None:
            return None
        model = found
    return model


def _one_line(model: type[BaseModel], source: str, exc: ValidationError) -> EstimatorError:
    # An unknown key first: it is usually a typo that also explains a "missing" key.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = tuple(first["loc"])
    count = len(errors) - 1
    more = f" (and {count} more problem{'s' if count > 1 else ''})" if count else ""
    if first["type"] == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        valid = f" (valid: {', '.join(owner.model_fields)})" if owner else ""
        where = ".".join(str(part) for part in loc[:-1])
        prefix = f"{source}: {where}: " if where else f"{source}: "
        return EstimatorError(f"{prefix}unknown key '{loc[-1]}'{valid}{more}")
    where = ".".join(str(part) for part in loc) or "(top level)"
    if first["type"] == "missing":
        return EstimatorError(f"{source}: {where}: missing required key{more}")
    if first["type"] == "string_pattern_mismatch":
        message = (
            "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    else:
        message = first["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    value = first.get("input")
    scalar = isinstance(value, (int, float, str)) and "unknown" not in message
    got = f", got {value!r}" if scalar else ""
    return EstimatorError(f"{source}: {where}: {message}{got}{more}")


def _validate(model: type[BaseModel], data: dict[str, Any], source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _one_line(model, source, exc) from None


def _shipped_file(folder: str, what: str, name: str, model: type[BaseModel]) -> Any:
    """Reads `hardware_specs/<folder>/<name>.yaml` and checks that its name is its file stem.

    An unknown `name` is refused with the valid names, calling the thing a `what` ("device").
    """
    names = _names(folder)
    if name not in names:
        raise EstimatorError(f"unknown {what} '{name}' (valid: {', '.join(names)})")
    path = hardware_dir() / folder / f"{name}.yaml"
    spec = _validate(model, read_mapping(path), str(path))
    if spec.name != name:
        raise EstimatorError(f"{path}: name: '{spec.name}' does not match the file name '{name}'")
    return spec


# ---------------------------------------------------------------------------------------------
# Loading the shipped library (cached: each file is parsed once per process).


@functools.lru_cache(maxsize=None)
def load_stack(name: str) -> SoftwareStack:
    """A shipped software stack by name (`cuda`, `xla-tpu`, `cpu`)."""
    return _shipped_file("stacks", "software stack", name, SoftwareStack)


@functools.lru_cache(maxsize=None)
def load_device(name: str) -> DeviceSpec:
    """A shipped device by name, e.g. `v100`, `a100-80g`, `tpu-v3`."""
    return _shipped_file("devices", "device", name, DeviceSpec)


@functools.lru_cache(maxsize=None)
def _load_system(name: str) -> SystemSpec:
    return _shipped_file("systems", "system", name, SystemSpec)


_FLOW_ALIASES = re.compile(r"^aliases:[ \t]*\[([^\]\n]*)\][ \t]*(#.*)?$", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _system_index() -> dict[str, str]:
    """Lower-case name or alias → file stem, over every shipped system.

    Parsing every system file costs ~100 ms of pure-Python YAML on a cold start, so the aliases
    are read from each file's one-line `aliases: [...]` (the README asks for that form); a file
    written otherwise is parsed. tests/invariants checks this index against the parsed files.
    """
    index: dict[str, str] = {}
    folder = hardware_dir() / "systems"
    for stem in _names("systems"):
        path = folder / f"{stem}.yaml"
        match = _FLOW_ALIASES.search(path.read_text(encoding="utf-8"))
        if match:
            aliases = [item.strip().strip("'\"") for item in match.group(1).split(",")]
        else:
            aliases = list(_load_system(stem).aliases)
        for key in (stem, *filter(None, aliases)):
            if key.lower() in index:
                raise EstimatorError(
                    f"{path}: aliases: '{key}' is already used by {index[key.lower()]}"
                )
            index[key.lower()] = stem
    return index


def list_devices() -> list[DeviceSpec]:
    """Every shipped device, by name."""
    return [load_device(name) for name in _names("devices")]


def list_systems() -> list[SystemSpec]:
    """Every shipped system, by name."""
    return [_load_system(name) for name in _names("systems")]


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.lower().endswith((".yaml", ".yml"))


def _from_file(text: str) -> SystemSpec:
    path = Path(text)
    if not path.exists():
        raise EstimatorError(f"--hw {text}: no such file")
    if not path.is_file():
        raise EstimatorError(f"--hw {text}: not a file; expected a system YAML file")
    return _validate(SystemSpec, read_mapping(path, "system YAML file"), str(path))


def _from_shorthand(key: str, text: str) -> SystemSpec | None:
    """`DEVICExN`: N devices of a shipped device, in nodes of its default system."""
    device_name, separator, count = key.rpartition("x")
    if not separator or not count.isdigit() or device_name not in _names("devices"):
        return None
    devices = int(count)
    if not 1 <= devices <= MAX_DEVICES:
        raise EstimatorError(f"--hw {text}: the device count must be from 1 to {MAX_DEVICES}")
    device = load_device(device_name)
    if device.default_system is None:
        raise EstimatorError(f"--hw {text}: device '{device_name}' has no default_system")
    base = _load_system(device.default_system)
    per_node = base.devices_per_node
    if devices >= per_node:
        if devices % per_node:
            raise EstimatorError(
                f"--hw {text}: {devices} devices do not fill whole {base.name} nodes of "
                f"{per_node}; use a multiple of {per_node}, or fewer than {per_node} for one "
                "partial node"
            )
        count = devices // per_node
        return base.model_copy(
            update={
                "name": key,
                "aliases": (),
                "description": f"{count} x {base.name} ({base.description})",
                "nodes": count,
            }
        )
    # One partial node: the cloud sells the smaller instance at about the per-device rate.
    price = base.price_usd_per_hour
    if price is not None:
        share = devices / per_node
        price = price.model_copy(
            update={
                "on_demand": price.on_demand * share,
                "spot": None if price.spot is None else price.spot * share,
                "source": f"{price.source} (scaled by {devices}/{per_node} for a partial node)",
            }
        )
    return base.model_copy(
        update={
            "name": key,
            "aliases": (),
            "description": f"{devices} x {device_name}: part of a {base.name} node",
            "devices_per_node": devices,
            "nodes": 1,
            "price_usd_per_hour": price,
        }
    )


def load_hardware(spec: str | Path, nodes: int | None = None) -> SystemSpec:
    """Resolves `--hw`: a system YAML path, a shipped system or alias, or DEVICExN.

    Args:
        spec: what the user typed after `--hw`, or a `Path`.
        nodes: overrides the system's node count (`--nodes`), when given.

    Raises:
        EstimatorError: a missing file, a bad file, or a name that is none of the above.
    """
    if isinstance(spec, Path) or _looks_like_path(spec):
        system = _from_file(str(spec))
    else:
        text = spec.strip()
        key = text.lower()
        stem = _system_index().get(key) if NAME_PATTERN.match(key) else None
        if stem is not None:
            system = _load_system(stem)
        else:
            found = _from_shorthand(key, text) if NAME_PATTERN.match(key) else None
            if found is None:
                raise EstimatorError(
                    f"--hw {text}: unknown hardware (valid: a shipped system "
                    f"{', '.join(_names('systems'))}; or DEVICExN with DEVICE one of "
                    f"{', '.join(_names('devices'))}; or a path to a system .yaml file)"
                )
            system = found
    return system if nodes is None else system.with_nodes(nodes)
