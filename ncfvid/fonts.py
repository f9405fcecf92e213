"""Which characters the installed fonts can draw, and the storyboard texts they cannot.

Pango (under Manim's `Text`) draws a character no installed font has as an empty box with its code
inside; nothing fails, the viewer sees a box. So `validate` asks fontconfig once what every installed
font covers (`fc-list`'s charsets, cached on disk under a hash of the font file list: an installed or
removed font changes it) and reports each text with a character outside that union, naming the
Debian package that draws it. Pango falls back from the chosen family to any installed font that has
a character, so the union is what can be drawn.

Control characters (C0 and C1, DEL) are refused wherever they are, newlines excepted: Pango stops on
NUL, and the others draw as boxes or nothing.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ncfvid.files import write_atomic

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str, str]  # (path, message, severity), as ncfvid.rules

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every C0/C1 control but the newline
# Characters that are layout controls, not glyphs: Pango draws nothing for them, as it should.
INVISIBLE = re.compile(r"[\s\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufe00-\ufe0f\ufeff]")
# Where the characters of a script come from in Debian (first match wins; default fonts-noto-core).
PACKAGES: tuple[tuple[int, int, str], ...] = (
    (0x1100, 0x11FF, "fonts-noto-cjk"),  # Hangul Jamo
    (0x2E80, 0x2FDF, "fonts-noto-cjk"),  # CJK radicals
    (0x3000, 0x9FFF, "fonts-noto-cjk"),  # CJK punctuation, kana, ideographs
    (0xA960, 0xA97F, "fonts-noto-cjk"),
    (0xAC00, 0xD7FF, "fonts-noto-cjk"),  # Hangul syllables
    (0xF900, 0xFAFF, "fonts-noto-cjk"),
    (0xFE30, 0xFE4F, "fonts-noto-cjk"),
    (0xFF00, 0xFFEF, "fonts-noto-cjk"),  # full-width forms
    (0x1F000, 0x1FAFF, "fonts-noto-color-emoji"),  # emoji and pictographs
    (0x2600, 0x27BF, "fonts-noto-color-emoji"),
    (0x20000, 0x3FFFF, "fonts-noto-cjk"),  # rare ideographs (partly)
)
NO_FONT = "none: it is a private-use or unassigned code point"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


class Coverage:
    """A set of code points as sorted, merged [start, end] ranges."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [r[0] for r in merged]
        self.ends = [r[1] for r in merged]

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        index = bisect.bisect_right(self.starts, code) - 1
        return index >= 0 and code <= self.ends[index]

    def to_json(self) -> list[list[int]]:
        return [[s, e] for s, e in zip(self.starts, self.ends, strict=True)]


def parse_charset(text: str) -> list[tuple[int, int]]:
    """fontconfig's charset format ('20-7e a0 100-17f') as ranges."""
    ranges = []
    for part in text.split():
        start, _, end = part.partition("-")
        ranges.append((int(start, 16), int(end or start, 16)))
    return ranges


