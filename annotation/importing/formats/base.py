"""What every format adapter is, and the small helpers adapters share to read fields strictly."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from annotation.core.model import REFERENCE, InvalidValue, Judgment, Source, Trace
from annotation.importing import images
from annotation.importing.formats.reading import RawRecord
from annotation.importing.images import ImageBlob


@dataclass(slots=True)
class ImportedRecord:
    """One record converted: a trace and the judgments that came with it."""

    trace: Trace
    judgments: list[Judgment]
    number: int
    line: int | None
    # The identity the file claims for the trace (Redline's export: the key of the record first imported, which
    # differs from the trace's own once its steps were merged or split). Trusted only when the steps match.
    claimed_key: str | None = None


@dataclass(slots=True)
class ConvertOptions:
    """What the person importing chose; adapters read only what concerns them."""

    label_source: Source = REFERENCE
    predictions_source: Source | None = None
    mapping: Any = None  # a FieldMapping for the generic adapter
    # Conversations: one assistant turn with its tool results per step, or one message per step.
    steps_per: str = "turn"
    # The record's field holding the messages, when it is not one a chat format looks for by itself.
    messages_field: str | None = None
    # Fine-Grained RLHF: the judged answer as one step ("whole") or one step per sentence ("sentences").
    answer_split: str = "whole"


@dataclass(slots=True)
class ConvertContext:
    file: str
    options: ConvertOptions
    warnings: list[str] = field(default_factory=list)
    # Where image paths in the file are read from (its folder); None when it was uploaded on its own.
    image_dir: Path | None = None
    # Images the records named, by stored name: written with the traces.
    images: dict[str, ImageBlob] = field(default_factory=dict)

    def warn(self, raw: RawRecord, message: str) -> None:
        where = f"record {raw.number}" + (f", line {raw.line}" if raw.line else "")
        self.warnings.append(f"{self.file}, {where}: {message}")

    def image(self, ref: Any, where: str) -> str:
        """A part's image: a remote URL as it is, else the name of the image copied in (see importing.images)."""
        return images.take(ref, base_dir=self.image_dir, where=where, found=self.images)


class Adapter(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    #: Keys whose presence in every sampled record identifies the format.
    signature: ClassVar[frozenset[str]] = frozenset()

    #: Where the file keeps what the canonical types call by another name, for error messages.
    file_fields: ClassVar[dict[str, str]] = {}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return bool(self.signature) and all(self.signature <= rec.keys() for rec in sample)

    def file_field(self, name: str, options: ConvertOptions) -> str:
        return self.file_fields.get(name, name)

    @abstractmethod
    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord: ...

    def convert_all(self, raw: RawRecord, ctx: ConvertContext) -> list[ImportedRecord]:
        """Every trace one record holds: one, unless the format packs several (an OTLP export request)."""
        return [self.convert(raw, ctx)]


def need(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise InvalidValue(key, "missing")
    return data[key]


def text(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = need(data, key) if required else data.get(key)
    if value is None:
        if required:
            raise InvalidValue(key, "is null; expected text")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValue(key, f"expected text, got {type(value).__name__}")
    return str(value)


def text_list(data: dict[str, Any], key: str) -> list[str]:
    value = need(data, key)
    if not isinstance(value, list):
        raise InvalidValue(key, f"expected a list of steps, got {type(value).__name__}")
    if not value:
        raise InvalidValue(key, "the steps list is empty")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidValue(key, f"item {i} is {type(item).__name__}, expected text")
    return value


def integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise InvalidValue(key, f"expected an integer, got {value!r}")
    return value


def scalar_metadata(data: dict[str, Any], skip: set[str]) -> dict[str, Any]:
    """Whatever else the record carried, kept so nothing the file said is dropped."""
    return {k: v for k, v in data.items() if k not in skip}
