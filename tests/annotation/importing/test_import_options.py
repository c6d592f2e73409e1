"""What real files need beyond a clean single file: folders, one-object files, filters, bad records left out,
first errors written as text, images by path."""

import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.importing.files import parse_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from tests.utils.chat_records import openai_record, png
from tests.utils.cli import cli_database, run
from tests.utils.files import write_jsonl


def plain(i, **extra):
    return {"problem": f"What is {i}+{i}?", "steps": [f"{i}+{i}", f"= {2 * i}"], **extra}


def test_a_folder_reads_every_json_file_and_names_records_by_file(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(openai_record(), indent=2))
    (folder / "b.json").write_text(json.dumps([openai_record(), {**openai_record(), "id": "run-8"}]))
    (folder / "notes.txt").write_text("not a record")
    parsed = parse_file(folder)
    assert parsed.format == "openai-messages" and len(parsed.records) == 3
    ids = [r.trace.record_id for r in parsed.records]
    assert ids == ["run-7", "run-7", "run-8"]  # the records' own ids win
    for r in (folder / "a.json", folder / "b.json"):
        data = json.loads(r.read_text())
        for d in data if isinstance(data, list) else [data]:
            d.pop("id")
        r.write_text(json.dumps(data, indent=1))
    assert [r.trace.record_id for r in parse_file(folder).records] == ["a.json", "b.json#1", "b.json#2"]


def test_a_bad_record_in_a_folder_is_named_by_its_file(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    bad = openai_record()
    del bad["messages"][2]["role"]
    (folder / "a.json").write_text(json.dumps(openai_record()))
    (folder / "b.json").write_text(json.dumps(bad, indent=2))
    with pytest.raises(ImportFailure) as e:
        parse_file(folder)
    assert e.value.file == "runs/b.json" and e.value.field == "messages[2].role"


def test_a_pretty_printed_object_file_is_one_record_and_json_lines_named_json_still_read(tmp_path):
    traj = tmp_path / "x.traj"
    traj.write_text(json.dumps(openai_record(), indent=2))
    assert len(parse_file(traj).records) == 1
    lines = tmp_path / "lines.json"
    lines.write_text("\n".join(json.dumps(plain(i)) for i in range(3)))
    assert len(parse_file(lines, fmt="generic").records) == 3


def test_skip_invalid_leaves_out_bad_records_and_lists_why(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps(plain(1))
        + "\n"
        + '{"problem": "cut'
        + "\n"
        + json.dumps({"problem": "no steps"})
        + "\n"
        + json.dumps(plain(2))
        + "\n"
    )
    with pytest.raises(ImportFailure) as e:
        parse_file(path, fmt="generic")
    assert e.value.line == 2
    parsed = parse_file(path, fmt="generic", skip_invalid=True)
    assert [r.trace.problem for r in parsed.records] == ["What is 1+1?", "What is 2+2?"]
    assert len(parsed.skipped) == 2
    assert "record 2, line 2" in parsed.skipped[0] and "not valid JSON" in parsed.skipped[0]
    assert "record 3, line 3, field 'steps'" in parsed.skipped[1]


def test_where_keeps_matching_records_reaching_into_objects(tmp_path):
    path = write_jsonl(
        tmp_path / "w.jsonl", [plain(i, info={"domain": "air" if i % 2 else "retail"}) for i in range(6)]
    )
    parsed = parse_file(path, fmt="generic", where={"info.domain": "air"})
    assert [r.trace.problem for r in parsed.records] == ["What is 1+1?", "What is 3+3?", "What is 5+5?"]
    assert parsed.not_matching == 3
    with pytest.raises(ImportFailure, match="no record has info.domain = 'sea'"):
        parse_file(path, fmt="generic", where={"info.domain": "sea"})


def test_a_first_error_written_as_text_is_read_with_a_pattern(tmp_path):
    records = [plain(1, verdict="Step 2 is where it goes wrong"), plain(2, verdict="N/A"), plain(3, verdict="fine")]
    mapping = FieldMapping(first_error="verdict", first_error_base=1, first_error_pattern=r"Step (\d+)")
    with pytest.raises(ImportFailure) as e:
        parse_file(write_jsonl(tmp_path / "p.jsonl", records), fmt="generic", options=ConvertOptions(mapping=mapping))
    assert e.value.record == 3 and "does not match the first-error pattern" in str(e.value)
    parsed = parse_file(
        write_jsonl(tmp_path / "p.jsonl", records[:2]), fmt="generic", options=ConvertOptions(mapping=mapping)
    )
    assert [r.judgments[0].first_error for r in parsed.records] == [1, -1]
    with pytest.raises(Exception, match="group"):
        FieldMapping(first_error="verdict", first_error_pattern=r"Step \d+")


def test_an_image_column_is_read_beside_the_file(tmp_path):
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "q1.png").write_bytes(png())
    records = [plain(1, figure="figs/q1.png"), plain(2, figure="https://example.org/q2.png")]
    options = ConvertOptions(mapping=FieldMapping(image="figure"))
    parsed = parse_file(write_jsonl(tmp_path / "v.jsonl", records), fmt="generic", options=options, image_dir=tmp_path)
    [name] = parsed.records[0].trace.images
    assert parsed.images[name].data == png() and name.endswith(".png")
    assert parsed.records[1].trace.images == ["https://example.org/q2.png"]
    assert "figure" not in parsed.records[0].trace.metadata
    escape = [plain(1, figure="../outside.png")]
    with pytest.raises(ImportFailure) as e:
        parse_file(write_jsonl(tmp_path / "e.jsonl", escape), fmt="generic", options=options, image_dir=tmp_path)
    assert e.value.field == "figure" and "leaves the folder" in str(e.value)


def test_cli_takes_the_new_options(tmp_path, monkeypatch, capsys):
    cli_database(tmp_path, monkeypatch)
    path = write_jsonl(tmp_path / "t.jsonl", [plain(1, verdict="Step 1", kind="a"), plain(2, kind="b"), {"x": 1}])
    code, out, _ = run(
        capsys,
        "import", str(path), "--project", "P", "--map", "problem=problem", "--map", "steps=steps",
        "--map", "first_error=verdict", "--first-error-pattern", r"Step (\d+)", "--first-error-base", "1",
        "--where", "kind=a", "--skip-invalid", "--quiet",
    )  # fmt: skip
    assert code == 0
    assert "Traces: 1 added" in out and "Records not matching --where, left out: 2" in out
    conversation = write_jsonl(tmp_path / "c.jsonl", [openai_record()])
    code, out, _ = run(capsys, "import", str(conversation), "--project", "C", "--steps-per", "message", "--json")
    assert json.loads(out)["steps_added"] == len(openai_record()["messages"])


def test_skip_invalid_leaves_out_a_broken_file_of_a_folder(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(openai_record()))
    (folder / "b.json").write_text(json.dumps(openai_record(), indent=2)[:-40])
    with pytest.raises(ImportFailure):
        parse_file(folder)
    parsed = parse_file(folder, skip_invalid=True)
    assert len(parsed.records) == 1 and len(parsed.skipped) == 1 and "runs/b.json" in parsed.skipped[0]
