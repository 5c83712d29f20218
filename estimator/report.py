"""Renders an `Estimate` for people: rich tables on stdout."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from estimator.results import Estimate

GiB = 1 << 30


def duration(seconds: float) -> str:
    """A duration in the largest sensible unit: 850 ms, 12.3 s, 4.2 min, 3.1 h, 12.5 days."""
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.3g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def quantity(value: float) -> str:
    """A count with an SI suffix: 124.4M, 175.0B, 1.3T."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{suffix}"
    return f"{value:.0f}"


def dollars(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}" if value < 1e4 else f"${value:,.0f}"


def render(result: Estimate, console: Console | None = None) -> None:
    """Prints the estimate as a header, time, memory and run sections, and warnings."""
    console = console or Console()
    m, h, c = result.model, result.hardware, result.config
    console.print(
        f"[bold]{m.name}[/] ({quantity(m.params)} parameters) on [bold]{h.system}[/]: "
        f"{c.devices} × {h.device} in {c.nodes} node{'s' if c.nodes != 1 else ''}"
    )
    console.print(
        f"{c.precision} · {c.optimizer} · tp {c.tp} pp {c.pp} dp {c.dp} cp {c.cp}"
        f"{f' vp {c.vp}' if c.vp > 1 else ''}{f' ep {c.ep}' if c.ep > 1 else ''}"
        f"{' +sp' if c.sequence_parallel else ''} · zero {c.zero}{' (FSDP)' if c.fsdp else ''}{' (blocking gathers)' if c.blocking_gathers else ''}{' · tp overlap' if c.tp_overlap and c.tp > 1 else ''} · "
        f"recompute {c.recompute} · "
        f"micro-batch {c.micro_batch} × accumulation {c.grad_accum} × dp {c.dp} = "
        f"global batch {c.global_batch}"
        f"{f' · mean {c.mean_seq_len} tokens computed per sample' if c.mean_seq_len else ''}"
    )

    speed = Table(title="Step", title_justify="left", show_header=False, box=None)
    speed.add_column(style="bold")
    speed.add_column(justify="right")
    speed.add_row("step time", duration(result.step_time_s))
    speed.add_row("samples/s", f"{result.samples_per_s:,.1f}")
    if result.tokens_per_s is not None:
        speed.add_row("tokens/s", f"{result.tokens_per_s:,.0f}")
    speed.add_row("TFLOP/s per device", f"{result.tflops_per_device:.1f} of {h.peak_TFLOPS:g} peak")
    speed.add_row("MFU", f"{result.mfu:.1%}")
    console.print(speed)

    parts = Table(title="Where the step goes", title_justify="left")
    parts.add_column("part")
    parts.add_column("time", justify="right")
    parts.add_column("share", justify="right")
    for name, seconds in result.breakdown_s.items():
        if seconds > 0:
            parts.add_row(name.replace("_", " "), duration(seconds), f"{seconds / result.step_time_s:.1%}")
    for name, seconds in result.communication_s.items():
        if seconds > 0:
            parts.add_row(f"  of which {name}", duration(seconds), f"{seconds / result.step_time_s:.1%}")
    console.print(parts)

    mem = result.memory
    memory = Table(title="Memory per device" + (f" (stage {mem.worst_stage})" if c.pp > 1 else ""),
                   title_justify="left")
    memory.add_column("part")
    memory.add_column("GiB", justify="right")
    for name, value in (("weights", mem.weights_bytes), ("gradients", mem.gradients_bytes),
                        ("optimizer state", mem.optimizer_bytes),
                        ("activations", mem.activations_bytes), ("runtime + fragmentation", mem.other_bytes)):
        memory.add_row(name, f"{value / GiB:.2f}")
    verdict = "[green]fits[/]" if mem.fits else "[red]does not fit[/]"
    memory.add_row(f"[bold]total[/] ({verdict})",
                   f"[bold]{mem.per_device_bytes / GiB:.2f}[/] of {mem.capacity_bytes / GiB:.0f}")
    console.print(memory)
    ceiling = f"largest micro-batch that fits: {result.max_micro_batch}"
    if result.critical_batch is not None:
        ceiling += f" · critical batch (statistical): {result.critical_batch:,.0f}"
    console.print(ceiling)

    if result.run is not None:
        run = result.run
        table = Table(title="Run", title_justify="left", show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("steps", f"{run.steps:,}")
        table.add_row("time", duration(run.time_s))
        table.add_row("device-hours", f"{run.device_hours:,.1f}")
        table.add_row("energy", f"{run.energy_kwh:,.1f} kWh")
        table.add_row("cost on-demand", dollars(run.cost_usd.on_demand))
        table.add_row("cost spot", dollars(run.cost_usd.spot))
        if run.co2_kg is not None:
            table.add_row("CO2e", f"{run.co2_kg:,.1f} kg (PUE {run.pue:g}, {run.grid_gco2_per_kwh:g} g/kWh)")
        if run.wall_time_with_failures_s is not None and run.goodput is not None:
            table.add_row("with failures", f"{duration(run.wall_time_with_failures_s)} (goodput {run.goodput:.1%})")
        if run.cost_with_failures_usd is not None:
            table.add_row("cost with failures", f"{dollars(run.cost_with_failures_usd.on_demand)} on-demand, "
                                                f"{dollars(run.cost_with_failures_usd.spot)} spot")
        console.print(table)
        if run.phases:
            phases = Table(title="Schedule", title_justify="left")
            for name in ("phase", "size", "batch", "steps", "step", "time", "cost"):
                phases.add_column(name, justify="left" if name == "phase" else "right")
            for phase in run.phases:
                size = (f"{phase.image_size} px" if phase.image_size is not None
                        else f"{phase.seq_len} tok" if phase.seq_len is not None else "")
                if phase.mean_seq_len is not None:
                    size += f" (mean {phase.mean_seq_len})"
                phases.add_row(phase.name + ("" if phase.fits else " (does not fit)"), size,
                               f"{phase.global_batch:,}", f"{phase.steps:,}", duration(phase.step_time_s),
                               duration(phase.time_s), dollars(phase.cost_usd.on_demand))
            console.print(phases)

    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
