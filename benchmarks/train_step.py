"""Training throughput of ftmech's Transformer against a straightforward minGPT-style baseline, in one process.

The baseline below is what one writes first: nn.Linear q/k/v projections, explicit softmax attention with a mask,
nn.LayerNorm, nn.GELU, fp32, AdamW. Both models have the same shapes and train on the same batches of PCFG
sequences with the next-token loss. For each model size we time `--steps` optimiser steps after `--warmup`
untimed ones, alternate the two models to share the machine's noise, and report medians.

    python benchmarks/train_step.py [--sizes paper cpu] [--batch 96] [--steps 5] [--device cpu] [--compile]

The last line printed is one JSON object with steps/s, tokens/s and the ratio ftmech / baseline per size.
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ftmech.model import Transformer, autocast, mingpt_config
from ftmech.profiles import profile_params
from ftmech.tasks import DataConfig, TaskDataset
from ftmech.train import loss_fn


class BaselineBlock(nn.Module):
    def __init__(self, d, n_heads, n_ctx):
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.register_buffer("mask", torch.tril(torch.ones(n_ctx, n_ctx, dtype=torch.bool)))

    def attn(self, x):
        B, T, D = x.shape
        split = lambda t: t.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2)  # [B, h, T, d]
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])  # [B, h, T, T]
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(-1)
        return self.o((att @ v).transpose(1, 2).reshape(B, T, D))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Baseline(nn.Module):
    "minGPT-style decoder: learned positions, LayerNorm, GELU MLP 4x, explicit attention, fp32."
    def __init__(self, vocab, n_ctx, d, n_layers, n_heads):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(n_ctx, d)
        self.blocks = nn.Sequential(*(BaselineBlock(d, n_heads, n_ctx) for _ in range(n_layers)))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))
        return self.head(self.ln(self.blocks(x)))


def baseline_step(model, opt, tokens):
    logits = model(tokens[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten(), ignore_index=0)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def ftmech_step(model, opt, batch, device):
    with autocast(device):
        loss = loss_fn(model, batch, "lm")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def sizes(name):
    "(d_model, n_layers, n_heads, window, families, o_prime) of a profile's pretraining model."
    p = profile_params("pretrain", name)
    return p["d_model"], p["n_layers"], p["n_heads"], p["window"], tuple(p["families"]), p["o_prime"]


def bench_size(name, batch, steps, warmup, device, compile_):
    d, L, H, window, families, o_prime = sizes(name)
    data = DataConfig(window=window, families=families, o_prime=o_prime)
    cfg = mingpt_config(len(data.vocab), data.seq_len, d, L, H)
    batches = [{k: v.to(device) for k, v in b.items()}
               for b in (TaskDataset(data, seed=0).batch(np.arange(i * batch, (i + 1) * batch)) for i in range(4))]
    ours = Transformer(cfg, generator=torch.Generator().manual_seed(0)).to(device)
    torch.manual_seed(0)  # the baseline initialises from the global generator, as plain PyTorch code does
    base = Baseline(cfg.vocab_size, cfg.n_ctx, d, L, H).to(device)
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-4)
    opt_base = torch.optim.AdamW(base.parameters(), lr=1e-4)
    step_ours = lambda b: ftmech_step(ours, opt_ours, b, device)
    if compile_:
        compiled = torch.compile(ours)
        step_ours = lambda b: ftmech_step(compiled, opt_ours, b, device)
    runners = {"ftmech": step_ours, "baseline": lambda b: baseline_step(base, opt_base, b["tokens"])}
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for fn in runners.values():
        for i in range(warmup):
            fn(batches[i % 4])
    sync()
    times = {k: [] for k in runners}
    for i in range(steps):
        for name_, fn in runners.items():  # alternate, so both see the same background load
            t0 = time.perf_counter()
            fn(batches[i % 4])
            sync()
            times[name_].append(time.perf_counter() - t0)
    tokens = batch * (data.seq_len - 1)
    out = {"size": name, "d_model": d, "n_layers": L, "n_heads": H, "seq_len": data.seq_len, "batch": batch,
           "params": sum(p.numel() for p in ours.parameters())}
    for k, ts in times.items():
        med = statistics.median(ts)
        out[f"{k}_steps_per_s"] = round(1 / med, 3)
        out[f"{k}_tokens_per_s"] = round(tokens / med)
    out["ratio"] = round(out["ftmech_steps_per_s"] / out["baseline_steps_per_s"], 3)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["paper", "cpu"], help="profiles whose pretraining model to time")
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per model")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps per model")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true", help="torch.compile the ftmech model")
    args = ap.parse_args()
    device = torch.device(args.device)
    results = []
    for name in args.sizes:
        r = bench_size(name, args.batch, args.steps, args.warmup, device, args.compile)
        results.append(r)
        print(f"{name:6s} ({r['params']:,} params, seq {r['seq_len']}, batch {r['batch']}): "
              f"ftmech {r['ftmech_steps_per_s']:.3f} steps/s ({r['ftmech_tokens_per_s']:,} tok/s), "
              f"baseline {r['baseline_steps_per_s']:.3f} steps/s ({r['baseline_tokens_per_s']:,} tok/s), "
              f"ratio {r['ratio']:.2f}x", flush=True)
    print(json.dumps({"benchmark": "train_step", "device": str(device), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "compile": args.compile, "steps": args.steps,
                      "results": results, "target_ratio_paper": 1.5}))


if __name__ == "__main__":
    main()
