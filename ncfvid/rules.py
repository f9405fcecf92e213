"""Rules that need the whole validated storyboard, reported at the exact place they break.

Type and reference rules live in the schema; these are the shape and consistency rules that only
make sense once everything has parsed: table shape, rating scale, files on disk, quoted values, text
that would be unreadable once shrunk to the frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from ncfvid.fonts import check_texts
from ncfvid.narration import QUOTE
from ncfvid.schema import Storyboard

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str, str]  # (path, message, severity)

# Text wider than this many characters at the smallest readable size cannot fit the frame's width.
MAX_LINE_CHARS = {"title": 70, "label": 60, "caption": 90}
# Names narration may quote; see ncfvid.story.narration_context.
QUOTABLE = (
    "prediction",
    "target",
    "rmse",
    "epochs",
    "first_loss",
    "final_loss",
    "predictions",
    "twins",
    "title",
)


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
    for a, act in enumerate(story.acts):
        seen_mlp = False
        for b, beat in enumerate(act.beats):
            here: Loc = ("acts", a, "beats", b)
            show = beat.show
            kind = show.component
            for text_field in ("narration", "spoken"):
                text = getattr(beat, text_field)
                for match in QUOTE.finditer(text or ""):
                    root = match.group(1).split(".")[0]
                    if root not in QUOTABLE:
                        close = get_close_matches(root, QUOTABLE, n=1, cutoff=0.6)
                        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(QUOTABLE)}"
                        yield (
                            (*here, text_field),
                            f"{{{{ {match.group(1)} }}}} is not a value the story computes; {hint}",
                            "error",
                        )
            if beat.audio is not None:
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
            if kind == "mlp":
                seen_mlp = True
            if kind in ("forward_pass", "prediction") and not seen_mlp:
                yield (
                    (*here, "show", "component"),
                    f"'{kind}' needs an 'mlp' beat earlier in the same act to flow through",
                    "error",
                )
            if kind == "embedding_lookup":
                if show.shown_dims > story.model.embedding_size:
                    yield (
                        (*here, "show", "shown_dims"),
                        f"shows {show.shown_dims} values but the embedding has only {story.model.embedding_size}; "
                        f"set shown_dims to at most {story.model.embedding_size}",
                        "error",
                    )
                if show.values is not None and len(show.values) < show.shown_dims:
                    yield (
                        (*here, "show", "values"),
                        f"{len(show.values)} values given but shown_dims is {show.shown_dims}; "
                        "give at least shown_dims values or lower shown_dims",
                        "error",
                    )
            if kind == "taste_twins" and show.top >= len(story.data.ratings):
                others = len(story.data.ratings) - 1
                fix = f"set top to at most {others}" if others else "add users to compare with"
                yield (
                    (*here, "show", "top"),
                    f"top is {show.top} but the table has only {others} other user{'s' if others != 1 else ''}; {fix}",
                    "error",
                )
            if kind == "training_loop" and show.example is not None:
                ex = show.example
                row = story.data.ratings.get(ex.user, [])
                index = story.data.items.index(ex.item) if ex.item in story.data.items else -1
                if 0 <= index < len(row) and row[index] is None:
                    yield (
                        (*here, "show", "example"),
                        f"{ex.user} has not rated {ex.item}; training follows a known rating, "
                        "so choose a cell that has one",
                        "error",
                    )
            for text_field, text in _texts(show):
                limit = MAX_LINE_CHARS.get(text_field, MAX_LINE_CHARS["label"])
                if len(text) > limit:
                    yield (
                        (*here, "show", text_field),
                        f"{text_field} is {len(text)} characters long; beyond {limit} it shrinks below a "
                        "readable size: shorten it",
                        "warning",
                    )
