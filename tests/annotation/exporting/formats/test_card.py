"""The dataset card: counts, label distribution, sources, agreement and the project's licence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.formats.licences import hub_licence_id
from annotation.exporting.run import export_project
from tests.utils import export_data


def header(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_card_reports_counts_labels_sources_agreement_and_licence(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    summary = export_project(
        sqlite_engine, export_data.PROJECT, "trl-stepwise", tmp_path / "trl.jsonl", ExportOptions(test_share=0.5)
    )
    card = (tmp_path / "trl.jsonl.README.md").read_text()
    facts = summary.facts

    assert card.startswith("---\nlicense: cc-by-4.0\n")
    assert "Licence: CC-BY-4.0" in card
    assert f"| train | {facts['records']['train']:,} | {facts['traces']['train']:,} |" in card
    assert f"| test | {facts['records']['test']:,} | {facts['traces']['test']:,} |" in card
    assert "| labelled give_up | 1 | 100.0% |" in card
    assert "| consensus | 1 |" in card and "| human:bob | 5 |" in card and "| reference | 5 |" in card
    # Traces 0-5 have two humans; they agree on 0, 2 and 4.
    assert facts["agreement"] == {
        "traces_with_two_or_more_humans": 6,
        "share_all_agree": 0.5,
        "mean_majority_share": 0.75,
        "ties_settled_by_latest": 3,  # 1, 3 and 5: two people, two first errors, the later one taken
    }
    assert "- ties between first errors settled by the most recent judgment: 3" in card
    assert "- share where they all chose the same first error: 50.0%" in card
    assert "- test split: 50% of the problems" in card


def test_an_unknown_licence_is_declared_other_with_its_name_quoted(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine, licence='Internal use only\n"no" sharing')
    export_project(sqlite_engine, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    card = (tmp_path / "pb.jsonl.README.md").read_text()
    assert 'license: other\nlicense_name: "Internal use only \\"no\\" sharing"\n' in card


def test_the_card_counts_steps_one_way_and_says_which():
    """Issue 17: the card said "0-based step index" and then labelled rows "step 1/2/3"."""
    from annotation.exporting.formats.card import first_error_class

    assert first_error_class(0) == "step 1 (label 0)"
    assert first_error_class(2) == "step 3 (label 2)"
    assert first_error_class(-1) == "no error (label -1)"
    assert first_error_class(12) == "step 11 or later (label 10 or more)"


def test_the_card_states_the_convention_once(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    export_project(sqlite_engine, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    card = (tmp_path / "pb.jsonl.README.md").read_text()
    assert card.count("Steps are counted from 1") == 1 and "0-based step index" not in card
    assert "(label " in card


def test_disagreements_can_be_left_out_or_kept_to_a_clear_majority(sqlite_engine, tmp_path):
    """Issue 17: "best" labels settled a disagreement between two annotators by whichever came last, silently."""
    export_data.build(sqlite_engine)
    kept = {}
    for how in ("latest", "majority", "leave_out"):
        summary = export_project(
            sqlite_engine,
            export_data.PROJECT,
            "processbench",
            tmp_path / f"{how}.jsonl",
            ExportOptions(disagreements=how),
        )
        kept[how] = summary.facts
    left = {how: facts["left_out"] for how, facts in kept.items()}
    assert left["majority"].get("a tie between the humans' first errors") == 3
    assert left["leave_out"].get("the humans disagree on the first error") == 3
    assert kept["majority"]["agreement"]["ties_settled_by_latest"] == 0
    assert kept["latest"]["agreement"]["ties_settled_by_latest"] == 3


def test_the_summary_says_how_many_ties_the_latest_judgment_settled(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    summary = export_project(sqlite_engine, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    assert any(line.startswith("Ties settled by the most recent judgment: 3 traces") for line in summary.lines())


@pytest.mark.parametrize(
    ("typed", "hub_id"),
    [
        ("CC BY 4.0", "cc-by-4.0"),
        ("CC-BY-4.0", "cc-by-4.0"),
        ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", "cc-by-nc-sa-4.0"),
        ("cc by-sa 3.0", "cc-by-sa-3.0"),
        ("CC0", "cc0-1.0"),
        ("Apache License, Version 2.0", "apache-2.0"),
        ("MIT License", "mit"),
        ("GPLv3", "gpl-3.0"),
        ("ODC-BY", "odc-by"),
        ("", "unknown"),
        ("Internal use only", "other"),
    ],
)
def test_licences_as_people_type_them_become_hub_ids(typed, hub_id):
    """Issue 16: "CC BY 4.0" was declared `license: other`."""
    assert hub_licence_id(typed) == hub_id


def test_the_card_header_is_utf8_yaml_with_the_hub_licence_id(sqlite_engine, tmp_path):
    """Issue 16: an emoji became escaped surrogates that YAML readers cannot encode."""
    export_data.build(sqlite_engine, name="Maths 🚀 «critics»", licence="CC BY 4.0")
    export_project(sqlite_engine, "Maths 🚀 «critics»", "processbench", tmp_path / "pb.jsonl")
    raw = (tmp_path / "pb.jsonl.README.md").read_bytes()
    text = raw.decode("utf-8")
    assert "🚀" in text and "\\ud83d" not in text
    meta = header(text)
    assert meta["license"] == "cc-by-4.0" and "license_name" not in meta
    assert meta["pretty_name"] == "Maths 🚀 «critics» (processbench)"


def test_each_export_has_its_own_card_beside_it(sqlite_engine, tmp_path):
    """Issue 16: two exports into one folder shared one README.md, the second overwriting the first's card."""
    export_data.build(sqlite_engine)
    first = export_project(sqlite_engine, export_data.PROJECT, "processbench", tmp_path / "pb.jsonl")
    second = export_project(
        sqlite_engine, export_data.PROJECT, "trl-stepwise", tmp_path / "trl.parquet", ExportOptions(output="parquet")
    )
    split = export_project(
        sqlite_engine, export_data.PROJECT, "kto", tmp_path / "kto.jsonl", ExportOptions(test_share=0.5)
    )
    folder = export_project(sqlite_engine, export_data.PROJECT, "dpo", tmp_path / "dpo", ExportOptions(output="hf"))

    assert first.card == str(tmp_path / "pb.jsonl.README.md")
    assert "`processbench`" in (tmp_path / "pb.jsonl.README.md").read_text()
    assert second.card == str(tmp_path / "trl.parquet.README.md")
    assert "`trl-stepwise`" in (tmp_path / "trl.parquet.README.md").read_text()
    assert split.card == str(tmp_path / "kto.jsonl.README.md")  # one card for both splits
    assert folder.card == str(tmp_path / "dpo" / "README.md")
    assert not (tmp_path / "README.md").exists()


