"""Names the published files share: the review page's data file and language codes (used by the
join, the page and the handout; a module of its own so that none of them imports another for them)."""

from __future__ import annotations

import re

# ISO 639-1 -> 639-2/T, the codes MP4 tags streams with (a code not listed is written "und").
_ISO639_2 = {
    "ar": "ara", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng", "es": "spa", "fi": "fin",
    "fr": "fra", "he": "heb", "hi": "hin", "hu": "hun", "it": "ita", "ja": "jpn", "ko": "kor", "nl": "nld",
    "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sv": "swe", "tr": "tur", "uk": "ukr",
    "zh": "zho",
}  # fmt: skip
REVIEW_DATA = "review.json"  # the page's data (and what `ncfvid handout` and `serve --watch` read)


def page_names(translation: str | None) -> tuple[str, str]:
    """(review page, its data file) of a video: `index.html` and `review.json` for the storyboard's own
    language, `index.de.html` and `review.de.json` for its translation into `de` (one folder holds both)."""
    suffix = f".{translation}" if translation else ""
    return f"index{suffix}.html", REVIEW_DATA.replace(".json", f"{suffix}.json")


def data_name(page: str) -> str:
    """The data file of a review page: `review.json` for `index.html`, `review.de.json` for `index.de.html`."""
    return "review" + page.removeprefix("index").removesuffix(".html") + ".json"


def iso639_2(language: str) -> str:
    """The three-letter code of `language` ('de', 'de-AT', 'deu', 'en-us' …), 'und' if unknown."""
    code = re.split(r"[-_]", language.lower(), maxsplit=1)[0]
    return code if len(code) == 3 else _ISO639_2.get(code, "und")


def iso639_1(code: str) -> str:
    """The two-letter code of a three-letter one (for HTML), or the code itself if it has none."""
    return next((short for short, long in _ISO639_2.items() if long == code), code)
