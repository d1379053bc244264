"Training from the shell and in-process: run ids, divergence, corrupt parents (across processes: test_train_processes)."
import json
import subprocess

import pytest
import torch

from conftest import run_module
import ftmech.train as train
from ftmech.store import Store, StoreError
from ftmech.profiles import profile_params

SMALL = ["--steps", "40", "--eval-every", "20", "--ckpt-every", "20"]


def cli_train(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_module("ftmech.train", *args, "--profile", "smoke", "--quiet", check=check)


def test_cli_pretrain_finetune_reft_and_store_inspection(tmp_path):
    store = str(tmp_path / "runs")
    pt = cli_train("pretrain", "--store", store, "--prior", "low", *SMALL).stdout.splitlines()[-1]
    assert len(pt) == 16 and (tmp_path / "runs" / pt / "model.safetensors").exists()
    again = cli_train("pretrain", "--store", store, "--prior", "low", *SMALL).stdout.splitlines()[-1]
    assert again == pt  # loaded from the store, not retrained
    ft = cli_train("finetune", "--store", store, "--parent", pt[:8], "--c-tr", "1.0", *SMALL).stdout.splitlines()[-1]
    re = cli_train("reft", "--store", store, "--parent", ft, "--lr", "1e-6", *SMALL).stdout.splitlines()[-1]
    shown = json.loads(run_module("ftmech.store", "show", re, "--store", store).stdout)
    assert shown["parent"] == ft and shown["status"] == "complete" and shown["config"]["protocol"] == "reft"
    assert shown["config"]["train"]["lr"] == 1e-6 and {"acc_pt_cte0", "acc_pt_cte1"} <= set(shown["final_metrics"])
    listing = run_module("ftmech.store", "list", "--store", store).stdout
    assert all(r in listing for r in (pt, ft, re)) and listing.count("complete") == 3
    ft_cfg = json.loads(run_module("ftmech.store", "show", ft, "--store", store).stdout)["config"]
    assert ft_cfg["data"]["task"]["spurious"] == 1.0 and ft_cfg["data"]["task"]["families"] == ["counting"]


def test_cli_errors_name_the_problem(tmp_path, capsys):
    "The same command line in this process (a fresh interpreter per case costs ~4 s): status 2 and the problem named."
    store = str(tmp_path / "runs")
    def cli(*args):
        status = train.main([*args, "--profile", "smoke", "--quiet"])
        out, err = capsys.readouterr()
        return status, out.splitlines()[-1] if out else "", err
    _, pt, _ = cli("pretrain", "--store", store, *SMALL)
    _, ft, _ = cli("finetune", "--store", store, "--parent", pt, *SMALL)
    status, _, err = cli("reft", "--store", store, "--parent", ft, "--lr", "1e-3", *SMALL)
    assert status == 2 and "below the fine-tuning one" in err
    status, _, err = cli("pretrain", "--store", store, "--stpes", "3")
    assert status == 2 and "['stpes']" in err
    status, _, err = cli("finetune", "--store", store)
    assert status == 2 and "--parent" in err
    status, _, err = cli("finetune", "--store", store, "--parent", "0000")
    assert status == 2 and "no run '0000'" in err


def test_nan_loss_stops_and_keeps_last_checkpoint(tmp_path, monkeypatch):
    p = profile_params("pretrain", "smoke", steps=40, eval_every=10, ckpt_every=10)
    calls = {"n": 0}
    real = train.loss_fn

    def poisoned(*a, **k):
        calls["n"] += 1
        loss = real(*a, **k)
        return loss * float("nan") if calls["n"] == 25 else loss

    monkeypatch.setattr(train, "loss_fn", poisoned)
    store = Store(tmp_path)
    with pytest.raises(train.TrainingDiverged, match=r"loss is nan at step 24; .*checkpoint \(step 20\) is kept"):
        train.pretrain(store, *train.pretrain_setup(p, "high"), progress=False)
    (run,) = store.runs()
    assert run.status == "interrupted" and (run.path / "ckpt-000000020" / "model.safetensors").exists()
    monkeypatch.setattr(train, "loss_fn", real)
    done = train.pretrain(store, *train.pretrain_setup(p, "high"), progress=False)  # resumes from step 20
    assert done.id == run.id and done.complete and [m["step"] for m in done.metrics()] == [0, 10, 20, 30, 40]


def test_corrupt_parent_is_an_error_not_a_retrain(tmp_path):
    store = Store(tmp_path)
    p = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=10)
    pt = train.pretrain(store, *train.pretrain_setup(p, "high"), progress=False)
    (pt.path / "model.safetensors").write_bytes(b"\x00" * 64)
    f = profile_params("finetune", "smoke", steps=20, eval_every=10, ckpt_every=10)
    with pytest.raises(StoreError, match="model.safetensors has 64 bytes, but the run recorded"):
        train.finetune(store, pt, train.finetune_data(f, pt), train.train_config(f), progress=False)
    assert [r.config["protocol"] for r in store.runs()] == ["pretrain"]  # nothing new was created
    assert pt.status == "damaged"