def test_the_same_name_as_jsonl_and_parquet_keeps_two_cards(sqlite_engine, tmp_path):
    """Review of issue 16: prm.jsonl and prm.parquet shared prm.README.md, the second overwriting the first's."""
    export_data.build(sqlite_engine)
    jsonl = export_project(sqlite_engine, export_data.PROJECT, "axolotl-prm", tmp_path / "prm.jsonl")
    parquet = export_project(
        sqlite_engine, export_data.PROJECT, "trl-stepwise", tmp_path / "prm.parquet", ExportOptions(output="parquet")
    )
    bare = export_project(sqlite_engine, export_data.PROJECT, "kto", tmp_path / "k", ExportOptions(test_share=0.5))
    assert (jsonl.card, parquet.card) == (
        str(tmp_path / "prm.jsonl.README.md"),
        str(tmp_path / "prm.parquet.README.md"),
    )
    assert "`axolotl-prm`" in (tmp_path / "prm.jsonl.README.md").read_text()
    assert "`trl-stepwise`" in (tmp_path / "prm.parquet.README.md").read_text()
    assert bare.card == str(tmp_path / "k.jsonl.README.md")  # named by the data file the export wrote

    from annotation.exporting.train_check import check_export

    assert check_export(tmp_path / "prm.jsonl").shape == "axolotl-prm"
    assert check_export(tmp_path / "prm.parquet").shape == "trl-stepwise"
    assert check_export(tmp_path / "k-train.jsonl").shape == "kto"  # a split finds the card of its export


def test_train_check_reads_a_card_whose_project_name_holds_dashes(sqlite_engine, tmp_path):
    """Review of issue 16: the YAML header was cut at any '---', such as one in the project's name."""
    from annotation.exporting.train_check import check_export

    export_data.build(sqlite_engine, name="GSM8K --- round 2")
    export_project(sqlite_engine, "GSM8K --- round 2", "openrlhf-prm", tmp_path / "orl.jsonl")
    assert check_export(tmp_path / "orl.jsonl").shape == "openrlhf-prm"


def test_the_card_names_the_trainer_and_its_version(sqlite_engine, tmp_path):
    export_data.build(sqlite_engine)
    export_project(sqlite_engine, export_data.PROJECT, "trl-stepwise", tmp_path / "trl.jsonl")
    export_project(sqlite_engine, export_data.PROJECT, "openrlhf-prm", tmp_path / "orl.jsonl")
    export_project(sqlite_engine, export_data.PROJECT, "axolotl-prm", tmp_path / "ax.jsonl")
    trl = (tmp_path / "trl.jsonl.README.md").read_text()
    assert "Read by: TRL 1.13: trl.experimental.prm.PRMTrainer (removed in TRL 1.14" in trl
    assert "Read by: OpenRLHF 0.9.5: openrlhf.cli.train_prm" in (tmp_path / "orl.jsonl.README.md").read_text()
    assert "Read by: Axolotl 0.21.0" in (tmp_path / "ax.jsonl.README.md").read_text()


@pytest.mark.parametrize(
    ("fmt", "options", "named", "not_named"),
    [
        ("axolotl-prm", {}, ["- step labels: first-error", '- text prompts end with "\\n"'], ["critic prompt"]),
        ("openrlhf-prm", {}, ["- step labels: first-error"], ["critic prompt", "text prompts end", "conversational"]),
        ("processbench", {}, [], ["step labels", "critic prompt", "text prompts end", "conversational"]),
        ("critique-sft", {}, ["- critic prompt: redline"], ["text prompts end", "step labels"]),
        ("kto", {}, ["- critic prompt: redline", "- conversational: no", '- text prompts end with "\\n"'], []),
        ("dpo", {"conversational": True}, ["- conversational: yes"], ["text prompts end", "step labels"]),
    ],
)
def test_the_card_names_only_the_options_its_format_reads(sqlite_engine, tmp_path, fmt, options, named, not_named):
    """Review of issue 16: every card printed the critic prompt and the separator, a PRM export's too."""
    export_data.build(sqlite_engine)
    summary = export_project(sqlite_engine, export_data.PROJECT, fmt, tmp_path / "x.jsonl", ExportOptions(**options))
    options_part = Path(summary.card).read_text(encoding="utf-8").split("## Export options")[1]
    assert all(line in options_part for line in named), options_part
    assert not any(word in options_part for word in not_named), options_part
