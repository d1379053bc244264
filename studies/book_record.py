"""A kept record of one `make book` run: its chapter times (from the log `make book` printed) and its ledger summary
(from results/<profile>/claims.json): `python studies/book_record.py BOOK_LOG CLAIMS_JSON COMMIT > record.json`.
The README's chapter times and ledger counts cite such a record."""
import json
import re
import sys

from ftmech.ledger import CLAIMS, current_claims, deciding_part, estimate_text


def chapter_seconds(log: str) -> dict[str, float]:
    "{chapter: seconds} of every experiment chapter the log reports as executed."
    return {m[1]: float(m[2]) for m in re.finditer(r"executed nbs/experiments/(\w+)\.ipynb -> \S+ \(([\d.]+) s\)", log)}


def wall_seconds(log: str) -> int | None:
    "The whole run's wall time, from GNU time's 'Elapsed' line (h:mm:ss or m:ss), if the log has one."
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", log)
    if not m:
        return None
    parts = [float(x) for x in m[1].split(":")]
    return round(sum(v * 60 ** i for i, v in enumerate(reversed(parts))))


def seed_by_seed(claim_id: str) -> str | None:
    "The id of the latest version 1-6 (the seed-by-seed rule) in the revision chain of `claim_id`, if any."
    by_id = {c.id: c for c in CLAIMS}
    c = by_id[claim_id]
    while c.version > 6 and c.revises:
        c = by_id[c.revises]
    return c.id if c.version <= 6 else None


def main(log_path: str, claims_path: str, commit: str) -> dict:
    log, doc = open(log_path).read(), json.load(open(claims_path))
    latest = {c.id for c in current_claims()}
    verdict = {e["id"]: e["verdict"] for e in doc["claims"]}
    claims = [{"id": e["id"], "family": e.get("family"), "verdict": e["verdict"],
               "seed_by_seed_verdict": verdict.get(seed_by_seed(e["id"])),
               "estimate": estimate_text(deciding_part(e)) if e.get("rule") == "pooled" and deciding_part(e) else None}
              for e in doc["claims"] if e["id"] in latest]
    return {"commit": commit, "profile": doc["profile"], "command": "git clone ... && /usr/bin/time -v make book",
            "wall_seconds": wall_seconds(log), "chapter_seconds": chapter_seconds(log), "counts": doc["counts"],
            "multiplicity": doc["multiplicity"],
            "seed_by_seed_counts": {v: sum(c["seed_by_seed_verdict"] == v for c in claims) for v in doc["counts"]},
            "latest_claims": claims}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), indent=1, ensure_ascii=False))
