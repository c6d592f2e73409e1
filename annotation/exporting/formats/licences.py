"""A licence as people type it ("CC BY 4.0", "Apache License 2.0") turned into the id the Hugging Face Hub uses.

The Hub knows a fixed list of ids; a card whose licence is not one of them says ``license: other`` and keeps the
name. Spelled-out Creative Commons names and version suffixes ("v3", ".0") are read the way people write them.
"""

from __future__ import annotations

import re

#: The licence ids the Hugging Face Hub lists for repositories.
HUB_LICENCES = (
    "apache-2.0",
    "mit",
    "openrail",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "c-uda",
    "cc",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "etalab-2.0",
    "eupl-1.1",
    "eupl-1.2",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "lppl-1.3c",
    "ms-pl",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openrail++",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "gemma",
    "unknown",
    "other",
)
# Words people spell out where the ids abbreviate, and words the ids leave out.
_WORDS = (
    (r"creative\s*commons", "cc"),
    (r"attribution", "by"),
    (r"share[\s-]*alike", "sa"),
    (r"non[\s-]*commercial", "nc"),
    (r"no[\s-]*deriv(?:ative)?s?", "nd"),
    (r"\b(?:licen[cs]e|international|version|the)\b", " "),
    (r"v(?=\d)", " "),
)


def _squashed(text: str) -> str:
    """Lower case, versions without a trailing ".0", and nothing but letters, digits and "+"."""
    text = re.sub(r"(\d)\.0\b", r"\1", text.lower())
    return re.sub(r"[^a-z0-9+]", "", text)


_BY_SQUASHED = {_squashed(i): i for i in HUB_LICENCES}
_BY_SQUASHED["cc0"] = "cc0-1.0"


def hub_licence_id(licence: str) -> str:
    """The Hub's id for a licence as typed: ``unknown`` when none is given, ``other`` when the Hub has none."""
    text = " ".join(licence.split()).lower()
    if not text:
        return "unknown"
    if text in HUB_LICENCES:
        return text
    for pattern, replacement in _WORDS:
        text = re.sub(pattern, replacement, text)
    return _BY_SQUASHED.get(_squashed(text), "other")
