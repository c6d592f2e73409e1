"""A step of parts as markup: text and thinking as sanitised Markdown, tool calls and results as text in <pre>.

Everything that comes from the trace goes through ``to_html`` (the allow-list) or ``escapeHtml``; the few
tags around it are written here. An image is shown only from the project's own store, as a data URI (the
browser fetches nothing); a remote image URL is a link, never loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from markdown_it.common.utils import escapeHtml

from annotation.core.parts import Part, Step, pretty_arguments
from annotation.rendering.markup import to_html

# Results and thinking longer than this start folded; the fold says how big they are.
FOLD_CHARS = 600


def _size(text: str) -> str:
    n = len(text.encode("utf-8"))
    return f"{n:,} B" if n < 1024 else f"{n / 1024:,.1f} kB"


def _image(ref: str | None, images: Mapping[str, str]) -> str:
    ref = ref or ""
    uri = images.get(ref)
    if uri is not None:
        return f'<figure class="rl-image"><img src="{escapeHtml(uri)}" alt="image {escapeHtml(ref[:12])}"></figure>'
    if ref.lower().startswith(("http://", "https://")):
        link = escapeHtml(ref)
        anchor = f'<a href="{link}" rel="noopener noreferrer nofollow" target="_blank">{link}</a>'
        return f'<p class="rl-image-link">[remote image, not loaded] {anchor}</p>'
    return f'<p class="rl-image-link">[image missing from the project: {escapeHtml(ref)}]</p>'


def part_html(part: Part, images: Mapping[str, str]) -> str:
    if part.type == "text":
        return f'<div class="rl-part rl-text">{to_html(part.text)}</div>'
    if part.type == "thinking":
        text = part.text or ""
        opened = " open" if len(text) <= FOLD_CHARS else ""
        return (
            f'<details class="rl-part rl-thinking"{opened}><summary>Thinking · {_size(text)}</summary>'
            f"{to_html(text)}</details>"
        )
    if part.type == "tool_call":
        shown, valid = pretty_arguments(part.arguments)
        call_id = f' <span class="rl-call-id">{escapeHtml(part.call_id)}</span>' if part.call_id else ""
        warning = "" if valid else ' <span class="rl-invalid">arguments are not valid JSON; shown as given</span>'
        return (
            f'<div class="rl-part rl-call"><div class="rl-part-head">→ <code>{escapeHtml(part.name or "?")}</code>'
            f"{call_id}{warning}</div><pre>{escapeHtml(shown)}</pre></div>"
        )
    if part.type == "tool_result":
        content = part.content or ""
        error = " rl-error" if part.is_error else ""
        what = "error from" if part.is_error else "result of"
        name = f" <code>{escapeHtml(part.name)}</code>" if part.name else ""
        call_id = f' <span class="rl-call-id">{escapeHtml(part.call_id)}</span>' if part.call_id else ""
        opened = "" if len(content) > FOLD_CHARS else " open"
        return (
            f'<details class="rl-part rl-result{error}"{opened}><summary>← {what}{name}{call_id} · {_size(content)}'
            f"</summary><pre>{escapeHtml(content)}</pre></details>"
        )
    return f'<div class="rl-part">{_image(part.image, images)}</div>'


def step_html(step: Step, images: Mapping[str, str]) -> str:
    badges = ""
    if step.role is not None:
        badges += f'<span class="rl-role rl-role-{escapeHtml(_css_word(step.role))}">{escapeHtml(step.role)}</span>'
    if step.agent:
        badges += f'<span class="rl-agent">{escapeHtml(step.agent)}</span>'
    head = f'<div class="rl-roles">{badges}</div>' if badges else ""
    return head + "".join(part_html(p, images) for p in step.parts)


def _css_word(role: str) -> str:
    return "".join(c for c in role.lower() if c.isalnum())[:20] or "other"


def images_html(refs: Iterable[str], images: Mapping[str, str]) -> str:
    return "".join(_image(ref, images) for ref in refs)


def context_html(context: Mapping[str, Any]) -> str:
    """The system prompt, the tools offered and the passages, folded above the steps."""
    out = []
    system = context.get("system")
    if isinstance(system, str) and system:
        out.append(f"<details><summary>System prompt · {_size(system)}</summary>{to_html(system)}</details>")
    tools = context.get("tools")
    if isinstance(tools, list) and tools:
        names = ", ".join(escapeHtml(_tool_name(t)) for t in tools[:12]) + (" …" if len(tools) > 12 else "")
        body = escapeHtml(json.dumps(tools, ensure_ascii=False, indent=2))
        out.append(f"<details><summary>Tools offered ({len(tools)}): {names}</summary><pre>{body}</pre></details>")
    passages = context.get("passages")
    if isinstance(passages, list) and passages:
        # Numbered from 1, as Fine-Grained RLHF's passage_id counts them.
        items = "".join(f'<li value="{k}">{_passage(p)}</li>' for k, p in enumerate(passages, start=1))
        out.append(f"<details><summary>Passages ({len(passages)})</summary><ol>{items}</ol></details>")
    return "".join(out)


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        inner = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        return str(inner.get("name") or "?")
    return "?"


def _passage(p: Any) -> str:
    if isinstance(p, list) and p:
        # [title, sentence, sentence, ...] (Fine-Grained RLHF): sentences numbered as their ids count them.
        sentences = "".join(f'<li value="{k}">{escapeHtml(str(x))}</li>' for k, x in enumerate(p) if k)
        return f"<strong>{escapeHtml(str(p[0]))}</strong><ol>{sentences}</ol>"
    if isinstance(p, dict):
        title = f"<strong>{escapeHtml(str(p.get('title') or ''))}</strong> " if p.get("title") else ""
        return title + escapeHtml(str(p.get("text") or p.get("content") or ""))
    return escapeHtml(str(p))


def part_texts(steps: Iterable[Step]) -> list[str]:
    """The texts a step's markup renders as Markdown, to render ahead of time."""
    return [p.text for s in steps for p in s.parts if p.type in ("text", "thinking") and p.text]
