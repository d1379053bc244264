"""Linear probes trained at once (`train_probes`, one stacked optimiser) against the same probes one at a time
(`train_probe` per feature set), in one process.

The workload is one `probe_layers` call of the `cpu` profile: 2 x 4 feature sets (the residual stream before each of
3 blocks and after the last, of a model and of its control), d_model 64, 2,000 training and 500 test samples,
1,000 steps of batch 256. Both ways draw the same initial weights and batches, so they return the same accuracies.

    python benchmarks/probes.py [--probes 8] [--steps 1000] [--repeats 3] [--threads 1]

The last line printed is one JSON object with the median seconds of both and their ratio.
"""
import argparse
import json

import torch

from ftmech.probe import train_probe, train_probes
from timing import median_seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the book's analysis workers use 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    n_train, n_test, d, classes = 2000, 500, 64, 12
    x = torch.randn(args.probes, n_train + n_test, d, generator=g)  # [probes, samples, d]
    y = (x[0] @ torch.randn(d, classes, generator=g)).argmax(-1)  # decodable from the first feature set
    seed = lambda: torch.Generator().manual_seed(0)
    stacked = lambda: train_probes(x[:, :n_train], y[:n_train], x[:, n_train:], y[n_train:], classes, args.steps,
                                   1e-3, generator=seed())[0]
    separate = lambda: [train_probe(f[:n_train], y[:n_train], f[n_train:], y[n_train:], classes, args.steps, 1e-3,
                                    generator=seed())[0] for f in x]
    a, b = stacked(), separate()
    max_diff = max(abs(u - v) for u, v in zip(a, b))
    t_stacked, t_separate = median_seconds(stacked, args.repeats), median_seconds(separate, args.repeats)
    print(f"{args.probes} probes x {args.steps} steps: separately {t_separate:.2f} s, at once {t_stacked:.2f} s; "
          f"largest accuracy difference {max_diff:.4f}")
    print(json.dumps({"benchmark": "probes", "probes": args.probes, "steps": args.steps, "threads": args.threads,
                      "repeats": args.repeats, "separate_s": round(t_separate, 3), "stacked_s": round(t_stacked, 3),
                      "speedup": round(t_separate / t_stacked, 2), "max_accuracy_difference": max_diff}))


if __name__ == "__main__":
    main()
