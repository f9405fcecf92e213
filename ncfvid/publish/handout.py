"""The PDF handout: one A4 landscape page per beat, with the beat's last frame, its narration and
where it starts in the video. Drawn with Cairo (which Manim already brings), so the narration is real,
selectable text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import cairo

from ncfvid.files import write_atomic
from ncfvid.publish.assemble import BeatEntry
from ncfvid.publish.review import stamp

__all__ = ["write_handout"]

PAGE = (842.0, 595.0)  # A4 landscape, points
MARGIN = 36.0
FONT = "DejaVu Sans"
MUTED = (0.42, 0.45, 0.52)


def _wrap(context: cairo.Context, text: str, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` at the current font (a long word stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and context.text_extents(trial).x_advance > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _text_block(context: cairo.Context, text: str, top: float, bottom: float) -> None:
    """The narration from `top`, at the largest size from 14 pt down to 8 pt that fits above `bottom`."""
    width = PAGE[0] - 2 * MARGIN
    for size in (14, 13, 12, 11, 10, 9, 8):
        context.set_font_size(size)
        lines = _wrap(context, text, width)
        if top + len(lines) * size * 1.35 <= bottom:
            break
    context.set_source_rgb(0.1, 0.1, 0.12)
    y = top
    for line in lines:
        y += size * 1.35
        if y > bottom + size:
            break
        context.move_to(MARGIN, y)
        context.show_text(line)


def _page(context: cairo.Context, title: str, beat: BeatEntry, number: int, count: int, still: Path) -> None:
    context.select_font_face(FONT, cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_BOLD)
    context.set_font_size(13)
    context.set_source_rgb(0.1, 0.1, 0.12)
    context.move_to(MARGIN, MARGIN + 4)
    context.show_text(f"{beat.act_title}")
    context.select_font_face(FONT, cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_NORMAL)
    context.set_font_size(10)
    context.set_source_rgb(*MUTED)
    right = f"{title} · {beat.act}.{beat.beat} · {stamp(beat.start)}–{stamp(beat.end)} · {number}/{count}"
    context.move_to(PAGE[0] - MARGIN - context.text_extents(right).x_advance, MARGIN + 4)
    context.show_text(right)
    image = cairo.ImageSurface.create_from_png(str(still))
    box_w, box_h = PAGE[0] - 2 * MARGIN, PAGE[1] * 0.66
    scale = min(box_w / image.get_width(), box_h / image.get_height())
    left = (PAGE[0] - image.get_width() * scale) / 2
    top = MARGIN + 16
    context.save()
    context.translate(left, top)
    context.scale(scale, scale)
    context.set_source_surface(image, 0, 0)
    context.paint()
    context.restore()
    context.select_font_face(FONT, cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_NORMAL)
    _text_block(context, beat.narration, top + image.get_height() * scale + 8, PAGE[1] - MARGIN)


def write_handout(path: Path, title: str, beats: Sequence[BeatEntry], folder: Path) -> Path:
    """Write the handout of `beats` (stills relative to `folder`) to `path`, atomically."""
    buffer = io.BytesIO()
    surface = cairo.PDFSurface(buffer, *PAGE)
    surface.set_metadata(cairo.PDFMetadata.TITLE, title)
    surface.set_metadata(cairo.PDFMetadata.CREATOR, "ncfvid")
    context = cairo.Context(surface)
    for number, beat in enumerate(beats, start=1):
        _page(context, title, beat, number, len(beats), folder / beat.still)
        context.show_page()
    surface.finish()
    return write_atomic(path, buffer.getvalue())