def test_baselines_and_variants_build_the_documented_data(tmp_path):
    store = Store(tmp_path)
    p = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=10)
    model, data, tc = train.pretrain_setup(p, "low")
    pt = train.pretrain(store, model, data, tc, progress=False)
    f = profile_params("finetune", "smoke", steps=10, eval_every=10, ckpt_every=10)
    small = train.train_config(f)
    ft = train.finetune(store, pt, train.finetune_data(f, pt), small, progress=False)
    scr_ft = train.scratch_then_finetune(store, pt, ft, train.train_config(f, lr=1e-5), progress=False)
    swapped = store.get(scr_ft.parent)
    assert swapped.config["data"]["task"]["prior"] == [0.001, 0.999, 0.0]  # a and b exchanged
    pt_sets = [e for e in ft.config["evals"] if e["name"].startswith("acc_pt")]  # revival runs: Acc. O_PT only
    assert scr_ft.config["data"]["task"]["prior"] == [1.0, 0.0, 0.0] and scr_ft.config["evals"] == pt_sets and len(pt_sets) == 2
    scr = train.scratch(store, ft, small, progress=False)
    assert scr.parent is None and scr.config["data"] == scr_ft.config["data"]
    rand = train.random_finetune(store, pt, train.finetune_data(f, pt), small, progress=False)
    task = rand.config["data"]["task"]
    assert task["label_operand"] == "b" and task["prior"] == [1.0, 0.0, 0.0] and "acc_pt" in rand.final_metrics()
    mixed = train.mixed_finetune(store, pt, train.finetune_data(f, pt), data, 0.1, small, progress=False)
    assert [w for _, w in mixed.config["data"]["mix"]] == [0.9, 0.1]
    with pytest.raises(ValueError, match="pt_fraction must lie in"):
        train.mixed_finetune(store, pt, train.finetune_data(f, pt), data, 1.5, small)


def test_data_workers_and_ensembles_do_not_change_results(tmp_path):
    "Batches generated in worker processes equal those of the main process; ensembles match single runs."
    p = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=10)
    items = [(train.pretrain_config(*train.pretrain_setup(p, prior)), None) for prior in ("low", "high")]
    main_proc = train.execute_many(Store(tmp_path / "a"), items, progress=False, ensemble=False, workers=0)
    workers = train.execute_many(Store(tmp_path / "b"), items, progress=False, ensemble=False, workers=1)
    assert [r.metrics() for r in main_proc] == [r.metrics() for r in workers]  # bit-identical
    together = train.execute_many(Store(tmp_path / "c"), items, progress=False, ensemble=True, workers=1)
    for a, b in zip(main_proc, together):
        assert a.id == b.id
        for ma, mb in zip(a.metrics(), b.metrics()):
            assert ma.keys() == mb.keys()
            assert all(abs(ma[k] - mb[k]) <= (2 / 128 if k.startswith("acc") else 1e-4) for k in ma), (ma, mb)


def test_a_finished_run_is_never_reopened(tmp_path):
    from ftmech.model import ModelConfig, Transformer
    cfg = ModelConfig(8, 4, d_model=8, n_layers=1, n_heads=1)
    run = Store(tmp_path).run({"protocol": "toy", "model": cfg.to_dict()}).create()
    model = Transformer(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    run.finish(model, [], 0)  # as if a process that did not hold the lock had completed it meanwhile
    with pytest.raises(StoreError, match="already complete: refusing to write a checkpoint"):
        run.save_checkpoint(model, opt, 1, [])
    with pytest.raises(StoreError, match="names no checkpoint"):
        run.resume_state(model, opt)
    assert run.complete
