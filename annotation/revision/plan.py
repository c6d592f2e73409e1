"""What a revision run is asked (a plan), and what it reports as it goes (its progress)."""

from __future__ import annotations

from dataclasses import dataclass

from annotation.core.model import InvalidValue
from annotation.critics.config import CriticConfig
from annotation.critics.runs import RunProgress
from annotation.metrics.pairs import check_source
from annotation.revision.grading import check_grader
from annotation.revision.prompts import SHOWS


class NotAllowed(PermissionError):
    """Only admins start revision runs."""


@dataclass(frozen=True)
class RevisionPlan:
    """What a run is asked to do."""

    project: str
    critiques: str  # reference, consensus, human:NAME, human:* or model:NAME
    reviser: CriticConfig
    show: str = "full"
    grader: str = "math-verify"
    limit: int | None = None

    def validate(self) -> RevisionPlan:
        if self.show not in SHOWS:
            raise InvalidValue("show", f"{self.show!r} is not one of {', '.join(SHOWS)}")
        if self.limit is not None and self.limit < 1:
            raise InvalidValue("limit", "limit must be at least 1")
        grader = check_grader(self.grader)
        self.reviser.validate()
        critiques = check_source(self.critiques)
        if (critiques, grader) == (self.critiques, self.grader):
            return self
        # As normalised: a grader typed " exact " is stored, and found again, as "exact".
        return RevisionPlan(**{**self.__dict__, "critiques": critiques, "grader": grader})


@dataclass
class RevisionProgress(RunProgress):
    # Replies reused from stored results (no request sent), graded and stored again.
    cached: int = 0
    no_reference: int = 0
    # Revised solutions that gave no final answer (graded wrong).
    no_answer: int = 0
    # Answered, but an answer could not be graded (an LLM grader failed, or the run was cancelled while grading):
    # kept out of the figures and graded again by the next run.
    ungraded: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.cached
