"""Fine-Grained RLHF reward-model files (fgrlhf-rm-sentence, -subsentence, -token) exported after importing
qa-feedback records: small records counted by hand, and the shared sample against a character-level count."""

import json
from collections import Counter
from itertools import pairwise

import pytest

from annotation.core.model import NO_ERROR, Judgment, Source, Trace
from annotation.core.spans import Span
from annotation.exporting.formats import EXPORTS
from annotation.exporting.formats.base import ExportFailure, ExportItem, ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.fgrlhf import sentence_bounds
from tests.utils.files import write_jsonl

SAMPLE = "fgrlhf-qa-feedback-sample/dev_feedback.first100.json"
FORMATS = ("fgrlhf-rm-sentence", "fgrlhf-rm-subsentence", "fgrlhf-rm-token")
I = "Ignore"  # noqa: E741 (the label every word but the labelled ones has)


def record(question, answer, errors, passages=()):
    return {
        "question": question,
        "passages": [list(p) for p in passages],
        "prediction 1": answer,
        "feedback": {"errors": errors, "missing-info": [], "corrected-prediction": ""},
    }


def error(answer, kind, first, last=None):
    """An error from the start of ``first`` to the end of ``last`` (the same word when None)."""
    start = answer.index(first)
    end = answer.index(last or first, start) + len(last or first)
    return {"error type": kind, "explanation": "", "start": start, "end": end}


S1, S2, S3 = (
    "The tower is in Paris.",
    "It was built in 1889 by a famous engineer.",
    "Many people visit it every single year.",
)
TOWER = f"{S1} {S2} {S3}"
HAND = [
    # A non-factual span across sentences 2 and 3 (five words), a factual one in 2, a one-word non-factual one
    # in 1 (too short: left out).
    record(
        "Where is the tower?",
        TOWER,
        [
            error(TOWER, "Irrelevant", "famous", "visit"),
            error(TOWER, "Wrong-Grounding", "1889"),
            error(TOWER, "Redundant", "tower"),
        ],
        [("Eiffel Tower", "The tower is in Paris.", "It opened in 1889.")],
    ),
    record("How old is Rome?", "Rome is old. It has seven hills.", []),
    record(
        "Who founded Rome?",
        "Rome was founded by twins. A wolf raised them.",
        [error("Rome was founded by twins. A wolf raised them.", "Unverifiable", "Rome", "them.")],
    ),
    record(
        "Are there cats in Rome?",
        "Rome has many cats. They sleep on ruins.",
        [error("Rome has many cats. They sleep on ruins.", "Irrelevant", "Rome", "ruins.")],
    ),
]
QUESTIONS = [["question:", *r["question"].split()] for r in HAND]
TOWER_CONTEXT = ["context:", "wikipage:", "Eiffel", "Tower", "text:", "The", "tower", "is", "in", "Paris.", "It",
                 "opened", "in", "1889."]  # fmt: skip


def exported(engine, fmt, out):
    export_project(engine, "qa", fmt, out, ExportOptions(source="reference"))
    return [json.loads(line) for line in out.read_text().splitlines()]


def answer_part(rec):
    k = rec["text"].index("answer:")
    assert set(rec["feedback_tags"][: k + 1]) == {I}
    return rec["text"][k + 1 :], rec["feedback_tags"][k + 1 :]


def seps(words):
    """The answer's words with a </s> before each of the sentences (lists of words) given."""
    return [token for sentence in words for token in ("</s>", *sentence)]


@pytest.fixture(params=["whole", "sentences"])
def hand(request, sqlite_engine, tmp_path):
    """The hand records imported with the answer as one step, or a step per sentence: the same files come out."""
    path = write_jsonl(tmp_path / "hand.jsonl", HAND)
    import_file(sqlite_engine, path, project="qa", options=ConvertOptions(answer_split=request.param))
    return sqlite_engine


