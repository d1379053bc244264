"""Overhead of the Ray executor against the default executors on a smoke grid: the same fine-tuning runs trained
from an empty store, locally in one process, in 2 spawned processes, and as Ray tasks on a local Ray instance with
2 CPUs (started once, before timing). Prints one JSON object as its last line: seconds per executor (median of
`repeats`) and the ratios ray / processes and ray / local."""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import ray

from ftmech.pcfg import Cell, finetuned, pretrain_configs
from ftmech.profiles import profile_params
from ftmech.store import Store
from ftmech.train import execute_many
from ftmech.utils import torch_threads


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    PT = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=20, eval_size=32)
    P = dict(profile_params("pcfg", "smoke"), ft_steps=40)
    cells = [Cell("counting", "low", c, lr, s) for c in (0.0, 1.0) for lr in ("eta_M", "eta_S") for s in (0, 1)]
    root = tempfile.mkdtemp()
    parent_store = Store(f"{root}/parent")
    with torch_threads(1):
        (parent,) = execute_many(parent_store, [(c, None) for c in pretrain_configs(PT, ["low"]).values()], progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")

    def grid(executor: str, processes: int) -> float:
        "Seconds to fine-tune every cell from an empty store (the parent copied in)."
        store_root = f"{root}/{executor}"
        shutil.rmtree(store_root, ignore_errors=True)
        shutil.copytree(parent_store.root, store_root)
        store = Store(store_root)
        P_ = dict(P, processes=processes)
        t0 = time.perf_counter()
        with torch_threads(1):
            os.environ["FTMECH_EXECUTOR"] = executor
            finetuned(store, {"low": store.get(parent.id)}, P_, cells, progress=False)
        return time.perf_counter() - t0


    times = {name: [] for name in ("local", "processes", "ray")}
    grid("processes", 2), grid("ray", 2)  # warm-up: the kept process pool and the Ray workers start once
    for _ in range(repeats):
        for name, processes in (("local", 1), ("processes", 2), ("ray", 2)):
            times[name].append(grid(name, processes))
    ray.shutdown()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({"benchmark": "ray_executor", "runs": len(cells), "ft_steps": P["ft_steps"], "repeats": repeats,
                      "seconds": med, "ray_over_processes": med["ray"] / med["processes"], "ray_over_local": med["ray"] / med["local"]}))


if __name__ == "__main__":  # spawned workers import this file: only the main process runs the benchmark
    main()
