"The book pipeline: table of contents, profiles, parameters cells, and failure reporting."
import shutil

import nbformat

from ftmech.book import chapters, main, toc_files
from ftmech.profiles import PROFILES, profile_params


def test_toc_lists_exactly_the_chapters(root):
    listed = [f for f in toc_files(root) if f.startswith(("book/lib/", "book/runs/"))]
    on_disk = [str(c.output.relative_to(root).with_suffix("")) for c in chapters(root)]
    assert sorted(listed) == sorted(on_disk)
    assert any(c.is_experiment for c in chapters(root))


def test_every_experiment_is_a_papermill_template_covered_by_every_profile(root):
    for ch in chapters(root):
        if not ch.is_experiment: continue
        nb = nbformat.read(ch.source, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{ch.source} needs exactly one cell tagged 'parameters'"
        declared = {line.split("=")[0].strip() for line in params[0].source.splitlines() if "=" in line}
        assert 'profile = "smoke"' in params[0].source
        if "overrides" in declared:  # a PCFG chapter: the shared `pcfg` parameters, overridable as one dict
            assert {"store_dir", "results_dir"} <= declared, ch.name
            for prof in PROFILES:
                assert profile_params("pcfg", prof)["priors"], prof
            continue
        for prof in PROFILES:  # a chapter with its own experiment: every parameter is declared
            expected = set(profile_params(ch.name, prof)) - {"profile", "device"}
            assert expected <= declared, (ch.name, prof, expected - declared)


def test_failing_notebook_names_notebook_and_cell(tmp_path, root, capsys):
    shutil.copy(root / "_toc.yml", tmp_path / "_toc.yml")
    (tmp_path / "nbs" / "experiments").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile = "smoke"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise ValueError('boom at cell two')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nbformat.write(nb, tmp_path / "nbs" / "experiments" / "broken.ipynb")
    assert main(["--profile", "smoke", "--root", str(tmp_path), "--no-html"]) == 1
    err = capsys.readouterr().err
    assert "broken.ipynb" in err and "cell" in err and "ValueError: boom at cell two" in err
    assert not (tmp_path / "book" / "runs" / "broken.ipynb").exists()  # nothing half-written


def test_cli_rejects_unknown_profile_and_chapter(root, capsys):
    assert main(["--profile", "gpu", "--root", str(root)]) == 2
    assert "'gpu'" in capsys.readouterr().err
    assert main(["--profile", "smoke", "--only", "nope", "--root", str(root)]) == 2
    assert "'nope'" in capsys.readouterr().err
