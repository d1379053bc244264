"""The dry run of the paper profile: how `paper-dry` is derived from `paper` and `smoke`, the runs it trains, and a
reduced dry run (the whole one takes 13 to 20 minutes on 2 cores; see the README) whose ledger must measure every claim
that the executed chapters feed."""
import json
import re
from pathlib import Path
from collections import Counter
from dataclasses import replace

import pytest

from ftmech.book import book_estimate, chapter_runs, chapters, dry_run_parameters, main, new_runs, recorded_by
from ftmech.tracr import budget_probe_seeds
from ftmech.profiles import (ADAPTED_KEYS, GRID_KEYS, OFFLINE_KEYS, PROFILES, SIZE_KEYS, dry_profile, dry_run_profile,
                             key_kinds, profile_params)

ROOT = Path(__file__).resolve().parents[1]
DRY, PAPER, SMOKE = PROFILES["paper-dry"], PROFILES["paper"], PROFILES["smoke"]

# Written here independently of ftmech.profiles: what must come from the paper (the grid and its names) ...
PAPER_SIDE = {
    "pretrain": {"priors", "families", "lr"},
    "finetune": {"task", "operand", "pt_operand", "c_tr", "lr"},
    "reft": {"lr"},
    "pcfg": {"priors", "c_trs", "seeded_c_trs", "seeds", "lrs", "reft_from", "reft_lr", "reft_small_lr", "reft_c_trs",
             "paper_roles", "index_c_trs", "mix_fractions", "mix_priors", "mix_lrs", "jail_priors", "prune_k"},
    "tracr": {"c_trs", "seeds", "lrs", "reft_pairs", "scr_ft_lrs", "reft_c_trs", "prune_k", "noise_std", "noise_stds"},
    "stories": {"lrs", "pt_lr", "reft_lr", "protocols", "tie_embeddings", "windows", "heldout"},
}
# ... and the names that denote a size (iterations, dimensions, batch / evaluation / data sizes, lengths, cadence).
SIZE_NAME = re.compile(r"(steps|_size|_len|_every|_evals|_train|_test|_tokens|_prompts|per_prompt|_letters|^n_|^d_model$"
                       r"|^window$|^processes$|^limit$)")


def test_every_parameter_is_classified_once():
    for exp, params in PAPER.params.items():
        kinds = key_kinds(exp)  # raises on a key in two classes
        assert set(kinds) == set(params), exp
    assert set(SIZE_KEYS) == set(GRID_KEYS) == set(PAPER.params)


def test_no_grid_key_from_smoke_and_no_size_key_from_paper():
    for exp, p in DRY.params.items():
        kinds = key_kinds(exp)
        for k, v in p.items():
            paper, smoke = PAPER.params[exp][k], SMOKE.params[exp][k]
            if kinds[k] == "grid":
                assert v == paper, (exp, k)
            elif kinds[k] in ("size", "offline"):
                assert v == smoke, (exp, k)
            if v != paper:  # anything not the paper's value is a size, an offline substitution or an adaptation
                assert kinds[k] in ("size", "offline", "adapted"), (exp, k)
            if v != smoke:
                assert kinds[k] in ("grid", "adapted"), (exp, k)
        for k in PAPER_SIDE.get(exp, ()):
            assert kinds[k] == "grid" and p[k] == PAPER.params[exp][k], (exp, k)
        for k in p:
            if SIZE_NAME.search(k) and k not in PAPER_SIDE.get(exp, ()):
                assert kinds[k] == "size", (exp, k, kinds[k])
    assert DRY.device == "cpu" and PAPER.device == "cuda"


def test_the_dry_profile_is_the_paper_grid_at_smoke_size():
    d, pp = profile_params("pcfg", "paper-dry"), profile_params("pcfg", "paper")
    assert d["profile"] == "paper-dry" and d["device"] == "cpu"
    assert (d["lrs"], d["reft_from"], d["reft_lr"], d["seeds"], d["prune_k"]) == \
        (pp["lrs"], pp["reft_from"], pp["reft_lr"], pp["seeds"], pp["prune_k"])
    assert d["ft_steps"] == SMOKE.params["pcfg"]["ft_steps"] < pp["ft_steps"]
    pt = profile_params("pretrain", "paper-dry")
    assert pt["families"] == PAPER.params["pretrain"]["families"] and pt["window"] == SMOKE.params["pretrain"]["window"]
    from ftmech.tasks import DataConfig
    for f in pt["families"]:  # the adapted O′ fits the smoke window for every paper family
        assert DataConfig(window=pt["window"], families=(f,), o_prime=pt["o_prime"]).k_of(f) <= pt["window"]
    s = profile_params("stories", "paper-dry")
    assert (s["source"], s["feature"], s["other"]) == ("offline", "Dialogue", "Animal")  # exact labels offline
    assert s["tie_embeddings"] is True and s["d_model"] == SMOKE.params["stories"]["d_model"]
    assert set(OFFLINE_KEYS) == {"stories"} and set(ADAPTED_KEYS) == {"pretrain"}


def test_unclassified_or_stale_keys_are_errors():
    with pytest.raises(ValueError, match=r"\['n_new'\].*SIZE_KEYS"):
        dry_profile(replace(PAPER, params={**PAPER.params, "data": {**PAPER.params["data"], "n_new": 1}}), SMOKE)
    data = {k: v for k, v in PAPER.params["data"].items() if k != "seed"}
    with pytest.raises(ValueError, match=r"\['seed'\]"):
        dry_profile(replace(PAPER, params={**PAPER.params, "data": data}), SMOKE)
    assert dry_run_profile("paper") == "paper-dry"
    with pytest.raises(ValueError, match="'cpu'"):
        dry_run_profile("cpu")


