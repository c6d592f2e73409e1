"""The one registry of export formats, refusing two formats of one name (as annotation.formats does for imports)."""

from __future__ import annotations

from annotation.exports.base import Exporter
from annotation.exports.bigbench_mistake import BigBenchMistake
from annotation.exports.critique_sft import CritiqueSFT
from annotation.exports.dpo import DPO
from annotation.exports.kto import KTO
from annotation.exports.prm800k import PRM800K
from annotation.exports.processbench import ProcessBench
from annotation.exports.redline import Redline
from annotation.exports.trl_stepwise import TRLStepwise


class UnknownExport(LookupError):
    pass


class ExportRegistry:
    def __init__(self) -> None:
        self._exporters: dict[str, Exporter] = {}

    def register(self, exporter: Exporter) -> None:
        if exporter.name in self._exporters:
            raise ValueError(f"export format {exporter.name!r} is registered twice")
        self._exporters[exporter.name] = exporter

    def names(self) -> list[str]:
        return list(self._exporters)

    def all(self) -> list[Exporter]:
        return list(self._exporters.values())

    def get(self, name: str) -> Exporter:
        try:
            return self._exporters[name]
        except KeyError:
            raise UnknownExport(f"unknown export format {name!r}; supported: {', '.join(self._exporters)}") from None


EXPORTS = ExportRegistry()
for _exporter in (
    TRLStepwise(),
    ProcessBench(),
    PRM800K(),
    CritiqueSFT(),
    DPO(),
    KTO(),
    Redline(),
    BigBenchMistake(),
):
    EXPORTS.register(_exporter)
