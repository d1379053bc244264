"Command-line tools: output format, determinism across processes, and clear errors on bad input."
import json

import pytest

from conftest import run_module
from ftmech import grammar, tasks
from ftmech.grammar import paper_pcfg
from ftmech.tasks import FAMILIES, LETTERS


def in_process(main, *args: str, capsys) -> tuple[int, str, str]:
    "(exit status, stdout, stderr) of a CLI's main called in this process (a fresh interpreter costs ~4 s)."
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_grammar_sample_full_derivations_are_sentences():
    rows = jsonl(run_module("ftmech.grammar", "sample", "--n", "20", "--seed", "4").stdout)
    g = paper_pcfg()
    assert len(rows) == 20 and all(set(r) == {"text"} for r in rows)
    assert all(138 <= len(r["text"]) <= 432 and g.accepts(r["text"]) for r in rows)


def test_grammar_sample_windows_same_seed_same_output():
    a = run_module("ftmech.grammar", "sample", "--n", "50", "--seed", "7", "--window", "250").stdout
    b = run_module("ftmech.grammar", "sample", "--n", "50", "--seed", "7", "--window", "250").stdout
    c = run_module("ftmech.grammar", "sample", "--n", "50", "--seed", "8", "--window", "250").stdout
    assert a == b and a != c
    assert all(len(r["text"]) == 250 and set(r["text"]) <= set("abc") for r in jsonl(a))


def test_grammar_sample_writes_file_atomically(tmp_path):
    out = tmp_path / "s.jsonl"
    res = run_module("ftmech.grammar", "sample", "--n", "3", "--seed", "0", "--out", str(out))
    assert res.stdout == "" and len(jsonl(out.read_text())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


@pytest.mark.parametrize("args, fragment", [
    (["--n", "2", "--seed", "0", "--window", "500"], "window 500 is longer than the longest derivation"),
    (["--n", "-1", "--seed", "0"], "--n must be >= 0, got -1"),
])
def test_grammar_bad_input(args, fragment, capsys):
    status, _, err = in_process(grammar.main, "sample", *args, capsys=capsys)
    assert status == 2 and fragment in err, err


@pytest.mark.parametrize("task, operand", [("counting", "a"), ("counting_composition", "bb"), ("index", "c"),
                                           ("index_composition", "aa"), ("token_at_index", "NULL")])
def test_tasks_sample_fields_and_answers(task, operand, capsys):
    status, out, _ = in_process(tasks.main, "sample", "--task", task, "--operand", operand, "--n", "30", "--seed", "1",
                                capsys=capsys)
    rows = jsonl(out)
    assert status == 0
    assert len(rows) == 30
    k = FAMILIES[task].k
    for r in rows:
        assert {"task", "operand", "k", "text", "answer", "tokens"} <= set(r)
        assert r["task"] == task and r["operand"] == operand and r["k"] == k and len(r["text"]) == 250
        assert r["tokens"][:5] == ["<sos>", FAMILIES[task].token, operand, str(k), "<sot>"]
        assert "".join(r["tokens"][5:255]) == r["text"] and r["tokens"][255:] == ["<eot>", "<art>", r["answer"], "<eos>"]
        text = r["text"]
        if task == "counting":
            assert r["answer"] == str(text[-k:].count(operand))
        if task == "token_at_index":
            assert r["answer"] == text[-k] and r["answer"] in LETTERS


def test_tasks_spurious_correlation_from_cli(capsys):
    rows = jsonl(in_process(tasks.main, "sample", "--task", "counting", "--operand", "b", "--n", "40", "--seed", "2",
                            "--c-tr", "1", capsys=capsys)[1])
    for r in rows:
        tail = r["text"][-40:]
        assert r["spurious"] and tail.count("b") == tail.count("a") + 1 == int(r["answer"])


@pytest.mark.parametrize("args, fragments", [
    (["--task", "sorting", "--operand", "a"], ["'sorting'", "counting"]),
    (["--task", "counting", "--operand", "d"], ["'d'", "['a', 'b', 'c']"]),
    (["--task", "counting", "--operand", "b", "--c-tr", "1.5"], ["1.5", "[0, 1]"]),
    (["--task", "counting", "--operand", "b", "--window", "20"], ["window 20", "O′ = 40"]),
    (["--task", "counting", "--operand", "a", "--c-tr", "0.5"], ["'a'", "correlated with itself"]),
])
def test_tasks_bad_input(args, fragments, capsys):
    status, _, err = in_process(tasks.main, "sample", *args, "--n", "2", "--seed", "0", capsys=capsys)
    assert status == 2 and all(f in err for f in fragments), err
