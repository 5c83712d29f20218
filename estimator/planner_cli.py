"""`estimate plan MODEL --hw HW`: the planner's command (parse → `planner` → render).

A search longer than a second shows a progress bar on stderr (only on a terminal, so `--json`
output and pipes stay clean); the native search reports progress about every 0.1 s.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from estimator.cli_options import (
    AttentionOption,
    AutocastOption,
    BlockingGathersOption,
    CudaGraphsOption,
    ForeachOptimizerOption,
    FusedLossOption,
    FuseBnReluOption,
    Level,
    LoopOptimizerOption,
    LowPrecisionNormOption,
    MeanSeqLenOption,
    TpOverlapOption,
)
from estimator.specs.training import Optimizer, Precision, Recompute

plan_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

GiB = 1 << 30
SHOW_PROGRESS_AFTER_S = 1.0
RECOMPUTE_SHORT = {"none": "none", "selective": "sel", "full": "full"}


class Objective(str, Enum):
    """What the planner minimises."""

    TIME = "time"
    COST = "cost"



class LazyProgress:
    """A progress bar that appears only once a search has run for a second."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.start = time.perf_counter()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.bar is None:
            if not self.console.is_terminal or time.perf_counter() - self.start < SHOW_PROGRESS_AFTER_S:
                return
            self.bar = Progress(TextColumn("planning {task.description}"), BarColumn(),
                                TextColumn("{task.completed:,}/{task.total:,} configurations"),
                                TimeElapsedColumn(), console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(label, total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done, total=total, description=label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@plan_app.command(context_settings={"help_option_names": ["-h", "--help"]})
def plan_command(
    model: Annotated[str, typer.Argument(help="A model YAML file, a Hugging Face config.json, or a shipped preset name.", show_default=False)],
    hw: Annotated[str, typer.Option("--hw", help="A shipped system, DEVICExN (e.g. h100x16), or a system YAML path.", show_default=False)],
    nodes: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Copies of the system's node; with --deadline, the most nodes to consider.")] = None,
    objective: Annotated[Objective, typer.Option(help="Minimise step time, or price × time (the same ranking at fixed --nodes).")] = Objective.TIME,
    top: Annotated[int, typer.Option(min=1, max=100, help="How many plans to print.")] = 5,
    deadline: Annotated[Optional[float], typer.Option(min=0, help="Days the run may take: find the fewest nodes that finish (needs --tokens, --samples or --epochs).")] = None,
    tokens: Annotated[Optional[float], typer.Option(min=0, help="Tokens to train on (300e9 style accepted).")] = None,
    samples: Annotated[Optional[float], typer.Option(min=0, help="Samples to train on.")] = None,
    epochs: Annotated[Optional[float], typer.Option(min=0, help="Epochs over the model's dataset.")] = None,
    global_batch: Annotated[Optional[int], typer.Option("--global-batch", min=1, max=1 << 30, help="Sequences or images per step, kept fixed (default: the model's).")] = None,
    precision: Annotated[Optional[Precision], typer.Option(help="fp16/bf16/fp8 are mixed precision with fp32 master weights.")] = None,
    optimizer: Annotated[Optional[Optimizer], typer.Option(help="Optimizer (default adam).")] = None,
    recompute: Annotated[Optional[Recompute], typer.Option(help="Fix the recomputation instead of searching it.")] = None,
    zero: Annotated[Optional[Level], typer.Option(help="Fix the ZeRO stage instead of searching it.")] = None,
    sequence_parallel: Annotated[Optional[bool], typer.Option("--sequence-parallel/--no-sequence-parallel", help="Fix sequence parallelism instead of searching it.", show_default=False)] = None,
    ep: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Expert parallel degree (kept fixed).")] = None,
    attention: AttentionOption = None,
    cuda_graphs: CudaGraphsOption = None,
    autocast: AutocastOption = None,
    low_precision_norm: LowPrecisionNormOption = None,
    fuse_bn_relu: FuseBnReluOption = None,
    foreach_optimizer: ForeachOptimizerOption = None,
    loop_optimizer: LoopOptimizerOption = None,
    fused_loss: FusedLossOption = None,
    blocking_gathers: BlockingGathersOption = None,
    tp_overlap: TpOverlapOption = None,
    fsdp: Annotated[Optional[bool], typer.Option("--fsdp", help="ZeRO-3 candidates shard as PyTorch FSDP: one collective per layer, not per operator.")] = None,
    mean_seq_len: MeanSeqLenOption = None,
    max_micro_batch: Annotated[int, typer.Option("--max-micro-batch", min=1, max=65536, help="Largest micro-batch tried.")] = 64,
    max_tp: Annotated[int, typer.Option("--max-tp", min=0, max=1 << 24, help="Largest tensor-parallel degree (0: one node).")] = 0,
    max_cp: Annotated[int, typer.Option("--max-cp", min=1, max=1024, help="Largest context-parallel degree.")] = 8,
    max_vp: Annotated[int, typer.Option("--max-vp", min=1, max=64, help="Most virtual pipeline stages.")] = 8,
    spot: Annotated[bool, typer.Option("--spot", help="Price at spot/preemptible rates.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help='One JSON object on stdout: {"plans": [...], ...}.')] = False,
) -> None:
    """Search parallel layouts, micro-batch, recomputation, ZeRO and sequence parallelism for
    MODEL on HW; print the best plans and why the first wins."""
    from estimator.planner import plan, plan_deadline

    options: dict[str, Any] = dict(
        tokens=tokens, samples=samples, epochs=epochs, global_batch=global_batch,
        precision=precision, optimizer=optimizer, recompute=recompute,
        zero=int(zero.value) if zero is not None else None, sequence_parallel=sequence_parallel,
        ep=ep, attention=attention, cuda_graphs=cuda_graphs, autocast=autocast, low_precision_norm=low_precision_norm,
        fuse_bn_relu=fuse_bn_relu,
        foreach_optimizer=foreach_optimizer, loop_optimizer=loop_optimizer, mean_seq_len=mean_seq_len, fsdp=fsdp,
        blocking_gathers=blocking_gathers, tp_overlap=tp_overlap,
        fused_loss=fused_loss, spot=spot or None, objective=objective.value, top=top,
        max_micro_batch=max_micro_batch, max_tp=max_tp, max_cp=max_cp, max_vp=max_vp,
    )
    progress = LazyProgress(Console(stderr=True))
    try:
        if deadline is not None:
            report = plan_deadline(model, hw, deadline, max_nodes=nodes, progress=progress, **options)
        else:
            report = plan(model, hw, nodes, progress=progress, **options)
    finally:
        progress.close()
    if json_output:
        typer.echo(report.to_json())
    else:
        render_plans(report)


def _duration(seconds: float) -> str:
    from estimator.report import duration

    return duration(seconds)


def _step(seconds: float) -> str:
    """Step times with four digits: plans near the top often differ by a fraction of a percent."""
    return f"{seconds * 1e3:.4g} ms" if seconds < 1 else f"{seconds:.4g} s"


def render_plans(report: Any, console: Console | None = None) -> None:
    """The plans as a table, then why the first wins, the deadline search and the search itself."""
    from estimator.report import dollars

    console = console or Console()
    if report.plans:
        first = report.plans[0]
        console.print(f"[bold]{first.model.name}[/] on [bold]{first.hardware.system}[/]: "
                      f"{first.config.devices} × {first.hardware.device} in {first.config.nodes} "
                      f"node{'s' if first.config.nodes != 1 else ''}, global batch "
                      f"{first.config.global_batch}, {first.config.precision}, {first.config.optimizer}")
        table = Table(title=f"Best {len(report.plans)} plans", title_justify="left",
                      box=None, pad_edge=False, collapse_padding=True, header_style="bold underline")
        for name in ("#", "tp", "pp", "vp", "dp", "cp", "sp", "zero", "recomp", "micro", "step",
                     "MFU", "GiB", "bubble", "comm"):
            table.add_column(name, justify="left" if name in ("recomp", "sp") else "right",
                             no_wrap=True)
        for rank, est in enumerate(report.plans, 1):
            c, step = est.config, est.step_time_s
            table.add_row(
                str(rank), str(c.tp), str(c.pp), str(c.vp), str(c.dp), str(c.cp),
                "on" if c.sequence_parallel else "", str(c.zero), RECOMPUTE_SHORT[c.recompute],
                f"{c.micro_batch}×{c.grad_accum}", _step(step), f"{est.mfu:.1%}",
                f"{est.memory.per_device_bytes / GiB:.1f}/{est.memory.capacity_bytes / GiB:.0f}",
                f"{est.breakdown_s.get('pipeline_bubble', 0.0) / step:.1%}",
                f"{est.breakdown_s.get('communication', 0.0) / step:.1%}",
            )
        console.print(table)
        if first.run is not None:
            prices = first.run.cost_usd
            cost = prices.spot if report.spot and prices.spot is not None else prices.on_demand
            console.print(f"run with #1: {first.run.steps:,} steps in {_duration(first.run.time_s)}, "
                          f"{dollars(cost)} {'spot' if report.spot else 'on-demand'}", highlight=False)
    explanation = report.explanation
    console.print(f"[bold]Why #1:[/] {explanation.summary}" if report.plans else
                  f"[bold red]{explanation.summary}[/]")
    for reason in explanation.reasons:
        console.print(f"  • {reason}", highlight=False)
    if report.deadline is not None:
        info = report.deadline
        lines = ", ".join(
            f"{t.nodes} nodes: {_duration(t.run_time_s) if t.run_time_s is not None else 'nothing fits'}"
            + (" ✓" if t.finishes else "") for t in info.tried)
        console.print(f"deadline {_duration(info.deadline_s)} for {info.steps:,} steps; tried {lines or 'none'}",
                      highlight=False)
    s = report.search
    console.print(f"searched {s.configurations:,} configurations ({s.fitting:,} fit) in "
                  f"{s.seconds:.2f} s ({s.configurations_per_s:,.0f}/s)", style="dim", highlight=False)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
