"Training across processes: resuming after a hard kill, and two processes wanting the same run."
import json
import signal
import subprocess
import sys
import time

import torch

from conftest import ROOT, run_module
import ftmech.train as train
from ftmech.store import Store
from ftmech.profiles import profile_params


def cli_train(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_module("ftmech.train", *args, "--profile", "smoke", "--quiet", check=check)


def test_resume_after_hard_kill_matches_uninterrupted(tmp_path):
    "SIGKILL a real training process after its first checkpoint; the resumed run equals an uninterrupted one."
    args = ["pretrain", "--prior", "high", "--steps", "200", "--eval-every", "20", "--ckpt-every", "20"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "ftmech.train", *args, "--profile", "smoke", "--quiet",
                             "--store", str(killed)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    # state.json is written after the checkpoint directory is in place: wait for it, not for the directory
    while not list(killed.glob("*/state.json")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run_dir,) = [p for p in killed.iterdir() if (p / "config.json").exists()]  # run folders, not .locks/ or evals/
    state = json.loads((run_dir / "state.json").read_text())
    assert state["status"] == "running" and 0 < state["step"] < 200, state
    resumed = cli_train(*args, "--store", str(killed)).stdout.splitlines()[-1]
    fresh = cli_train(*args, "--store", str(tmp_path / "fresh")).stdout.splitlines()[-1]
    assert resumed == fresh == run_dir.name
    a, b = Store(killed).get(resumed), Store(tmp_path / "fresh").get(fresh)
    assert a.metrics() == b.metrics()
    wa, wb = a.load_model().state_dict(), b.load_model().state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_two_processes_training_one_run_train_it_once(tmp_path):
    "A second process waits for the run's lock, then loads the run the first one finished (it trains nothing)."
    p = profile_params("pretrain", "smoke", steps=60, eval_every=30, ckpt_every=30)
    setup = train.pretrain_setup(p, p["priors"][0])
    run = Store(tmp_path).run(train.pretrain_config(*setup))
    with run.exclusive():  # this process is "the first one"
        second = subprocess.Popen([sys.executable, "-m", "ftmech.train", "pretrain", "--profile", "smoke", "--quiet",
                                   "--store", str(tmp_path), "--steps", "60", "--eval-every", "30", "--ckpt-every",
                                   "30"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_line = second.stderr.readline()  # blocks until the second process reaches the lock
        assert "another process is training it; waiting until it stops" in first_line, first_line
        train.pretrain(Store(tmp_path), *setup, progress=False)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert out.splitlines()[-1] == run.id and run.complete
    assert [m["step"] for m in run.metrics()] == [0, 30, 60]  # trained once (a second finish would raise)
