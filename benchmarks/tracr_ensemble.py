"""Would training same-shaped Tracr runs as one ensemble pay on the CPU? One training step of E compiled Counters
(each its own noise draw and batch) as E separate models against one stacked ensemble of E, alternating in one
process (SGD with momentum, the answer-position loss, one thread: how the Tracr chapters train).

    python benchmarks/tracr_ensemble.py [--profile cpu] [--members 4] [--rounds 8] [--steps 3]

The compiled models are tiny but their steps are compute-bound (a batch of 96 sequences of 21 positions through
76-wide blocks), so stacking saves only Python and dispatch overhead. The last line printed is one JSON object with
the median milliseconds per step of all E models both ways and their ratio (separate / ensemble).
"""
import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from ftmech.model import stack_models
from ftmech.profiles import profile_params
from ftmech.tracr import ANSWER_POS, compile_cfg, explicit_attention, sample, start_model, task_of


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    p = profile_params("tracr", args.profile)
    task, k = task_of(p, "counter"), args.members
    singles = [explicit_attention(start_model(task, compile_cfg(p, s))) for s in range(k)]
    ens = explicit_attention(stack_models(singles))
    opts = [torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9) for m in singles]
    ens_opt = torch.optim.SGD(ens.parameters(), lr=1e-3, momentum=0.9)
    batches = [sample(task, p["batch_size"], 0.0, np.random.default_rng(s)) for s in range(k)]
    tokens = torch.stack([b["tokens"] for b in batches])  # [k, batch, 1 + n]
    labels = torch.stack([b["ft"] for b in batches])  # [k, batch]

    def separate():
        for m, opt, b in zip(singles, opts, batches):
            loss = F.cross_entropy(m(b["tokens"])[:, ANSWER_POS], b["ft"])
            opt.zero_grad(); loss.backward(); opt.step()

    def stacked():
        logits = ens(tokens)[:, :, ANSWER_POS]  # [k, batch, vocab]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)) * k  # each member's mean
        ens_opt.zero_grad(); loss.backward(); ens_opt.step()

    times = {"separate": [], "ensemble": []}
    for _ in range(args.rounds):  # alternate, so load on the machine hits both alike
        for name, fn in (("separate", separate), ("ensemble", stacked)):
            fn()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                fn()
            times[name].append((time.perf_counter() - t0) / args.steps)
    ratio = statistics.median(a / b for a, b in zip(times["separate"], times["ensemble"]))
    print(json.dumps({"benchmark": "tracr_ensemble", "profile": args.profile, "members": k,
                      "separate_ms_per_step": round(statistics.median(times["separate"]) * 1000, 2),
                      "ensemble_ms_per_step": round(statistics.median(times["ensemble"]) * 1000, 2),
                      "separate_over_ensemble": round(ratio, 3)}))


if __name__ == "__main__":
    main()
