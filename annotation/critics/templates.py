"""Prompt templates: the built-in ones, and users' own, rendered for one trace.

Templates use ``$name`` placeholders (``string.Template``): substitution is a single pass over the
template, so text from a trace that happens to contain ``$problem`` or ``{{ }}`` is shown as written and
never evaluated. A template may have a second pass (``verify``), sent after the model's first answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template as _Text
from typing import Any

from annotation.core.model import InvalidValue, Trace
from annotation.core.parts import image_refs

CUSTOM = "custom"

PLACEHOLDERS: dict[str, str] = {
    "problem": "the problem",
    "tagged_steps": "each step wrapped in <paragraph_i> ... </paragraph_i> tags, 0-based",
    "numbered_steps": "the steps as 'Step 0: ...' lines, 0-based",
    "n_steps": "how many steps there are",
    "last_index": "the index of the last step (n_steps - 1)",
    "answer": "the trace's final answer, or '(none given)'",
    "reference_answer": "the reference answer, or '(none given)'",
    "reference_solution": "the reference solution, or '(none given)'",
}

PROCESSBENCH = """\
The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):

[Math Problem]

$problem

[Solution]

$tagged_steps

Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a \
paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 \
(which typically denotes "not found").

Please put your final answer (i.e., the index) in \\boxed{}.
"""

STEP_JSON = """\
Check this solution step by step. Steps are numbered from 0.

[Problem]
$problem

[Solution]
$numbered_steps

For every step from 0 to $last_index, decide whether it is correct (true, and following from the problem and \
the steps before it), incorrect, or neutral (neither advances nor breaks the solution), and explain why in one \
or two sentences. Then give the index of the earliest incorrect step, or -1 when every step is correct.

Answer with JSON only, in exactly this shape:
{"steps": [{"step": 0, "verdict": "correct", "explanation": "..."}], "first_error": -1}
"""

STEP_SPANS = """\
Check this solution step by step. Steps are numbered from 0.

[Problem]
$problem

[Solution]
$numbered_steps

For every step from 0 to $last_index, decide whether it is correct, incorrect, or neutral, and explain why in one \
or two sentences. For each error, quote the exact words of the step that are wrong (copied character for \
character) and name the kind of error. Then give the index of the earliest incorrect step, or -1 when every step \
is correct.

Answer with JSON only, in exactly this shape:
{"steps": [{"step": 0, "verdict": "correct", "explanation": "..."}], "spans": [{"step": 0, "quote": "...", \
"type": "...", "note": "..."}], "first_error": -1}
"""

REFERENCE_GUIDED = """\
Check a student's solution against a reference solution. Steps are numbered from 0.

[Problem]
$problem

[Reference solution]
$reference_solution

[Reference answer]
$reference_answer