def test_cli_dry_run_only_for_profiles_with_one(root, capsys):
    assert main(["--profile", "cpu", "--dry-run", "--root", str(root)]) == 2
    assert "'cpu' has no dry run" in capsys.readouterr().err
    # --profile paper-dry is the dry run: experiment chapters only
    assert main(["--profile", "paper-dry", "--only", "00_grammar", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "'00_grammar'" in err and "'appendix'" in err and "'01_tasks'" not in err


def test_dry_run_parameters_go_only_to_chapters_that_declare_them(root):
    for ch in chapters(root):
        if ch.is_experiment:
            p = dry_run_parameters(ch, "paper-dry")
            assert p["profile"] == "paper-dry"
            assert p.get("store_dir", "runs/paper-dry") == "runs/paper-dry" and p.get("results_dir", "results") == "results"


def test_dry_run_trains_exactly_the_paper_runs(root):
    order = [c.name for c in chapters(root) if c.is_experiment]
    paper, dry = new_runs("paper", order), new_runs("paper-dry", order)
    assert {c: set(r) for c, r in paper.items()} == {c: set(r) for c, r in dry.items()}  # same grid, same keys
    rows = book_estimate(order, "paper")
    runs = Counter()
    for r in rows:
        runs[r["protocol"]] += r["runs"]
    pp, tp = profile_params("pcfg", "paper"), profile_params("tracr", "paper")
    shorter = len(pp["length_priors"]) * (len(pp["pt_fractions"]) - 1)  # the pretraining-length chapter's own models
    assert runs["pretrain"] == len(profile_params("pretrain", "paper")["priors"]) + 1 + len(pp["jail_priors"]) + shorter
    # tracr_map's own runs: every scale, each from its measured noise σ*(scale) (the paper dry run trained all of them)
    map_only = len(tp["map_scales"]) * sum(len(cells) for cells in tp["map_cells"].values()) * len(tp["map_seeds"])
    variant = len(tp["variant_cells"]) * len(tp["seeds"])  # Fig. 51's Max-identifier variant
    probes = sum(map(len, budget_probe_seeds(tp).values()))  # the three budget probes (tracr.BUDGET_PROBES) at their seeds
    assert runs["tracr-ft"] == 2 * len(tp["lrs"]) * len(tp["c_trs"]) * len(tp["seeds"]) + map_only + variant + probes
    sp = profile_params("stories", "paper")
    replicas = len(sp["replicate_cells"]) * len(sp["replicate_seeds"])  # fine-tuned and revived again at other seeds
    assert runs["stories-pt"] == 2 and runs["stories-reft"] == 2 * 3 + 1 + replicas and runs["stories-ft"] == 2 * 3 + replicas
    assert 3600 < sum(r["seconds"] for r in rows) < 30 * 86400  # hours to days, never seconds


# --- a reduced dry run ------------------------------------------------------------------------------------------
# A claim whose inputs are all recorded (ftmech.book.RECORDED_BY) by executed chapters must be measured; every
# measurement an executed chapter records must be attributed to it.
REDUCED = ["reft", "appendix", "claims"]  # chapters run in CI (with everything they need trained by themselves)


def test_every_claim_input_has_a_chapter():
    from ftmech.ledger import CLAIMS
    for claim in CLAIMS:
        for name in claim.inputs.values():
            assert recorded_by(name) is not None, (claim.id, name)


@pytest.fixture(scope="module")
def reduced_dry_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dry")
    for name in REDUCED:
        code = main(["--profile", "paper", "--dry-run", "--root", str(ROOT), "--only", name, "--out", str(tmp / "build"),
                     "-p", "store_dir", str(tmp / "runs"), "-p", "results_dir", str(tmp / "results")])
        assert code == 0 or name == "claims", name  # the ledger judges every claim: most are not fed here
    return tmp


def test_reduced_dry_run_measures_every_claim_it_feeds(reduced_dry_run):
    results = reduced_dry_run / "results" / "paper-dry"
    ledger = json.loads((results / "claims.json").read_text())
    assert ledger["profile"] == "paper-dry"
    executed = set(REDUCED)
    for path in results.glob("*.json"):
        if path.name == "claims.json":
            continue
        doc = json.loads(path.read_text())
        assert doc["profile"] == "paper-dry" and doc["chapter"] in executed
        for name in doc["measurements"]:
            assert recorded_by(name) == doc["chapter"], (name, doc["chapter"])
    fed = [e for e in ledger["claims"] if all(recorded_by(m) in executed for m in e["inputs"].values())]
    assert fed, "the reduced chapter set feeds no claim"
    unmeasured = {e["id"]: e.get("missing") for e in fed if e["verdict"] == "not measured"}
    assert not unmeasured, f"claims fed by {sorted(executed)} but not measured at paper-dry: {unmeasured}"


def test_reduced_dry_run_trains_the_counted_runs_in_its_own_store(reduced_dry_run):
    from ftmech.store import Store
    runs = Store(reduced_dry_run / "runs").runs()
    assert runs and all(r.complete for r in runs)
    needed = {}
    for name in REDUCED:
        needed.update(chapter_runs("paper-dry")[name])
    assert Counter(r.config["protocol"] for r in runs) == Counter(protocol for protocol, _ in needed.values())
    for r in runs:  # smoke-size iterations
        assert r.config["train"]["steps"] in {steps for _, steps in needed.values()}
    assert (reduced_dry_run / "build" / "runs" / "appendix.ipynb").exists()
