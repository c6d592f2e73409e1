"""The one registry of export formats, refusing two formats of one name (as importing.formats does for imports)."""

from __future__ import annotations

from annotation.exporting.formats.axolotl_prm import AxolotlPRM
from annotation.exporting.formats.base import Exporter
from annotation.exporting.formats.bigbench_mistake import BigBenchMistake
from annotation.exporting.formats.critique_sft import CritiqueSFT
from annotation.exporting.formats.dpo import DPO
from annotation.exporting.formats.fgrlhf import FGRLHFExport
from annotation.exporting.formats.fgrlhf_rm import FGRLHFSentence, FGRLHFSubsentence, FGRLHFToken
from annotation.exporting.formats.kto import KTO
from annotation.exporting.formats.openrlhf_prm import OpenRLHFPRM
from annotation.exporting.formats.prm800k import PRM800K
from annotation.exporting.formats.processbench import ProcessBench
from annotation.exporting.formats.redline import Redline
from annotation.exporting.formats.trl_stepwise import TRLStepwise


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
    OpenRLHFPRM(),
    AxolotlPRM(),
    ProcessBench(),
    PRM800K(),
    CritiqueSFT(),
    DPO(),
    KTO(),
    Redline(),
    BigBenchMistake(),
    FGRLHFExport(),
    FGRLHFSentence(),
    FGRLHFSubsentence(),
    FGRLHFToken(),
):
    EXPORTS.register(_exporter)
