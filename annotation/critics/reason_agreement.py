"""Reason agreement (MR-GSM8K's third task, VISCO's explanation score): does the model's critique at the
first error name the same mistake as the human's? An LLM judge answers; its verdicts are stored.

Only traces where both put the first error on the same step are judged, as in MR-GSM8K, where
Accuracy(reason) counts the solutions whose error step AND reason are both right, over all the
solutions the human found flawed. litellm is imported only when a judge is called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from annotation.core.model import Source
from annotation.critics.keys import api_key
from storage import queries
from storage.db import session as open_session
from storage.tables import JudgmentRow, ReasonVerdict, TraceRow

PROMPT = """You compare two explanations of the first mistake in a step-by-step solution.

Problem:
{problem}

Steps:
{steps}

Both reviewers say the first wrong step is step {step}.
Reviewer 1 (human) says: {human}
Reviewer 2 (model) says: {model}

Do the two explanations name the same mistake? Reply with one line: VERDICT: SAME or VERDICT: DIFFERENT."""
_VERDICT = re.compile(r"VERDICT\s*:\s*\**\s*(SAME|DIFFERENT)", re.IGNORECASE)


@dataclass(frozen=True)
class ReasonJob:
    trace_id: int
    problem: str
    steps: list[str]
    step: int
    human_reason: str
    model_reason: str

    def prompt(self) -> str:
        steps = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.steps))
        return PROMPT.format(
            problem=self.problem, steps=steps, step=self.step + 1, human=self.human_reason, model=self.model_reason
        )


def parse_verdict(text: str | None) -> bool | None:
    """True (same mistake), False (different), None (the judge gave no verdict)."""
    found = _VERDICT.findall(text or "")
    return None if not found else found[-1].upper() == "SAME"


def _reason(row: JudgmentRow) -> str:
    """The critique at the first error, else the judgment's overall critique."""
    fe = row.first_error
    if fe is not None and 0 <= fe < len(row.steps or []):
        step = row.steps[fe] or {}
        if step.get("critique"):
            return str(step["critique"])
    return (row.critique or "").strip()


def _rows(s, project_id: int, source: Source) -> dict[int, JudgmentRow]:
    query = (
        select(JudgmentRow)
        .join(TraceRow, TraceRow.id == JudgmentRow.trace_id)
        .where(
            TraceRow.project_id == project_id,
            JudgmentRow.source_kind == source.kind,
            JudgmentRow.source_name == source.name,
            JudgmentRow.status == "submitted",
        )
    )
    return {row.trace_id: row for row in s.exec(query)}


def _project_id(s, project: str) -> int:
    from annotation.projects.overview import NoSuchProject

    row = queries.get_project(s, name=project)
    if row is None:
        raise NoSuchProject(f"no project named {project!r}")
    return row.id


def reason_jobs(engine: Engine, project: str, human: str, model: str) -> list[ReasonJob]:
    """Traces where both flag the same first error and the human explained it."""
    with open_session(engine) as s:
        pid = _project_id(s, project)
        people, critics = _rows(s, pid, Source.parse(human)), _rows(s, pid, Source.parse(model))
        jobs = []
        for trace_id, h in people.items():
            m = critics.get(trace_id)
            if m is None or h.first_error is None or h.first_error < 0 or m.first_error != h.first_error:
                continue
            human_reason = _reason(h)
            if not human_reason:
                continue
            trace = s.get(TraceRow, trace_id)
            jobs.append(
                ReasonJob(
                    trace_id, trace.problem, list(trace.steps), h.first_error, human_reason, _reason(m) or "(none)"
                )
            )
        return sorted(jobs, key=lambda j: j.trace_id)


def _call_judge(judge: str, prompt: str, options: dict[str, Any]) -> str:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    response = litellm.completion(model=judge, messages=[{"role": "user", "content": prompt}], temperature=0, **options)
    return response.choices[0].message.content or ""


def judge_reasons(
    engine: Engine,
    project: str,
    *,
    human: str,
    model: str,
    judge: str,
    options: dict[str, Any] | None = None,
    api_key_env: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Ask ``judge`` (a litellm model name) about every trace not judged yet; returns how many were asked.

    ``options`` go to litellm.completion as they are (api_base, mock_response in tests...). The key is the one
    named by ``api_key_env`` among those the operator allows, or a placeholder: never one litellm would find in
    the environment itself (critics.keys)."""
    options = {**(options or {}), "api_key": api_key(api_key_env, secrets)}
    jobs = reason_jobs(engine, project, human, model)
    with open_session(engine) as s:
        done = set(
            s.exec(
                select(ReasonVerdict.trace_id).where(
                    ReasonVerdict.human_source == human,
                    ReasonVerdict.model_source == model,
                    ReasonVerdict.judge == judge,
                )
            )
        )
    todo = [j for j in jobs if j.trace_id not in done]
    for i, job in enumerate(todo):
        raw = _call_judge(judge, job.prompt(), options)
        with open_session(engine) as s, s.begin():
            s.add(
                ReasonVerdict(
                    trace_id=job.trace_id,
                    human_source=human,
                    model_source=model,
                    judge=judge,
                    same=parse_verdict(raw),
                    raw=raw,
                )
            )
        if progress:
            progress(i + 1, len(todo))
    return len(todo)


def reason_accuracy(engine: Engine, project: str, *, human: str, model: str, judge: str) -> dict[str, Any]:
    """Accuracy(reason): step and reason both right, over the traces the human found flawed (and the model judged)."""
    with open_session(engine) as s:
        pid = _project_id(s, project)
        people, critics = _rows(s, pid, Source.parse(human)), _rows(s, pid, Source.parse(model))
        flawed = [t for t, h in people.items() if h.first_error is not None and h.first_error >= 0 and t in critics]
        verdicts = dict(
            s.exec(
                select(ReasonVerdict.trace_id, ReasonVerdict.same).where(
                    ReasonVerdict.human_source == human,
                    ReasonVerdict.model_source == model,
                    ReasonVerdict.judge == judge,
                )
            ).all()
        )
    same = sum(1 for t in flawed if verdicts.get(t) is True)
    judged = sum(1 for t in flawed if t in verdicts)
    return {
        "n_flawed": len(flawed),
        "judged": judged,
        "same": same,
        "accuracy_reason": 100 * same / len(flawed) if flawed else None,
    }
