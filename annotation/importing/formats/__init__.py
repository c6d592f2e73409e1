"""The one registry of input formats. Each adapter detects its own format from a sample of records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotation.importing.formats.anthropic_messages import AnthropicMessages
from annotation.importing.formats.base import Adapter
from annotation.importing.formats.bigbench_mistake import BigBenchMistake
from annotation.importing.formats.fgrlhf import FGRLHF
from annotation.importing.formats.generic import Generic
from annotation.importing.formats.langfuse import LangfuseTrace
from annotation.importing.formats.math_shepherd import MathShepherd
from annotation.importing.formats.openai_messages import OpenAIMessages
from annotation.importing.formats.otel_genai import OTelGenAI
from annotation.importing.formats.prm800k import PRM800K
from annotation.importing.formats.prmbench import PRMBench
from annotation.importing.formats.processbench import ProcessBench
from annotation.importing.formats.redline import RedlineExport
from annotation.importing.formats.swe_agent import SWEAgent
from annotation.importing.formats.trl_stepwise import TRLStepwise


class UnknownFormat(LookupError):
    pass


class Registry:
    def __init__(self) -> None:
        self._adapters: dict[str, Adapter] = {}

    def register(self, adapter: Adapter) -> None:
        if adapter.name in self._adapters:
            raise ValueError(f"format {adapter.name!r} is registered twice")
        self._adapters[adapter.name] = adapter

    def names(self) -> list[str]:
        return list(self._adapters)

    def all(self) -> list[Adapter]:
        return list(self._adapters.values())

    def get(self, name: str) -> Adapter:
        try:
            return self._adapters[name]
        except KeyError:
            raise UnknownFormat(f"unknown format {name!r}; supported: {', '.join(self._adapters)}") from None

    def detect(self, sample: Sequence[dict[str, Any]]) -> Adapter:
        """The format most of the sampled records match, so that one broken record still gets
        its precise complaint from the right adapter instead of a vague "unknown format"."""
        scores = {a.name: sum(a.detect([r]) for r in sample) for a in self._adapters.values()}
        best = max(scores.values(), default=0)
        matches = [name for name, score in scores.items() if score == best]
        if best * 2 > len(sample) and len(matches) == 1:
            return self._adapters[matches[0]]
        keys = sorted(set().union(*(r.keys() for r in sample))) if sample else []
        if best * 2 <= len(sample):
            raise UnknownFormat(
                f"no known format matches the fields {keys[:12]}; choose one of {', '.join(self._adapters)} "
                "(use 'generic' with a field mapping for your own files)"
            )
        raise UnknownFormat(f"the file matches several formats ({', '.join(matches)}); name one")


FORMATS = Registry()
for _adapter in (
    ProcessBench(),
    BigBenchMistake(),
    PRM800K(),
    PRMBench(),
    TRLStepwise(),
    MathShepherd(),
    FGRLHF(),
    OpenAIMessages(),
    AnthropicMessages(),
    SWEAgent(),
    OTelGenAI(),
    LangfuseTrace(),
    RedlineExport(),
    Generic(),
):
    FORMATS.register(_adapter)
