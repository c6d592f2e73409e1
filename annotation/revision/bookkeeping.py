"""A revision run's row: started, counted, finished, cancelled from any process, and listed afterwards. Runs left
"running" by a dead process are marked interrupted, as critic runs are (annotation.critics.runs)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import select

from annotation.critics.runs import mark_interrupted, process_tag, request_cancel
from annotation.revision.plan import RevisionPlan, RevisionProgress
from storage.db import session
from storage.tables import RevisionRun, utcnow

AGAIN = "running the same revision again resumes it"


def start_run(engine: Engine, plan: RevisionPlan, project_id: int, total: int, started_by: str) -> int:
    mark_interrupted(engine, table=RevisionRun, again=AGAIN)
    with session(engine) as s:
        run = RevisionRun(
            project_id=project_id,
            critiques=plan.critiques,
            show=plan.show,
            reviser=plan.reviser.name,
            reviser_hash=plan.reviser.config_hash(),
            grader=plan.grader,
            total=total,
            filters={"model": plan.reviser.model, "limit": plan.limit, "process": process_tag()},
            started_by=started_by,
            heartbeat_at=utcnow(),
        )
        s.add(run)
        s.commit()
        return run.id


def copy_counts(run: RevisionRun, p: RevisionProgress) -> None:
    run.done, run.failed, run.cached, run.no_reference = p.done, p.failed, p.skipped + p.cached, p.no_reference
    run.ungraded = p.ungraded
    run.cost, run.prompt_tokens, run.completion_tokens = p.cost, p.prompt_tokens, p.completion_tokens


def finish(engine: Engine, p: RevisionProgress) -> None:
    with session(engine) as s:
        run = s.get(RevisionRun, p.run_id)
        if run is None:
            return
        run.status, run.error, run.finished_at = p.status, p.error, utcnow()
        copy_counts(run, p)
        s.add(run)
        s.commit()


def cancel_run(engine: Engine, run_id: int) -> bool:
    return request_cancel(engine, run_id, table=RevisionRun)


@dataclass
class RevisionRunRecord:
    id: int
    project: str
    critiques: str
    show: str
    reviser: str
    grader: str
    status: str
    total: int
    done: int
    cached: int
    failed: int
    ungraded: int
    no_reference: int
    cost: float
    tokens: int
    started_by: str
    started_at: str
    finished_at: str | None
    error: str | None


def revision_history(engine: Engine, *, project: str | None = None, limit: int = 50) -> list[RevisionRunRecord]:
    from storage.tables import Project

    mark_interrupted(engine, table=RevisionRun, again=AGAIN)
    with session(engine) as s:
        query = select(RevisionRun, Project.name).join(Project, Project.id == RevisionRun.project_id)
        if project is not None:
            query = query.where(Project.name == project)
        rows = s.exec(query.order_by(RevisionRun.id.desc()).limit(limit)).all()
        return [
            RevisionRunRecord(
                id=run.id,
                project=name,
                critiques=run.critiques,
                show=run.show,
                reviser=run.reviser,
                grader=run.grader,
                status=run.status,
                total=run.total,
                done=run.done,
                cached=run.cached,
                failed=run.failed,
                ungraded=run.ungraded,
                no_reference=run.no_reference,
                cost=run.cost,
                tokens=run.prompt_tokens + run.completion_tokens,
                started_by=run.started_by,
                started_at=run.started_at.isoformat(timespec="seconds"),
                finished_at=run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
                error=run.error,
            )
            for run, name in rows
        ]