[Student's solution]
$tagged_steps

Compare each paragraph of the student's solution with the reference: a different method can still be \
correct, so judge whether each paragraph is true and follows from what came before. Find the earliest \
paragraph that contains an error. Put its index in \\boxed{}, or \\boxed{-1} when there is no error.
"""

DELIBERATE_FIRST = """\
Critique this solution paragraph by paragraph (paragraphs are indexed from 0).

[Problem]
$problem

[Solution]
$tagged_steps

For each paragraph, say whether it is correct and why. Name the earliest paragraph with an error, if any.
"""

DELIBERATE_VERIFY = """\
Now verify your own critique. For each error you claimed, check again whether it is really an error; for \
each paragraph you accepted, check again whether it is really correct. Correct your critique where it was \
wrong. Then give the index of the earliest paragraph with an error, or -1 when there is none, in \\boxed{}.
"""


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    title: str
    text: str
    # A second user turn sent after the model's first answer; the second answer is the one parsed.
    verify: str | None = None
    description: str = ""

    @property
    def full_text(self) -> str:
        """Everything the template sends, as one text (what a configuration hash covers)."""
        return self.text if self.verify is None else f"{self.text}\n---verify---\n{self.verify}"


BUILT_IN: dict[str, PromptTemplate] = {
    t.name: t
    for t in (
        PromptTemplate(
            "processbench",
            "ProcessBench",
            PROCESSBENCH,
            description="The ProcessBench critic prompt: <paragraph_i> tags, earliest error index in \\boxed{}.",
        ),
        PromptTemplate(
            "step_json",
            "Per-step JSON",
            STEP_JSON,
            description="A verdict and an explanation for every step, plus the first error, as JSON.",
        ),
        PromptTemplate(
            "step_spans",
            "Per-step JSON with quoted errors",
            STEP_SPANS,
            description="As per-step JSON, and each error's wrong words quoted: they become spans in the step.",
        ),
        PromptTemplate(
            "reference_guided",
            "Reference-guided",
            REFERENCE_GUIDED,
            description="Shows the reference solution and answer; earliest error index in \\boxed{}.",
        ),
        PromptTemplate(
            "deliberate",
            "Deliberate (two passes)",
            DELIBERATE_FIRST,
            verify=DELIBERATE_VERIFY,
            description="Critique first, then verify that critique; the second answer's \\boxed{} counts.",
        ),
    )
}


def template_names() -> list[str]:
    return [*BUILT_IN, CUSTOM]


def check_template_text(text: str, field: str = "prompt") -> str:
    """A user's template: not empty, and only known placeholders (an unknown one is named)."""
    if not text or not text.strip():
        raise InvalidValue(field, "the prompt template is empty")
    parsed = _Text(text)
    if not parsed.is_valid():
        raise InvalidValue(field, "a '$' must start a placeholder such as $problem; write $$ for a literal $")
    unknown = sorted(set(parsed.get_identifiers()) - PLACEHOLDERS.keys())
    if unknown:
        known = ", ".join(f"${k}" for k in PLACEHOLDERS)
        raise InvalidValue(field, f"unknown placeholder {', '.join('$' + u for u in unknown)}; use {known}")
    return text


def resolve(template: str, prompt: str | None = None) -> PromptTemplate:
    """A built-in template by name, or ``custom`` with the user's own text."""
    if template == CUSTOM:
        return PromptTemplate(CUSTOM, "Custom", check_template_text(prompt or ""))
    if template not in BUILT_IN:
        raise InvalidValue("template", f"unknown template {template!r}; use one of {', '.join(template_names())}")
    return BUILT_IN[template]


def problem_text(trace: Trace) -> str:
    """The problem as a critic reads it: for an agent, after the system prompt, tools and passages it was given."""
    context = trace.context or {}
    blocks = []
    if context.get("system"):
        blocks.append(f"[System prompt given to the model]\n{context['system']}")
    if context.get("tools"):
        blocks.append(f"[Tools offered]\n{json.dumps(context['tools'], ensure_ascii=False, indent=2)}")
    if context.get("passages"):
        passages = "\n\n".join(
            f"({k + 1}) {p.get('title', '')}: {p.get('text', '')}" if isinstance(p, dict) else f"({k + 1}) {p}"
            for k, p in enumerate(context["passages"])
        )
        blocks.append(f"[Passages]\n{passages}")
    if not blocks:
        return trace.problem
    return "\n\n".join([*blocks, f"[Task]\n{trace.problem}"])


def _values(trace: Trace) -> dict[str, str]:
    none = "(none given)"
    return {
        "problem": problem_text(trace),
        "tagged_steps": "\n\n".join(f"<paragraph_{i}>\n{s}\n</paragraph_{i}>" for i, s in enumerate(trace.steps)),
        "numbered_steps": "\n".join(f"Step {i}: {s}" for i, s in enumerate(trace.steps)),
        "n_steps": str(len(trace.steps)),
        "last_index": str(len(trace.steps) - 1),
        "answer": trace.answer or none,
        "reference_answer": trace.reference_answer or none,
        "reference_solution": trace.reference_solution or none,
    }


def render(template: PromptTemplate, trace: Trace, images: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The first pass's chat messages for one trace. Steps are their plain text, tool calls and results named as
    such (annotation.core.parts). ``images``: the trace's stored images as data URIs, for a critic that sees
    images; they follow the text, each after its name. Without them, a trace with images says how many the
    critic cannot see. Remote image links are never sent: Redline does not make anyone fetch them."""
    return [{"role": "user", "content": with_images(_Text(template.text).substitute(_values(trace)), trace, images)}]


def with_images(text: str, trace: Trace, images: Mapping[str, str] | None, *, task: str = "judge") -> str | list:
    """A user turn's content: ``text``, then each of the trace's images found in ``images`` (name -> URL) after
    its name. Images not given are counted in a note, so the model knows it works from the text alone."""
    refs = image_refs(trace)
    shown = [ref for ref in dict.fromkeys(refs) if images and ref in images]
    unseen = len(refs) - sum(refs.count(ref) for ref in shown)
    if unseen:
        text += f"\n\n(Note: this trace shows {unseen} image(s) that you are not shown; {task} what the text allows.)"
    if not shown:
        return text
    assert images is not None
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for ref in shown:
        content.append({"type": "text", "text": f"[image: {ref}]"})
        content.append({"type": "image_url", "image_url": {"url": images[ref]}})
    return content


def render_verify(template: PromptTemplate, trace: Trace) -> str | None:
    """The second pass's user turn, when the template has one."""
    return None if template.verify is None else _Text(template.verify).substitute(_values(trace))


def preview(template: PromptTemplate, trace: Trace) -> str:
    """What the model is sent for this trace, as one readable text (the page's preview)."""
    content = render(template, trace)[0]["content"]
    text = content if isinstance(content, str) else content[0]["text"]
    second = render_verify(template, trace)
    if second is not None:
        text += "\n\n--- after the model's first answer, it is sent: ---\n\n" + second
    return text
