"""Aggregate training throughput of an ensemble against the same models trained one at a time, in one process.

A grid of E fine-tuning runs (different C_Tr, learning rates and seeds) of one profile's pretraining model is
trained for `--steps` steps twice with ftmech's own loop pieces (stacked batches, `loss_fn`, `StackedOptimizer`,
per-member clipping): once as one ensemble of E, once as E ensembles of one, one after the other. Both include
generating the data; the fraction of wall time spent waiting for data is reported, and with `--workers N` the
batches are generated in N worker processes.

    python benchmarks/ensemble.py [--profile cpu] [--members 8] [--steps 20] [--device cpu] [--workers 0]
                                  [--compile] [--single-only]

The last line printed is one JSON object with model-steps/s of both, their ratio, the data-wait fractions and,
on CUDA, achieved TFLOP/s and the fraction of the card's bf16 dense peak.
"""
import argparse
import json
import time

import torch

from ftmech.model import Transformer, autocast, stack_models
from ftmech.optim import StackedOptimizer, TrainConfig, clip_grad_norms, lr_at
from ftmech.profiles import profile_params
from ftmech.tasks import DataConfig, finetune_config
from ftmech.train import StepBatches, data_spec, loss_fn, pretrain_setup

BF16_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16 tensor-core peaks (vendor specs)


def grid(profile, members):
    "Model config and E fine-tuning (data spec, TrainConfig) pairs on the profile's pretraining model."
    p = profile_params("pretrain", profile)
    model_cfg, data, _ = pretrain_setup(p, "high")
    c_trs, lrs = (0.0, 0.5, 0.8, 1.0), (1e-4, 1e-5)
    runs = []
    for m in range(members):
        ft = DataConfig(**{**data.__dict__, "families": ("counting",), "prior": {"b": 1.0},
                           "spurious": c_trs[m % 4], "spurious_operand": "a"})
        runs.append((data_spec(ft), TrainConfig(steps=10**6, lr=lrs[(m // 4) % 2], batch_size=96, loss="answer", seed=m)))
    return model_cfg, runs


def train_steps(model_cfg, runs, steps, device, workers, compile_):
    "Seconds for `steps` steps of the given runs as one ensemble, and seconds spent waiting for data."
    models = [Transformer(model_cfg, generator=torch.Generator().manual_seed(t.seed)) for _, t in runs]
    model = stack_models(models).to(device)
    tcs = [t for _, t in runs]
    opt = StackedOptimizer(model, tcs)
    forward = torch.compile(model) if compile_ else model
    ds = StepBatches([s for s, _ in runs], [t.seed for t in tcs], tcs[0].batch_size, steps + 2)
    loader = (iter(torch.utils.data.DataLoader(ds, batch_size=None, sampler=range(steps + 2), num_workers=workers,
                                               prefetch_factor=4, pin_memory=device.type == "cuda",
                                               multiprocessing_context="fork"))
              if workers else (ds[t] for t in range(steps + 2)))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def one(step):
        t0 = time.perf_counter()
        batch = {k: v.to(device, non_blocking=True) for k, v in next(loader).items()}
        waited = time.perf_counter() - t0
        with autocast(device):
            losses = loss_fn(forward, batch, "answer")
        opt.zero_grad()
        losses.sum().backward()
        clip_grad_norms([p for _, p in opt.named], [t.grad_clip for t in tcs])
        opt.step([lr_at(step, t) for t in tcs])
        return waited

    for s in range(2):  # warm-up (and compilation)
        one(s)
    sync()
    t0, waited = time.perf_counter(), 0.0
    for s in range(2, steps + 2):
        waited += one(s)
    sync()
    return time.perf_counter() - t0, waited


def flops_per_model_step(model_cfg, seq, batch):
    "Approximate training FLOPs of one model step: 6 x (non-embedding params) x tokens + attention."
    d, L = model_cfg.d_model, model_cfg.n_layers
    params = L * (4 * d * d + 2 * d * model_cfg.d_mlp[0]) + d * model_cfg.vocab_size
    return 6 * params * batch * seq + 12 * L * d * seq * seq * batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu", help="whose pretraining model to fine-tune (cpu or paper)")
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=0, help="data worker processes (0: generate in the main process)")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--single-only", action="store_true", help="time one model alone, no ensemble comparison")
    args = ap.parse_args()
    device = torch.device(args.device)
    model_cfg, runs = grid(args.profile, args.members)
    seq = DataConfig(**runs[0][0]["task"]).answer_pos
    out = {"benchmark": "ensemble", "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
           "profile": args.profile, "members": args.members, "steps": args.steps, "workers": args.workers,
           "compile": args.compile, "threads": torch.get_num_threads()}
    single_s, single_wait = 0.0, 0.0
    for run in (runs[:1] if args.single_only else runs):
        s, w = train_steps(model_cfg, [run], args.steps, device, args.workers, args.compile)
        single_s, single_wait = single_s + s, single_wait + w
    n_single = 1 if args.single_only else args.members
    out["sequential_model_steps_per_s"] = round(n_single * args.steps / single_s, 2)
    out["sequential_data_wait_fraction"] = round(single_wait / single_s, 3)
    print(f"one at a time: {out['sequential_model_steps_per_s']} model-steps/s "
          f"(data wait {out['sequential_data_wait_fraction']:.1%})", flush=True)
    flops = flops_per_model_step(model_cfg, seq, 96)
    if not args.single_only:
        ens_s, ens_wait = train_steps(model_cfg, runs, args.steps, device, args.workers, args.compile)
        out["ensemble_model_steps_per_s"] = round(args.members * args.steps / ens_s, 2)
        out["ensemble_data_wait_fraction"] = round(ens_wait / ens_s, 3)
        out["ratio"] = round(out["ensemble_model_steps_per_s"] / out["sequential_model_steps_per_s"], 3)
        print(f"ensemble of {args.members}: {out['ensemble_model_steps_per_s']} model-steps/s "
              f"(data wait {out['ensemble_data_wait_fraction']:.1%}), ratio {out['ratio']:.2f}x", flush=True)
    best = max(out.get("ensemble_model_steps_per_s", 0), out["sequential_model_steps_per_s"])
    out["achieved_tflops"] = round(best * flops / 1e12, 3)
    peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in out["device"]), None)
    out["fraction_of_bf16_peak"] = round(out["achieved_tflops"] / peak, 4) if peak else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