def _fc_list(*args: str) -> str:
    try:
        done = subprocess.run(["fc-list", *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ncfvid"


@functools.cache
def installed_coverage() -> Coverage | None:
    """Every character some installed font draws; None where fontconfig is missing (no check then)."""
    files = _fc_list("--format", "%{file}\n")
    if not files:
        return None
    key = hashlib.sha256(files.encode()).hexdigest()[:16]
    path = _cache_dir() / f"font-coverage-{key}.json"
    try:
        return Coverage([tuple(r) for r in json.loads(path.read_text(encoding="utf-8"))])  # type: ignore[misc]
    except (OSError, ValueError, TypeError):
        pass
    ranges = [r for line in _fc_list("--format", "%{charset}\n").splitlines() for r in parse_charset(line)]
    coverage = Coverage(ranges)
    try:
        write_atomic(path, json.dumps(coverage.to_json()))
    except OSError:  # a read-only home: no cache, only slower
        pass
    return coverage


@functools.cache
def installed_families() -> frozenset[str]:
    """Family names of the installed fonts (every name a font gives itself)."""
    names = set()
    for line in _fc_list(":", "family").splitlines():
        names.update(name.strip() for name in line.split(",") if name.strip())
    return frozenset(names)


def package_for(char: str) -> str:
    """The Debian package whose fonts draw `char`."""
    code = ord(char)
    category = unicodedata.category(char)
    if category in ("Co", "Cn"):
        return NO_FONT
    for start, end, package in PACKAGES:
        if start <= code <= end:
            return package
    return "fonts-noto-core"


def describe(char: str) -> str:
    """`char` as a reader can find it: itself where printable, its code point and name."""
    category = unicodedata.category(char)
    shown = f"'{char}' " if category[0] not in "CZ" else ""
    name = unicodedata.name(char, {"Co": "a private-use character", "Cn": "unassigned"}.get(category, "unnamed"))
    return f"{shown}(U+{ord(char):04X} {name})"


def uncovered(text: str, coverage: Coverage) -> list[str]:
    """The distinct characters of `text` no installed font draws, in order."""
    missing = [c for c in dict.fromkeys(text) if not INVISIBLE.match(c) and c not in coverage]
    return [c for c in missing if not CONTROL.match(c)]  # controls get their own finding


def uncovered_message(chars: list[str]) -> str:
    packages = sorted({package_for(c) for c in chars})
    named = ", ".join(describe(c) for c in chars[:6]) + (f" and {len(chars) - 6} more" if len(chars) > 6 else "")
    installable = [p for p in packages if p != NO_FONT]
    fix = f"install {' '.join(installable)} (apt-get install {' '.join(installable)})" if installable else ""
    if NO_FONT in packages:
        fix = (fix + "; " if fix else "") + "replace the private-use or unassigned characters"
    return f"no installed font can draw {named}: it would show as an empty box; {fix}"


def control_message(text: str) -> str:
    chars = list(dict.fromkeys(CONTROL.findall(text)))
    named = ", ".join(f"U+{ord(c):04X}" for c in chars)
    return f"control character {named} in the text; remove it (only a newline may break a text)"


def walk_strings(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every string of a loaded document, keys included (a key's loc is its entry's), with its path."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield (*loc, key), key
            yield from walk_strings(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk_strings(value, (*loc, index))


def check_controls(data: Any) -> Iterator[Finding]:
    """A control character anywhere in the document (before any model sees it)."""
    for loc, text in walk_strings(data):
        if CONTROL.search(text):
            yield loc, control_message(text), "error"


def check_family(family: str) -> str | None:
    """Why `family` cannot be the video's font, or None if it is installed."""
    families = installed_families()
    if not families or family in families:
        return None
    from difflib import get_close_matches

    close = get_close_matches(family, sorted(families), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "`fc-list : family` lists the installed ones"
    return f"no installed font family {family!r}; {hint}"


def screen_texts(story: Any) -> Iterator[tuple[Loc, str]]:
    """(path, text) of every text a storyboard puts on screen: the table's names and each beat's
    visual's strings."""
    data = story.data
    yield ("data", "corner"), data.corner
    for index, item in enumerate(data.items):
        yield ("data", "items", index), item
    for user in data.ratings:
        yield ("data", "ratings", user), user
    for a, act in enumerate(story.acts):
        for b, beat in enumerate(act.beats):
            shown = beat.show.model_dump(mode="json", exclude={"component"})
            yield from walk_strings(shown, ("acts", a, "beats", b, "show"))


def check_texts(story: Any) -> Iterator[Finding]:
    """Screen texts with characters no installed font draws (errors), captions likewise (warnings:
    they are drawn only when burnt in; players draw soft subtitles with their own fonts), and a
    `video.font` that is not installed."""
    problem = check_family(story.video.font)
    if problem is not None:
        yield ("video", "font"), problem, "error"
    coverage = installed_coverage()
    if coverage is None:
        return
    for loc, text in screen_texts(story):
        missing = uncovered(text, coverage)
        if missing:
            yield loc, uncovered_message(missing), "error"
    for a, act in enumerate(story.acts):
        for b, beat in enumerate(act.beats):
            missing = uncovered(beat.narration, coverage)
            if missing:
                message = uncovered_message(missing) + " (in captions burnt in with --burn-captions)"
                yield ("acts", a, "beats", b, "narration"), message, "warning"
