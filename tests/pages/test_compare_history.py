"""The Compare page's trace detail shows the history of the trace's judgments; blind projects only one's own."""

from __future__ import annotations

from sqlmodel import select

from annotation.accounts.users import create_user, set_members
from storage import queries
from storage.db import session
from storage.tables import JudgmentRow, Project
from tests.pages.conftest import open_app
from tests.pages.test_compare import PAGE, PROJECT, project  # noqa: F401 (a fixture)


def revise_ann1(db, trace_id: int) -> None:
    with session(db) as s:
        row = s.exec(
            select(JudgmentRow).where(JudgmentRow.trace_id == trace_id, JudgmentRow.source_name == "ann1")
        ).one()
        content = {**queries.judgment_content(row), "first_error": 0}
        queries.revise_judgment(s, judgment=row, content=content, expected_version=1, changed_by="admin")
        s.commit()


def histories(at) -> dict[str, list[dict]]:
    """Each history table on the page, by the source named in the caption above it."""
    captions = [c.value.split(" · ")[0].replace("\\", "") for c in at.caption if " version" in c.value]
    tables = [d.value for d in at.dataframe if "what changed" in d.value.columns]
    return {source: t.to_dict("records") for source, t in zip(captions, tables, strict=True)}


def open_first_disagreement(user: str, role: str):
    at = open_app(PAGE, user=user, role=role)
    at.selectbox(key="compare_a").set_value("human:ann1").run()
    at.selectbox(key="compare_b").set_value("model:critic").run()
    at.selectbox(key="compare_trace").set_value(0).run()
    assert not at.exception
    return at


def test_admin_sees_every_version_with_who_and_when(project, db):  # noqa: F811
    trace_id = project[1]  # ann1 says no error; the critic says step 2
    revise_ann1(db, trace_id)
    at = open_first_disagreement("admin", "admin")
    found = histories(at)
    assert set(found) == {"human:ann1", "human:ann2", "model:critic", "reference"}
    ann1 = found["human:ann1"]
    assert [(v["version"], v["made by"], v["says"]) for v in ann1] == [
        (1, "human:ann1", "no error"),
        (2, "admin", "first error at step 1"),
    ]
    assert ann1[1]["what changed"] == "no error → first error at step 1"
    assert all(v["when (UTC)"] for v in ann1)


def test_a_blind_annotator_sees_only_their_own_history_and_the_models(project, db):  # noqa: F811
    create_user(db, username="ann1", password="test-password-1", role="annotator")
    set_members(db, project=PROJECT, usernames=["ann1"])
    with session(db) as s, s.begin():
        s.exec(select(Project).where(Project.name == PROJECT)).one().blind = True
    at = open_first_disagreement("ann1", "annotator")
    # No other person, no reference, no consensus; the models' critiques are there to be compared and checked.
    assert {h for h in histories(at) if not h.startswith("model:")} == {"human:ann1"}
