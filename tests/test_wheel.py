"The built wheel works outside the repository: its data ships with it, and the README's snippets run from an empty folder."
import os
import subprocess
import sys
import textwrap
import zipfile

from conftest import ROOT

SNIPPETS = textwrap.dedent('''
    import sys
    from pathlib import Path
    import numpy as np
    import ftmech
    assert Path(ftmech.__file__).is_relative_to(Path(sys.argv[1])), ftmech.__file__  # the installed copy
    from ftmech.grammar import paper_pcfg
    from ftmech.tasks import DataConfig, TaskDataset, finetune_config
    from ftmech.model import mingpt_config
    from ftmech.store import Store
    from ftmech.train import TrainConfig, pretrain, finetune, reverse_finetune, accuracy, build_eval_sets, loss_fn
    from ftmech.prune import prune_curve
    from ftmech.probe import probe_layers
    from ftmech.stories import load_offline
    from ftmech.rasp import tokens, indices, Map, Select, SelectorWidth, Aggregate, EQ, evaluate
    from ftmech.compiler import compile_rasp

    windows = paper_pcfg().sample_windows(10, 32, np.random.default_rng(0))
    pt_data = DataConfig(window=32, families=("counting", "index"), prior="low", o_prime={"counting": 16})
    ft_data = finetune_config("counting", "b", c_tr=0.8, window=32, o_prime={"counting": 16})
    batch = next(TaskDataset(ft_data, seed=0).batches(8))
    store = Store("runs")
    small = dict(batch_size=8, eval_every=2, ckpt_every=2, eval_size=16)
    pt = pretrain(store, mingpt_config(len(pt_data.vocab), pt_data.seq_len, 16, 1, 2), pt_data,
                  TrainConfig(steps=2, lr=1e-3, **small), progress=False)
    ft = finetune(store, pt, ft_data, TrainConfig(steps=2, lr=1e-4, **small), progress=False)
    re = reverse_finetune(store, ft, TrainConfig(steps=2, lr=1e-5, **small), progress=False)
    assert "acc_pt_cte0" in re.final_metrics()
    model = ft.load_model()
    sets = build_eval_sets(ft.config["evals"], 16)
    curve = prune_curve(model, lambda m: loss_fn(m, sets["acc_pt_cte0"], "answer"),
                        {k: (lambda m, b=b: float(accuracy(m, b))) for k, b in sets.items()}, ks=range(3))
    assert len(curve) == 3
    assert len(load_offline()) == 2316  # the corpus is package data
    is_a = Map(lambda t: t == "a", tokens).named("bin")
    counter = Aggregate(Select(indices, indices, EQ), SelectorWidth(Select(is_a, indices, EQ)).named("count_a"))
    m = compile_rasp(counter.named("counter"), vocab=list("abc"), max_seq_len=8)
    assert m.apply(["BOS", *"abcaab"]).decoded[2] == evaluate(counter, list("abcaab"))[1] == 3
    print("ok", len([p for p in Path("runs").iterdir() if (p / "config.json").exists()]))  # run folders (not .locks/, evals/)
''')


def test_installed_wheel_works_outside_the_repository(tmp_path):
    dist, site, empty = tmp_path / "dist", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)], check=True,
                   capture_output=True)
    (wheel,) = dist.glob("ftmech-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"ftmech/data/tinystories/SOURCE.md", "ftmech/data/tinystories/TinyStories-train-first2MiB.txt"} <= set(names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", SNIPPETS, str(site)], cwd=empty, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0 and res.stdout.startswith("ok 3"), res.stderr[-3000:]
    # the book command without its extra: one line naming the extra, not "No module named 'papermill'"
    no_book = "import sys; sys.modules['papermill'] = None; from ftmech.book import main; sys.exit(main(['--profile', 'smoke']))"
    res = subprocess.run([sys.executable, "-c", no_book], cwd=empty, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "pip install 'ftmech[book]'" in res.stderr and "Traceback" not in res.stderr, res.stderr
    res = subprocess.run([sys.executable, "-m", "ftmech.book", "--profile", "smoke"], cwd=empty, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "has no _toc.yml" in res.stderr, res.stderr
