"""Rules that need the whole validated storyboard, reported at the exact place they break.

Type and reference rules live in the schema; these are the shape and consistency rules that only
make sense once everything has parsed: table shape, rating scale, files on disk, quoted values, text
that would be unreadable once shrunk to the frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ncfvid.components import component
from ncfvid.fonts import check_texts
from ncfvid.narration import context_shape, quote_problem, quotes
from ncfvid.schema import Storyboard

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str, str]  # (path, message, severity)

# Text wider than this many characters at the smallest readable size cannot fit the frame's width.
MAX_LINE_CHARS = {"title": 70, "label": 60, "caption": 90}


def check_storyboard(story: Storyboard, base_dir: Path) -> list[Finding]:
    """All shape and consistency findings, in storyboard order."""
    from ncfvid.publish.checks import check_music, check_thumbnail

    return [
        *check_table_shape(story),
        *check_target_is_missing(story),
        *check_known_ratings_exist(story),
        *check_beats(story, base_dir),
        *check_texts(story),
        *check_music(story, base_dir),
        *check_thumbnail(story),
    ]


def check_table_shape(story: Storyboard) -> Iterator[Finding]:
    d = story.data
    for user, row in d.ratings.items():
        if len(row) != len(d.items):
            yield (
                ("data", "ratings", user),
                f"{user!r} has {len(row)} ratings for {len(d.items)} items; give one per item (null if unrated)",
                "error",
            )
        for index, value in enumerate(row):
            if value is not None and not d.scale.min <= value <= d.scale.max:
                yield (
                    ("data", "ratings", user, index),
                    f"rating {value:g} is outside the scale {d.scale.min:g}..{d.scale.max:g}; "
                    "use a rating within the scale, or null if unrated",
                    "error",
                )


def check_target_is_missing(story: Storyboard) -> Iterator[Finding]:
    d = story.data
    row = d.ratings.get(d.target.user)
    if row is None or d.target.item not in d.items:
        return
    index = d.items.index(d.target.item)
    if index < len(row) and row[index] is not None:
        yield (
            ("data", "target"),
            f"{d.target.user} already rated {d.target.item} ({row[index]:g}); the target must be a missing (null) cell",
            "error",
        )


def check_known_ratings_exist(story: Storyboard) -> Iterator[Finding]:
    if all(value is None for row in story.data.ratings.values() for value in row):
        yield (("data", "ratings"), "the table has no known rating to learn from", "error")


def _texts(show: Any) -> Iterator[tuple[str, str]]:
    """(field, text) pairs of a component's one-line screen texts, for the fit check."""
    for field in ("title", "caption", "label", "subtitle"):
        value = getattr(show, field, None)
        if isinstance(value, str):
            yield field, value


def check_beats(story: Storyboard, base_dir: Path) -> Iterator[Finding]:
    shape = context_shape(story)
    for a, act in enumerate(story.acts):
        earlier: set[str] = set()
        for b, beat in enumerate(act.beats):
            here: Loc = ("acts", a, "beats", b)
            yield from _check_quotes(beat, here, shape)
            yield from _check_audio(beat, here, base_dir)
            yield from _check_component(story, beat.show, (*here, "show"), earlier)
            earlier.add(beat.show.component)


def _check_quotes(beat: Any, here: Loc, shape: dict[str, Any]) -> Iterator[Finding]:
    """Narration quotes only what the story computes (the rules `compile` applies to the values)."""
    for text_field in ("narration", "spoken"):
        for name in quotes(getattr(beat, text_field) or ""):
            problem = quote_problem(name, shape)
            if problem is not None:
                yield ((*here, text_field), problem, "error")


def _check_audio(beat: Any, here: Loc, base_dir: Path) -> Iterator[Finding]:
    if beat.audio is None:
        return
    path = (base_dir / beat.audio).resolve()
    if not path.is_file():
        yield (
            (*here, "audio"),
            f"recorded audio file not found: {beat.audio} (relative to the storyboard's folder); "
            "record it there, fix the path, or remove 'audio'",
            "error",
        )
    elif path.suffix.lower() not in (".wav", ".mp3"):
        yield ((*here, "audio"), "recorded audio must be a .wav or .mp3 file", "error")


def _check_component(story: Storyboard, show: Any, here: Loc, earlier: set[str]) -> Iterator[Finding]:
    """The component's own rules (its registry entry), what must come before it, and text that fits."""
    entry = component(show.component)
    if entry.after and not earlier & set(entry.after):
        needed = " or ".join(repr(name) for name in entry.after)
        message = entry.after_message or f"needs a {needed} beat earlier in the same act"
        yield ((*here, "component"), f"{show.component!r} {message}", "error")
    for loc, message, severity in entry.rules(story, show):
        yield ((*here, *loc), message, severity)
    for text_field, text in _texts(show):
        limit = MAX_LINE_CHARS.get(text_field, MAX_LINE_CHARS["label"])
        if len(text) > limit:
            yield (
                (*here, text_field),
                f"{text_field} is {len(text)} characters long; beyond {limit} it shrinks below a "
                "readable size: shorten it",
                "warning",
            )
