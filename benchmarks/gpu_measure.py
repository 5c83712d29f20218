"""Measure on a real GPU what the estimator predicts, with PyTorch.

    python benchmarks/gpu_measure.py --out measured.json      # on a machine with a CUDA GPU
    PYTHONPATH=. python benchmarks/gpu_compare.py measured.json   # here: measured vs predicted

Measures, each as the median of repeated CUDA-event timings after warm-up, on random data
(`--sections a,b` runs a subset; each section's name is its key in the output JSON):
  * gemm: GEMM throughput per precision (fp32, tf32, fp16, bf16, fp8 via torch._scaled_mm) for
    square sizes and for the GEMM shapes of a GPT-2 training step;
  * alignment, lm_head: one GEMM with n, k or m moved off a multiple of 16 bytes; the tied GPT-2
    LM head at vocabularies 50,257 / 50,264 / 50,304, forward + backward;
  * bandwidth: a large device-to-device copy and an elementwise add (bytes read + written);
  * attention: fused attention through torch SDPA, flash (FlashAttention-2) and cuDNN backends;
  * conv: cuDNN convolutions of ResNet-50 shapes (bf16, channels-last), forward+backward;
  * launch_us: the host-side cost of one eager op;
  * *_steps: whole training steps of GPT-2 small (bf16 autocast, AdamW; also padded vocabulary,
    no dropout, fused AdamW, torch.compile, micro-batch 1 and 4) and ResNet-50 (bf16 autocast,
    channels-last, SGD with momentum; batch 1 to 256): step time and peak memory;
  * saved_activations: bytes the forward pass leaves for the backward pass, and its peaks;
  * traces: kernel time per step by kind from a profile, and device memory outside PyTorch's pool;
  * llama_*: a 0.85B LLaMA-style model (RMSNorm, GQA with rotary embeddings, SwiGLU, bf16
    autocast, AdamW, sequence 2048): steps at micro-batch 1, 2, 4, a kernel profile, the largest
    micro-batch;
  * bert_*: BERT-Large SQuAD fine-tuning steps (sequence 384, batch 32) written as NVIDIA's
    eager run_squad.py runs them: apex-O2-style fp16 with FusedAdam, TF32 with BertAdam, and
    variants; a kernel profile with the costliest kernels; what the forward pass saves;
  * *_max_batch: the largest batch that fits (bisection over out-of-memory).

Needs torch (and torchvision for ResNet-50); nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

GiB = 1024**3


def timed(fn: Callable[[], object], *, iters: int, repeats: int = 5, warmup: int = 3) -> float:
    """Median seconds per call of `fn`, timed with CUDA events over `iters` calls per repeat."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / 1e3 / iters)
    return statistics.median(samples)


def rotating(count: int, make: Callable[[], tuple]) -> Callable[[], tuple]:
    """Cycle among `count` freshly drawn input sets so small problems are not timed from L2."""
    sets = [make() for _ in range(count)]
    state = {"i": 0}

    def next_set() -> tuple:
        state["i"] = (state["i"] + 1) % count
        return sets[state["i"]]

    return next_set


def sets_for(bytes_per_set: int, l2_bytes: int) -> int:
    return max(1, min(64, math.ceil(4 * l2_bytes / max(bytes_per_set, 1))))


# ---------------------------------------------------------------------------- GEMM

def gemm_tflops(m: int, n: int, k: int, precision: str, l2_bytes: int) -> float:
    dtype = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
             "bf16": torch.bfloat16, "fp8": torch.bfloat16}[precision]
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    element = 1 if precision == "fp8" else torch.finfo(dtype).bits // 8
    count = sets_for((m * k + k * n + m * n) * element, l2_bytes)
    if precision == "fp8":
        one = torch.ones((), device="cuda")

        def make() -> tuple:
            a = torch.randn(m, k, device="cuda").to(torch.float8_e4m3fn)
            b = torch.randn(n, k, device="cuda").to(torch.float8_e4m3fn).t()  # column-major
            return a, b

        inputs = rotating(count, make)

        def run() -> object:
            a, b = inputs()
            return torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    else:
        inputs = rotating(count, lambda: (torch.randn(m, k, device="cuda", dtype=dtype),
                                          torch.randn(k, n, device="cuda", dtype=dtype)))

        def run() -> object:
            a, b = inputs()
            return a @ b

    flops = 2.0 * m * n * k
    iters = max(3, min(200, int(2e13 / flops)))
    seconds = timed(run, iters=iters)
    torch.backends.cuda.matmul.allow_tf32 = False
    return flops / seconds / 1e12


