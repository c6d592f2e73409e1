"""Trace text turned into markup a browser may show: Markdown and LaTeX, sanitised, never fetching anything."""
