"""Hostile text for every place a person's or a model's words reach a page: HTML, JavaScript, Markdown, LaTeX.

Each payload that could run sets ``window.redlinePwned`` (through ``top`` so a frame reaches the page too) or
opens a dialog, so a browser test knows if one ran. Names are short ids for the report; ``SPOT_CHECKS`` are
payloads whose literal text must show on the page (no Markdown specials in them, so the text is exact).
"""

from __future__ import annotations

FLAG = "redlinePwned"

PAYLOADS: dict[str, str] = {
    "script": "<script>top.redlinePwned=1;alert(1)</script>",
    "img-onerror": '<img src=x onerror="top.redlinePwned=2;alert(2)">',
    "svg-onload": '<svg onload="top.redlinePwned=3;alert(3)"><circle r="9"/></svg>',
    "iframe-javascript": '<iframe src="javascript:top.redlinePwned=4;alert(4)"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>top.redlinePwned=5</script>"></iframe>',
    "html-javascript-link": '<a href="javascript:top.redlinePwned=6;alert(6)">click here 6</a>',
    "markdown-javascript-link": "[click here 7](javascript:top.redlinePwned=7;alert(7))",
    "markdown-reference-link": "[click here 8][evil8]\n\n[evil8]: javascript:top.redlinePwned=8",
    "markdown-image-onerror": '![pic9](x" onerror="top.redlinePwned=9)',
    "markdown-image-javascript": "![pic10](javascript:top.redlinePwned=10)",
    "data-url-link": "[open 11](data:text/html;base64,PHNjcmlwdD50b3AucmVkbGluZVB3bmVkPTExPC9zY3JpcHQ+)",
    "latex-href": r"$\href{javascript:top.redlinePwned=12;alert(12)}{click here 12}$",
    "latex-url": r"$$\url{javascript:top.redlinePwned=13}$$",
    "latex-html-attributes": r"$\htmlData{onclick=top.redlinePwned=14}{x}\htmlStyle{position:fixed;inset:0}{y}$",
    "latex-includegraphics": r"$\includegraphics{x}$",
    "style-injection": "<style>body{display:none !important}</style>",
    "inline-style-overlay": '<div style="position:fixed;inset:0;z-index:99999;background:red">overlay 17</div>',
    "event-handler-details": '<details open ontoggle="top.redlinePwned=18;alert(18)">x</details>',
    "autofocus-onfocus": '<input autofocus onfocus="top.redlinePwned=19;alert(19)">',
    "object-data-url": '<object data="data:text/html,<script>top.redlinePwned=20</script>"></object>',
    "attribute-breakout": '"><script>top.redlinePwned=21</script>',
    "entity-javascript-link": '<a href="&#106;avascript:top.redlinePwned=22">click here 22</a>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:top.redlinePwned=23">',
    "base-href": '<base href="javascript:top.redlinePwned=24//">',
    "mxss-math": '<math><mtext><table><mglyph><style><img src=x onerror="top.redlinePwned=25">',
    "form-action": '<form action="javascript:top.redlinePwned=26"><button>go 26</button></form>',
    "video-source-onerror": '<video><source onerror="top.redlinePwned=27"></video>',
    "template-injection": "{{constructor.constructor('top.redlinePwned=28')()}}",
    "body-onload": '<body onload="top.redlinePwned=29">',
    "plain-javascript-url": "javascript:top.redlinePwned=30",
}

#: Literal text that must be visible wherever its payload is shown (Markdown leaves these characters alone).
SPOT_CHECKS = ("script", "img-onerror", "svg-onload", "html-javascript-link")

#: What must never appear in the page after rendering the payloads, as a JavaScript check over every frame
#: that shares the page's origin. Returns a list of findings (empty when nothing got through).
FINDINGS_JS = """
() => {
  const found = [];
  const docs = [document];
  for (const f of document.querySelectorAll('iframe')) {
    try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) {}
  }
  if (window.redlinePwned !== undefined) found.push('window.redlinePwned = ' + window.redlinePwned);
  for (const doc of docs) {
    if (doc.body && getComputedStyle(doc.body).display === 'none') found.push('the body was hidden (style injection)');
    for (const el of doc.querySelectorAll('*')) {
      for (const a of el.attributes) {
        const v = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        const said = el.tagName + ' ' + a.name + '=' + a.value;
        if (a.name.startsWith('on') && v.includes('redlinepwned')) found.push(said);
        // A link to a data: page is reported apart (DATA_LINKS_JS): Chromium refuses to open one from a page.
        const dataLink = el.tagName === 'A' && a.name === 'href' && v.startsWith('data:');
        if (['href', 'src', 'action', 'data', 'srcdoc', 'formaction', 'content'].includes(a.name) && !dataLink
            && (v.startsWith('javascript:') || v.startsWith('data:text/html') || v.includes('redlinepwned')))
          found.push(said);
        if (a.name === 'style' && v.includes('z-index:99999')) found.push('an injected overlay: ' + a.value);
      }
      if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('img src=x');
      if (['SCRIPT', 'STYLE'].includes(el.tagName) && /redlinePwned|display:none !important/.test(el.textContent))
        found.push('an injected ' + el.tagName + ': ' + el.textContent.slice(0, 60));
      if (['BASE', 'META', 'OBJECT', 'EMBED'].includes(el.tagName) && el.closest('[data-testid="stMain"], section'))
        found.push('an injected ' + el.tagName);
    }
  }
  return found;
}
"""

#: Links to data: pages in the main document (Markdown keeps them; Streamlit only neutralises javascript:).
DATA_LINKS_JS = """() => document.querySelectorAll('a[href^="data:"]').length"""


def combined(names: list[str] | None = None, sep: str = "\n\n") -> str:
    """Several payloads in one text, each after its name, for fields that hold one text (problem, critique)."""
    return sep.join(f"{name}: {PAYLOADS[name]}" for name in names or PAYLOADS)
