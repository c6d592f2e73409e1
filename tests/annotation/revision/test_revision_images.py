"""A reviser that sees images is sent the trace's stored images (read just before the request); one that does not
is told how many it is not shown; remote links are never sent; a second run sends nothing."""

from __future__ import annotations

import json

from sqlmodel import delete, select

from annotation.core.model import REFERENCE, Judgment
from annotation.core.records import judgment_row
from annotation.importing.files import import_file
from annotation.revision.prompts import IMAGE_PLACEHOLDER
from annotation.revision.runs import RevisionPlan, run_revision
from storage import queries
from storage.db import session
from storage.tables import RevisionResult, StoredImage, TraceRow, utcnow
from tests.utils.chat_records import openai_record, png
from tests.utils.critic_data import stub_critic
from tests.utils.files import write_jsonl
from tests.utils.openai_stub import OpenAIStub


def _vision_project(engine, tmp_path, *, remote: bool = False) -> None:
    record = openai_record(png(12, 9))
    if remote:
        record["messages"][1]["content"].append({"type": "image_url", "image_url": {"url": "https://x.example/a.png"}})
    import_file(engine, write_jsonl(tmp_path / "v.jsonl", [record]), project="vision")
    with session(engine) as s:
        row = s.exec(select(TraceRow)).one()
        row.reference_answer = "12"
        s.add(row)
        judgment = Judgment(REFERENCE, first_error=1)
        queries.insert_judgments(s, rows=[judgment_row(judgment, trace_id=row.id, now=utcnow())])
        s.commit()


def _content(stub: OpenAIStub):
    return stub.bodies[-1]["messages"][0]["content"]


def test_a_reviser_that_sees_images_gets_the_stored_image_and_one_that_does_not_is_told(sqlite_engine, tmp_path):
    _vision_project(sqlite_engine, tmp_path, remote=True)
    with OpenAIStub("Final answer: \\boxed{12}") as stub:
        seeing = stub_critic(sqlite_engine, stub.api_base, name="seeing", vision=True)
        done = run_revision(sqlite_engine, RevisionPlan("vision", "reference", seeing))
        content = _content(stub)
        again = run_revision(sqlite_engine, RevisionPlan("vision", "reference", seeing))
        sent = stub.requests
        blind = stub_critic(sqlite_engine, stub.api_base, name="blind", vision=False)
        run_revision(sqlite_engine, RevisionPlan("vision", "reference", blind))
        blind_content = _content(stub)

    assert (done.status, done.done, done.failed) == ("done", 1, 0)
    assert isinstance(content, list) and content[0]["type"] == "text"
    [picture] = [c for c in content if c["type"] == "image_url"]
    assert picture["image_url"]["url"].startswith("data:image/png;base64,")
    # The remote link is neither sent nor fetched: it is counted as an image the reviser is not shown.
    assert "x.example" not in str(content)
    assert "this trace shows 1 image(s) that you are not shown" in content[0]["text"]
    assert (again.done, again.skipped, sent) == (0, 1, 1)
    assert isinstance(blind_content, str) and "shows 2 image(s) that you are not shown" in blind_content
    with session(sqlite_engine) as s:
        stored = s.exec(select(RevisionResult).where(RevisionResult.reviser == "seeing")).one()
    assert stored.revised_correct is True
    assert IMAGE_PLACEHOLDER not in str(content)  # filled in before sending
    assert "base64" not in json.dumps(stored.extra)  # the image itself is not stored with the result


def test_an_image_deleted_after_the_run_chose_it_fails_that_request_naming_it(sqlite_engine, tmp_path, monkeypatch):
    import annotation.revision.runs as runs

    _vision_project(sqlite_engine, tmp_path)
    chosen = runs.select_items

    def then_deleted(*args, **kwargs):
        out = chosen(*args, **kwargs)
        with session(sqlite_engine) as s:
            s.exec(delete(StoredImage))
            s.commit()
        return out

    monkeypatch.setattr(runs, "select_items", then_deleted)
    with OpenAIStub("Final answer: \\boxed{12}") as stub:
        seeing = stub_critic(sqlite_engine, stub.api_base, name="seeing", vision=True)
        p = run_revision(sqlite_engine, RevisionPlan("vision", "reference", seeing))
        assert stub.requests == 0
    assert (p.done, p.failed) == (1, 1)  # finished, and failed
    with session(sqlite_engine) as s:
        row = s.exec(select(RevisionResult)).one()
    assert row.status == "failed" and "is no longer stored in the project" in row.extra["error"]
