"""Why the `cpu` Indexer is weak after pretraining (issue 15): the `cpu` pretraining with one setting changed at a time.

Trains (or loads from the run store) the `cpu` pretrained model of each prior at the paper's pretraining rate (1e-3)
and at 3e-3, and the low prior with a wider model at 1e-3; writes each run's logged Acc. PT for indexing and
counting `a` to a JSON file that the pretraining chapter shows. Runs are content-addressed: the variants that equal
the `cpu` profile's settings (lr 3e-3 since this study) are the book's own pretrained models.

    python studies/indexer_pretraining.py [--store runs] [--out studies/indexer_pretraining.json] [--processes 2]
"""
import json
import sys
from pathlib import Path

from ftmech.ledger import binomial_se
from ftmech.pcfg import chance_level, pretrain_configs
from ftmech.profiles import profile_params
from ftmech.store import Store
from ftmech.train import build_eval_sets, execute_many
from ftmech.utils import ArgumentParser, atomic_write_text, cli

VARIANTS = {  # name -> (prior, overrides of the cpu pretraining parameters)
    **{f"{p}, lr 1e-3": (p, {"lr": 1e-3}) for p in ("low", "medium", "high")},  # the paper's rate
    **{f"{p}, lr 3e-3": (p, {"lr": 3e-3}) for p in ("low", "medium", "high")},
    "low, lr 1e-3, d_model 96": ("low", {"lr": 1e-3, "d_model": 96}),
}


@cli
def main(argv=None) -> int:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="runs", help="the run store (default: the book's, runs/)")
    ap.add_argument("--out", default="studies/indexer_pretraining.json")
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args(argv)
    items, params = [], {}
    for name, (prior, kw) in VARIANTS.items():
        params[name] = profile_params("pretrain", "cpu", **kw)
        items.append((pretrain_configs(params[name], [prior])[prior], None))
    runs = execute_many(Store(args.store), items, device="cpu", processes=args.processes)
    out = {"profile": "cpu", "command": "python studies/indexer_pretraining.py", "variants": {}}
    for (name, (prior, kw)), run in zip(VARIANTS.items(), runs):
        rows = [r for r in run.metrics() if "acc_index_a" in r]
        sets = build_eval_sets(run.config["evals"], params[name]["eval_size"], seed=0)  # the sets the log was measured on
        out["variants"][name] = {"prior": prior, "changed": kw, "run": run.id, "steps": [r["step"] for r in rows],
                                 "acc_index_a": [r["acc_index_a"] for r in rows],
                                 "acc_counting_a": [r["acc_counting_a"] for r in rows],
                                 **{f"{m}_set": {"n": len(sets[m]["label"]), "chance": chance_level(sets[m]["label"])}
                                    for m in ("acc_index_a", "acc_counting_a")}}
        print(f"{name:18s} index(a) {rows[-1]['acc_index_a']:.3f}  count(a) {rows[-1]['acc_counting_a']:.3f}")
    atomic_write_text(Path(args.out), json.dumps(out, indent=1) + "\n")
    print(json.dumps({"out": args.out, "runs": len(runs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
