"""One command-line behaviour: bad input is one `error:` line and exit 2, a failure found is exit 1, Ctrl-C is one
line and exit 130, a closed pipe is quiet; never a traceback for a user error."""
import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from ftmech import book, grammar, store, tasks, train

SMOKE = ["--profile", "smoke", "--quiet", "--steps", "10", "--eval-every", "10", "--ckpt-every", "10"]


def call(main, argv, capsys):
    "(exit status, stderr) of `main(argv)` in this process: an exception escaping it fails the test."
    status = main(argv)
    err = capsys.readouterr().err
    return status, err


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    assert train.main(["pretrain", "--store", str(root), *SMOKE]) == 0
    (run,) = store.Store(root).runs()
    return root, run.id


@pytest.mark.parametrize("args, status, fragment", [
    (["pretrain", "--lr", "inf"], 2, "lr must be a number"),
    (["pretrain", "--lr", "nan"], 2, "lr must be a number"),
    (["pretrain", "--lr", "1e999"], 2, "lr must be a finite number"),
    (["pretrain", "--families", "counting"], 2, "families must be a list"),
    (["pretrain", "--seed", "-1"], 2, "seed must be an integer >= 0, got -1"),
    (["pretrain", "--stpes", "3"], 2, "unknown parameters ['stpes']"),
    (["pretrain", "--lr"], 2, "--name value pairs"),
    (["finetune", "--c-tr", "high"], 2, "c_tr must be a number"),
    (["finetune", "--operand", "z"], 2, "operand must be one of ['a', 'b', 'c'], got 'z'"),
    (["finetune"], 2, "finetune needs --parent RUN"),
    (["reft"], 2, "reft needs a fine-tuned parent"),
    (["finetune", "--parent", "9*"], 2, "'9*' is not a run id"),
    (["finetune", "--lr", "1e12", "--steps", "30"], 1, "loss is nan"),
])
def test_train_errors(pretrained, capsys, args, status, fragment):
    root, pt = pretrained
    argv = [*args[:1], "--store", str(root), *SMOKE, *args[1:]]
    if args[0] != "pretrain" and "--parent" not in args and args != ["finetune"]:
        argv += ["--parent", pt]
    got, err = call(train.main, argv, capsys)
    assert got == status and err.startswith("error: ") and fragment in err, err
    assert err.count("\n") == 1  # one line


def test_train_store_is_a_file_and_damaged_metrics(pretrained, tmp_path, capsys):
    root, pt = pretrained
    (tmp_path / "f").write_text("x")
    assert call(train.main, ["pretrain", "--store", str(tmp_path / "f"), *SMOKE], capsys)[0] == 2
    metrics = root / pt / "metrics.jsonl"
    good = metrics.read_bytes()
    metrics.write_bytes(b"{garbage" + good[8:])  # same size: only the recorded SHA-256 can tell
    try:
        status, err = call(train.main, ["pretrain", "--store", str(root), *SMOKE], capsys)
        assert status == 2 and f"run {pt} is damaged" in err and "metrics.jsonl" in err
    finally:
        metrics.write_bytes(good)


def test_train_help_lists_the_overrides(capsys):
    with pytest.raises(SystemExit) as e:
        train.main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "--c-tr FLOAT" in out and "--families TUPLE" in out and "--debug" in out


def test_debug_shows_the_traceback(pretrained):
    root, _ = pretrained
    with pytest.raises(ValueError, match="lr must be a number"):
        train.main(["pretrain", "--store", str(root), *SMOKE, "--lr", "inf", "--debug"])


