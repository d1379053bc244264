"""The TinyStories chapter on Instruct-format data with a feature that has no exact rule (the real-data path)."""
import json
import re
from dataclasses import replace

import nbformat
import papermill as pm

from ftmech.stories import load_offline, training_text


def test_chapter_runs_on_an_instruct_file_and_judges_twist_with_the_classifier(tmp_path, root):
    # An Instruct-format file standing in for TinyStories-Instruct: real stories, a rule-made "Twist" label.
    records = [replace(r, features=tuple(f for f in r.features if f == "Dialogue")
                       + (("Twist",) if re.search(r"\bsuddenly\b", r.story, re.I) else ()))
               for r in load_offline()[:900]]
    data = tmp_path / "TinyStories-Instruct-sample.txt"
    data.write_text("\n".join(training_text(r) for r in records) + "\n", encoding="utf-8")
    out = tmp_path / "stories.ipynb"
    pm.execute_notebook(str(root / "nbs" / "experiments" / "stories.ipynb"), str(out), cwd=str(root),
                        parameters={"profile": "smoke", "store_dir": str(tmp_path / "runs"),
                                    "results_dir": str(tmp_path / "results"),
                                    "overrides": {"source": str(data), "feature": "Twist", "other": "Dialogue"}},
                        kernel_name="python3", progress_bar=False)
    measured = json.loads((tmp_path / "results" / "smoke" / "stories.json").read_text())["measurements"]
    assert 0.8 < measured["stories/judge/heldout_accuracy"]["0"] <= 1.0
    for key in ("stories/pt/present/gen_asked", "stories/ft/F/eta_M/gen_asked", "stories/reft/not_in_pt/gen_asked"):
        rate = measured[key]["0"]  # a generation rate, recorded with the number of generations it is a share of
        assert 0.0 <= rate["value"] <= 1.0 and rate["n"] >= 1, key
    assert "stories/probe/present/best" in measured
    text = "\n".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "generation judge for Twist: FeatureClassifier, held-out accuracy" in text
