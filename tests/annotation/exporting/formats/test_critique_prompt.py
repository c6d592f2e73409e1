"""Critique SFT (and DPO, KTO) with ProcessBench's own critic prompt, byte for byte, or Redline's for any problem."""

from __future__ import annotations

import pytest

from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import preview
from annotation.ops.startup import prepare
from storage.db import session
from storage.tables import Critic, CriticRun
from tests.utils import export_data, gsm8k_project

# QwenLM/ProcessBench code/templates/critique_template.txt as its run_eval.py reads it (then .strip()) and fills it
# (str.format: "{{}}" is a literal "{}"), with prepare_input_boxed's tagged response. Copied here on purpose: the
# test holds Redline to ProcessBench's file, not to Redline's own copy of it.
UPSTREAM_TEMPLATE = """The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):

[Math Problem]

{problem}

[Solution]

{tagged_response}

Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 (which typically denotes "not found").

Please put your final answer (i.e., the index) in \\boxed{{}}.
"""  # noqa: E501


def processbench_prompt(record: dict) -> str:
    tagged_response = ""
    for sdx, step in enumerate(record["steps"]):
        tagged_response += f"<paragraph_{sdx}>\n{step}\n</paragraph_{sdx}>\n\n"
    tagged_response = tagged_response.strip()
    return UPSTREAM_TEMPLATE.strip().format(problem=record["problem"], tagged_response=tagged_response)


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory, datasets):
    folder = tmp_path_factory.mktemp("prompt")
    engine = prepare(f"sqlite:///{folder / 'db.sqlite'}")
    originals = gsm8k_project.build(engine, datasets, folder)
    yield engine, originals
    engine.dispose()


def user_turns(engine, fmt: str, **options) -> list[str]:
    rows, _ = preview(engine, gsm8k_project.PROJECT, fmt, ExportOptions(source="reference", **options), n=400)
    if fmt == "critique-sft":
        return [r["messages"][0]["content"] for r in rows]
    return [r["prompt"][0]["content"] for r in rows]


def test_critique_sft_prompt_is_processbench_template_byte_for_byte(gsm8k):
    engine, originals = gsm8k
    prompts = user_turns(engine, "critique-sft", critic_prompt="processbench")
    assert len(prompts) == 400
    for record, prompt in zip(originals, prompts, strict=True):
        assert prompt.encode("utf-8") == processbench_prompt(record).encode("utf-8")


def test_dpo_and_kto_chat_prompts_follow_the_same_choice(gsm8k):
    engine, originals = gsm8k
    by_problem = {processbench_prompt(r) for r in originals}
    for fmt in ("dpo", "kto"):
        prompts = user_turns(engine, fmt, critic_prompt="processbench", conversational=True)
        assert prompts and set(prompts) <= by_problem


def test_redline_wording_is_for_any_problem(gsm8k):
    engine, originals = gsm8k
    prompt = user_turns(engine, "critique-sft", critic_prompt="redline")[0]
    assert prompt.startswith("The following is a problem and a solution") and "[Problem]" in prompt
    assert prompt != processbench_prompt(originals[0])


def add_critic_run(engine, project: str, template: str, name: str) -> None:
    from storage import queries

    with session(engine) as s:
        critic = Critic(name=name, model="openai/x", template=template)
        s.add(critic)
        s.flush()
        project_id = queries.get_project(s, name=project).id
        s.add(CriticRun(critic_id=critic.id, project_id=project_id, config_hash="h", status="done"))
        s.commit()


def test_the_default_is_processbench_when_the_projects_critics_use_it(sqlite_engine):
    export_data.build(sqlite_engine)
    first = user_turns_of(sqlite_engine)
    assert first.startswith("The following is a problem")  # no critic has run: Redline's wording
    add_critic_run(sqlite_engine, export_data.PROJECT, "processbench", "pb-critic")
    assert user_turns_of(sqlite_engine).startswith("The following is a math problem")
    add_critic_run(sqlite_engine, export_data.PROJECT, "step_json", "json-critic")  # the last run counts
    assert user_turns_of(sqlite_engine).startswith("The following is a problem")
    chosen = user_turns_of(sqlite_engine, critic_prompt="processbench")
    assert chosen.startswith("The following is a math problem")


def user_turns_of(engine, **options) -> str:
    rows, _ = preview(engine, export_data.PROJECT, "critique-sft", ExportOptions(**options), n=1)
    return rows[0]["messages"][0]["content"]
