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
