"""The review page, `output/<stem>/index.html` (`index.de.html` for a translation into `de`): the
video with its caption tracks and chapters, and the storyboard sheet beside it (each beat's still,
narration and start); clicking a beat or a chapter seeks the video there. Served by `ncfvid serve`,
the page polls its data file (`review.json`) and reloads itself, at the same place in the video,
when a new render is published.

User text reaches the page only through Jinja2's HTML autoescaping.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from ncfvid.files import write_atomic
from ncfvid.publish.names import data_name, iso639_1

if TYPE_CHECKING:
    from ncfvid.publish.assemble import Published

__all__ = ["stamp", "write_review"]

_LANGUAGE_NAMES = {"eng": "English", "deu": "Deutsch", "fra": "Français", "spa": "Español", "ita": "Italiano"}


def stamp(seconds: float) -> str:
    """`mm:ss` (`h:mm:ss` past an hour)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["stamp"] = stamp
    return environment.get_template("review.html.j2")


def _tracks(video: Path, lang: str) -> list[dict[str, str]]:
    """The caption tracks of `video` (a list: a video with captions in more languages lists each)."""
    return [{"src": video.with_suffix(".vtt").name, "lang": iso639_1(lang), "label": _LANGUAGE_NAMES.get(lang, lang)}]


def write_review(published: Published) -> Path:
    """Write the page for `published` into its folder (atomically) and return its path."""
    video, lang = published.video, published.language
    folder = video.parent
    links = [(label, name) for label, name in _downloads(video) if (folder / name).is_file()]
    html = _template().render(
        title=published.title,
        lang2=iso639_1(lang),
        video=video.name,
        poster=video.with_suffix(".png").name,
        version=published.version,
        tracks=_tracks(video, lang),
        chapters=published.chapters,
        beats=published.beats,
        links=links,
        data=data_name(published.page),
    )
    return write_atomic(folder / published.page, html)


def _downloads(video: Path) -> list[tuple[str, str]]:
    return [
        ("MP4", video.name),
        ("WebM", video.with_suffix(".webm").name),
        ("GIF", video.with_suffix(".gif").name),
        ("Poster", video.with_suffix(".png").name),
        ("Handout (PDF)", video.with_suffix(".pdf").name),
        ("Chapters", video.with_suffix(".chapters.txt").name),
        ("SRT", video.with_suffix(".srt").name),
        ("WebVTT", video.with_suffix(".vtt").name),
    ]
