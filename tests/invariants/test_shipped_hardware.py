"""Invariants over every shipped hardware file: complete, sourced, dense, consistent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from estimator.specs.hardware import (
    PRECISIONS,
    _system_index,
    hardware_dir,
    list_devices,
    list_systems,
    load_device,
    load_hardware,
    load_stack,
)
from estimator.specs.yaml_io import read_mapping

DEVICE_FILES = sorted((hardware_dir() / "devices").glob("*.yaml"))
SYSTEM_FILES = sorted((hardware_dir() / "systems").glob("*.yaml"))
STACK_FILES = sorted((hardware_dir() / "stacks").glob("*.yaml"))

# What the contract (§3) and the scenarios require to be shipped.
REQUIRED_DEVICES = {
    "k80", "p100", "v100", "v100-32g", "t4", "a100", "a100-80g", "h100", "h200",
    "tpu-v2", "tpu-v3", "tpu-v4", "tpu-v5p",
}
REQUIRED_SYSTEMS = {
    "k80x8": "p2.8xlarge", "v100x8": "p3.16xlarge", "v100x1": "p3.2xlarge",
    "p3dn.24xlarge": None, "a100x8": "p4d.24xlarge", "a100-80gx8": None, "dgx-a100": None,
    "h100x8": "p5.48xlarge", "dgx-h100": None, "h200x8": None, "p100x8": None,
    "t4x4": "g4dn.12xlarge", "tpu-v2-8": None, "tpu-v3-8": None, "tpu-v4-8": None,
    "tpu-v5p-8": None, "c5.18xlarge": None, "n1-highcpu-96": None,
}
DEVICE_FIELDS = (
    "schema_version", "name", "description", "kind", "memory_GiB", "memory_bandwidth_GBps",
    "peak_TFLOPS", "tdp_W", "efficiency", "stack", "default_system", "sources",
)
DEVICE_NUMBERS = ("memory_GiB", "memory_bandwidth_GBps", "peak_TFLOPS", "tdp_W", "efficiency")
SYSTEM_FIELDS = (
    "schema_version", "name", "description", "aliases", "device", "devices_per_node", "nodes",
    "intra_node_bandwidth_GBps", "inter_node_bandwidth_Gbps", "intra_node_latency_us",
    "inter_node_latency_us", "network_efficiency", "price_usd_per_hour", "sources",
)
SYSTEM_NUMBERS = (
    "devices_per_node", "intra_node_bandwidth_GBps", "inter_node_bandwidth_Gbps",
    "intra_node_latency_us", "inter_node_latency_us", "network_efficiency",
)
STACK_NUMBERS = ("kernel_launch_overhead_us", "runtime_context_GiB", "allocator_fragmentation")

# Dense values from hardware_db.yaml; vendor datasheets print 2x these (2:4 sparsity) since A100.
DENSE_TFLOPS = {
    ("a100", "tf32"): 156, ("a100", "bf16"): 312, ("a100-80g", "fp16"): 312,
    ("h100", "tf32"): 494.7, ("h100", "bf16"): 989.4, ("h100", "fp16"): 989.4,
    ("h100", "fp8"): 1978.9, ("h200", "bf16"): 989.5, ("h200", "fp8"): 1979,
    ("v100", "fp16"): 125, ("t4", "fp16"): 65, ("p100", "fp16"): 21.2, ("k80", "fp32"): 4.37,
    ("tpu-v2", "bf16"): 45, ("tpu-v3", "bf16"): 123, ("tpu-v4", "bf16"): 275,
    ("tpu-v5p", "bf16"): 459,
}
FP8_DEVICES = {"h100", "h200"}  # Hopper and later; none before (hardware_notes §1)
NO_BF16_OR_TF32 = {"k80", "p100", "v100", "v100-32g", "t4"}


def raw(path: Path) -> dict[str, Any]:
    return read_mapping(path)


def ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def test_the_required_hardware_is_shipped() -> None:
    assert REQUIRED_DEVICES <= {path.stem for path in DEVICE_FILES}
    assert set(REQUIRED_SYSTEMS) <= {path.stem for path in SYSTEM_FILES}
    assert {"cuda", "xla-tpu", "cpu"} <= {path.stem for path in STACK_FILES}
    assert {device.kind for device in list_devices()} == {"gpu", "tpu", "cpu"}
    for name, alias in REQUIRED_SYSTEMS.items():
        if alias is not None:
            assert load_hardware(alias).name == name


@pytest.mark.parametrize("path", DEVICE_FILES, ids=ids(DEVICE_FILES))
def test_device_file_is_complete_and_sourced(path: Path) -> None:
    data = raw(path)
    device = load_device(path.stem)
    assert device.name == data["name"] == path.stem
    assert [field for field in DEVICE_FIELDS if field not in data] == []
    optional = {"attention", "attention_cudnn", "attention_d64", "matmul_fp8", "matmul_fp32"}
    assert {"matmul", "conv", "memory"} <= set(data["efficiency"]) <= {"matmul", "conv", "memory"} | optional
    for number in DEVICE_NUMBERS:
        assert device.sources.get(number, "").strip(), f"{path}: no source for {number}"
    for key in optional & set(data["efficiency"]):
        assert device.sources.get(f"efficiency.{key}", "").strip(), f"{path}: no source for efficiency.{key}"


@pytest.mark.parametrize("device", list_devices(), ids=lambda device: device.name)
def test_device_peaks_are_dense_and_plausible(device: Any) -> None:
    peaks = device.peak_TFLOPS
    assert set(peaks) <= set(PRECISIONS) and "fp32" in peaks
    for (name, precision), dense in DENSE_TFLOPS.items():
        if name == device.name:
            assert peaks[precision] == pytest.approx(dense), f"{name} {precision} is not dense"
    if "tf32" in peaks:  # tensor rates double per halving of the input width
        assert peaks["bf16"] == pytest.approx(2 * peaks["tf32"], rel=0.01)
    if "fp8" in peaks:
        assert peaks["fp8"] == pytest.approx(2 * peaks["bf16"], rel=0.01)
    for precision, value in peaks.items():
        assert value >= peaks["fp32"] or device.kind == "tpu", f"{precision} below fp32"
    # Per die/chip/socket, in GiB: a board, a pod or a byte count would be far outside.
    assert 1 <= device.memory_GiB <= 192
    assert 0.25 < device.efficiency.matmul <= 0.95 and 0.25 < device.efficiency.conv <= 0.95
    assert 0.5 < device.efficiency.memory <= 0.95


@pytest.mark.parametrize("device", list_devices(), ids=lambda device: device.name)
def test_device_precisions_match_the_silicon(device: Any) -> None:
    peaks = device.peak_TFLOPS
    if "fp8" in peaks:
        assert device.name in FP8_DEVICES
    if device.name in NO_BF16_OR_TF32:
        assert "bf16" not in peaks and "tf32" not in peaks
    if device.name == "k80":
        assert set(peaks) == {"fp32"}
    if device.name == "p100":  # packed half2 on CUDA cores, no tensor cores
        assert peaks["fp16"] == pytest.approx(2 * peaks["fp32"])
    if device.kind == "tpu":
        assert set(peaks) == {"fp32", "bf16"} and peaks["fp32"] == peaks["bf16"]
        assert device.stack == "xla-tpu"
    if device.kind == "cpu":
        assert set(peaks) == {"fp32"} and device.stack == "cpu"
    if device.kind == "gpu":
        assert device.stack == "cuda"


def test_k80_is_one_die_and_tpus_are_per_chip() -> None:
    k80 = load_device("k80")
    assert (k80.memory_GiB, k80.memory_bandwidth_GBps, k80.tdp_W) == (12, 240, 150)
    assert load_device("tpu-v2").memory_GiB == 16  # not the 64 GB board
    assert load_device("tpu-v3").peak_TFLOPS["bf16"] == 123  # not the 420 TF board
    assert load_device("xeon-8124m").peak_TFLOPS["fp32"] == pytest.approx(18 * 2.5e9 * 64 / 1e12)


@pytest.mark.parametrize("device", list_devices(), ids=lambda device: device.name)
def test_default_system_exists_and_uses_the_device(device: Any) -> None:
    system = load_hardware(device.default_system)
    assert system.name == device.default_system
    assert system.device == device
    assert load_hardware(f"{device.name}x{system.devices_per_node}").devices == system.devices


@pytest.mark.parametrize("path", SYSTEM_FILES, ids=ids(SYSTEM_FILES))
def test_system_file_is_complete_sourced_and_priced(path: Path) -> None:
    data = raw(path)
    system = load_hardware(path.stem)
    assert system.name == data["name"] == path.stem
    assert [field for field in SYSTEM_FIELDS if field not in data] == []
    assert isinstance(data["device"], str), "shipped systems name a shipped device"
    assert system.nodes == 1
    for number in SYSTEM_NUMBERS:
        assert system.sources.get(number, "").strip(), f"{path}: no source for {number}"
    price = system.price_usd_per_hour
    assert price is not None and price.on_demand > 0
    assert price.date and price.source and price.source.strip()
    if price.spot is None:
        assert "null" in price.source or "spot" in price.source.lower(), "say why spot is unknown"


def test_tpu_slices_count_chips_not_cores() -> None:
    for name in ("tpu-v2-8", "tpu-v3-8", "tpu-v4-8", "tpu-v5p-8"):
        assert load_hardware(name).devices == 4


def test_cpu_nodes_are_two_sockets() -> None:
    c5 = load_hardware("c5.18xlarge")
    n1 = load_hardware("n1-highcpu-96")
    assert (c5.devices, c5.device.memory_GiB * c5.devices) == (2, 144)
    assert (n1.devices, n1.device.memory_GiB * n1.devices) == (2, pytest.approx(86.4))


def test_aliases_are_unique_and_the_fast_index_matches_the_files() -> None:
    seen: dict[str, str] = {}
    for system in list_systems():
        for key in (system.name, *system.aliases):
            assert key.lower() not in seen, f"{key} used by {seen.get(key.lower())} and {system.name}"
            seen[key.lower()] = system.name
    assert _system_index() == seen
    device_names = {device.name for device in list_devices()}
    assert not device_names & set(seen), "a device name must not also name a system"


@pytest.mark.parametrize("path", STACK_FILES, ids=ids(STACK_FILES))
def test_stack_file_is_sourced(path: Path) -> None:
    stack = load_stack(path.stem)
    assert stack.name == raw(path)["name"] == path.stem
    for number in STACK_NUMBERS:
        assert stack.sources.get(number, "").strip(), f"{path}: no source for {number}"
    assert stack.runtime_context_GiB < 4 and stack.allocator_fragmentation < 0.5
