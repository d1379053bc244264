"""Throughput of the vectorised PCFG window sampler against the recursive reference, in one process.

Both produce 250-letter windows with the same policy (derivations shorter than the window are redrawn, the start
is uniform). Prints a table, then, as its last line, one JSON object with the medians and their ratio.

    python benchmarks/sampler.py [--window 250] [--batch 8192] [--repeats 7]
"""
import argparse
import json
import statistics
import time

import numpy as np

from ftmech.grammar import paper_pcfg, sample_reference, sample_windows


def reference_windows(g, n, window, rng):
    "Windows from the recursive reference sampler: redraw short derivations, cut at a uniform start."
    out = []
    while len(out) < n:
        s = sample_reference(g, 1, rng)[0]
        if len(s) >= window:
            start = int(rng.integers(0, len(s) - window + 1))
            out.append(s[start:start + window])
    return out


def rate(fn, n, repeats):
    "Median windows per second over `repeats` timed calls of fn() producing `n` windows."
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=int, default=250)
    ap.add_argument("--batch", type=int, default=8192, help="windows per vectorised call")
    ap.add_argument("--ref-n", type=int, default=1000, help="windows per reference call")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    g, rng = paper_pcfg(), np.random.default_rng(0)
    fast, fast_t = rate(lambda: sample_windows(g, args.batch, args.window, rng), args.batch, args.repeats)
    ref, ref_t = rate(lambda: reference_windows(g, args.ref_n, args.window, rng), args.ref_n, args.repeats)
    print(f"vectorised: {fast:10,.0f} windows/s  (batch {args.batch}, median of {args.repeats})")
    print(f"reference : {ref:10,.0f} windows/s  ({args.ref_n} per call, median of {args.repeats})")
    print(f"ratio     : {fast / ref:10.1f}x")
    print(json.dumps({"benchmark": "pcfg_window_sampler", "window": args.window, "batch": args.batch,
                      "repeats": args.repeats, "vectorised_windows_per_s": round(fast),
                      "reference_windows_per_s": round(ref), "ratio": round(fast / ref, 2),
                      "target_windows_per_s": 50000, "target_ratio": 10,
                      "meets_targets": bool(fast >= 50000 and fast / ref >= 10)}))


if __name__ == "__main__":
    main()
