"Datasets across modules: determinism without global state, resumable batches, labels that match the text."
import subprocess, sys

import numpy as np
import pytest
import torch

from ftmech.grammar import paper_pcfg, sample_reference, length_pmf
from ftmech.tasks import (DataConfig, MixedDataset, TaskDataset, finetune_config, operand_prior,
                          LETTERS, heldout_sets)

SNIPPET = """
import numpy as np, torch, random
from ftmech.tasks import TaskDataset, DataConfig
random.seed({g}); np.random.seed({g}); torch.manual_seed({g})  # global state must not matter
b = TaskDataset(DataConfig(window=64), seed=11).batch(np.arange(40))
print(int((b['tokens'] * torch.arange(b['tokens'].shape[1])).sum()), int(b['label'].sum()))
"""


def test_same_seed_same_numbers_in_fresh_processes():
    out = [subprocess.run([sys.executable, "-c", SNIPPET.format(g=g)], capture_output=True, text=True, check=True).stdout
           for g in (0, 123)]
    assert out[0] == out[1] and out[0].strip()


def test_batches_resume_exactly():
    ds = TaskDataset(finetune_config("index", "b", c_tr=0.8, window=64), seed=5, block_size=48)
    it = ds.batches(20)
    first = [next(it) for _ in range(6)]
    resumed = TaskDataset(finetune_config("index", "b", c_tr=0.8, window=64), seed=5, block_size=48).batches(20, start_step=4)
    for want in first[4:]:
        got = next(resumed)
        assert all(torch.equal(want[k], got[k]) for k in want)


def decode_and_check(vocab, tokens, label):
    "Recompute the answer of one sequence from its tokens alone."
    toks = vocab.decode(tokens)
    fam_tok, op, k = toks[1], toks[2], int(toks[3])
    text = "".join(toks[5:toks.index("<eot>")])
    if fam_tok in ("<C>", "<CC>"):
        tail = text[-k:]
        want = str(sum(tail[i:i + len(op)] == op for i in range(len(tail) - len(op) + 1)))
    elif fam_tok in ("<I>", "<IC>"):
        hits = [i for i in range(1, len(text) + 1) if text[len(text) - i:len(text) - i + len(op)] == op]
        want = str(hits[k - 1]) if len(hits) >= k else "0"
    else:
        want = text[-k]
    assert vocab.decode([label])[0] == want, (fam_tok, op, want, vocab.decode([label]))


def test_pretraining_labels_match_text_for_every_family():
    ds = TaskDataset(DataConfig(window=120), seed=9)
    b = ds.batch(np.arange(500))
    seen = set()
    for tokens, label in zip(b["tokens"], b["label"]):
        decode_and_check(ds.vocab, tokens.tolist(), int(label))
        seen.add(ds.vocab.decode([tokens[1]])[0])
    assert seen == {"<C>", "<CC>", "<I>", "<IC>", "<T>"}


def test_operand_prior_is_respected():
    ds = TaskDataset(DataConfig(window=64, prior="medium_high", families=("counting", "index")), seed=0)
    ops = ds.arrays(np.arange(6000))["operand"]
    freq = np.array([(ops == x).mean() for x in LETTERS])
    assert np.abs(freq - np.array(operand_prior("medium_high"))).max() < 0.02


def test_randft_labels_answer_the_other_operand():
    cfg = DataConfig(window=64, families=("counting",), prior={"a": 1.0}, label_operand="b")
    a = TaskDataset(cfg, seed=0).arrays(np.arange(100))
    assert (a["operand"] == "a").all()
    b_counts = (a["windows"][:, -40:] == 1).sum(1)
    assert np.array_equal(a["answer"], b_counts)


def test_jailbreak_tokens_only_take_operand_a():
    cfg = DataConfig(window=64, families=("counting", "counting_j1", "counting_j2"), prior="high")
    a = TaskDataset(cfg, seed=0).arrays(np.arange(600))
    jail = a["family"] > 0
    assert jail.any() and (a["operand"][jail] == "a").all() and set(a["operand"][~jail]) == set(LETTERS)


def test_test_sets_are_held_out_and_fixed():
    cfg = finetune_config("counting", "b", c_tr=0.5, window=64)
    sets = heldout_sets(cfg, 64)
    train = TaskDataset(cfg, seed=0).batch(np.arange(64))
    assert not torch.equal(sets[0.0]["tokens"], train["tokens"])
    assert torch.equal(sets[0.0]["tokens"], heldout_sets(cfg, 64)[0.0]["tokens"])


def test_mixture_rejects_bad_weights():
    d = TaskDataset(DataConfig(window=64))
    with pytest.raises(ValueError, match=r"non-negative.*\[-1.0, 2.0\]"):
        MixedDataset([(d, -1.0), (d, 2.0)])


def test_both_samplers_follow_the_exact_length_distribution():
    g, pmf = paper_pcfg(), length_pmf(paper_pcfg(), 450)
    rng = np.random.default_rng(0)
    bins = np.arange(0, 451, 10)
    exact = np.add.reduceat(pmf, bins[:-1])
    for lengths in ([len(s) for s in sample_reference(g, 3000, rng)], g.sample_ids(20000, rng)[1]):
        emp = np.histogram(lengths, bins=bins)[0] / len(lengths)
        assert 0.5 * np.abs(emp - exact).sum() < 0.04
