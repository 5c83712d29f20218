"""Measured on a GPU (benchmarks/gpu_measure.py) next to what the estimator predicts.

    PYTHONPATH=. python benchmarks/gpu_compare.py benchmarks/measurements/h100-sxm-2026-11-23.json

Prints the device constants the estimator carries against the measured fractions, training
steps (measured vs predicted time), and memory (device memory in use at the peak, and the largest
batch that fits), for the sections the file holds. The GPT-2, ResNet-50 and LLaMA-style steps ran
PyTorch eager with bf16 autocast on one device; the BERT-Large SQuAD steps (a `-bert.json` file
beside the main one, or given alone) ran as NVIDIA's run_squad.py runs them. The predictions use
the same model, batch, precision, optimizer and attention kernel.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import estimator  # noqa: E402
from estimator.specs.hardware import load_device, load_stack  # noqa: E402

GIB = 2**30
DEVICES = {"H100": "h100", "H200": "h200"}  # the name torch reports -> the shipped device
# PyTorch 2.11's SDPA ran cuDNN's fused attention in these steps (the profiled kernels are
# cudnn_generated_fort_native_sdpa_sm90_flash_*), so the predictions use that kernel; the steps
# ran plain torch.autocast over fp32 weights.
GPT2 = dict(precision="bf16", optimizer="adamw", attention="cudnn", autocast=True, foreach_optimizer=True)
LLAMA_MODEL = {"preset": "llama2-7b", "name": "llama-0.85b", "layers": 16, "hidden": 2048, "heads": 16,
               "kv_heads": 4, "ffn_hidden": 5632, "vocab": 32000, "seq_len": 2048}
RESNET = dict(precision="bf16", optimizer="momentum", autocast=True)
# BERT-Large SQuAD (gpu_measure.py's bert_squad_step): what each mode runs, as estimate() options.
# The attention is modeling.py's plain PyTorch code: eager. `tf32` steps BertAdam, a Python loop
# over the parameter tensors.
BERT_SQUAD = {"preset": "bert-large", "name": "bert-large-squad-s384", "vocab": 30528, "seq_len": 384,
              "head": "none", "nsp": False}
BERT = dict(optimizer="adamw", attention="eager", recompute="none")
BERT_MODES = {
    "fp16": dict(precision="fp16"),
    "tf32_adamw": dict(precision="tf32", foreach_optimizer=True),
    "tf32": dict(precision="tf32", loop_optimizer=True),
    "bf16_autocast": dict(precision="bf16", autocast=True, foreach_optimizer=True),
}


def _llama() -> estimator.ModelSpec:
    from estimator.specs.model import model_from_mapping

    return model_from_mapping(dict(LLAMA_MODEL), "llama-0.85b.yaml")


def _bert_squad() -> estimator.ModelSpec:
    from estimator.specs.model import model_from_mapping

    return model_from_mapping(dict(BERT_SQUAD), "bert-large-squad-s384.yaml")


def bert_predicted(data: dict, mode: str, batch: int, attention: str = "eager") -> estimator.Estimate:
    """The estimate for one of the measured SQuAD steps (`mode` as gpu_measure.py names it)."""
    return estimator.estimate(_bert_squad(), _hw(data), micro_batch=batch, global_batch=batch,
                              **{**BERT, "attention": attention}, **BERT_MODES[mode])


def _gpt2(vocab: int = 50257, dropout: float = 0.1) -> estimator.ModelSpec:
    return estimator.load_model("gpt2").model_copy(update={"vocab": vocab, "dropout": dropout})


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                     for i, (cell, width) in enumerate(zip(cells, widths)))


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print(_row(header, widths))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(_row(row, widths))


def _device_name(data: dict) -> str:
    return next(name for key, name in DEVICES.items() if key in data["device"])


def constants(data: dict) -> list[list[str]]:
    device, stack = load_device(_device_name(data)), load_stack("cuda")
    peak = device.peak_TFLOPS
    gemm = {(r["precision"], r["shape"]): r["TFLOPS"] for r in data["gemm"]}
    gpt2_shapes = [gemm[("bf16", f"gpt2 {n}")] for n in ("qkv", "attn-out", "fc1", "fc2")]
    best = {p: max(v for (q, _), v in gemm.items() if q == p) for p in ("bf16", "fp8")}
    attention = {backend: statistics.mean(r["fwd_bwd_TFLOPS"] for r in data["attention"]
                                          if r.get("backend", "flash_attention") == backend
                                          and r["head_dim"] == 128)
                 for backend in ("flash_attention", "cudnn_attention")
                 if any(r.get("backend", "flash_attention") == backend for r in data["attention"])}
    traces = data["traces"]["gpt2_b1"]
    rows = [
        ["GEMM, GPT-2 shapes (bf16)", f"{statistics.mean(gpt2_shapes) / peak['bf16']:.2f}",
         f"{device.efficiency.matmul:.2f}", "efficiency.matmul (sustained)"],
        ["GEMM, best shape (bf16)", f"{best['bf16'] / peak['bf16']:.2f}",
         f"{device.efficiency.conv:.2f}", "efficiency.conv (capped here)"],
        ["GEMM fp8 / bf16 best", f"{best['fp8'] / peak['fp8'] / (best['bf16'] / peak['bf16']):.2f}",
         f"{device.efficiency.matmul_at('fp8') / device.efficiency.matmul:.2f}",
         "matmul_fp8 / matmul"],
        ["copy bandwidth", f"{data['bandwidth']['copy_GBps'] / device.memory_bandwidth_GBps:.2f}",
         f"{device.efficiency.memory:.2f}", "efficiency.memory"],
    ]
    if "alignment" in data:
        align = {(r["precision"], r["shape"]): r["TFLOPS"] for r in data["alignment"]}
        odd = statistics.mean(align[("bf16", f"{d}+1")] / align[("bf16", f"{d}+0")] for d in "nk")
        rows.append(["GEMM with an odd bf16 dim", f"{odd:.2f}", f"{stack.matmul_misaligned[2]:.2f}",
                     "stack matmul_misaligned[2]"])
    if "flash_attention" in attention:
        rows.append(["FlashAttention-2 fwd+bwd, d128", f"{attention['flash_attention'] / peak['bf16']:.2f}",
                     f"{device.efficiency.attention:.2f}", "efficiency.attention"])
    if "cudnn_attention" in attention:
        rows.append(["cuDNN attention fwd+bwd, d128", f"{attention['cudnn_attention'] / peak['bf16']:.2f}",
                     f"{device.efficiency.attention_for('cudnn'):.2f}", "efficiency.attention_cudnn"])
    rows += [
        ["eager op, host floor (us)", f"{data['launch_us']:.1f}", f"{stack.kernel_launch_overhead_us:g}",
         "kernel_launch_overhead_us"],
        ["host time per operator, GPT-2 b1 (us)", f"{_host_per_op(data, 'gpt2'):.0f}",
         f"{stack.host_time_per_operator_us:g}", "host_time_per_operator_us"],
        ["host time per operator, ResNet-50 b1 (us)", f"{_host_per_op(data, 'resnet50'):.0f}",
         f"{stack.host_time_per_operator_us:g}", "host_time_per_operator_us"],
        ["CUDA context after training (GiB)", f"{traces['outside_pool_GiB']:.2f}",
         f"{stack.runtime_context_GiB:g}", "runtime_context_GiB"],
    ]
    return rows


def _hw(data: dict) -> str:
    return f"{_device_name(data)}x1"


def _host_per_op(data: dict, model: str) -> float:
    """Host time per operator of a host-bound step: (step − optimizer GPU time) / operators."""
    if model == "gpt2":
        step = next(r for r in data["gpt2_variant_steps"] if r["batch"] == 1)["step_s"]
        spec: estimator.ModelSpec | str = _gpt2()
    else:
        step = next(r for r in data["resnet50_small_steps"] if r["batch"] == 1)["step_s"]
        spec = "resnet50"
    optimizer_ms = data["traces"][f"{model}_b1"]["by_kind"]["optimizer"]["ms"]
    graph = estimator.lower(estimator.load_model(spec) if isinstance(spec, str) else spec)
    return (step - optimizer_ms / 1e3) / graph.operators * 1e6


def steps(data: dict) -> list[list[str]]:
    rows = []
    cases = [(f"GPT-2 b{r['batch']} vocab 50257", _gpt2(), r["batch"], GPT2, r)
             for r in data["gpt2_steps"]]
    for r in data["gpt2_variant_steps"]:
        vocab, dropout = r.get("vocab", 50257), r.get("dropout", 0.1)
        label = f"GPT-2 b{r['batch']} vocab {vocab}" + (" dropout 0" if dropout == 0 else "")
        options = GPT2
        if r.get("fused_adam"):
            label += " fused AdamW"
            options = {**GPT2, "foreach_optimizer": False}
        cases.append((label, _gpt2(vocab, dropout), r["batch"], options, r))
    cases += [(f"ResNet-50 b{r['batch']}", "resnet50", r["batch"], RESNET, r)
              for r in data["resnet50_steps"] + data.get("resnet50_small_steps", [])]
    cases += [(f"LLaMA-style 0.85B b{r['batch']}", _llama(), r["batch"], GPT2, r)
              for r in data.get("llama_steps", [])]
    for label, model, batch, options, measured in cases:
        predicted = estimator.estimate(model, _hw(data), micro_batch=batch, global_batch=batch, **options)
        error = predicted.step_time_s / measured["step_s"] - 1
        rows.append([label, f"{measured['step_s'] * 1e3:.1f}", f"{predicted.step_time_s * 1e3:.1f}",
                     f"{error:+.1%}"])
    return rows


def memory(data: dict) -> list[list[str]]:
    outside = data["traces"]["gpt2_b16_vocab50304"]["outside_pool_GiB"]
    rows = []
    for label, model, options, measured in (
            *[(f"GPT-2 b{r['batch']}", _gpt2(), GPT2, r) for r in data["gpt2_steps"]],
            *[(f"ResNet-50 b{r['batch']}", "resnet50", RESNET, r) for r in data["resnet50_steps"]]):
        batch = measured["batch"]
        predicted = estimator.estimate(model, _hw(data), micro_batch=batch, global_batch=batch, **options)
        in_use = measured["peak_reserved_GiB"] + outside
        rows.append([f"{label}: device memory in use (GiB)", f"{in_use:.2f}",
                     f"{predicted.memory.per_device_bytes / GIB:.2f}",
                     f"{predicted.memory.per_device_bytes / GIB / in_use - 1:+.1%}"])
    for label, model, options, key in (("GPT-2", _gpt2(), GPT2, "gpt2_max_batch"),
                                       ("ResNet-50", "resnet50", RESNET, "resnet50_max_batch"),
                                       ("LLaMA-style 0.85B", _llama(), GPT2, "llama_max_batch")):
        if key not in data:
            continue
        predicted = estimator.estimate(model, _hw(data), micro_batch=1, global_batch=1, **options)
        rows.append([f"{label}: largest batch that fits", str(data[key]),
                     str(predicted.max_micro_batch), f"{predicted.max_micro_batch / data[key] - 1:+.1%}"])
    return rows


def bert(data: dict) -> tuple[list[list[str]], list[list[str]]]:
    """SQuAD steps (eager and unfused attention predicted) and what the forward pass saves."""
    steps_rows = []
    for row in data["bert_squad_steps"]:
        if row["mode"] not in BERT_MODES:
            continue
        measured = row["step_s"]
        eager, unfused = (bert_predicted(data, row["mode"], row["batch"], attention)
                          for attention in ("eager", "unfused"))
        steps_rows.append([f"BERT-Large SQuAD b{row['batch']} {row['mode']}", f"{measured * 1e3:.1f}",
                           f"{eager.step_time_s * 1e3:.1f}", f"{eager.step_time_s / measured - 1:+.1%}",
                           f"{unfused.step_time_s / measured - 1:+.1%}"])
    memory_rows = []
    for mode, row in data.get("bert_saved_activations", {}).items():
        predicted = bert_predicted(data, mode, row["batch"]).memory.activations_bytes / GIB
        memory_rows.append([f"BERT-Large SQuAD b{row['batch']} {mode}: saved by forward (GiB)",
                            f"{row['saved_GiB']:.2f}", f"{predicted:.2f}",
                            f"{predicted / row['saved_GiB'] - 1:+.1%}"])
    return steps_rows, memory_rows


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else
                REPO / "benchmarks" / "measurements" / "h100-sxm-2026-11-23.json")
    data = json.loads(path.read_text())
    attention_file = path.with_name(path.stem + "-attention.json")
    if attention_file.exists():  # the attention kernels were measured in a second run
        data["attention"] = json.loads(attention_file.read_text())["attention"]
    llama_file = path.with_name(path.stem + "-llama.json")
    if llama_file.exists():  # the LLaMA-style steps in a fourth
        data.update({k: v for k, v in json.loads(llama_file.read_text()).items() if k.startswith("llama")})
    small_file = path.with_name(path.stem + "-small-batch.json")
    if small_file.exists():  # and ResNet-50's small batches in a third
        small = json.loads(small_file.read_text())
        data["resnet50_small_steps"] = small["resnet50_small_steps"]
        data["traces"]["resnet50_b1"] = small["traces"]["resnet50_b1"]
    bert_file = path.with_name(path.stem + "-bert.json")
    if bert_file.exists():  # and the BERT-Large SQuAD steps in a fifth
        data.update(json.loads(bert_file.read_text()))
    print(f"{data['device']}, torch {data['torch']}, CUDA {data['cuda']}, {data['date']}: {path.name}")
    if "gemm" in data:
        _table("Device constants", ["quantity", "measured", "estimator", "field"], constants(data))
    if "gpt2_steps" in data:
        _table("Training steps (ms)", ["case", "measured", "predicted", "error"], steps(data))
        _table("Memory", ["case", "measured", "predicted", "error"], memory(data))
    if "bert_squad_steps" in data:
        bert_steps, bert_memory = bert(data)
        _table("BERT-Large SQuAD steps (ms; the predictions with eager attention, and the error with unfused)",
               ["case", "measured", "predicted", "error", "unfused"], bert_steps)
        _table("BERT-Large SQuAD memory", ["case", "measured", "predicted", "error"], bert_memory)


if __name__ == "__main__":
    main()
