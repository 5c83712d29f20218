"""The `estimate` command: parse → call → render. Thin by design.

`estimate MODEL --hw HW [options]` is the main form (no sub-command word in front); further
commands (`estimate hw`, ...) are dispatched by their first word. Bad input is one line on
stderr and exit code 2; "does not fit" is a result, exit code 0.
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

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
from estimator.errors import EstimatorError
from estimator.economics_cli import APPS as economics_apps
from estimator.levers_cli import levers_app
from estimator.planner_cli import plan_app
from estimator.specs.training import Offload, Optimizer, Precision, Recompute

PROG = "estimate"

estimate_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
hw_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)



def _micro_batch(value: Optional[str]) -> Optional[str]:
    if value is None or value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise typer.BadParameter("expected a positive integer or 'auto'") from None
    if number < 1:
        raise typer.BadParameter("expected a positive integer or 'auto'")
    return value


@estimate_app.command(context_settings={"help_option_names": ["-h", "--help"]})
def main_command(
    model: Annotated[str, typer.Argument(help="A model YAML file, a Hugging Face config.json, or a shipped preset name.", show_default=False)],
    hw: Annotated[str, typer.Option("--hw", help="A shipped system, DEVICExN (e.g. h100x16), or a system YAML path.", show_default=False)],
    nodes: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Copies of the system's node.")] = None,
    precision: Annotated[Optional[Precision], typer.Option(help="fp16/bf16/fp8 are mixed precision with fp32 master weights.")] = None,
    optimizer: Annotated[Optional[Optimizer], typer.Option(help="Optimizer (default adam).")] = None,
    global_batch: Annotated[Optional[int], typer.Option("--global-batch", min=1, max=1 << 30, help="Sequences or images per optimizer step.")] = None,
    micro_batch: Annotated[Optional[str], typer.Option("--micro-batch", callback=_micro_batch, help="Per device and pass, or 'auto' (largest that fits).")] = None,
    tp: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Tensor parallel degree.")] = None,
    pp: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Pipeline parallel degree.")] = None,
    dp: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Data parallel degree (default devices/(tp·pp·cp)).")] = None,
    cp: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Context parallel degree.")] = None,
    vp: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Virtual pipeline stages (interleaved).")] = None,
    ep: Annotated[Optional[int], typer.Option(min=1, max=1 << 24, help="Expert parallel degree.")] = None,
    sequence_parallel: Annotated[Optional[bool], typer.Option("--sequence-parallel", help="Megatron sequence parallelism.")] = None,
    zero: Annotated[Optional[Level], typer.Option(help="ZeRO stage: optimizer (1), +gradients (2), +parameters (3).")] = None,
    fsdp: Annotated[Optional[bool], typer.Option("--fsdp", help="Fully sharded data parallel (= --zero 3), as PyTorch FSDP: one collective per layer, not per operator.")] = None,
    recompute: Annotated[Optional[Recompute], typer.Option(help="Activation recomputation.")] = None,
    offload: Annotated[Optional[Offload], typer.Option(help="Keep the optimizer state and step on the host (ZeRO-Offload).")] = None,
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
    mean_seq_len: MeanSeqLenOption = None,
    tokens: Annotated[Optional[float], typer.Option(min=0, help="Tokens to train on (300e9 style accepted).")] = None,
    samples: Annotated[Optional[float], typer.Option(min=0, help="Samples to train on.")] = None,
    epochs: Annotated[Optional[float], typer.Option(min=0, help="Epochs over the model's dataset.")] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Price the run at spot/preemptible rates.")] = False,
    noise_scale: Annotated[Optional[float], typer.Option("--noise-scale", min=0, help="Gradient noise scale B_noise in samples: fills critical_batch (McCandlish et al. 2018).")] = None,
    noise_task: Annotated[Optional[str], typer.Option("--noise-task", help="A task with a measured critical batch, e.g. imagenet, cifar10, billion_word.")] = None,
    checkpoint_s: Annotated[Optional[float], typer.Option("--checkpoint-s", min=0, help="Seconds to write one checkpoint (with --node-mtbf-h or --preemptions-per-h).")] = None,
    restart_s: Annotated[Optional[float], typer.Option("--restart-s", min=0, help="Seconds to restart after an interruption (default: --checkpoint-s).")] = None,
    node_mtbf_h: Annotated[Optional[float], typer.Option("--node-mtbf-h", min=0, help="Mean hours between failures of one node.")] = None,
    preemptions_per_h: Annotated[Optional[float], typer.Option("--preemptions-per-h", min=0, help="Spot preemptions per hour of the job.")] = None,
    pue: Annotated[Optional[float], typer.Option(min=1, max=5, help="Data-center PUE for facility energy (default 1.10).")] = None,
    grid_gco2_per_kwh: Annotated[Optional[float], typer.Option("--grid-gco2-per-kwh", min=0, max=2000, help="Grid carbon intensity (default 481, world 2023).")] = None,
    input_cores_per_node: Annotated[Optional[int], typer.Option("--input-cores-per-node", min=1, max=1 << 20, help="CPU cores per node preparing input (with --input-samples-per-s-per-core).")] = None,
    input_samples_per_s_per_core: Annotated[Optional[float], typer.Option("--input-samples-per-s-per-core", min=0, max=1e9, help="Samples per second one CPU core decodes and augments.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Estimate step time, throughput, memory per device and run cost of training MODEL on HW."""
    from estimator.estimate import estimate
    from estimator.report import render

    result = estimate(
        model, hw, nodes=nodes, precision=precision, optimizer=optimizer,
        global_batch=global_batch, micro_batch=micro_batch if micro_batch == "auto" or micro_batch is None else int(micro_batch),
        tp=tp, pp=pp, dp=dp, cp=cp, vp=vp, ep=ep, sequence_parallel=sequence_parallel,
        zero=int(zero.value) if zero is not None else None, recompute=recompute, attention=attention, cuda_graphs=cuda_graphs, autocast=autocast, low_precision_norm=low_precision_norm, fuse_bn_relu=fuse_bn_relu, foreach_optimizer=foreach_optimizer, loop_optimizer=loop_optimizer,
        fused_loss=fused_loss, offload=offload, mean_seq_len=mean_seq_len, fsdp=fsdp,
        blocking_gathers=blocking_gathers, tp_overlap=tp_overlap,
        tokens=tokens, samples=samples, epochs=epochs,
        spot=spot or None, noise_scale=noise_scale, noise_task=noise_task, checkpoint_s=checkpoint_s,
        restart_s=restart_s, node_mtbf_h=node_mtbf_h, preemptions_per_h=preemptions_per_h, pue=pue,
        grid_gco2_per_kwh=grid_gco2_per_kwh, input_cores_per_node=input_cores_per_node,
        input_samples_per_s_per_core=input_samples_per_s_per_core,
    )
    if json_output:
        typer.echo(result.to_json())
    else:
        render(result)


