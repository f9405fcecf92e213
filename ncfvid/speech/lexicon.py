"""A pronunciation lexicon: changes what is spoken, never what is captioned or shown.

Rules (``apply_lexicon``):

- Case-sensitive, whole words or phrases only: a match must not have a letter, digit or underscore
  right before or after it. So with ``{"NCF": "N C F"}``: "NCF." -> "N C F.", "(NCF)" -> "(N C F)",
  "NCF's" -> "N C F's", "NCF-based" -> "N C F-based", but "NCFs" and "ncf" stay as they are. Add a
  separate entry (``"NCFs": "N C Fs"``) for a plural.
- Keys are literal text (regex characters are escaped); a space in a key matches any run of
  whitespace. Keys may start or end with punctuation ("C++", "k-NN").
- Longest key first, one pass: a replacement is never replaced again.
- manim-voiceover's ``<bookmark mark="..."/>`` tags are left untouched (text is not matched across them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ncfvid.speech import BOOKMARK_TAG

# Any bookmark-looking tag, also ones manim-voiceover's stricter pattern would not recognise.
_TAG = re.compile(rf"{BOOKMARK_TAG.pattern}|<bookmark\b[^>]*/?>")


def _key_pattern(key: str) -> str:
    return r"\s+".join(re.escape(part) for part in key.split())


def compile_lexicon(lexicon: Mapping[str, str]) -> re.Pattern[str] | None:
    """One regex for all keys, longest first; None for an empty lexicon."""
    keys = sorted((k for k in lexicon if k.strip()), key=lambda k: (-len(k), k))
    if not keys:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(f"({_key_pattern(k)})" for k in keys) + r")(?!\w)")


def apply_lexicon(text: str, lexicon: Mapping[str, str]) -> str:
    """Replace each whole word or phrase of `lexicon` in `text` (see the module's rules)."""
    pattern = compile_lexicon(lexicon)
    if pattern is None:
        return text
    keys = sorted((k for k in lexicon if k.strip()), key=lambda k: (-len(k), k))

    def replace(match: re.Match[str]) -> str:
        return lexicon[keys[match.lastindex - 1]] if match.lastindex else match.group(0)

    pieces: list[str] = []
    last = 0
    for tag in _TAG.finditer(text):
        pieces.append(pattern.sub(replace, text[last : tag.start()]))
        pieces.append(tag.group(0))
        last = tag.end()
    pieces.append(pattern.sub(replace, text[last:]))
    return "".join(pieces)
