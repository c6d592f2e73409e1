"""Fine-Grained RLHF's reward-model training files, from a judgment's error spans on the answer: what its
reward_modeling/run_fg_rm.py reads (a token-classification loader: ``text``, a list of words, and
``feedback_tags``, a label per word, ``Ignore`` where there is nothing to learn). Every record is
``{"id", "text", "feedback_tags"}``: ``question:`` and the question's words, then (where the model reads them)
``context:`` and each passage as ``wikipage: TITLE text: SENTENCES``, then ``answer:`` and the answer.

- ``fgrlhf-rm-sentence``: the factuality reward model's file (their ``F-ERR_sentence``): a ``</s>`` before each
  sentence of the answer with the sentence's label, passages included;
- ``fgrlhf-rm-subsentence``: the relevance reward model's (``NF-ERR_subsentence``): a ``</s>`` before each
  sub-sentence, no passages (their ``--ignore_context``);
- ``fgrlhf-rm-token``: a label on every word of the answer (``F-ERR``, ``NF-ERR`` or ``O``), passages included,
  for a token-level reward model read by the same loader.

The labels follow annotation/exporting/formats/fgrlhf_labels.py. A record whose labels are all ``Ignore`` is left
out, as theirs are; so is a trace whose label marks text outside the answer (another step of a trace with several,
a tool call), which would otherwise read as free of errors, or whose label has no span yet does not call the
answer free of errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportFailure, ExportItem, ExportOptions
from annotation.exporting.formats.fgrlhf import answer_text, placed_spans
from annotation.exporting.formats.fgrlhf_labels import FACTUAL, IGNORE, NON_FACTUAL, labelled_answer


class FGRLHFRewardModel(Exporter):
    level: ClassVar[str]
    model: ClassVar[str]
    passages: ClassVar[bool] = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema(
            [("id", pa.string()), ("text", pa.list_(pa.string())), ("feedback_tags", pa.list_(pa.string()))]
        )

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        label, t = item.label, item.trace
        if label is None:
            tally["no label"] += 1
            return
        spans, elsewhere = placed_spans(item, label)
        if elsewhere:
            tally["spans on text other than the answer"] += 1
            return
        if not spans and label.first_error != NO_ERROR:
            tally["no error span, yet not judged free of errors"] += 1
            return
        words, tags = labelled_answer(answer_text(t), [(k, a, b) for k, a, b, _ in spans], self.level, self.model)
        if all(tag == IGNORE for tag in tags):
            tally["nothing to learn (every label Ignore)" if words else "empty answer"] += 1
            return
        text, feedback = ["question:", *t.problem.split()], [IGNORE] * (1 + len(t.problem.split()))
        if self.passages:
            context = self._context(item)
            text += context
            feedback += [IGNORE] * len(context)
        record_id = t.record_id if t.record_id is not None else str(item.position)
        yield {"id": record_id, "text": [*text, "answer:", *words], "feedback_tags": [*feedback, IGNORE, *tags]}

    @staticmethod
    def _context(item: ExportItem) -> list[str]:
        passages = item.trace.context.get("passages") or []
        if not isinstance(passages, list):
            raise ExportFailure(f"trace {item.trace_id}: passages is not a list of [title, sentence, ...]")
        out: list[str] = []
        for k, passage in enumerate(passages):
            if not (isinstance(passage, list) and passage and all(isinstance(x, str) for x in passage)):
                raise ExportFailure(f"trace {item.trace_id}: passages[{k}] is not a list [title, sentence, ...]")
            out += [*(["context:"] if k == 0 else []), "wikipage:", *passage[0].split(), "text:"]
            out += " ".join(passage[1:]).split()
        return out

    def record_label(self, record: dict[str, Any]) -> str:
        tags = set(record["feedback_tags"])
        return "has an error" if FACTUAL in tags or NON_FACTUAL in tags else "no error"


class FGRLHFSentence(FGRLHFRewardModel):
    name = "fgrlhf-rm-sentence"
    title = "Fine-Grained RLHF factuality reward model (per sentence)"
    description = "text (words, </s> before each sentence), feedback_tags (F-ERR / O / Ignore) for run_fg_rm.py"
    level = "sentence"
    model = FACTUAL


class FGRLHFSubsentence(FGRLHFRewardModel):
    name = "fgrlhf-rm-subsentence"
    title = "Fine-Grained RLHF relevance reward model (per sub-sentence)"
    description = "text (words, </s> before each sub-sentence), feedback_tags (NF-ERR / O) for run_fg_rm.py"
    level = "subsentence"
    model = NON_FACTUAL
    passages = False


class FGRLHFToken(FGRLHFRewardModel):
    name = "fgrlhf-rm-token"
    title = "Fine-Grained RLHF token-level reward model (per word)"
    description = "text (words), feedback_tags (F-ERR / NF-ERR / O on every answer word) for run_fg_rm.py"
    level = "word"
    model = FACTUAL
