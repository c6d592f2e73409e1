"""Measures comparing two sources of judgments (ProcessBench, MR-GSM8K, agreement), used by the Compare page and CLI."""

from annotation.metrics.pairs import ALL_HUMANS, ProjectJudgments, data_version, load_project, make_pairs
from annotation.metrics.report import Comparison, compare

__all__ = ["ALL_HUMANS", "Comparison", "ProjectJudgments", "compare", "data_version", "load_project", "make_pairs"]