def test_factuality_labels_each_sentence_and_leaves_out_a_record_with_nothing_to_learn(hand, tmp_path):
    got = exported(hand, "fgrlhf-rm-sentence", tmp_path / "fact.jsonl")
    # The fourth record's only error is non-factual and covers every sentence: all Ignore, left out.
    assert [r["id"] for r in got] == ["0", "1", "2"]
    tower, rome, twins = got
    assert tower["text"][: len(QUESTIONS[0]) + len(TOWER_CONTEXT)] == QUESTIONS[0] + TOWER_CONTEXT
    assert answer_part(tower) == (
        seps([S1.split(), S2.split(), S3.split()]),
        # Sentence 1: only the short span, left out: O. 2: a factual error: F-ERR. 3: non-factual only: Ignore.
        ["O", *[I] * 5, "F-ERR", *[I] * 9, I, *[I] * 7],
    )
    assert rome["text"][: len(QUESTIONS[1]) + 1] == [*QUESTIONS[1], "answer:"]  # no passages: no context
    assert answer_part(rome)[1] == ["O", I, I, I, "O", I, I, I, I]
    assert answer_part(twins)[1] == ["F-ERR", *[I] * 5, "F-ERR", *[I] * 4]


def test_relevance_labels_each_sub_sentence_without_the_passages(hand, tmp_path):
    got = exported(hand, "fgrlhf-rm-subsentence", tmp_path / "rel.jsonl")
    assert [r["id"] for r in got] == ["0", "1", "2", "3"]
    tower, rome, twins, cats = got
    assert tower["text"][: len(QUESTIONS[0]) + 1] == [*QUESTIONS[0], "answer:"]
    assert answer_part(tower) == (
        seps([S1.split(), S2.split(), S3.split()]),
        ["O", *[I] * 5, "NF-ERR", *[I] * 9, "NF-ERR", *[I] * 7],
    )
    assert answer_part(rome)[1] == ["O", I, I, I, "O", I, I, I, I]
    assert answer_part(twins)[1] == ["O", *[I] * 5, "O", *[I] * 4]  # factual only: no relevance error
    assert answer_part(cats)[1] == ["NF-ERR", *[I] * 4, "NF-ERR", *[I] * 4]


def test_token_labels_every_word_of_the_answer(hand, tmp_path):
    got = exported(hand, "fgrlhf-rm-token", tmp_path / "tok.jsonl")
    tower, rome, twins, cats = got
    assert tower["text"][: len(QUESTIONS[0]) + len(TOWER_CONTEXT)] == QUESTIONS[0] + TOWER_CONTEXT
    words, tags = answer_part(tower)
    assert words == TOWER.split()
    assert tags == [
        *["O"] * 5,  # The tower is in Paris. ("tower": a one-word non-factual span, left out)
        "O", "O", "O", "O", "F-ERR", "O", "O", "NF-ERR", "NF-ERR",  # It was built in 1889 by a famous engineer.
        "NF-ERR", "NF-ERR", "NF-ERR", "O", "O", "O", "O",  # Many people visit it every single year.
    ]  # fmt: skip
    assert answer_part(rome)[1] == ["O"] * 7
    assert answer_part(twins)[1] == ["F-ERR"] * 9
    assert answer_part(cats)[1] == ["NF-ERR"] * 8


def item(trace, label):
    return ExportItem(trace_id=7, position=0, trace=trace, judgments={}, label=label, label_source="human:a")


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_cannot_be_labelled_is_left_out_with_its_reason(fmt):
    exporter, tally = EXPORTS.get(fmt), Counter()
    steps = Trace(problem="Sum?", steps=["First step.", "Second step."])
    # A span on the second of two steps: not on one answer text, so the answer would wrongly read as right.
    elsewhere = Judgment(Source("human", "a"), first_error=1, spans=[Span(1, 0, 6, "Irrelevant")])
    # No span, and not called free of errors: nothing says which words are right.
    silent = Judgment(Source("human", "a"), first_error=0)
    for label in (elsewhere, silent, None):
        assert list(exporter.records_of(item(steps, label), ExportOptions(), tally)) == []
    assert tally == Counter(
        {"spans on text other than the answer": 1, "no error span, yet not judged free of errors": 1, "no label": 1}
    )
    right = Judgment(Source("human", "a"), first_error=NO_ERROR)
    one = Trace(problem="Sum?", steps=["It is four."])
    assert len(list(exporter.records_of(item(one, right), ExportOptions(), tally))) == 1


