"""Where one training step of the ensemble loop spends its time: forward + backward, per-member clipping, the
stacked optimiser, for an ensemble of 1 and of E, on one profile's pretraining model.

Each piece is timed with a device synchronisation before and after (so the pieces add up to a slower step than the
loop's, which overlaps them), as the median of `--steps` steps after two warm-ups; then torch.profiler lists the
operators with the most self CPU time over 10 steps of the ensemble of 1 (launch-bound work shows there).

    python benchmarks/step_profile.py [--profile paper] [--members 16] [--steps 20] [--device cuda]

The last line printed is one JSON object with the median milliseconds of each piece per ensemble size.
"""
import argparse
import json
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile

from ftmech.model import Transformer, autocast, stack_models
from ftmech.optim import StackedOptimizer, clip_grad_norms, lr_at
from ftmech.train import StepBatches, loss_fn

from ensemble import grid


def pieces(model_cfg, runs, steps, device):
    "Median milliseconds of each piece of a step for one ensemble of `runs`; and a function doing one whole step."
    model = stack_models([Transformer(model_cfg, generator=torch.Generator().manual_seed(t.seed)) for _, t in runs])
    model = model.to(device)
    tcs = [t for _, t in runs]
    opt = StackedOptimizer(model, tcs)
    ds = StepBatches([s for s, _ in runs], [t.seed for t in tcs], tcs[0].batch_size, 4)
    batches = [{k: v.to(device) for k, v in ds[i].items()} for i in range(4)]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = {"forward_backward": [], "clip": [], "optimizer": []}

    def one(step, timed=False):
        marks = [time.perf_counter()]
        with autocast(device):
            losses = loss_fn(model, batches[step % 4], "answer")
        opt.zero_grad()
        losses.sum().backward()
        sync(); marks.append(time.perf_counter())
        clip_grad_norms([p for _, p in opt.named], [t.grad_clip for t in tcs])
        sync(); marks.append(time.perf_counter())
        opt.step([lr_at(step, t) for t in tcs])
        sync(); marks.append(time.perf_counter())
        if timed:
            for k, a, b in zip(times, marks, marks[1:]):
                times[k].append(1e3 * (b - a))

    for s in range(2):
        one(s)
    for s in range(2, steps + 2):
        one(s, timed=True)
    return {k: round(statistics.median(v), 3) for k, v in times.items()}, one


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--members", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    device = torch.device(args.device)
    model_cfg, runs = grid(args.profile, args.members)
    out = {"benchmark": "step_profile", "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
           "profile": args.profile, "steps": args.steps, "ms": {}}
    for n in (1, args.members):
        out["ms"][n], one = pieces(model_cfg, runs[:n], args.steps, device)
        print(f"ensemble of {n}: {out['ms'][n]} ms", flush=True)
        if n == 1:
            acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
            with profile(activities=acts) as prof:
                for s in range(10):
                    one(s)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
