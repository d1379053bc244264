"""The Ray executor, on a real local Ray instance (2 CPUs) started and stopped here: the same runs and bit-identical
metrics as local execution, and a run whose worker is killed after its first checkpoint resumes and ends identical."""
import os
import signal
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'ftmech[ray]')")

from ftmech.pcfg import Cell, finetuned, pretrain_configs
from ftmech.profiles import profile_params
from ftmech.store import Store
from ftmech.train import execute_many
from ftmech.utils import torch_threads

RAY_PROCESSES = ("raylet", "gcs_server", "ray::")


def _ray_pids() -> list[int]:
    "Processes of a Ray instance on this machine (raylet, GCS server, workers), by their command lines."
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(p in cmd for p in RAY_PROCESSES) and int(d.name) != os.getpid():
                pids.append(int(d.name))
    return pids


@pytest.fixture(scope="module")
def local_ray():
    if _ray_pids():
        pytest.skip("another Ray instance runs on this machine")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()
    deadline = time.time() + 30
    while _ray_pids() and time.time() < deadline:
        time.sleep(0.5)
    assert not _ray_pids(), f"Ray left processes behind: {_ray_pids()}"


def _small_grid():
    PT = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=20, eval_size=32)
    P = profile_params("pcfg", "smoke")
    cells = [Cell("counting", "low", c, lr, 0) for c in (0.0, 1.0) for lr in ("eta_M", "eta_S")]
    return PT, P, cells


def test_ray_executor_trains_the_same_runs_as_local(local_ray, tmp_path, monkeypatch):
    PT, P, cells = _small_grid()
    results = {}
    for executor in ("local", "ray"):
        store = Store(tmp_path / executor)
        monkeypatch.setenv("FTMECH_EXECUTOR", executor)  # as `python -m ftmech.book --executor` sets it
        with torch_threads(1):  # Ray tasks run with one thread: so does the local reference
            pt = execute_many(store, [(c, None) for c in pretrain_configs(PT, ["low"]).values()], progress=False)[0]
            fts = finetuned(store, {"low": pt}, P, cells, progress=False)
        results[executor] = {r.id: r.metrics() for r in [pt, *fts.values()]}
    assert list(results["ray"]) == list(results["local"]) and len(results["ray"]) == 1 + len(cells)
    assert results["ray"] == results["local"]  # every logged metric, bit for bit


def test_a_killed_ray_worker_is_retried_and_its_run_resumes(local_ray, tmp_path):
    PT = profile_params("pretrain", "smoke", steps=160, eval_every=20, ckpt_every=20, eval_size=32)
    (config,) = pretrain_configs(PT, ["low"]).values()
    with torch_threads(1):
        reference = execute_many(Store(tmp_path / "local"), [(config, None)], progress=False, executor="local")[0]
    store = Store(tmp_path / "ray")
    run = store.run(config, None)
    done = {}
    worker = threading.Thread(target=lambda: done.update(runs=execute_many(store, [(config, None), (config, None)],
                                                                              progress=False, executor="ray")))
    # two copies of one item: one group, one task; `done` gets the runs when the retried task has finished
    worker.start()
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and worker.is_alive():
        if run.step >= 20 and not run.complete:  # after the first checkpoint, before the end
            tasks = [p for p in _ray_pids() if b"ray::_train_group_by_ids" in Path(f"/proc/{p}/cmdline").read_bytes()]
            if tasks:
                killed = tasks[0]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    worker.join(timeout=300)
    assert killed is not None, "the run finished before its worker could be killed: make it longer"
    assert not worker.is_alive() and done["runs"][0].id == reference.id
    resumes = [e for e in store.get(reference.id).events() if e["event"] == "resumed"]
    assert resumes and resumes[0]["step"] >= 20 and resumes[0]["pid"] != killed, resumes  # another worker went on
    assert store.get(reference.id).metrics() == reference.metrics()  # as if it had never been interrupted