@hw_app.command(context_settings={"help_option_names": ["-h", "--help"]})
def hw_command(
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """List the shipped devices and systems."""
    from estimator.hardware_table import render_hardware

    render_hardware(json_output)


SUBCOMMANDS = {"hw": hw_app, "plan": plan_app, "levers": levers_app, **economics_apps}


# Control characters from the user's text (a file name, an option, a key read from a file) would
# break the one-line message or drive the terminal (ANSI escapes): shown escaped, as \x1b.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # surrogates: undecodable argv bytes


def _fail(message: str) -> int:
    message = _CONTROL.sub(lambda match: repr(match.group())[1:-1], message)
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"{PROG}: error: {message}", markup=False)
    return 2


def run(argv: list[str]) -> int:
    """Runs the CLI on `argv` (without the program name) and returns the exit code."""
    app, args, name = estimate_app, argv, PROG
    if argv and argv[0] in SUBCOMMANDS:
        app, args, name = SUBCOMMANDS[argv[0]], argv[1:], f"{PROG} {argv[0]}"
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name=name, standalone_mode=False)
    except EstimatorError as exc:
        return _fail(str(exc))
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return _fail("aborted")
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
        possibilities = getattr(exc, "possibilities", None)
        if getattr(exc, "option_name", None) and possibilities is not None:
            hint = f" (did you mean {', '.join(possibilities)}?)" if possibilities else ""
            return _fail(f"no such option: {exc.option_name}{hint}; see '{name} --help'")
        # typer words a failed enum as pydantic's "Value error, 'x' is not one of ..."
        message = exc.format_message().replace("Value error, ", "").rstrip(".")
        return _fail(f"{message}; see '{name} --help'")
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:]))
