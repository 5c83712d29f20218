"""`estimate hw`: the shipped devices and systems as tables or JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from estimator.specs.hardware import SystemSpec, list_devices, list_systems


def hardware_catalog() -> dict[str, list[dict[str, object]]]:
    """Every shipped device and system as plain data (what `estimate hw --json` prints)."""
    return {
        "devices": [device.model_dump(mode="json") for device in list_devices()],
        "systems": [
            {**system.model_dump(mode="json", exclude={"device"}), "device": system.device.name,
             "devices": system.devices}
            for system in list_systems()
        ],
    }


def _links(system: SystemSpec) -> tuple[str, str]:
    """The intra- and inter-node columns; a TPU slice's collectives run on its ICI torus."""
    if system.torus is not None:
        return f"{system.torus.axes}D torus, {system.torus.link_GBps:g}/link", "(ICI)"
    return f"{system.intra_node_bandwidth_GBps:g}", f"{system.inter_node_bandwidth_Gbps:g}"


def render_hardware(json_output: bool = False) -> None:
    """Prints the hardware library."""
    if json_output:
        print(json.dumps(hardware_catalog(), sort_keys=True, indent=2))
        return
    console = Console()
    devices = Table(title="Devices (dense peaks per device)", title_justify="left")
    for column in ("name", "description", "memory GiB", "bandwidth GB/s", "TFLOP/s by precision", "TDP W"):
        devices.add_column(column, justify="right" if column[0].isupper() or " " in column else "left")
    for device in list_devices():
        peaks = " ".join(f"{key} {value:g}" for key, value in device.peak_TFLOPS.items())
        devices.add_row(device.name, device.description, f"{device.memory_GiB:g}",
                        f"{device.memory_bandwidth_GBps:g}", peaks, f"{device.tdp_W:g}")
    console.print(devices)
    systems = Table(title="Systems (price per node-hour)", title_justify="left")
    for column in ("name", "also", "device", "per node", "intra GB/s", "inter Gbit/s", "on-demand", "spot", "price date"):
        systems.add_column(column)
    for system in list_systems():
        price = system.price_usd_per_hour
        systems.add_row(
            system.name, ", ".join(system.aliases), system.device.name, str(system.devices_per_node),
            *_links(system),
            f"${price.on_demand:.2f}" if price else "n/a",
            f"${price.spot:.2f}" if price and price.spot is not None else "n/a",
            (price.date or "") if price else "",
        )
    console.print(systems)
    console.print("Any device also works as DEVICExN, e.g. h100x16 (2 nodes of 8).")
