"""Helpers every page shares."""

from pages.common import md_escape, shown_markdown


def test_trace_markdown_keeps_maths_and_links_but_no_data_or_script_targets():
    text = (
        "[a](data:text/html;base64,PHNjcmlwdD4=) [b]( JavaScript:alert(1)) [c](<vbscript:x>) [d](https://ok.org) $x^2$"
    )
    shown = shown_markdown(text)
    assert "](data:" not in shown and "](" + " JavaScript:" not in shown and "](<vbscript:" not in shown
    assert "[d](https://ok.org)" in shown and "$x^2$" in shown


def test_md_escape_shows_markdown_specials_as_written():
    assert md_escape("*a* <b> $c$") == "\\*a\\* \\<b\\> \\$c\\$"


def test_images_in_trace_markdown_read_as_text():
    from pages.common import shown_markdown

    text = "a ![x](http://h/p.png) b ![y][r] c\n\n[r]: https://h/q.png\n\n![](//h/z.png)"
    shown = shown_markdown(text)
    assert "![" not in shown
    assert shown.count("!\\[") == 3


def test_no_page_uses_components_v1_whose_removal_date_has_passed():
    """Issue 17: the server log warned on every run that st.components.v1.html goes after 2026-06-01."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("pages/**/*.py"), root / "app.py", root / "server.py"]
    offenders = [p.name for p in sources if "components.v1" in p.read_text(encoding="utf-8")]
    assert offenders == []
