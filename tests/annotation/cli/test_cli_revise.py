"""`python -m annotation revise`: one JSON object, figures equal to those computed by hand from a planned stub."""

from __future__ import annotations

import json
import os

import pytest

from annotation.importing.files import import_file
from annotation.ops.startup import prepare
from annotation.revision.answers import normalise
from tests.utils.cli import cli_database, run
from tests.utils.critic_data import allow_key_name, register_stub_price, stub_critic
from tests.utils.openai_stub import STUB_KEY, STUB_MODEL, OpenAIStub, by_problem
from tests.utils.revision_data import make_revision_project, reviser_plan

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
KEYS = {"source", "show", "n", "n_wrong_before", "n_right_before", "fixed", "broken", "fix_rate", "break_rate"}
KEYS |= {"accuracy_before", "accuracy_after", "ci"}


@pytest.fixture
def engine(tmp_path, monkeypatch):
    engine = prepare(cli_database(tmp_path, monkeypatch))
    monkeypatch.setenv("STUB_API_KEY", STUB_KEY)
    allow_key_name("STUB_API_KEY")
    register_stub_price()
    yield engine
    engine.dispose()


def test_json_is_one_object_with_the_figures(engine, capsys):
    make_revision_project(engine)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        argv = ["revise", "--project", "revise", "--critiques", "human:alice", "--model", STUB_MODEL]
        argv += ["--api-base", stub.api_base, "--api-key-env", "STUB_API_KEY", "--json", "--quiet"]
        code, out, _ = run(capsys, *argv)
        again, out_again, _ = run(capsys, *argv)
        assert stub.requests == 6

    d = json.loads(out)
    assert code == 0 and again == 0 and out.count("\n") == 1 and set(d) >= KEYS
    assert (d["source"], d["show"], d["n"], d["no_reference"]) == ("human:alice", "full", 6, 1)
    assert (d["fixed"], d["broken"]) == (1, 1)
    assert (d["fix_rate"], d["break_rate"], d["accuracy_before"], d["accuracy_after"]) == (33.3, 33.3, 50.0, 50.0)
    assert set(d["ci"]) >= {"fix_rate", "break_rate", "accuracy_change"} and len(d["ci"]["fix_rate"]) == 2
    assert d["run"]["revised"] == 6 and d["run"]["cost"] > 0
    later = json.loads(out_again)
    assert later["run"]["revised"] == 0 and later["run"]["cached"] == 6 and later["fixed"] == 1


def test_bad_input_is_named(engine, capsys):
    make_revision_project(engine)
    code, _, err = run(capsys, "revise", "--project", "revise", "--critiques", "human:zed", "--reviser", "nobody")
    assert code == 2 and "no saved critic named 'nobody'" in err
    stub_critic(engine, "http://127.0.0.1:9/v1", name="reviser")
    code, _, err = run(capsys, "revise", "--project", "revise", "--critiques", "human:zed", "--reviser", "reviser")
    assert code == 2 and "no judgments from human:zed" in err
    code, _, err = run(capsys, "revise", "--project", "nope", "--critiques", "reference", "--reviser", "reviser")
    assert code == 1 and "no project named 'nope'" in err
    argv = ["revise", "--project", "revise", "--critiques", "reference", "--reviser", "reviser", "--grader", "sympy"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "math-verify, exact or critic:NAME" in err


@pytest.mark.datasets
def test_a_model_cannot_pass_for_a_saved_critic_of_other_settings(engine, capsys):
    """A --model run takes the model's name: were a saved critic so named, its results would be read as the critic's."""
    from dataclasses import replace

    from annotation.critics.config import save_critic

    make_revision_project(engine)
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        saved = stub_critic(engine, stub.api_base, name="stub-model", temperature=0.7)
        argv = ["revise", "--project", "revise", "--critiques", "reference", "--model", STUB_MODEL, "--api-base"]
        argv += [stub.api_base, "--api-key-env", "CRITIC_STUB_KEY", "--json", "--quiet"]
        code, _, err = run(capsys, *argv)
        assert code == 2 and "a saved critic is named 'stub-model', with other settings" in err and "--name" in err
        assert stub.requests == 0
        code, out, _ = run(capsys, *argv, "--name", "stub-model-adhoc")
        assert code == 0 and json.loads(out)["reviser"] == "stub-model-adhoc"
        # The same settings as the saved critic: the same reviser, whatever way it is named.
        save_critic(engine, replace(saved, temperature=0.0))
        code, out, _ = run(capsys, *argv)
        assert code == 0 and json.loads(out)["reviser"] == "stub-model" and json.loads(out)["run"]["revised"] == 0
    code, _, err = run(
        capsys, "revise", "--project", "revise", "--critiques", "reference", "--reviser", "stub-model", "--name", "x"
    )
    assert code == 2 and "--name and --vision go with --model" in err


def test_big_bench_mistake_figures_equal_those_computed_by_hand_from_the_plan(engine, capsys, datasets):
    """The stub answers each problem as planned: the target, the original answer, no answer, or a wrong number."""
    folder = datasets / "big-bench-mistake"
    records = []
    for name in ("multistep_arithmetic", "tracking_shuffled_objects"):
        import_file(engine, folder / f"{name}.jsonl", project="bbm")
        records += [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().splitlines()]
    plan, before, after = {}, [], []
    for i, r in enumerate(records):
        kind = i % 4
        answers = [f"\\boxed{{{r['target']}}}", f"So the answer is {r['answer']}", "Not sure.", "\\boxed{-99}"]
        plan[r["input"]] = answers[kind]
        right = normalise(r["answer"]) == normalise(r["target"])
        before.append(right)
        after.append(kind == 0 or (kind == 1 and right))
    wrong_before = sum(not b for b in before)
    fixed = sum(not b and a for b, a in zip(before, after, strict=True))
    broken = sum(b and not a for b, a in zip(before, after, strict=True))
    with OpenAIStub(by_problem(plan)) as stub:
        argv = ["revise", "--project", "bbm", "--critiques", "reference", "--show", "first-error"]
        argv += [
            "--model",
            STUB_MODEL,
            "--api-base",
            stub.api_base,
            "--concurrency",
            "16",
            "--json",
            "--quiet",
            "--bootstrap",
            "200",
        ]
        code, out, _ = run(capsys, *argv)
    d = json.loads(out)
    n = len(records)
    assert code == 0 and stub.requests == n == 600
    assert (d["n"], d["n_wrong_before"], d["n_right_before"]) == (n, wrong_before, n - wrong_before)
    assert (d["fixed"], d["broken"], d["no_answer"]) == (fixed, broken, n // 4)
    assert d["fix_rate"] == round(100 * fixed / wrong_before, 1)
    assert d["break_rate"] == round(100 * broken / (n - wrong_before), 1)
    assert d["accuracy_before"] == round(100 * sum(before) / n, 1)
    assert d["accuracy_after"] == round(100 * sum(after) / n, 1)
    assert 0 < fixed < wrong_before and broken > 0  # the plan leaves every figure something to measure


def test_a_typed_model_says_whether_it_sees_images(engine):
    from annotation.cli.main import _parser
    from annotation.cli.revise import reviser_of

    base = ["revise", "--project", "p", "--critiques", "reference", "--model", "hosted_vllm/qwen2-vl"]
    parsed = [_parser().parse_args(base + extra) for extra in ([], ["--vision"], ["--no-vision"])]
    assert [reviser_of(args, engine).vision for args in parsed] == [None, True, False]
