"""Unit tests of the hardware loader: `--hw` resolution, precision fallback, exact errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import estimator
from estimator.errors import EstimatorError
from estimator.specs.hardware import (
    DeviceSpec,
    SystemSpec,
    hardware_dir,
    list_devices,
    list_systems,
    load_device,
    load_hardware,
    load_stack,
)

REPO = Path(__file__).resolve().parents[2]

SYSTEM_KEYS = (
    "schema_version, name, description, aliases, device, devices_per_node, nodes, "
    "intra_node_bandwidth_GBps, inter_node_bandwidth_Gbps, intra_node_latency_us, "
    "inter_node_latency_us, network_efficiency, host_link_GBps, host_memory_bandwidth_GBps, host_efficiency, torus, price_usd_per_hour, sources, notes"
)

MINIMAL_SYSTEM = """\
name: my-cluster
device: a100-80g
devices_per_node: 8
nodes: 1
intra_node_bandwidth_GBps: 300
inter_node_bandwidth_Gbps: 1600
price_usd_per_hour: {on_demand: 32.77, spot: 9.83}
"""


def write(tmp_path: Path, text: str, name: str = "cluster.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hardware_dir_is_the_checkout_folder_when_run_from_one() -> None:
    package = Path(estimator.__file__).resolve().parent
    expected = REPO / "hardware_specs" if package == REPO / "estimator" else package / "hardware_specs"
    assert hardware_dir() == expected


# --- resolution --------------------------------------------------------------------------------


def test_shorthand_fills_whole_nodes_of_the_default_system() -> None:
    system = load_hardware("h100x16")
    assert (system.name, system.device.name) == ("h100x16", "h100")
    assert (system.devices_per_node, system.nodes, system.devices) == (8, 2, 16)
    assert system.price_usd_per_hour == load_hardware("h100x8").price_usd_per_hour  # per node


def test_shorthand_that_names_a_shipped_system_resolves_to_it() -> None:
    system = load_hardware("v100x1")
    assert system == load_hardware("p3.2xlarge")
    assert system.aliases == ("p3.2xlarge",)
    assert system.price_usd_per_hour is not None and system.price_usd_per_hour.on_demand == 3.06


def test_shorthand_below_a_node_prices_a_partial_node() -> None:
    system = load_hardware("k80x4")
    assert (system.devices_per_node, system.nodes) == (4, 1)
    price = system.price_usd_per_hour
    assert price is not None
    assert price.on_demand == pytest.approx(7.20 * 4 / 8)  # half a p2.8xlarge
    assert price.spot is None
    assert price.date == load_hardware("k80x8").price_usd_per_hour.date  # type: ignore[union-attr]


def test_partial_node_scales_spot_too() -> None:
    price = load_hardware("p100x2").price_usd_per_hour
    assert price is not None
    assert (price.on_demand, price.spot) == pytest.approx((11.68 / 4, 5.84 / 4))


def test_tpu_shorthand_counts_chips_in_boards_of_four() -> None:
    system = load_hardware("tpu-v3x32")
    assert (system.devices_per_node, system.nodes, system.device.name) == (4, 8, "tpu-v3")


def test_names_and_aliases_are_case_insensitive() -> None:
    assert load_hardware("P3.16XLARGE").name == "v100x8"
    assert load_hardware(" V100X8 ").name == "v100x8"
    assert load_hardware("v3-8").name == "tpu-v3-8"


def test_nodes_overrides_the_node_count() -> None:
    assert load_hardware("v100x8", nodes=16).devices == 128
    assert load_hardware("h100x16", nodes=3).nodes == 3


@pytest.mark.parametrize("devices", range(1, 65))
def test_shorthand_gives_n_devices_or_refuses(devices: int) -> None:
    try:
        system = load_hardware(f"a100x{devices}")
    except EstimatorError as exc:
        assert devices > 8 and devices % 8
        assert "do not fill whole a100x8 nodes of 8" in str(exc)
    else:
        assert system.devices == devices
        price = system.price_usd_per_hour
        assert price is not None
        # The price per device-hour never changes with the grouping.
        assert price.on_demand / system.devices_per_node == pytest.approx(32.77 / 8)


def test_a_system_file_with_a_shipped_device(tmp_path: Path) -> None:
    system = load_hardware(write(tmp_path, MINIMAL_SYSTEM))
    assert system.device == load_device("a100-80g")
    assert (system.intra_node_latency_us, system.inter_node_latency_us) == (5.0, 10.0)
    assert system.price_usd_per_hour is not None and system.price_usd_per_hour.spot == 9.83


def test_a_system_file_with_an_inline_device_gets_defaults(tmp_path: Path) -> None:
    text = MINIMAL_SYSTEM.replace(
        "device: a100-80g",
        "device: {name: titan-x-12g, memory_GiB: 12, memory_bandwidth_GBps: 480,"
        " peak_TFLOPS: {fp32: 11.0, fp16: 11.0}, tdp_W: 250}",
    )
    device = load_hardware(str(write(tmp_path, text))).device
    assert (device.kind, device.stack, device.default_system) == ("gpu", "cuda", None)
    assert (device.efficiency.matmul, device.efficiency.memory) == (0.75, 0.80)
    assert device.capacity_bytes == 12 * 2**30


def test_an_unquoted_yaml_date_is_kept_as_text(tmp_path: Path) -> None:
    text = MINIMAL_SYSTEM.replace("spot: 9.83}", "spot: 9.83, date: 2018-10-09}")
    price = load_hardware(write(tmp_path, text)).price_usd_per_hour
    assert price is not None and price.date == "2018-10-09"


def test_shipped_files_are_cached() -> None:
    assert load_hardware("v100x8") is load_hardware("p3.16xlarge")
    assert load_device("v100") is load_device("v100")


def test_capacity_is_in_gibibytes() -> None:
    assert load_device("v100").capacity_bytes == 16 * 2**30
    assert load_device("h100").capacity_bytes == int(79.18 * 1024**3)  # cudaMemGetInfo total


def test_stacks_load() -> None:
    assert load_stack("cuda").kernel_launch_overhead_us > load_stack("xla-tpu").kernel_launch_overhead_us
    assert load_stack(load_device("tpu-v4").stack).name == "xla-tpu"


# --- precision fallback (DESIGN §4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "requested", "used"),
    [
        ("v100", "bf16", "fp16"),
        ("v100", "tf32", "fp32"),
        ("v100", "fp8", "fp16"),
        ("t4", "bf16", "fp16"),
        ("a100", "fp8", "bf16"),
        ("p100", "bf16", "fp16"),
        ("k80", "fp16", "fp32"),
        ("k80", "bf16", "fp32"),
        ("tpu-v3", "fp16", "bf16"),
        ("tpu-v5p", "fp8", "bf16"),
        ("xeon-8124m", "bf16", "fp32"),
    ],
)
def test_missing_precision_falls_back_with_a_warning(device: str, requested: str, used: str) -> None:
    assert load_device(device).resolve_precision(requested) == (
        used,
        f"{device} does not support {requested}; using {used} instead",
    )


@pytest.mark.parametrize(
    ("device", "precision"),
    [("h100", "fp8"), ("h100", "tf32"), ("a100", "bf16"), ("v100", "fp16"), ("k80", "fp32")],
)
def test_supported_precision_is_used_without_warning(device: str, precision: str) -> None:
    assert load_device(device).resolve_precision(precision) == (precision, None)


def test_tpu_fp32_keeps_fp32_but_warns_about_bf16_passes() -> None:
    used, warning = load_device("tpu-v3").resolve_precision("fp32")
    assert used == "fp32"
    assert warning is not None and warning.startswith("tpu-v3 multiplies fp32 matrices in bf16")


def test_unknown_precision_is_an_error() -> None:
    with pytest.raises(EstimatorError) as info:
        load_device("v100").resolve_precision("int8")
    assert str(info.value) == "--precision int8: unknown precision (valid: fp32, tf32, fp16, bf16, fp8)"


# --- exact error messages ------------------------------------------------------------------------


def test_unknown_hardware_name_lists_the_valid_names() -> None:
    systems = ", ".join(system.name for system in list_systems())
    devices = ", ".join(device.name for device in list_devices())
    with pytest.raises(EstimatorError) as info:
        load_hardware("v200x8")
    assert str(info.value) == (
        f"--hw v200x8: unknown hardware (valid: a shipped system {systems}; or DEVICExN with "
        f"DEVICE one of {devices}; or a path to a system .yaml file)"
    )


def test_shorthand_that_is_not_a_multiple_of_the_node() -> None:
    with pytest.raises(EstimatorError) as info:
        load_hardware("h100x12")
    assert str(info.value) == (
        "--hw h100x12: 12 devices do not fill whole h100x8 nodes of 8; use a multiple of 8, "
        "or fewer than 8 for one partial node"
    )


def test_shorthand_with_zero_devices() -> None:
    with pytest.raises(EstimatorError) as info:
        load_hardware("h100x0")
    assert str(info.value) == "--hw h100x0: the device count must be from 1 to 16777216"


def test_unknown_key_in_a_system_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_SYSTEM + "colour: red\n")
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value) == f"{path}: unknown key 'colour' (valid: {SYSTEM_KEYS})"


def test_unknown_key_in_an_inline_device_wins_over_the_missing_one(tmp_path: Path) -> None:
    text = MINIMAL_SYSTEM.replace(
        "device: a100-80g",
        "device: {name: d, memory_GB: 12, memory_bandwidth_GBps: 480, peak_TFLOPS: {fp32: 11},"
        " tdp_W: 250}",
    )
    path = write(tmp_path, text)
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    message = str(info.value)
    assert message.startswith(f"{path}: device: unknown key 'memory_GB' (valid: schema_version, name,")
    assert message.endswith("(and 1 more problem)")


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_SYSTEM.replace("devices_per_node: 8\n", ""))
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value) == f"{path}: devices_per_node: missing required key"


def test_negative_bandwidth(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_SYSTEM.replace("300", "-300"))
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value) == f"{path}: intra_node_bandwidth_GBps: must be greater than 0, got -300"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("a100-80g", "a100-90g"), "device: unknown device 'a100-90g' (valid: "),
        (("spot: 9.83", "spot: 99"), "price_usd_per_hour: spot (99.0) must not exceed on_demand (32.77)"),
        (("spot: 9.83", "sport: 9.83"), "price_usd_per_hour: unknown key 'sport' (valid: on_demand, spot, date, source)"),
        (("1600", ".inf"), "inter_node_bandwidth_Gbps: must be a finite number, got inf"),
        (("nodes: 1", "nodes: 0"), "nodes: must be greater than or equal to 1, got 0"),
        (("my-cluster", "My Cluster"), "name: must be lower-case letters, digits, '.', '_' or '-'"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = write(tmp_path, MINIMAL_SYSTEM.replace(*edit))
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("peaks", "message"),
    [
        ("{fp32: 11, int8: 22}", "device.peak_TFLOPS: unknown precision 'int8' (valid: fp32, tf32, fp16, bf16, fp8)"),
        ("{fp16: 11}", "device.peak_TFLOPS: fp32 is required (the vector rate used by non-matmul operators)"),
        ("{fp32: -11}", "device.peak_TFLOPS.fp32: must be greater than 0, got -11"),
    ],
)
def test_bad_peaks(tmp_path: Path, peaks: str, message: str) -> None:
    text = MINIMAL_SYSTEM.replace(
        "device: a100-80g",
        f"device: {{name: d, memory_GiB: 12, memory_bandwidth_GBps: 480, peak_TFLOPS: {peaks},"
        " tdp_W: 250}",
    )
    path = write(tmp_path, text)
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value) == f"{path}: {message}"


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "cluster.yaml"
    with pytest.raises(EstimatorError) as info:
        load_hardware(str(missing))
    assert str(info.value) == f"--hw {missing}: no such file"
    with pytest.raises(EstimatorError) as info:
        load_hardware("cluster.yml")
    assert str(info.value) == "--hw cluster.yml: no such file"


def test_a_directory_is_not_a_system_file(tmp_path: Path) -> None:
    with pytest.raises(EstimatorError) as info:
        load_hardware(f"{tmp_path}/")
    assert str(info.value) == f"--hw {tmp_path}/: not a file; expected a system YAML file"


def test_relative_names_never_reach_into_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    # From inside hardware_specs/systems, '../devices/v100' names a real library file once
    # '.yaml' is added; the loader must neither add it nor resolve names as paths.
    monkeypatch.chdir(hardware_dir() / "systems")
    for text in ("../devices/v100", "..\\devices\\v100", "devices/v100"):
        with pytest.raises(EstimatorError) as info:
            load_hardware(text)
        assert str(info.value) == f"--hw {text}: no such file"


@pytest.mark.parametrize("name", ["..", ".hidden", "v100x8;rm", "tpu v3x4", "-v100x8"])
def test_names_outside_the_pattern_are_unknown(name: str) -> None:
    with pytest.raises(EstimatorError) as info:
        load_hardware(name)
    assert str(info.value).startswith(f"--hw {name.strip()}: unknown hardware (valid: ")


def test_unknown_device_and_stack() -> None:
    with pytest.raises(EstimatorError) as info:
        load_device("v101")
    assert str(info.value).startswith("unknown device 'v101' (valid: a100, a100-80g, ")
    with pytest.raises(EstimatorError) as info:
        load_stack("rocm")
    assert str(info.value) == "unknown software stack 'rocm' (valid: cpu, cuda, xla-tpu)"


def test_with_nodes_checks_its_argument() -> None:
    with pytest.raises(EstimatorError) as info:
        load_hardware("v100x8").with_nodes(0)
    assert str(info.value) == "--nodes 0: must be a whole number from 1 to 16777216"


def test_models_are_frozen_and_strict() -> None:
    system = load_hardware("v100x8")
    with pytest.raises(ValueError):
        system.nodes = 2  # type: ignore[misc]
    assert SystemSpec.model_config["extra"] == "forbid"
    assert DeviceSpec.model_config["frozen"] is True


# --- installed copy -------------------------------------------------------------------------------


def test_installed_package_finds_its_own_copy(tmp_path: Path) -> None:
    """After `pip install .` the library is package data: estimator/hardware_specs."""
    site = tmp_path / "site"
    # The imported package holds the compiled core, built in place or installed.
    package = Path(estimator.__file__).resolve().parent
    shutil.copytree(package, site / "estimator", ignore=shutil.ignore_patterns("__pycache__", "hardware_specs"))
    shutil.copytree(REPO / "hardware_specs", site / "estimator" / "hardware_specs")
    code = (
        "from estimator.specs.hardware import hardware_dir, load_hardware;"
        "print(hardware_dir()); print(load_hardware('p3.16xlarge').devices)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [str(site / "estimator" / "hardware_specs"), "8"]


@pytest.mark.parametrize(("torus", "key"), [("{axes: 4, link_GBps: 100}", "torus.axes"),
                                           ("{axes: 2, link_GBps: -1}", "torus.link_GBps"),
                                           ("{axes: 2}", "torus.link_GBps"),
                                           ("{axes: 2, link_GBps: 100, wrap: true}", "wrap")])
def test_a_bad_torus_names_its_key(tmp_path: Path, torus: str, key: str) -> None:
    path = write(tmp_path, MINIMAL_SYSTEM + f"torus: {torus}\n")
    with pytest.raises(EstimatorError) as info:
        load_hardware(path)
    assert str(info.value).startswith(f"{path}: ") and key in str(info.value)


def test_tpu_slices_are_tori() -> None:
    assert load_hardware("tpu-v3-8").torus.axes == 2
    assert load_hardware("tpu-v4-8").torus.axes == 3
    assert load_hardware("a100x8").torus is None
