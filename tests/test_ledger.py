"""The claims ledger written by the smoke book: complete, well-formed, consistent with its own per-seed results, and
with every criterion traceable to the commit that introduced it."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from ftmech import inference
from ftmech.ledger import (ADDED, CLAIMS, CLAIMS_V1, POOLED_RULE, REVISIONS, ROLE_REVISIONS, ROLE_RULE, V7_COMMIT, V10_RULE,
                           V11_RULE,
                           VERDICTS, _v10_text, current_claims, introduced_by)

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / "results" / "smoke" / "claims.json"
HTML = os.environ.get("FTMECH_BOOK_HTML")


@pytest.fixture(scope="module")
def ledger():
    if not LEDGER.exists():
        if HTML:  # make test built the smoke book, which must have written the ledger
            pytest.fail(f"the smoke book was built ({HTML}) but {LEDGER} does not exist")
        pytest.skip("no ledger: run `make test` (or python -m ftmech.book --profile smoke)")
    return json.loads(LEDGER.read_text())


def test_every_claim_is_judged_on_recorded_numbers(ledger):
    assert ledger["profile"] == "smoke"
    assert [e["id"] for e in ledger["claims"]] == [c.id for c in CLAIMS]
    for e in ledger["claims"]:
        assert e["verdict"] in VERDICTS, e
        assert e["verdict"] != "not measured", f"{e['id']}: no chapter recorded {e['missing']}"
        pooled = e.get("rule") == "pooled"  # version 7 on: one decision over seeds, no per-seed verdicts
        assert e["seeds"] and (pooled or set(e["holds_per_seed"]) == {str(s) for s in e["seeds"]}), e
        for arg, per_seed in e["measured"].items():
            assert pooled or set(per_seed) == set(e["holds_per_seed"]), (e["id"], arg)
            assert set(e["uncertainty"][arg]["per_seed"]) == set(per_seed), (e["id"], arg)
            assert set(per_seed) <= {str(s) for s in e["seeds"]}, (e["id"], arg)


def test_verdicts_follow_from_the_per_seed_results(ledger):
    for e in ledger["claims"]:
        if e.get("rule") == "pooled":
            continue  # version 7: test_pooled_verdicts_follow_from_their_p_values
        holds = list(e["holds_per_seed"].values())
        if e["version"] == 1:
            assert None not in holds, e["id"]  # version 1 is never undecided
        if any(w.startswith(("premise", "no rate of")) for w in e["why_undecided"]):
            assert e["verdict"] == "undecided" and e["requires"], e["id"]
            continue
        expected = ("observed" if all(h is True for h in holds) else "not observed" if all(h is False for h in holds)
                    else "mixed" if True in holds and False in holds else "undecided")
        assert e["verdict"] == expected, e["id"]
        assert (e["verdict"] == "undecided") == bool(e["why_undecided"]), e["id"]


def test_pooled_verdicts_follow_from_their_p_values(ledger):
    """Version 7: observed only when p(observed) <= alpha and not observed only when p(not observed) <= alpha (the
    multiplicity adjustment can only withhold a decision); every undecided entry says why; the latest claims are v7/v8."""
    pooled = [e for e in ledger["claims"] if e.get("rule") == "pooled"]
    assert {e["id"] for e in pooled} == {c.id for c in CLAIMS if c.version >= 7} and len(pooled) >= 50
    assert all(c.version >= 7 for c in current_claims() if c.id != "tracr-compiled-exact")  # the latest claims are pooled
    for e in pooled:
        if e["verdict"] == "observed":
            assert e["p_observed"] <= inference.ALPHA and e["verdict_unadjusted"] == "observed", e["id"]
        elif e["verdict"] == "not observed":
            assert e["p_not_observed"] <= inference.ALPHA and e["verdict_unadjusted"] == "not observed", e["id"]
        elif e["verdict"] == "undecided":
            assert e["why_undecided"], e["id"]
        elif e["verdict"] == "premise not met":  # version 10 only, and it names the premise decided against
            assert e["version"] >= 10 and any("premise" in w or "not observed" in w for w in e["why_undecided"]), e["id"]
        for comp in e["components"]:
            lo, hi = comp["interval"]
            assert lo is None or (lo <= comp["bounds"][0] and comp["bounds"][1] <= hi), e["id"]
    assert ledger["multiplicity"]["primary"] + ledger["multiplicity"]["secondary"] <= len(pooled)


def test_accuracies_carry_their_chance_level_and_standard_error(ledger):
    """Every accuracy input of a revised or added claim has its evaluation-set size (a binomial SE) and, except
    generation rates and derived means, its chance level."""
    entries = {e["id"]: e for e in ledger["claims"]}
    for c in REVISIONS + ADDED + ROLE_REVISIONS:
        e = entries[c.id]
        for arg, name in e["inputs"].items():  # as read at this profile (roles filled in, the ladder expanded)
            if "acc" not in name.rsplit("/", 2)[-1] and not name.endswith(("/best", "/count_a", "/count_b", "/index_a", "/kbest", "/k0", "/pt")):
                continue
            for seed, unc in e["uncertainty"][arg]["per_seed"].items():
                assert unc["se_from"] == "binomial" and unc["n"] >= 1 and 0 <= unc["chance"] <= 1, (c.id, arg, seed, unc)
    counts = ledger["counts"]
    assert sum(counts.values()) == len(current_claims()) and sum(ledger["counts_v1"].values()) == len(CLAIMS_V1)


def _source_at(commit: str) -> str | None:
    "ftmech/ledger.py at `commit` with implicit string concatenations joined; None without git history."
    try:
        text = subprocess.run(["git", "show", f"{commit}:ftmech/ledger.py"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return re.sub(r'"\s*\n\s*"', "", text)


def test_every_criterion_is_unchanged_since_the_commit_that_introduced_it():
    """Version 1 is never edited and each revision's text is the one committed before its measuring run: each
    criterion appears verbatim in ftmech/ledger.py at the commit the ledger names for it."""
    sources = {}
    for c in CLAIMS:
        commit = introduced_by(c)
        assert re.fullmatch(r"[0-9a-f]{7,40}", commit), (c.id, commit)
        if commit not in sources:
            sources[commit] = _source_at(commit)
        if sources[commit] is None:
            pytest.skip("no git history (an installed package or a shallow copy)")
        criterion = c.criterion
        if c.version >= 7:  # version 7: the criterion it revises (or a first criterion with uncertainty) + the rule; 8: new text + the rule
            assert criterion.endswith(POOLED_RULE), c.id
            assert POOLED_RULE in sources[commit], f"{c.id}: the pooled rule is not the one committed in {commit}"
            criterion = criterion.removesuffix(POOLED_RULE)
            by_id = {x.id: x for x in CLAIMS}
            if c.version == 7 and by_id[c.revises].version > 1:
                assert criterion == by_id[c.revises].criterion, c.id
                continue
            if c.version == 11:  # the version-10 criterion it revises (or an added one's) + the version-11 rule
                assert criterion.endswith(V11_RULE) and V11_RULE in sources[commit], c.id
                criterion = criterion.removesuffix(V11_RULE)
                if c.revises:
                    assert criterion == by_id[c.revises].criterion.removesuffix(POOLED_RULE), c.id
                    continue
            if c.version == 10:  # the criterion it revises (or a new one) + the version-10 rule, committed in V10_COMMIT
                assert criterion.endswith(V10_RULE) and V10_RULE in sources[commit], c.id
                criterion = criterion.removesuffix(V10_RULE)
                if criterion == _v10_text(by_id[c.revises].criterion.removesuffix(POOLED_RULE)):
                    continue
        if c.at_roles and c.revises is not None:  # version 6: the criterion it revises (checked at its own commit) read at the roles' rates
            by_id = {x.id: x for x in CLAIMS}
            assert criterion == by_id[c.revises].criterion + ROLE_RULE, c.id
            criterion = ROLE_RULE
        assert criterion in sources[commit], f"{c.id}: its criterion is not the one committed in {commit}"


def test_the_ledger_page_lists_every_claim():
    page = Path(HTML or ROOT / "_build" / "smoke" / "_build" / "html") / "book" / "runs" / "claims.html"
    if not page.exists():
        pytest.skip("no built book")
    text = page.read_text()
    missing = [c.id for c in CLAIMS if c.id not in text]
    assert not missing, f"claims missing from the ledger page: {missing}"
    assert "Scorecard" in text and "History of every claim" in text and "Reading" in text


def test_the_pooled_rule_constants_are_unchanged_since_version_7():
    """The level, the smallest effects of interest and the seeds a cell needs for its own variance are part of every
    version-7 criterion: they must read as they did at the commit that introduced version 7."""
    try:
        then = subprocess.run(["git", "show", f"{V7_COMMIT}:ftmech/inference.py"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history (an installed package or a shallow copy)")
    now = (ROOT / "ftmech" / "inference.py").read_text()
    for start in ("ALPHA = ", "SESOI = ", '         "loss": ', '         "iterations": ', "OWN_SEEDS = "):
        line = lambda text: next(l for l in text.splitlines() if l.startswith(start))
        assert line(now) == line(then), start