def measure_gemms(l2_bytes: int) -> list[dict]:
    rows = []
    for precision in ("fp32", "tf32", "fp16", "bf16", "fp8"):
        for size in (1024, 2048, 4096, 8192, 16384):
            if precision == "fp32" and size > 8192:
                continue
            rows.append({"precision": precision, "m": size, "n": size, "k": size,
                         "shape": f"square {size}",
                         "TFLOPS": gemm_tflops(size, size, size, precision, l2_bytes)})
    # The GEMMs of one GPT-2 small step at micro-batch 16 (16,384 tokens), forward shapes.
    tokens = 16 * 1024
    for name, n, k in (("qkv", 2304, 768), ("attn-out", 768, 768), ("fc1", 3072, 768),
                       ("fc2", 768, 3072), ("lm-head", 50257, 768)):
        rows.append({"precision": "bf16", "m": tokens, "n": n, "k": k,
                     "shape": f"gpt2 {name}",
                     "TFLOPS": gemm_tflops(tokens, n, k, "bf16", l2_bytes)})
    return rows


def measure_alignment(l2_bytes: int) -> list[dict]:
    """One GEMM (16384 x 4096 x 4096) with one dimension moved off a multiple of 8 elements."""
    rows = []
    for precision in ("bf16", "tf32"):
        for dim in ("m", "n", "k"):
            for extra in (0, 1, 2, 4, 8, 16):
                size = {"m": 16384, "n": 4096, "k": 4096}
                size[dim] += extra
                rows.append({"precision": precision, **size, "shape": f"{dim}+{extra}",
                             "TFLOPS": gemm_tflops(size["m"], size["n"], size["k"], precision,
                                                   l2_bytes)})
    return rows


