"""Trace text as markup: Markdown and every LaTeX delimiter render, and nothing hostile survives the allow-list."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from annotation.rendering.markup import clean, to_html
from tests.e2e.payloads import PAYLOADS


def test_latex_in_each_delimiter_becomes_mathml_with_its_backslashes_understood():
    html = to_html(r"Since \( x^2 + 7 \) is odd, \[ \frac{a}{b} \] and $y_1$ and $$\sum_i i$$")
    assert html.count("<math") == 4
    assert "<mfrac>" in html and "<msub>" in html and "∑" in html
    assert "( x^2" not in html  # the OlympiadBench case: no backslash lost, no raw source left


def test_markdown_is_rendered_and_raw_html_is_shown_as_text():
    html = to_html("**bold** and `code`\n\n- a\n- b\n\n<b onclick=alert(1)>hi</b>")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html and "<li>a</li>" in html
    assert "<b " not in html and "&lt;b onclick=alert(1)&gt;" in html


def test_an_image_is_never_loaded_and_its_address_is_shown():
    html = to_html("![pixel](https://tracker.example/p.png?who=me)")
    assert "<img" not in html
    assert "[image: pixel] https://tracker.example/p.png?who=me" in html


def test_links_keep_only_safe_targets_and_never_pass_the_referrer():
    assert 'rel="noopener noreferrer nofollow"' in to_html("[ok](https://example.org)")
    for target in ("javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x"):
        assert "href" not in to_html(f"[x]({target})"), target


def test_latex_that_does_not_parse_is_shown_as_its_source():
    html = to_html(r"bad \( \frac{ \)")
    assert "math-source" in html and r"\frac{" in html


def test_latex_cannot_smuggle_markup_or_links():
    html = to_html(r"$\href{javascript:alert(1)}{x} \mathrm{<img src=x onerror=alert(1)>}$")
    assert "javascript" not in html and "<img" not in html and "onerror=" not in html.replace("&lt;", "")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


LIVE_TAGS = {"script", "img", "iframe", "svg", "style", "link", "object", "embed", "meta", "base", "form", "input"}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_the_robustness_payloads_stay_inert(name):
    parser = _Elements()
    parser.feed(to_html(PAYLOADS[name]))
    for tag, attrs in parser.found:
        assert tag not in LIVE_TAGS, (name, tag)
        for attribute, value in attrs:
            assert not attribute.startswith("on") and attribute not in ("style", "src", "srcdoc"), (name, attribute)
            if attribute == "href":
                assert value.startswith(("http://", "https://", "mailto:")), (name, value)


def test_the_allow_list_is_the_last_word_whatever_reaches_it():
    assert clean('<p onclick="x">a</p><script>alert(1)</script><img src=x>') == "<p>a</p>"
    assert clean('<span class="math evil">x</span>') == '<span class="math">x</span>'


def test_empty_text_is_empty_markup():
    assert to_html("") == "" and to_html(None) == ""
