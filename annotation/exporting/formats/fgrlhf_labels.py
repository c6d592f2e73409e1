"""Fine-Grained RLHF's reward-model labels for an answer with error spans: its words, its segments (sentences or
sub-sentences) and a label per segment or per word, by the rules of allenai/FineGrainedRLHF's
tasks/qa_feedback/reward_modeling/create_rel_fact_rm_files.py (see docs/export.md for the commit):

- a word is a run of non-space characters (``str.split``);
- error types ``Wrong-Grounding`` and ``Unverifiable`` are factual errors (``F-ERR``), every other type a
  non-factual one (``NF-ERR``); a non-factual span of fewer than 5 words is left out (their Appendix D);
- a span marks every word it shares a character with;
- the factuality model's label of a segment: ``F-ERR`` if a word in it has a factual error, else ``Ignore``
  if one has a non-factual error (its annotators marked one error per word, so the facts there were not
  checked), else ``O``; the relevance model's: ``NF-ERR`` if a word in it has a non-factual error, else ``O``;
- sub-sentences: a sentence's words split after a word ending in ``,;!?`` while more than 5 words follow, a
  piece of fewer than 5 words joining the one before it (the sentence's first piece grows instead).

Sentences are the project's own split (the one ``fgrlhf`` import uses); Fine-Grained RLHF splits with spaCy's
``en_core_web_sm``, so a boundary may fall elsewhere (after an abbreviation, say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from annotation.importing.formats.fgrlhf import sentence_bounds

SEP = "</s>"
IGNORE = "Ignore"
NO_ERROR = "O"
FACTUAL = "F-ERR"
NON_FACTUAL = "NF-ERR"
FACTUAL_TYPES = ("Wrong-Grounding", "Unverifiable")
MIN_SPAN_WORDS = 5
MIN_SUBSENTENCE_WORDS = 5
SUBSENTENCE_ENDS = ",;!?"
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: int
    end: int


def words_of(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def category(error_type: str) -> str:
    return FACTUAL if error_type in FACTUAL_TYPES else NON_FACTUAL


def word_errors(text: str, words: list[Word], spans: list[tuple[str, int, int]]) -> list[set[str]]:
    """For each word, the error categories of the spans (type, start, end) that touch it."""
    out: list[set[str]] = [set() for _ in words]
    for kind, start, end in spans:
        found = category(kind)
        if found == NON_FACTUAL and len(text[start:end].split()) < MIN_SPAN_WORDS:
            continue
        for k, word in enumerate(words):
            if word.start < end and start < word.end:
                out[k].add(found)
    return out


def segment_starts(text: str, words: list[Word], level: str) -> list[bool]:
    """Which words begin a segment: a sentence (``sentence``) or a sub-sentence (``subsentence``)."""
    sentences = set(sentence_bounds(text))
    starts = [k == 0 or w.start in sentences for k, w in enumerate(words)]
    if level == "sentence":
        return starts
    out: list[bool] = []
    begins = [k for k, s in enumerate(starts) if s] + [len(words)]
    for a, b in pairwise(begins):
        out += subsentence_starts([w.text for w in words[a:b]])
    return out


def subsentence_starts(words: list[str]) -> list[bool]:
    """One sentence's words: which begin a sub-sentence (the first always does)."""
    starts = [k == 0 for k in range(len(words))]
    current = 0
    for k in range(1, len(words)):
        if words[k - 1][-1] not in SUBSENTENCE_ENDS or k + MIN_SUBSENTENCE_WORDS >= len(words):
            continue
        if k - current >= MIN_SUBSENTENCE_WORDS:
            starts[k], current = True, k
        elif current > 0:
            # Too short a piece: it joins the one before, and the new piece begins here.
            starts[current], starts[k], current = False, True, k
    return starts


def segment_label(errors: set[str], model: str) -> str:
    """A segment's label for the ``F-ERR`` (factuality) or ``NF-ERR`` (relevance) reward model."""
    if model == NON_FACTUAL:
        return NON_FACTUAL if NON_FACTUAL in errors else NO_ERROR
    if FACTUAL in errors:
        return FACTUAL
    return IGNORE if NON_FACTUAL in errors else NO_ERROR


def word_label(errors: set[str]) -> str:
    """A word's own label: a factual error before a non-factual one, where spans of both touch it."""
    if FACTUAL in errors:
        return FACTUAL
    return NON_FACTUAL if NON_FACTUAL in errors else NO_ERROR


def labelled_answer(text: str, spans: list[tuple[str, int, int]], level: str, model: str) -> tuple[list, list]:
    """The answer's words and their labels as the reward model's file has them: per segment (``sentence`` or
    ``subsentence``), a ``</s>`` before each segment carrying its label and ``Ignore`` on every word; per word
    (``word``), each word's own label."""
    words = words_of(text)
    errors = word_errors(text, words, spans)
    if level == "word":
        return [w.text for w in words], [word_label(e) for e in errors]
    starts = segment_starts(text, words, level)
    tokens: list[str] = []
    labels: list[str] = []
    begins = [k for k, s in enumerate(starts) if s] + [len(words)]
    for a, b in pairwise(begins):
        found = set().union(*errors[a:b])
        tokens += [SEP, *(w.text for w in words[a:b])]
        labels += [segment_label(found, model)] + [IGNORE] * (b - a)
    return tokens, labels
