"""Timing shared by the benchmarks (run as `python benchmarks/<name>.py`, so this folder is on the import path)."""
import statistics
import time


def median_seconds(fn, repeats):
    "Median wall time of fn() over `repeats` calls after one warm-up call."
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