def test_a_passage_that_is_not_a_title_and_sentences_is_named():
    bad = Trace(problem="Q?", steps=["A."], context={"passages": [["T", "s."], "just text"]})
    label = Judgment(Source("human", "a"), first_error=NO_ERROR)
    with pytest.raises(ExportFailure, match=r"trace 7: passages\[1\] is not a list \[title, sentence, \.\.\.\]"):
        list(EXPORTS.get("fgrlhf-rm-sentence").records_of(item(bad, label), ExportOptions(), Counter()))
    bad.context = {"passages": {"title": "T"}}
    with pytest.raises(ExportFailure, match=r"trace 7: passages is not a list"):
        list(EXPORTS.get("fgrlhf-rm-token").records_of(item(bad, label), ExportOptions(), Counter()))


def char_labels(answer, errors):
    """An independent count: each character's error categories (short non-factual spans left out)."""
    marks = [set() for _ in answer]
    for e in errors:
        factual = e["error type"] in ("Wrong-Grounding", "Unverifiable")
        if not factual and len(answer[e["start"] : e["end"]].split()) < 5:
            continue
        for c in range(e["start"], e["end"]):
            marks[c].add("F-ERR" if factual else "NF-ERR")
    return marks


def test_the_shared_sample_against_a_character_level_count(sqlite_engine, datasets, tmp_path):
    original = json.loads((datasets / SAMPLE).read_text())
    import_file(sqlite_engine, datasets / SAMPLE, project="qa")
    files = {fmt: exported(sqlite_engine, fmt, tmp_path / f"{fmt}.jsonl") for fmt in FORMATS}
    kept = 0
    for k, rec in enumerate(original):
        answer = rec["prediction 1"]
        marks = char_labels(answer, rec["feedback"]["errors"])
        # Token file: a word's label from the characters under it.
        token = next(r for r in files["fgrlhf-rm-token"] if r["id"] == str(k))
        words, tags = answer_part(token)
        assert words == answer.split()
        expected, at = [], 0
        for word in words:
            at = answer.index(word, at)
            found = set().union(*marks[at : at + len(word)])
            expected.append("F-ERR" if "F-ERR" in found else "NF-ERR" if found else "O")
            at += len(word)
        assert tags == expected, k
        # Sentence file: a sentence's label from the characters in its range.
        bounds = [*sentence_bounds(answer), len(answer)]
        labels = []
        for a, b in pairwise(bounds):
            found = set().union(*marks[a:b])
            labels.append("F-ERR" if "F-ERR" in found else "Ignore" if found else "O")
        sentence = [r for r in files["fgrlhf-rm-sentence"] if r["id"] == str(k)]
        if set(labels) == {"Ignore"}:
            assert sentence == []
            continue
        kept += 1
        words, tags = answer_part(sentence[0])
        assert [t for w, t in zip(words, tags, strict=True) if w == "</s>"] == labels, k
        assert [w for w in words if w != "</s>"] == answer.split()
        wiki = sum(1 for w in sentence[0]["text"] if w == "wikipage:")
        assert wiki == len(rec["passages"])
    assert kept == len(files["fgrlhf-rm-sentence"]) and 0 < kept < 100
    assert len(files["fgrlhf-rm-subsentence"]) == 100
    tags = Counter(t for r in files["fgrlhf-rm-token"] for t in answer_part(r)[1])
    assert tags["F-ERR"] and tags["NF-ERR"] and tags["O"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_parquet_keeps_the_same_columns(hand, tmp_path, fmt):
    import pyarrow.parquet as pq

    out = tmp_path / f"{fmt}.parquet"
    export_project(hand, "qa", fmt, out, ExportOptions(source="reference", output="parquet"))
    table = pq.read_table(out)
    assert table.column_names == ["id", "text", "feedback_tags"]
    assert table.to_pylist() == exported(hand, fmt, tmp_path / f"{fmt}.jsonl")