def measure_lm_head() -> list[dict]:
    """A tied LM head (tokens x 768 -> vocab), forward + both backward GEMMs, as autograd runs it."""
    rows = []
    tokens = 16 * 1024
    for vocab in (50257, 50264, 50304):
        x = torch.randn(tokens, 768, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        w = torch.randn(vocab, 768, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        grad = torch.randn(tokens, vocab, device="cuda", dtype=torch.bfloat16)
        fwd_s = timed(lambda: F.linear(x, w), iters=10)

        def fwd_bwd() -> None:
            x.grad = w.grad = None
            F.linear(x, w).backward(grad)

        both_s = timed(fwd_bwd, iters=5)
        flops = 2.0 * tokens * 768 * vocab
        rows.append({"vocab": vocab, "fwd_TFLOPS": flops / fwd_s / 1e12,
                     "fwd_bwd_TFLOPS": 3 * flops / both_s / 1e12})
    return rows


# ---------------------------------------------------------------------------- bandwidth

def measure_bandwidth() -> dict:
    src = torch.randn(GiB // 4, device="cuda", dtype=torch.float32)  # 1 GiB
    dst = torch.empty_like(src)
    copy_s = timed(lambda: dst.copy_(src), iters=20)
    other = torch.randn_like(src)
    add_s = timed(lambda: torch.add(src, other, out=dst), iters=20)
    sum_s = timed(lambda: src.sum(), iters=20)
    size = src.numel() * src.element_size()
    return {"copy_GBps": 2 * size / copy_s / 1e9,
            "add_GBps": 3 * size / add_s / 1e9,
            "sum_GBps": size / sum_s / 1e9,
            "buffer_bytes": size}


# ---------------------------------------------------------------------------- attention

def measure_attention() -> list[dict]:
    """Fused attention through PyTorch SDPA: the flash backend (FlashAttention-2) and cuDNN's
    fused attention (the kernels Transformer Engine runs)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    rows = []
    for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION):
        for batch, heads, seq, dim, causal in ((16, 12, 1024, 64, True), (8, 16, 2048, 128, True),
                                               (4, 32, 4096, 128, True),
                                               (8, 16, 2048, 128, False)):
            shape = (batch, heads, seq, dim)
            q, k, v = (torch.randn(shape, device="cuda", dtype=torch.bfloat16,
                                   requires_grad=True) for _ in range(3))
            grad = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
            forward = 4.0 * batch * heads * seq * seq * dim * (0.5 if causal else 1.0)
            with sdpa_kernel(backend):
                fwd_s = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
                              iters=20)

                def fwd_bwd() -> None:
                    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                    q.grad = k.grad = v.grad = None
                    out.backward(grad)

                both_s = timed(fwd_bwd, iters=10)
            # FlashAttention's convention: backward = 2.5 x forward FLOPs (Dao 2023).
            rows.append({"backend": backend.name.lower(), "batch": batch, "heads": heads,
                         "seq": seq, "head_dim": dim, "causal": causal,
                         "fwd_TFLOPS": forward / fwd_s / 1e12,
                         "fwd_bwd_TFLOPS": 3.5 * forward / both_s / 1e12})
    return rows


# ---------------------------------------------------------------------------- convolution

RESNET50_CONVS = (  # (name, in channels, out channels, kernel, stride, input H=W), torchvision
    ("stem 7x7", 3, 64, 7, 2, 224),
    ("layer1 1x1", 64, 64, 1, 1, 56),
    ("layer1 3x3", 64, 64, 3, 1, 56),
    ("layer1 1x1 up", 64, 256, 1, 1, 56),
    ("layer2 3x3", 128, 128, 3, 1, 28),
    ("layer3 3x3", 256, 256, 3, 1, 14),
    ("layer3 1x1 up", 256, 1024, 1, 1, 14),
    ("layer4 3x3", 512, 512, 3, 1, 7),
)


def measure_convs(batch: int) -> list[dict]:
    torch.backends.cudnn.benchmark = True
    rows = []
    for name, cin, cout, kernel, stride, size in RESNET50_CONVS:
        conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False).cuda()
        conv = conv.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
        x = torch.randn(batch, cin, size, size, device="cuda", dtype=torch.bfloat16)
        x = x.to(memory_format=torch.channels_last).requires_grad_(cin != 3)
        out_size = (size + 2 * (kernel // 2) - kernel) // stride + 1
        grad = torch.randn(batch, cout, out_size, out_size, device="cuda", dtype=torch.bfloat16)
        grad = grad.to(memory_format=torch.channels_last)
        macs = batch * cout * out_size * out_size * cin * kernel * kernel
        fwd_s = timed(lambda: conv(x), iters=20)

        def fwd_bwd() -> None:
            conv.weight.grad = None
            x.grad = None
            conv(x).backward(grad)

        both_s = timed(fwd_bwd, iters=10)
        passes = 3 if x.requires_grad else 2  # input gradient skipped for the stem
        rows.append({"layer": name, "batch": batch, "fwd_TFLOPS": 2 * macs / fwd_s / 1e12,
                     "fwd_bwd_TFLOPS": passes * 2 * macs / both_s / 1e12})
    return rows


# ---------------------------------------------------------------------------- launch overhead

def measure_launch_us() -> float:
    """Host time per eager op when the GPU work is negligible: the dispatch + launch floor."""
    x = torch.zeros(1, device="cuda")
    for _ in range(100):
        x.add_(1)
    torch.cuda.synchronize()
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        x.add_(1)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / n * 1e6


# ---------------------------------------------------------------------------- GPT-2 small

class Block(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, s, 3, self.heads, d // self.heads).unbind(2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                           v.transpose(1, 2), is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, s, d)))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class GPT(nn.Module):
    """GPT-2 small as the estimator's `gpt2` preset: 12 x 768, 12 heads, vocab 50257, tied."""

    def __init__(self, layers: int = 12, d: int = 768, heads: int = 12, vocab: int = 50257,
                 seq: int = 1024, dropout: float = 0.1) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(seq, d)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d, heads, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))


def gpt2_step(batch: int, compiled: bool = False, vocab: int = 50257, dropout: float = 0.1,
              fused_adam: bool = False) -> tuple[Callable[[], None], nn.Module]:
    model = GPT(vocab=vocab, dropout=dropout).cuda()
    # PyTorch's default AdamW is the multi-tensor ("foreach") one; fused=True is one kernel.
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused_adam or None)
    forward = torch.compile(model) if compiled else model
    idx = torch.randint(0, vocab, (batch, 1024), device="cuda")
    targets = torch.randint(0, vocab, (batch, 1024), device="cuda")
    return lm_step(forward, optimizer, idx, targets), model


