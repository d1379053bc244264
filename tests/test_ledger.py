"""The claims ledger written by the smoke book: complete, well-formed, and consistent with its own per-seed results."""
import json
import os
from pathlib import Path

import pytest

from ftmech.ledger import CLAIMS, VERDICTS

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
        assert e["seeds"] and set(e["holds_per_seed"]) == {str(s) for s in e["seeds"]}, e
        for arg, per_seed in e["measured"].items():
            assert set(per_seed) == set(e["holds_per_seed"]), (e["id"], arg)


def test_verdicts_follow_from_the_per_seed_results(ledger):
    for e in ledger["claims"]:
        holds = list(e["holds_per_seed"].values())
        expected = "observed" if all(holds) else "not observed" if not any(holds) else "mixed"
        assert e["verdict"] == expected, e["id"]


def test_the_ledger_page_lists_every_claim():
    page = Path(HTML or ROOT / "_build" / "smoke" / "_build" / "html") / "book" / "runs" / "claims.html"
    if not page.exists():
        pytest.skip("no built book")
    text = page.read_text()
    missing = [c.id for c in CLAIMS if c.id not in text]
    assert not missing, f"claims missing from the ledger page: {missing}"
