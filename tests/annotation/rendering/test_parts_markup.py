"""Parts as markup: whatever a tool returns or a model writes is text, and only stored images are shown."""

from html.parser import HTMLParser

from annotation.core.parts import Part, Step
from annotation.rendering.parts import context_html, step_html


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


HOSTILE = '<img src="http://evil.example/p.png" onerror="alert(1)"><script>alert(2)</script>'


def test_tool_calls_and_results_are_escaped_text():
    step = Step(
        [
            Part("tool_call", name=HOSTILE, arguments=HOSTILE, call_id=HOSTILE),
            Part("tool_result", name="f", content=HOSTILE, is_error=True),
            Part("text", text=HOSTILE),
            Part("thinking", text=HOSTILE),
        ],
        role=HOSTILE,
        agent=HOSTILE,
    )
    html = step_html(step, {})
    tags = Elements(html).tags
    assert not {t for t, _ in tags} & {"script", "img"}
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on") or a == "src"]
    assert "&lt;script&gt;" in html
    assert "arguments are not valid JSON" in html and "rl-error" in html


def test_valid_arguments_are_indented_and_long_results_folded():
    step = Step([Part("tool_call", name="f", arguments='{"a":1}'), Part("tool_result", content="x" * 5000)])
    html = step_html(step, {})
    assert "{\n  &quot;a&quot;: 1\n}" in html
    assert '<details class="rl-part rl-result">' in html and "4.9 kB" in html


def test_only_stored_images_are_shown_and_remote_ones_are_links():
    stored = "a" * 64 + ".png"
    uri = "data:image/png;base64,iVBORw0KGgo="
    html = step_html(
        Step(
            [Part("image", image=stored), Part("image", image="https://evil.example/p.png"), Part("image", image="x")]
        ),
        {stored: uri},
    )
    assert html.count("<img") == 1 and f'src="{uri}"' in html
    assert "[remote image, not loaded]" in html and "image missing from the project" in html


def test_context_shows_system_prompt_tools_and_passages_as_text():
    html = context_html(
        {"system": HOSTILE, "tools": [{"type": "function", "function": {"name": "get_order"}}], "passages": [HOSTILE]}
    )
    assert "<script" not in html and "Tools offered (1): get_order" in html and "Passages (1)" in html
