"""A pronunciation lexicon: changes what is spoken, never what is captioned or shown."""

from __future__ import annotations

import re

BOOKMARK = re.compile(r"<bookmark\s+mark=\"[^\"]*\"\s*/>")


def apply_lexicon(text: str, lexicon: dict[str, str]) -> str:
    """Replace each whole word or phrase of `lexicon` (case-sensitive, longest first) in `text`.

    "NCF." becomes "N C F." but "NCFs" stays: a match must not touch letters or digits on either
    side. Bookmark tags are left alone.
    """
    if not lexicon:
        return text
    keys = sorted(lexicon, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")
    pieces = []
    last = 0
    for tag in BOOKMARK.finditer(text):
        pieces.append(pattern.sub(lambda m: lexicon[m.group(1)], text[last : tag.start()]))
        pieces.append(tag.group(0))
        last = tag.end()
    pieces.append(pattern.sub(lambda m: lexicon[m.group(1)], text[last:]))
    return "".join(pieces)
