"The run store as a user meets it from the shell: damaged runs are named, never reported complete; ids are exact."
import json

import pytest
import torch

from conftest import run_module
from ftmech.model import ModelConfig, Transformer
from ftmech.store import Store, main as store_main

CFG = ModelConfig(vocab_size=11, n_ctx=8, d_model=16, n_layers=1, n_heads=2)


def finished(store: Store, name: str):
    "A complete toy run whose config is tagged `name`."
    run = store.run({"protocol": "toy", "name": name, "model": CFG.to_dict()}).create()
    model = Transformer(CFG, generator=torch.Generator().manual_seed(0))
    run.finish(model, [{"step": 0, "acc": 0.5}], 0)
    return run


@pytest.fixture
def damaged_store(tmp_path):
    "One good run and one of each kind of damage; returns (store folder, {kind: run id})."
    store = Store(tmp_path)
    runs = {k: finished(store, k) for k in ("good", "truncated", "missing", "nan", "edited", "garbage")}
    weights = runs["truncated"].path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    (runs["missing"].path / "model.safetensors").unlink()
    nan = {k: torch.full_like(v, float("nan")) for k, v in Transformer(CFG).state_dict().items()}
    from safetensors.torch import save_file
    save_file(nan, runs["nan"].path / "model.safetensors")
    record = json.loads((runs["edited"].path / "config.json").read_text())
    record["config"]["name"] = "changed"
    (runs["edited"].path / "config.json").write_text(json.dumps(record))
    (runs["garbage"].path / "config.json").write_text("\x00garbage")
    incomplete = store.run({"protocol": "toy", "name": "incomplete", "model": CFG.to_dict()}).create()
    return tmp_path, {**{k: r.id for k, r in runs.items()}, "incomplete": incomplete.id}


def test_list_names_every_damaged_run_and_lists_the_rest(damaged_store):
    root, ids = damaged_store
    res = run_module("ftmech.store", "list", "--store", str(root), check=False)
    assert res.returncode == 1 and "5 of 7 runs are damaged" in res.stderr
    lines = {line.split()[0]: line for line in res.stdout.splitlines()}
    assert set(lines) == set(ids.values())
    assert " complete " in lines[ids["good"]] and " incomplete " in lines[ids["incomplete"]]
    assert "before its first checkpoint" in lines[ids["incomplete"]]
    expected = {"truncated": "has 50 bytes", "missing": "model.safetensors is missing", "nan": "SHA-256",
                "edited": "does not hash to its folder name", "garbage": "not valid JSON"}
    for kind, fragment in expected.items():
        assert " damaged " in lines[ids[kind]] and fragment in lines[ids[kind]], lines[ids[kind]]


@pytest.mark.parametrize("kind", ["truncated", "missing", "nan", "edited", "garbage"])
def test_show_refuses_a_damaged_run(damaged_store, kind, capsys):
    root, ids = damaged_store
    assert store_main(["show", ids[kind], "--store", str(root)]) == 2  # in-process: an exception would fail the test
    err = capsys.readouterr().err
    assert err.startswith("error: ") and ids[kind] in err


def test_show_verifies_a_good_run(damaged_store, capsys):
    root, ids = damaged_store
    assert store_main(["show", ids["good"][:6], "--store", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "complete" and shown["final_metrics"] == {"step": 0, "acc": 0.5}


@pytest.mark.parametrize("pattern", ["9*", "[6]", "../other/abc", "?", "ABC"])
def test_run_ids_are_never_patterns_or_paths(damaged_store, pattern, capsys):
    root, _ = damaged_store
    assert store_main(["show", pattern, "--store", str(root)]) == 2
    assert "is not a run id" in capsys.readouterr().err


def test_store_that_is_a_file_or_missing_is_an_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert store_main(["list", "--store", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert store_main(["list", "--store", str(tmp_path / "typo")]) == 2
    assert "no run store at" in capsys.readouterr().err


def test_training_over_a_damaged_run_is_refused(tmp_path, capsys):
    "Re-running `train` on a run whose weights were replaced by NaNs of the same size says damaged, not complete."
    from ftmech.train import main as train_main
    args = ["pretrain", "--profile", "smoke", "--quiet", "--store", str(tmp_path),
            "--steps", "10", "--eval-every", "10", "--ckpt-every", "10"]
    assert train_main(args) == 0
    run_id = capsys.readouterr().out.splitlines()[-1]
    run = Store(tmp_path).get(run_id)
    nan = {k: torch.full_like(v, float("nan")) for k, v in run.load_model().state_dict().items()}
    from safetensors.torch import save_file
    save_file(nan, run.path / "model.safetensors")
    assert train_main(args) == 2
    err = capsys.readouterr().err
    assert f"run {run_id} is damaged" in err and "SHA-256" in err
