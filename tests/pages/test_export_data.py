"""The Export page: admins only; format, source and filters; the first records as data; counts; a download."""

from __future__ import annotations

import io
import json
import zipfile

import pyarrow.parquet as pq
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import create_user
from tests.pages.conftest import ROOT, RUN_TIMEOUT_S, open_app, sign_in_as
from tests.utils import export_data

PAGE = "pages/export_data.py"


def open_export(db) -> AppTest:
    export_data.build(db)
    at = open_app(PAGE)
    at.selectbox(key="export_project").set_value(export_data.PROJECT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def prepared(at: AppTest):
    at.button(key="export_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["export_prepared"][1]


def test_annotators_are_turned_away(database_url, db):
    create_user(db, username="ann", password="test-password-1", role="annotator")
    at = sign_in_as(AppTest.from_file(str(ROOT / PAGE), default_timeout=RUN_TIMEOUT_S), "ann", "annotator")
    at.run()
    assert [e.value for e in at.error] == ["This page is for admins."]
    assert not at.selectbox


def test_admin_sees_the_export_page_in_the_navigation(database_url, db):
    at = open_app(PAGE)
    assert [t.value for t in at.title] == ["Export"]
    assert at.selectbox(key="export_format").options[:5] == [
        "TRL stepwise supervision (trl-stepwise)",
        "OpenRLHF process reward (Math-Shepherd style) (openrlhf-prm)",
        "Axolotl process reward (stepwise_supervised) (axolotl-prm)",
        "ProcessBench (processbench)",
        "PRM800K (raw lines) (prm800k)",
    ]


def test_preview_shows_the_first_records_as_plain_data(database_url, db):
    at = open_export(db)
    at.selectbox(key="export_format").set_value("processbench").run()

    table = at.dataframe[0].value  # AppTest keeps no key on dataframes
    assert list(table.columns) == ["id", "generator", "problem", "steps", "final_answer_correct", "label"]
    assert table["id"].tolist() == ["t-0", "t-1", "t-2", "t-3", "t-4"]
    assert table["problem"][0] == "Problem 0: what is 0 + 0 <b>?</b>"  # as written, not rendered
    assert json.loads(at.json[0].value) == {
        "id": "t-0",
        "generator": "gen-a",
        "problem": "Problem 0: what is 0 + 0 <b>?</b>",
        "steps": [f"Step {k} of trace 0." for k in range(4)],
        "final_answer_correct": True,
        "label": -1,
    }
    assert not at.get("download_button")  # nothing to download until prepared
    assert at.selectbox(key="export_source").options == [
        "best",
        "human",
        "consensus",
        "human:alice",
        "human:bob",
        "human:carol",
        "human:dave",
        "model:critic",
        "reference",
    ]


def test_prepare_then_download_jsonl_with_counts(database_url, db):
    at = open_export(db)
    download = prepared(at)

    rows = [json.loads(line) for line in download.data.decode().splitlines()]
    assert download.name == "Labelled-trl-stepwise.jsonl"
    assert len(rows) == 11 and all(len(r["labels"]) == len(r["completions"]) for r in rows)
    assert "Records: 11 (train 11) from 11 of 12 traces read" in [t.value for t in at.text]
    assert at.download_button(key="export_download").proto.label == "Download data"
    assert at.download_button(key="export_download_card").proto.label == "Download dataset card (README.md)"
    assert download.card.startswith("---\nlicense: cc-by-4.0")
    assert at.get("plotly_chart")


def test_parquet_with_a_split_comes_as_a_zip(database_url, db):
    at = open_export(db)
    at.selectbox(key="export_format").set_value("critique-sft").run()
    at.radio(key="export_output").set_value("parquet").run()
    at.slider(key="export_split").set_value(0.5).run()
    download = prepared(at)

    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = sorted(archive.namelist())
    assert names == [
        "Labelled-critique-sft-test.parquet",
        "Labelled-critique-sft-train.parquet",
        "Labelled-critique-sft.parquet.README.md",  # one card per export, named after it
    ]
    rows = sum(pq.read_table(io.BytesIO(archive.read(n))).num_rows for n in names if n.endswith(".parquet"))
    assert rows == 11


def test_changing_an_option_drops_the_prepared_download(database_url, db):
    at = open_export(db)
    prepared(at)
    at.selectbox(key="export_source").set_value("reference").run()
    assert "export_prepared" not in at.session_state
    assert not at.get("download_button")


def test_a_bad_filter_is_named_and_nothing_is_offered(database_url, db):
    at = open_export(db)
    at.text_area(key="export_where").set_value("task").run()
    assert any("KEY=VALUE" in e.value for e in at.error)
    assert "export_run" not in [b.key for b in at.button]
    at.text_area(key="export_where").set_value("task=nothing-like-this").run()
    assert any("No records" in w.value for w in at.warning)


def test_a_hugging_face_folder_comes_as_a_zip_that_loads(database_url, db, tmp_path):
    import datasets

    at = open_export(db)
    at.radio(key="export_output").set_value("hf").run()
    download = prepared(at)

    zipfile.ZipFile(io.BytesIO(download.data)).extractall(tmp_path)
    loaded = datasets.load_from_disk(str(tmp_path / "Labelled-trl-stepwise"))
    assert download.name == "Labelled-trl-stepwise.zip"
    assert loaded.num_rows == 11 and loaded.column_names == ["prompt", "completions", "labels"]
    assert (tmp_path / "Labelled-trl-stepwise" / "README.md").read_text().startswith("---\nlicense: cc-by-4.0")


def test_disagreements_can_be_left_out_on_the_page(database_url, db):
    at = open_export(db)
    at.radio(key="export_disagreements").set_value("majority").run()
    download = prepared(at)
    shown = [t.value for t in at.text]
    assert any("a tie between the humans' first errors" in line for line in shown), shown
    assert "- where the humans disagree: the majority's first error, ties left out" in download.card


def test_text_preference_rows_take_a_separator_from_the_page(database_url, db):
    """Issue 16: text-mode DPO and KTO rows ran the prompt into the completion."""
    at = open_export(db)
    at.selectbox(key="export_format").set_value("kto").run()
    assert at.text_input(key="export_separator").value == "\\n"
    assert json.loads(at.json[0].value)["prompt"].endswith("\\boxed{}.\n")
    at.text_input(key="export_separator").set_value("\\n\\n### Critique\\n").run()
    assert json.loads(at.json[0].value)["prompt"].endswith("\\boxed{}.\n\n### Critique\n")
    download = prepared(at)
    rows = [json.loads(line) for line in download.data.decode().splitlines()]
    assert rows and all(r["prompt"].endswith("\n\n### Critique\n") for r in rows)

    at.text_input(key="export_separator").set_value("\\q").run()
    assert any("Separator" in e.value and "not one of" in e.value for e in at.error)
    at.checkbox(key="export_conversational").check().run()
    assert "export_separator" not in [t.key for t in at.text_input]  # chat turns need none


def test_prm_prompts_end_with_the_separator_too(database_url, db):
    """Review of issue 16: Axolotl and TRL tokenize the prompt and then step 1 with nothing between them."""
    at = open_export(db)
    at.selectbox(key="export_format").set_value("axolotl-prm").run()
    assert at.text_input(key="export_separator").label == "After the prompt"
    assert json.loads(at.json[0].value)["prompt"].endswith("\n")
    at.text_input(key="export_separator").set_value("\n\nSteps:\n").run()
    rows = [json.loads(line) for line in prepared(at).data.decode().splitlines()]
    assert rows and all(r["prompt"].endswith("\n\nSteps:\n") for r in rows)
    at.selectbox(key="export_format").set_value("openrlhf-prm").run()  # Math-Shepherd's own layout: no separator
    assert "export_separator" not in [t.key for t in at.text_input]


def test_the_critic_prompt_can_be_processbench_exactly(database_url, db):
    at = open_export(db)
    at.selectbox(key="export_format").set_value("critique-sft").run()
    prompt = json.loads(at.json[0].value)["messages"][0]["content"]
    assert prompt.startswith("The following is a problem and a solution")  # no critic ran: Redline's wording
    at.selectbox(key="export_critic_prompt").set_value("processbench").run()
    prompt = json.loads(at.json[0].value)["messages"][0]["content"]
    assert prompt.startswith("The following is a math problem and a solution") and "[Math Problem]" in prompt
    download = prepared(at)
    assert "- critic prompt: processbench" in download.card


def test_the_fine_grained_rlhf_reward_model_files_are_offered(database_url, db):
    at = open_app(PAGE)
    offered = at.selectbox(key="export_format").options
    for name, title in [
        ("fgrlhf-rm-sentence", "Fine-Grained RLHF factuality reward model (per sentence)"),
        ("fgrlhf-rm-subsentence", "Fine-Grained RLHF relevance reward model (per sub-sentence)"),
        ("fgrlhf-rm-token", "Fine-Grained RLHF token-level reward model (per word)"),
    ]:
        assert f"{title} ({name})" in offered
