"""Outputs appear only when complete; a README that is not ours is never overwritten; folders are replaced only
when they hold an earlier export."""

from __future__ import annotations

import pytest

from annotation.exporting.formats import EXPORTS, ExportRegistry
from annotation.exporting.formats.base import ExportFailure, ExportOptions
from annotation.exporting.formats.trl_stepwise import TRLStepwise
from annotation.exporting.formats.writers import CARD_MARKER, JsonlWriter, ParquetWriter
from annotation.exporting.run import export_project
from tests.utils import export_data


@pytest.fixture
def project(sqlite_engine):
    export_data.build(sqlite_engine)
    return sqlite_engine


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("writer_type", [JsonlWriter, ParquetWriter])
def test_an_aborted_write_leaves_the_previous_file_and_no_part(tmp_path, writer_type):
    schema = TRLStepwise().arrow_schema(ExportOptions())
    final = tmp_path / "data.out"
    final.write_text("the previous export")
    writer = writer_type(final, schema)
    writer.write({"prompt": "p", "completions": ["a"], "labels": [True]})
    assert final.read_text() == "the previous export"  # nothing shows until close
    writer.abort()
    assert final.read_text() == "the previous export"
    assert leftovers(tmp_path) == []


def test_a_failing_export_leaves_nothing_half_written(project, tmp_path, monkeypatch):
    out = tmp_path / "trl.jsonl"

    def broken(self, item, options, tally):
        if item.position == 5:
            raise RuntimeError("disk full")
        yield {"prompt": "p", "completions": ["a"], "labels": [True]}

    monkeypatch.setattr(TRLStepwise, "records_of", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export_project(project, export_data.PROJECT, "trl-stepwise", out)
    assert not out.exists()
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "trl.jsonl.README.md").exists()


def test_card_goes_beside_the_data_but_never_over_someone_elses_file(project, tmp_path):
    first = export_project(project, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    assert first.card == str(tmp_path / "pb.jsonl.README.md")
    assert CARD_MARKER in (tmp_path / "pb.jsonl.README.md").read_text()
    again = export_project(project, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    assert again.card == str(tmp_path / "pb.jsonl.README.md")  # our own card is refreshed

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("# My notes\n")
    (mine / "pb.jsonl.README.md").write_text("# Notes on pb\n")
    export_project(project, export_data.PROJECT, "processbench", mine / "other.jsonl")
    assert (mine / "README.md").read_text() == "# My notes\n"
    with pytest.raises(ExportFailure, match="not a dataset card Redline wrote"):
        export_project(project, export_data.PROJECT, "processbench", mine / "pb.jsonl")
    assert (mine / "pb.jsonl.README.md").read_text() == "# Notes on pb\n" and not (mine / "pb.jsonl").exists()


def test_hf_folder_replaces_an_earlier_export_but_not_other_folders(project, tmp_path):
    out = tmp_path / "ds"
    export_project(project, export_data.PROJECT, "processbench", out, ExportOptions(output="hf"))
    export_project(project, export_data.PROJECT, "processbench", out, ExportOptions(output="hf", test_share=0.5))
    assert (out / "dataset_dict.json").exists() and (out / "README.md").exists()

    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(ExportFailure, match="not a Hugging Face dataset folder"):
        export_project(project, export_data.PROJECT, "processbench", other, ExportOptions(output="hf"))
    assert [p.name for p in other.iterdir()] == ["cat.jpg"]
    assert leftovers(tmp_path) == []


def test_registry_refuses_a_name_twice():
    registry = ExportRegistry()
    registry.register(TRLStepwise())
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(TRLStepwise())
    assert EXPORTS.names() == [
        "trl-stepwise",
        "openrlhf-prm",
        "axolotl-prm",
        "processbench",
        "prm800k",
        "critique-sft",
        "dpo",
        "kto",
        "redline",
        "bigbench-mistake",
        "fgrlhf",
        "fgrlhf-rm-sentence",
        "fgrlhf-rm-subsentence",
        "fgrlhf-rm-token",
    ]
