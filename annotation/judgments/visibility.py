"""The one rule for who may see which judgments: every read for a person goes through ``ProjectView``.

- Admins see everything.
- Anyone else sees only projects they are a member of, and in them always their own judgments.
- On a quality-control trace nobody but admins sees any other judgment (reference, consensus, other
  people's, the models'), nor the reference answer and solution: the trace scores the person against them.
- On a blind project nobody but admins sees the reference, the consensus or other people's judgments
  on any trace, nor reference answers; the models' critiques stay visible (they are there to be checked).

Annotate, Check critiques, Compare (sources offered, figures, disagreements, trace detail, history, revision
results) and the CLI when it acts for a person all ask this module, so the rule is written once. A revision
result is graded against the reference answer, so it is shown only where the reference fields may be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, select

from annotation.accounts.users import Account, projects_for
from storage.db import session
from storage.tables import Project

ALL_HUMANS = "human:*"


class NoAccess(PermissionError):
    """The person is not a member of the project (and not an admin)."""


@dataclass(frozen=True, slots=True)
class ProjectView:
    """What one person may see in one project."""

    username: str
    is_admin: bool
    blind: bool

    @classmethod
    def admin(cls) -> ProjectView:
        return cls(username="", is_admin=True, blind=False)

    def _hides_others(self, qc: bool) -> bool:
        return not self.is_admin and (self.blind or qc)

    def may_see(self, kind: str, name: str, *, qc: bool) -> bool:
        """Whether a judgment by ``kind:name`` on a trace (``qc`` or not) may be shown to this person."""
        if not self._hides_others(qc):
            return True
        return (kind == "human" and name == self.username) or (kind == "model" and not qc)

    def sees_reference_fields(self, *, qc: bool) -> bool:
        """The trace's reference answer and solution."""
        return not self._hides_others(qc)

    def visible_mask(self, kind: np.ndarray, source: np.ndarray, qc: np.ndarray) -> np.ndarray:
        """``may_see`` over columns of judgments (kind, "kind:name" source, the trace's qc flag)."""
        kind = np.asarray(kind, dtype=object)
        source = np.asarray(source, dtype=object)
        qc = np.asarray(qc, dtype=bool)
        if self.is_admin:
            return np.ones(len(kind), dtype=bool)
        own = source == f"human:{self.username}"
        if self.blind:
            return own | ((kind == "model") & ~qc)
        return own | ~qc

    def may_see_revision(self, kind: str, name: str, *, qc: bool) -> bool:
        """A revision result: the critique's source must be visible, and, since its grades say whether answers
        match the reference answer, so must the trace's reference fields."""
        return self.may_see(kind, name, qc=qc) and self.sees_reference_fields(qc=qc)

    def revision_mask(self, kind: np.ndarray, source: np.ndarray, qc: np.ndarray) -> np.ndarray:
        """``may_see_revision`` over columns of results."""
        mask = self.visible_mask(kind, source, qc)
        if self.is_admin:
            return mask
        return mask & ~np.asarray(qc, dtype=bool) & (not self.blind)

    def sources_offered(self, sources: list[str]) -> list[str]:
        """The sources this person may choose to compare (of those with a judgment they may see), with "all
        humans" where other people's judgments are theirs to see."""
        if self.blind and not self.is_admin:
            own = f"human:{self.username}"
            return [s for s in sources if s == own or s.startswith("model:")]
        humans = [s for s in sources if s.startswith("human:")]
        return [*sources, ALL_HUMANS] if humans else list(sources)

    def sees_other_people(self) -> bool:
        return self.is_admin or not self.blind


def project_view(engine: Engine, account: Account, project: str) -> ProjectView:
    """The view of ``account`` on ``project``; NoAccess when they may not open it at all."""
    with session(engine) as s:
        blind = s.execute(select(Project.blind).where(Project.name == project)).scalar_one_or_none()
    if blind is None:
        raise NoAccess(f"no project named {project!r}")
    if not account.is_admin and project not in projects_for(engine, account):
        raise NoAccess(f"{account.username} does not work on project {project!r}")
    return ProjectView(username=account.username, is_admin=account.is_admin, blind=bool(blind))
