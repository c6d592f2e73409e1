"""The critic's prompt and a critique written out from a judgment, shared by critique SFT, DPO and KTO.

Two prompts, both with each step wrapped in ``<paragraph_i>`` tags indexed from 0 and the answer's index in
``\\boxed{}`` (-1 when no step is wrong), so ProcessBench's own evaluation scores a critic trained on them
without any translation of indices:

* ``processbench``: ProcessBench's template byte for byte (code/templates/critique_template.txt, read and
  stripped as its run_eval.py does), "a math problem" under ``[Math Problem]``: what a critic is evaluated on;
* ``redline``: the same request for any problem ("a problem" under ``[Problem]``), for projects that are not math.
"""

from __future__ import annotations

from string import Template

from annotation.core.model import NO_ERROR, Judgment, StepLabel, Trace
from annotation.critics.templates import PROCESSBENCH

INSTRUCTION = (
    "Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a "
    "paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index "
    'of -1 (which typically denotes "not found").\n\nPlease put your final answer (i.e., the index) in \\boxed{}.'
)
VERDICT_WORDS = {1: "correct", 0: "neutral: not wrong, but it does not move the solution forward", -1: "incorrect"}


#: The critic prompts an export may use; ``processbench`` is the default where the project's critics use it.
CRITIC_PROMPTS = ("processbench", "redline")


def critique_prompt(trace: Trace, style: str = "redline") -> str:
    paragraphs = "\n\n".join(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>" for i, step in enumerate(trace.steps))
    if style == "processbench":
        # The problem as written: ProcessBench formats its record's own problem, with no context added.
        return Template(PROCESSBENCH.strip()).substitute(problem=trace.problem, tagged_steps=paragraphs)
    return (
        "The following is a problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):"
        f"\n\n[Problem]\n\n{trace.problem}\n\n[Solution]\n\n{paragraphs}\n\n{INSTRUCTION}"
    )


def correction_prompt(trace: Trace, step: int) -> str:
    """The problem and the steps before ``step``: what a person had when writing the next step."""
    before = "\n".join(f"Step {i + 1}: {text}" for i, text in enumerate(trace.steps[:step]))
    so_far = f"\n\n[Solution so far]\n\n{before}" if before else ""
    return f"[Problem]\n\n{trace.problem}{so_far}\n\nWrite step {step + 1} of the solution."


def answer_prompt(trace: Trace) -> str:
    """The question with the passages it may be answered from: what the answer was written for."""
    passages = trace.context.get("passages") if trace.context else None
    shown = ""
    if isinstance(passages, list) and passages:
        blocks = []
        for p in passages:
            if isinstance(p, list) and p:
                blocks.append(f"{p[0]}\n" + " ".join(str(x) for x in p[1:]))
            elif isinstance(p, dict):
                blocks.append(f"{p.get('title', '')}\n{p.get('text', '')}".strip())
            else:
                blocks.append(str(p))
        shown = "\n\n[Passages]\n\n" + "\n\n".join(blocks)
    return f"[Question]\n\n{trace.problem}{shown}\n\nAnswer the question."


def _label(judgment: Judgment, i: int) -> StepLabel:
    return judgment.steps[i] if i < len(judgment.steps) else StepLabel()


def critique_answer(judgment: Judgment, n_steps: int) -> str:
    """Each step judged in turn, up to the first error, with the judgment's own critiques, then the boxed index.

    Requires ``judgment.first_error`` to be set. Steps before the first error count as correct unless the
    judgment rated them neutral; the first error's reason is the step's critique, else the judgment's.
    """
    first = judgment.first_error
    assert first is not None
    stop = n_steps if first == NO_ERROR else first + 1
    lines = []
    for i in range(stop):
        label = _label(judgment, i)
        if i == first:
            verdict = -1
        else:
            verdict = 0 if label.verdict == 0 else 1
        tags = f" ({', '.join(label.tags)})" if label.tags and verdict == -1 else ""
        reason = (label.critique or "").strip()
        if verdict == -1 and not reason:
            reason = (judgment.critique or "").strip()
        line = f"Paragraph {i} is {VERDICT_WORDS[verdict]}{tags}."
        lines.append(f"{line} {reason}" if reason else line)
    if first == NO_ERROR:
        lines.append("Every paragraph is correct, so no paragraph holds an error.")
    else:
        lines.append(f"The earliest error is in paragraph {first}.")
    return "\n\n".join(lines) + f"\n\n\\boxed{{{first}}}"


def model_critique(judgment: Judgment, n_steps: int) -> str | None:
    """What a critic wrote: its own text when kept, else its verdicts written out; None when it said nothing."""
    if judgment.critique and judgment.critique.strip():
        return judgment.critique
    if judgment.first_error is None:
        return None
    return critique_answer(judgment, n_steps)