@pytest.mark.parametrize("args, fragment", [
    (["-p", "bogus", "1"], "unknown -p parameter(s) ['bogus']"),
    (["-p", "profile", "x"], "give the profile with --profile"),
    (["-p", "window", "wide"], "window must be an integer"),
    (["-p", "overrides", "{'windows': 3}"], "unknown parameters ['windows']"),
    (["--timeout", "0"], "--timeout must be at least 1 second"),
    (["--profile", "gpu"], "unknown profile 'gpu'"),
    (["--only", "nosuch"], "unknown chapter 'nosuch'"),
])
def test_book_errors_before_any_chapter_runs(capsys, args, fragment):
    status, err = call(book.main, ["--root", str(ROOT), "--profile", "smoke", "--no-html", *args], capsys)
    assert status == 2 and err.startswith("error: ") and fragment in err and err.count("\n") == 1, err


def test_book_out_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    status, err = call(book.main, ["--root", str(ROOT), "--only", "data", "--out", str(tmp_path / "f")], capsys)
    assert status == 2 and "is a file" in err


@pytest.mark.parametrize("main, args, fragment", [
    (grammar.main, ["sample", "--n", "2", "--seed", "-1"], "--seed must be >= 0"),
    (grammar.main, ["sample", "--n", "x", "--seed", "0"], "invalid int value: 'x'"),
    (tasks.main, ["sample", "--task", "counting", "--operand", "a", "--n", "1", "--seed", "-3"], "--seed must be >= 0"),
    (tasks.main, ["sample"], "required"),
    (store.main, ["list"], "required: --store"),
])
def test_other_tools_same_convention(capsys, main, args, fragment):
    status, err = call(main, args, capsys)
    assert status == 2 and err.startswith("error: ") and fragment in err, err


def test_closed_pipe_is_quiet():
    proc = subprocess.Popen([sys.executable, "-m", "ftmech.tasks", "sample", "--task", "counting", "--operand", "a",
                             "--n", "20000", "--seed", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    json.loads(proc.stdout.readline())  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_ctrl_c_during_training_is_one_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "ftmech.train", "pretrain", "--store", str(tmp_path), "--profile",
                             "smoke", "--quiet", "--steps", "100000", "--eval-every", "50", "--ckpt-every", "50"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal: a test
    # run in the background has SIGINT ignored, the child would inherit that and never stop (measured: it hangs)
    deadline = time.time() + 120
    while not list(tmp_path.glob("*/state.json")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # never leave a training process behind when the test fails
    assert proc.returncode == 130, err
    assert err.startswith("error: interrupted (Ctrl-C); run the same command again") and err.count("\n") == 1, err
    (run,) = store.Store(tmp_path).runs()
    assert run.status == "interrupted" and run.step >= 50


@pytest.mark.parametrize("main, args, fragment", [
    (grammar.main, ["sample", "--n", "2", "--seed", "0", "--window", "400"], "P(length >= 400) = 1.6e-13"),
    (tasks.main, ["sample", "--task", "counting", "--operand", "b", "--n", "2", "--seed", "0", "--window", "400"],
     "windows up to 383 letters"),
    (tasks.main, ["sample", "--task", "index", "--operand", "b", "--c-tr", "1", "--window", "6", "--n", "2", "--seed", "0"],
     "use a longer window"),
])
def test_windows_that_cannot_be_drawn_fail_at_once(capsys, main, args, fragment):
    "Windows almost no derivation reaches (the sampler redrew for ever, 14 GB) and correlations that cannot fit."
    t0 = time.perf_counter()
    status, err = call(main, args, capsys)
    assert status == 2 and fragment in err and time.perf_counter() - t0 < 30, err


def test_training_on_an_impossible_window_creates_no_run(tmp_path, capsys):
    status, err = call(train.main, ["pretrain", "--store", str(tmp_path / "s"), *SMOKE, "--window", "400"], capsys)
    assert status == 2 and "almost every derivation" in err and not (tmp_path / "s").exists()


def test_book_cell_timeout_is_a_one_line_failure(tmp_path, capsys):
    status, err = call(book.main, ["--root", str(ROOT), "--profile", "smoke", "--only", "data", "--no-html",
                                   "--timeout", "1", "-p", "store_dir", str(tmp_path / "runs")], capsys)
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert status == 1 and len(lines) == 1 and "CellTimeoutError" in lines[0] and "Traceback" not in err, err