def lm_step(forward: Callable, optimizer: torch.optim.Optimizer, idx: torch.Tensor,
            targets: torch.Tensor) -> Callable[[], None]:
    """One eager training step of a language model under bf16 autocast."""

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = forward(idx, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


class LlamaBlock(nn.Module):
    """A LLaMA decoder layer: RMSNorm, grouped-query attention with rotary embeddings, SwiGLU."""

    def __init__(self, d: int, heads: int, kv_heads: int, ffn: int) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, d // heads
        self.norm1, self.norm2 = nn.RMSNorm(d), nn.RMSNorm(d)
        self.q = nn.Linear(d, d, bias=False)
        self.kv = nn.Linear(d, 2 * kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate_up = nn.Linear(d, 2 * ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    @staticmethod
    def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.norm1(x)
        q = self.q(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k, v = self.kv(h).view(b, s, 2, self.kv_heads, self.head_dim).unbind(2)
        k, v = k.transpose(1, 2), v.transpose(1, 2)
        q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o(y.transpose(1, 2).reshape(b, s, d))
        gate, up = self.gate_up(self.norm2(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up)


class Llama(nn.Module):
    """A 0.85B LLaMA-style model: the estimator's llama2 preset with 16 x 2048, 16 heads, 4 KV
    heads, SwiGLU 5632, vocabulary 32,000, sequence 2048, untied embeddings."""

    def __init__(self, layers: int = 16, d: int = 2048, heads: int = 16, kv_heads: int = 4,
                 ffn: int = 5632, vocab: int = 32000, seq: int = 2048) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(LlamaBlock(d, heads, kv_heads, ffn) for _ in range(layers))
        self.norm = nn.RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        half = d // heads // 2
        freqs = 1.0 / 10000 ** (torch.arange(half).float() / half)
        angles = torch.outer(torch.arange(seq).float(), freqs)
        self.register_buffer("cos", torch.cat((angles.cos(), angles.cos()), -1), persistent=False)
        self.register_buffer("sin", torch.cat((angles.sin(), angles.sin()), -1), persistent=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x, self.cos, self.sin)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))


def llama_step(batch: int) -> tuple[Callable[[], None], nn.Module]:
    model = Llama().cuda()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    idx = torch.randint(0, 32000, (batch, 2048), device="cuda")
    return lm_step(model, optimizer, idx, idx), model


# ---------------------------------------------------------------------------- BERT-large, SQuAD

class BertLayer(nn.Module):
    """A post-LN BERT layer as NVIDIA's eager modeling.py writes it (DeepLearningExamples,
    PyTorch/LanguageModeling/BERT, used by run_squad.py): separate query, key and value
    projections; the attention scores scaled, masked, soft-maxed and dropped out by one kernel
    each; GELU after the first MLP matmul."""

    def __init__(self, d: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.out = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        dh = d // self.heads
        q = self.query(x).view(b, s, self.heads, dh).permute(0, 2, 1, 3)
        k = self.key(x).view(b, s, self.heads, dh).permute(0, 2, 3, 1)
        v = self.value(x).view(b, s, self.heads, dh).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k) / math.sqrt(dh) + mask
        probs = self.drop(F.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, d)
        x = self.ln1(x + self.drop(self.out(context)))
        return self.ln2(x + self.drop(self.fc2(F.gelu(self.fc1(x)))))


class BertQA(nn.Module):
    """BERT-Large with a span head, as the estimator's SQuAD cases: 24 x 1024, 16 heads, MLP
    4096, vocabulary 30,528 (NVIDIA pads 30,522 to a multiple of 8), 512 positions."""

    def __init__(self, layers: int = 24, d: int = 1024, heads: int = 16, ffn: int = 4096,
                 vocab: int = 30528, positions: int = 512, dropout: float = 0.1) -> None:
        super().__init__()
        self.word, self.position = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.token_type = nn.Embedding(2, d)
        self.ln, self.drop = nn.LayerNorm(d, eps=1e-12), nn.Dropout(dropout)
        self.layers = nn.ModuleList(BertLayer(d, heads, ffn, dropout) for _ in range(layers))
        self.span = nn.Linear(d, 2)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, attention: torch.Tensor,
                start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.ln(self.word(ids) + self.position(positions) + self.token_type(types)))
        # the additive mask in the parameters' dtype, as modeling.py makes it
        mask = (1.0 - attention[:, None, None, :].to(self.span.weight.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        start_logits, end_logits = self.span(x).float().unbind(-1)
        return (F.cross_entropy(start_logits, start) + F.cross_entropy(end_logits, end)) / 2


@torch.no_grad()
def bert_adam_step(params: list[nn.Parameter], state: dict, lr: float = 3e-5,
                   weight_decay: float = 0.01, max_grad_norm: float = 1.0) -> None:
    """BertAdam (pytorch-pretrained-bert's optimization.py, which NVIDIA's run_squad.py steps
    when not in fp16): a Python loop over the parameters, each clipped to its own norm, with
    one kernel per arithmetic operation."""
    for p in params:
        m, v = state.setdefault(p, (torch.zeros_like(p), torch.zeros_like(p)))
        torch.nn.utils.clip_grad_norm_(p, max_grad_norm)
        m.mul_(0.9).add_(p.grad, alpha=0.1)
        v.mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
        update = m / (v.sqrt() + 1e-6)
        update += weight_decay * p.data
        p.data.add_(-(lr * update))


def bert_squad_step(batch: int, mode: str, seq: int = 384) -> tuple[Callable[[], None], nn.Module]:
    """One SQuAD fine-tuning step of BERT-Large at sequence 384, as NVIDIA's run_squad.py runs it:
      fp16: apex amp O2 (an fp16 model, fp32 master weights; the fp16 gradients copied to fp32,
            unscaled and checked for overflow by multi-tensor kernels, the overflow flag read on
            the host every step) with FusedAdam, masters copied back to the model;
      fp16_no_optimizer: the same forward and backward only;
      tf32: an fp32 model with TF32 matmuls and BertAdam; tf32_adamw: PyTorch's AdamW instead;
      bf16_autocast: torch.autocast over an fp32 model with AdamW, for comparison.
    Every mode reads the loss on the host each step (run_squad.py logs `loss.item()`)."""
    torch.backends.cuda.matmul.allow_tf32 = mode.startswith("tf32")
    model = BertQA().cuda()
    vocab = model.word.num_embeddings
    ids = torch.randint(0, vocab, (batch, seq), device="cuda")
    types = torch.randint(0, 2, (batch, seq), device="cuda")
    attention = torch.ones(batch, seq, device="cuda", dtype=torch.long)
    start, end = (torch.randint(0, seq, (batch,), device="cuda") for _ in range(2))
    inputs = (ids, types, attention, start, end)

    if mode.startswith("fp16"):
        model.half()
        params = list(model.parameters())
        master = [p.detach().float() for p in params]
        master_grads = [torch.empty_like(m) for m in master]
        for m, g in zip(master, master_grads):
            m.grad = g
        optimizer = torch.optim.AdamW(master, lr=3e-5, fused=True)
        scale, found_inf = torch.full((1,), 2.0**15, device="cuda"), torch.zeros(1, device="cuda")
        inverse = 1 / scale

        def step() -> None:
            loss = model(*inputs)
            (loss * scale).backward()
            if mode == "fp16":
                with torch.no_grad():
                    torch._foreach_copy_(master_grads, [p.grad for p in params])
                    found_inf.zero_()
                    torch._amp_foreach_non_finite_check_and_unscale_(master_grads, found_inf, inverse)
                    if not found_inf.item():
                        optimizer.step()
                        torch._foreach_copy_(params, master)
            model.zero_grad(set_to_none=True)
            loss.item()

        return step, model

    if mode == "tf32":
        params, state = list(model.parameters()), {}

        def step() -> None:
            loss = model(*inputs)
            loss.backward()
            bert_adam_step(params, state)
            model.zero_grad(set_to_none=True)
            loss.item()

        return step, model

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16_autocast"):
            loss = model(*inputs)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()

    return step, model


BERT_MODES = ("fp16", "fp16_no_optimizer", "tf32", "tf32_adamw", "bf16_autocast")


def resnet50_step(batch: int) -> tuple[Callable[[], None], nn.Module]:
    import torchvision

    torch.backends.cudnn.benchmark = True
    model = torchvision.models.resnet50().cuda().to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    images = torch.randn(batch, 3, 224, 224, device="cuda").to(memory_format=torch.channels_last)
    labels = torch.randint(0, 1000, (batch,), device="cuda")

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, model


def release() -> None:
    import gc

    gc.collect()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


def measure_step(make: Callable, batch: int, **kwargs) -> dict:
    release()
    step, model = make(batch, **kwargs)
    seconds = timed(step, iters=5, repeats=5, warmup=3)
    row = {"batch": batch, **kwargs, "step_s": seconds, "samples_per_s": batch / seconds,
           "peak_allocated_GiB": torch.cuda.max_memory_allocated() / GiB,
           "peak_reserved_GiB": torch.cuda.max_memory_reserved() / GiB,
           "parameters": sum(p.numel() for p in model.parameters())}
    del step, model
    release()
    return row


def saved_activations(batch: int) -> dict:
    """Bytes that forward leaves allocated for backward (loss included), and the peak inside it."""
    import torchvision

    result = {}
    for name, build in (
        ("gpt2", lambda: GPT().cuda()),
        ("gpt2_vocab50304", lambda: GPT(vocab=50304).cuda()),
        ("resnet50", lambda: torchvision.models.resnet50().cuda()
         .to(memory_format=torch.channels_last)),
    ):
        release()
        model = build()
        if name.startswith("gpt2"):
            vocab = model.wte.num_embeddings
            idx = torch.randint(0, vocab, (batch, 1024), device="cuda")
            run = lambda: model(idx, idx)
        else:
            images = torch.randn(batch, 3, 224, 224, device="cuda")
            images = images.to(memory_format=torch.channels_last)
            labels = torch.randint(0, 1000, (batch,), device="cuda")
            run = lambda: F.cross_entropy(model(images), labels)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = run()
        torch.cuda.synchronize()
        saved = torch.cuda.memory_allocated() - before
        forward_peak = torch.cuda.max_memory_allocated() - before
        torch.cuda.reset_peak_memory_stats()
        loss.backward()
        torch.cuda.synchronize()
        backward_peak = torch.cuda.max_memory_allocated() - before
        result[name] = {"batch": batch, "saved_GiB": saved / GiB,
                        "forward_peak_GiB": forward_peak / GiB,
                        "backward_peak_GiB": backward_peak / GiB}
        del loss, model, run
    release()
    return result


KERNEL_KINDS = (  # first match wins; patterns over lower-cased CUDA kernel names
    ("attention", r"flash|fmha"),
    ("matmul/conv", r"gemm|xmma|cutlass|nvjet|conv|dgrad|wgrad|fprop"),
    ("batch norm", r"batch_norm|batchnorm"),
    ("layer norm", r"layer_norm|layernorm"),
    ("softmax/loss", r"softmax|nll_loss|cross_entropy"),
    ("optimizer", r"multi_tensor|adam|sgd"),
    ("dropout", r"dropout"),
    ("gelu", r"gelu"),
    ("copy/cast", r"copy|cast|fill"),
    ("elementwise", r"elementwise"),
    ("reduction", r"reduce"),
)


def kernel_summary(path: str, steps: int, top: int = 0) -> dict:
    """GPU time per step and kernel count by kind, and the `top` kernels by time, from a Chrome
    trace of `steps` steps."""
    import re

    with open(path) as handle:
        events = [e for e in json.load(handle)["traceEvents"] if e.get("cat") == "kernel"]
    kinds: dict[str, list[float]] = {}
    for event in events:
        name = event["name"].lower()
        kind = next((k for k, pattern in KERNEL_KINDS if re.search(pattern, name)), "other")
        entry = kinds.setdefault(kind, [0.0, 0])
        entry[0] += event["dur"] / 1e3 / steps
        entry[1] += 1 / steps
    names: dict[str, list[float]] = {}
    for event in events:
        entry = names.setdefault(event["name"][:160], [0.0, 0])
        entry[0] += event["dur"] / 1e3 / steps
        entry[1] += 1 / steps
    span = (max(e["ts"] + e["dur"] for e in events) - min(e["ts"] for e in events)) / 1e3
    return {"kernels_per_step": len(events) / steps,
            "busy_ms_per_step": sum(entry[0] for entry in kinds.values()),
            "span_ms_per_step_profiled": span / steps,
            "by_kind": {k: {"ms": v[0], "kernels": v[1]} for k, v in
                        sorted(kinds.items(), key=lambda item: -item[1][0])},
            "top_kernels": [{"name": k, "ms": v[0], "kernels": v[1]} for k, v in
                            sorted(names.items(), key=lambda item: -item[1][0])[:top]]}


def profiled(step: Callable[[], None], path: str, top: int = 0) -> dict:
    """Kernel summary (`kernel_summary`) of two steps of an already warmed-up `step`, traced to
    the Chrome trace `path`, which is removed after."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(2):
            step()
        torch.cuda.synchronize()
    prof.export_chrome_trace(path)
    summary = kernel_summary(path, steps=2, top=top)
    os.remove(path)
    return summary


def warmed_up(make: Callable, batch: int, **kwargs) -> Callable[[], None]:
    """A fresh training step, run three times."""
    release()
    step, _ = make(batch, **kwargs)
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    return step


def traces(directory: str) -> dict:
    """Chrome traces of two training steps each (kernel names and durations, for
    benchmarks/gpu_compare.py), and the device memory outside PyTorch's pool after training."""
    result = {}
    for name, make, batch, kwargs in (("gpt2_b16_vocab50304", gpt2_step, 16, {"vocab": 50304}),
                                      ("gpt2_b1", gpt2_step, 1, {}),
                                      ("resnet50_b256", resnet50_step, 256, {}),
                                      ("resnet50_b1", resnet50_step, 1, {})):
        step = warmed_up(make, batch, **kwargs)
        free, total = torch.cuda.mem_get_info()
        outside = (total - free - torch.cuda.memory_reserved()) / GiB
        result[name] = {"batch": batch, **kwargs, "outside_pool_GiB": outside,
                        **profiled(step, os.path.join(directory, f"trace_{name}.json"))}
        del step
    release()
    return result


def llama_trace(directory: str) -> dict:
    """Kernel time by kind for the LLaMA-style step at micro-batch 2."""
    step = warmed_up(llama_step, 2)
    summary = {"batch": 2, **profiled(step, os.path.join(directory, "trace_llama.json"))}
    del step
    release()
    return summary


def bert_traces(directory: str) -> dict:
    """Kernel time by kind, and the 40 costliest kernels, for the SQuAD steps at batch 32."""
    result = {}
    for mode in ("fp16", "tf32"):
        step = warmed_up(bert_squad_step, 32, mode=mode)
        result[mode] = {"batch": 32, **profiled(step, os.path.join(directory, f"trace_bert_{mode}.json"), top=40)}
        del step
    release()
    return result


def bert_saved_activations(batch: int) -> dict:
    """Bytes the SQuAD model's forward leaves allocated for backward, per precision."""
    result = {}
    for mode in ("fp16", "tf32", "bf16_autocast"):
        release()
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        model = BertQA().cuda()
        if mode == "fp16":
            model.half()
        seq = 384
        ids = torch.randint(0, model.word.num_embeddings, (batch, seq), device="cuda")
        inputs = (ids, torch.zeros_like(ids), torch.ones_like(ids),
                  torch.zeros(batch, dtype=torch.long, device="cuda"),
                  torch.zeros(batch, dtype=torch.long, device="cuda"))
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16_autocast"):
            loss = model(*inputs)
        torch.cuda.synchronize()
        saved = torch.cuda.memory_allocated() - before
        forward_peak = torch.cuda.max_memory_allocated() - before
        loss.backward()
        result[mode] = {"batch": batch, "seq": seq, "saved_GiB": saved / GiB,
                        "forward_peak_GiB": forward_peak / GiB}
        del loss, model
    release()
    return result


def fits(make: Callable, batch: int) -> bool:
    release()
    try:
        step, _ = make(batch)
        step()
        step()
        torch.cuda.synchronize()
        return True
    except torch.OutOfMemoryError:
        return False
    finally:
        step = None  # drop the closure (and its tensors) before emptying the cache
        release()


def largest_batch(make: Callable, low: int, high: int) -> int:
    """Largest batch in [low, high) whose training step runs; `low` must fit."""
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(make, middle) else (low, middle)
    return low


# ---------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--sections", default="all",
                        help="comma-separated subset of the sections (default: all)")
    args = parser.parse_args()

    props = torch.cuda.get_device_properties(0)
    free, total = torch.cuda.mem_get_info()
    result: dict = {
        "device": props.name, "multiprocessors": props.multi_processor_count,
        "memory_total_GiB": total / GiB,
        "context_GiB": (total - free) / GiB,  # driver context + loaded modules, before tensors
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    l2_bytes = getattr(props, "L2_cache_size", 50 * 2**20)

    wanted = None if args.sections == "all" else set(args.sections.split(","))

    def section(name: str, fn: Callable[[], object]) -> None:
        if wanted is not None and name not in wanted:
            return
        started = time.perf_counter()
        result[name] = fn()
        print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)

    section("launch_us", measure_launch_us)
    section("bandwidth", measure_bandwidth)
    section("gemm", lambda: measure_gemms(l2_bytes))
    section("alignment", lambda: measure_alignment(l2_bytes))
    section("lm_head", measure_lm_head)
    section("attention", measure_attention)
    section("conv", lambda: measure_convs(256))
    section("gpt2_steps", lambda: [measure_step(gpt2_step, b) for b in (8, 16, 32)])
    if not args.skip_compile:
        section("gpt2_compiled_steps", lambda: [measure_step(gpt2_step, 16, compiled=True)])
    section("resnet50_steps", lambda: [measure_step(resnet50_step, b) for b in (128, 256)])
    # Small batches, where the host issuing eager kernels can bind (DESIGN §7).
    section("resnet50_small_steps", lambda: [measure_step(resnet50_step, b) for b in (1, 8, 32)])
    section("gpt2_variant_steps", lambda: [
        measure_step(gpt2_step, 16, vocab=50304), measure_step(gpt2_step, 16, dropout=0.0),
        measure_step(gpt2_step, 16, vocab=50304, dropout=0.0),
        measure_step(gpt2_step, 16, vocab=50304, fused_adam=True), measure_step(gpt2_step, 1),
        measure_step(gpt2_step, 4)])
    section("saved_activations", lambda: saved_activations(8))
    section("traces", lambda: traces(os.path.dirname(os.path.abspath(args.out))))
    section("llama_steps", lambda: [measure_step(llama_step, b) for b in (1, 2, 4)])
    section("llama_traces", lambda: llama_trace(os.path.dirname(os.path.abspath(args.out))))
    section("llama_max_batch", lambda: largest_batch(llama_step, 1, 64))
    section("bert_squad_steps", lambda: [measure_step(bert_squad_step, 32, mode=m) for m in BERT_MODES])
    section("bert_traces", lambda: bert_traces(os.path.dirname(os.path.abspath(args.out))))
    section("bert_saved_activations", lambda: bert_saved_activations(8))
    section("gpt2_max_batch", lambda: largest_batch(gpt2_step, 8, 512))
    section("resnet50_max_batch", lambda: largest_batch(resnet50_step, 256, 4096))

    summarize(result)


def summarize(result: dict) -> None:
    print(f"\n{result['device']}  torch {result['torch']}  CUDA {result['cuda']}  "
          f"context {result['context_GiB']:.2f} GiB")
    if "launch_us" in result:
        print(f"eager op floor {result['launch_us']:.1f} us")
    if "bandwidth" in result:
        print(f"copy {result['bandwidth']['copy_GBps']:.0f} GB/s, "
              f"add {result['bandwidth']['add_GBps']:.0f} GB/s")
    for row in result.get("gemm", []) + result.get("alignment", []):
        print(f"gemm {row['precision']:5} {row['shape']:16} {row['TFLOPS']:7.1f} TFLOP/s")
    for row in result.get("lm_head", []):
        print(f"lm head vocab {row['vocab']}: fwd {row['fwd_TFLOPS']:.0f}, "
              f"fwd+bwd {row['fwd_bwd_TFLOPS']:.0f} TFLOP/s")
    for row in result.get("attention", []):
        print(f"attn {row.get('backend', 'flash_attention')} b{row['batch']} h{row['heads']} "
              f"s{row['seq']} d{row['head_dim']} "
              f"causal={row['causal']}: fwd {row['fwd_TFLOPS']:.0f}, "
              f"fwd+bwd {row['fwd_bwd_TFLOPS']:.0f} TFLOP/s")
    for row in result.get("conv", []):
        print(f"conv {row['layer']:14} fwd {row['fwd_TFLOPS']:6.1f} "
              f"fwd+bwd {row['fwd_bwd_TFLOPS']:6.1f} TFLOP/s")
    for key in ("gpt2_steps", "gpt2_compiled_steps", "gpt2_variant_steps", "resnet50_steps",
                "resnet50_small_steps", "llama_steps", "bert_squad_steps"):
        for row in result.get(key, []):
            extra = {k: v for k, v in row.items()
                     if k in ("vocab", "dropout", "compiled", "fused_adam", "mode")}
            print(f"{key} batch {row['batch']} {extra or ''}: {row['step_s'] * 1e3:.1f} ms, "
                  f"{row['samples_per_s']:.1f} samples/s, peak {row['peak_allocated_GiB']:.2f} "
                  f"GiB allocated / {row['peak_reserved_GiB']:.2f} reserved")
    for name, row in result.get("saved_activations", {}).items():
        print(f"saved by forward, {name} batch {row['batch']}: {row['saved_GiB']:.2f} GiB "
              f"(forward peak {row['forward_peak_GiB']:.2f}, backward peak "
              f"{row['backward_peak_GiB']:.2f})")
    for name, row in result.get("traces", {}).items():
        kinds = ", ".join(f"{k} {v['ms']:.1f}" for k, v in row["by_kind"].items())
        print(f"kernels {name}: {row['kernels_per_step']:.0f}/step, busy "
              f"{row['busy_ms_per_step']:.1f} ms/step: {kinds} (ms)")
    for name, row in result.get("bert_traces", {}).items():
        kinds = ", ".join(f"{k} {v['ms']:.1f}" for k, v in row["by_kind"].items())
        print(f"kernels bert {name}: {row['kernels_per_step']:.0f}/step, busy "
              f"{row['busy_ms_per_step']:.1f} ms/step, span {row['span_ms_per_step_profiled']:.1f}: "
              f"{kinds} (ms)")
        for kernel in row["top_kernels"][:15]:
            print(f"    {kernel['ms']:7.2f} ms {kernel['kernels']:5.0f}x  {kernel['name'][:110]}")
    for name, row in result.get("bert_saved_activations", {}).items():
        print(f"saved by forward, BERT-Large SQuAD {name} batch {row['batch']}: "
              f"{row['saved_GiB']:.2f} GiB (forward peak {row['forward_peak_GiB']:.2f})")
    if "llama_traces" in result:
        row = result["llama_traces"]
        kinds = ", ".join(f"{k} {v['ms']:.1f}" for k, v in row["by_kind"].items())
        print(f"kernels llama b2: {row['kernels_per_step']:.0f}/step, busy {row['busy_ms_per_step']:.1f} "
              f"ms/step: {kinds} (ms)")
    for key in ("gpt2_max_batch", "resnet50_max_batch", "llama_max_batch"):
        if key in result:
            print(f"largest batch {key.removesuffix('_max_batch')}: {result[key]}")


if __name__ == "__main__":
    main()
