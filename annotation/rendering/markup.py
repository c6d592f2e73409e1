"""Markdown and LaTeX from a trace, as HTML that is safe to put in the page.

Trace text is hostile: it never runs as HTML or script and never makes the browser fetch anything. So raw
HTML in the text is shown as text (markdown-it with ``html`` off), math becomes MathML on the server
(latex2mathml: no script and no web font in the browser), an image is shown as its alt text and address
instead of being loaded, and the result goes through nh3's allow-list, which is the one guarantee: whatever
the steps before let through, only the listed tags and attributes, and links to http(s) and mailto, remain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.dollarmath import dollarmath_plugin

_TEXT_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "div",
}  # fmt: skip
_MATH_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt",
    "mroot", "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mstyle",
    "mpadded", "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none",
}  # fmt: skip
_MATH_ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "columnalign",
    "rowspacing", "columnspacing", "displaystyle", "scriptlevel", "width", "height", "depth", "notation",
    "accent", "accentunder", "linethickness", "form", "minsize", "maxsize", "movablelimits", "symmetric",
    "largeop", "encoding", "columnlines", "rowlines", "frame", "align",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    **{tag: _MATH_ATTRIBUTES for tag in _MATH_TAGS},
}
# Classes our own renderer writes; any other class (from nowhere, since raw HTML is off) is dropped.
_CLASSES = {"span": {"math", "math-display", "math-source", "image-link"}}

# \( inline \) and \[ display \], as OlympiadBench and most LaTeX-minded models write them.
_BRACKETED = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def _math(tex: str, *, display: bool) -> str:
    try:
        mathml = latex_to_mathml(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds on input it does not know: show the source instead
        return f'<span class="math-source">{escapeHtml(tex)}</span>'
    return f'<span class="math math-display">{mathml}</span>' if display else f'<span class="math">{mathml}</span>'


def _bracketed_math(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith(("\\(", "\\["), state.pos):
        return False
    match = _BRACKETED.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        display = match.group(2) is not None
        token = state.push("math_bracketed_display" if display else "math_bracketed", "", 0)
        token.content = match.group(2) if display else match.group(1)
    state.pos = match.end()
    return True


def _image_as_text(_self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    src = token.attrGet("src") or ""
    return f'<span class="image-link">[image: {escapeHtml(alt)}] {escapeHtml(str(src))}</span>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    dollarmath_plugin(md, allow_space=True, allow_digits=False, double_inline=True)
    md.inline.ruler.before("escape", "math_bracketed", _bracketed_math)
    for rule, display in (
        ("math_inline", False),
        ("math_inline_double", True),
        ("math_block", True),
        ("math_block_label", True),
        ("math_bracketed", False),
        ("math_bracketed_display", True),
    ):
        md.add_render_rule(rule, lambda _self, tokens, idx, *_, d=display: _math(tokens[idx].content, display=d))
    md.add_render_rule("image", _image_as_text)
    return md


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Built once: building the allow-list costs far more than applying it (0.2 ms against 0.01 ms a step).
    return nh3.Cleaner(
        tags=_TEXT_TAGS | _MATH_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def clean(html: str) -> str:
    """The allow-list: nothing outside it reaches the page, whatever produced ``html``."""
    return _cleaner().clean(html)


@lru_cache(maxsize=8192)
def to_html(text: str | None) -> str:
    """``text`` (Markdown with LaTeX) as sanitised HTML; the same text always gives the same markup."""
    if not text:
        return ""
    return clean(_parser().render(text))


# One background worker: rendering ahead must not compete with the requests people wait for.
_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redline-render-ahead")


def render_soon(texts: Iterable[str | None]) -> None:
    """Render ``texts`` in the background, so a trace opened next is already in the cache (math is slow to
    convert: about 0.5 ms a step, 150 ms for a 300-step trace)."""
    pending = [t for t in texts if t]
    if pending:
        _AHEAD.submit(lambda: [to_html(t) for t in pending])
