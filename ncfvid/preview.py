"""`ncfvid preview`: a storyboard sheet, one still per beat (the beat's last frame) in a grid.

The acts run as in `ncfvid check` (draft voice, animations settled at their end, no video written);
at the end of each beat the scene's camera draws the screen once, at -q l. Each panel is captioned
with the act and beat ids and the first words of the beat's narration; a panel whose beat has layout
problems gets a red frame and their count. The PNG carries the panels' places as JSON in its
`ncfvid-panels` text chunk.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PANEL_WIDTH, PANEL_HEIGHT = 480, 270  # a 16:9 still
CAPTION_HEIGHT = 52
GAP = 14
HEADER_HEIGHT = 58
DEFAULT_COLUMNS = 4
SHEET_BACKGROUND = (236, 236, 232)
INK, MUTED, PROBLEM = (28, 28, 28), (96, 96, 96), (205, 40, 40)
CAPTION_WORDS = 12


@dataclass(frozen=True)
class Panel:
    """One beat's place on the sheet."""

    act: str
    beat: str
    caption: str
    x: int
    y: int
    problems: int = 0


@dataclass
class PreviewResult:
    path: Path
    panels: list[Panel]
    seconds: float


def sheet_size(panels: int, columns: int = DEFAULT_COLUMNS) -> tuple[int, int]:
    """(width, height) in pixels of a sheet with `panels` panels in `columns` columns."""
    columns = max(1, min(columns, panels)) if panels else 1
    rows = -(-panels // columns) if panels else 0
    width = GAP + columns * (PANEL_WIDTH + GAP)
    height = HEADER_HEIGHT + GAP + rows * (PANEL_HEIGHT + CAPTION_HEIGHT + GAP)
    return width, height


def panel_origin(index: int, columns: int) -> tuple[int, int]:
    """Top-left pixel of the still of panel `index`."""
    row, col = divmod(index, columns)
    return GAP + col * (PANEL_WIDTH + GAP), HEADER_HEIGHT + GAP + row * (PANEL_HEIGHT + CAPTION_HEIGHT + GAP)


def first_words(text: str, count: int = CAPTION_WORDS) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" \u2026" if len(words) > count else "")


@cache
def _font(bold: bool, size: int) -> Any:
    from PIL import ImageFont

    name = "DejaVu Sans:bold" if bold else "DejaVu Sans"
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout:
            return ImageFont.truetype(found.stdout.strip(), size)
    except OSError:
        pass
    return ImageFont.load_default(size)


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """`text`, cut with an ellipsis so that it is at most `width` pixels wide."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "\u2026", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def compose_sheet(
    title: str,
    items: Sequence[tuple[str, str, str, Path | None, int]],
    path: Path,
    columns: int = DEFAULT_COLUMNS,
) -> list[Panel]:
    """Lay out `(act, beat, caption, still or None, problems)` items as a sheet PNG at `path`."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    columns = max(1, min(columns, len(items))) if items else 1
    sheet = Image.new("RGB", sheet_size(len(items), columns), SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, 16), _fit(draw, title, _font(True, 24), sheet.width - 2 * GAP), font=_font(True, 24), fill=INK)
    panels = []
    for index, (act, beat, caption, still, problems) in enumerate(items):
        x, y = panel_origin(index, columns)
        if still is not None and still.is_file():
            with Image.open(still) as image:
                sheet.paste(image.convert("RGB").resize((PANEL_WIDTH, PANEL_HEIGHT), Image.LANCZOS), (x, y))
        else:
            draw.rectangle([x, y, x + PANEL_WIDTH - 1, y + PANEL_HEIGHT - 1], fill=(60, 20, 20))
            draw.text((x + 12, y + 12), "this beat did not run", font=_font(False, 16), fill=(255, 220, 220))
        if problems:
            draw.rectangle([x - 3, y - 3, x + PANEL_WIDTH + 2, y + PANEL_HEIGHT + 2], outline=PROBLEM, width=3)
        head = f"{index + 1}. {act} \u203a {beat}"
        if problems:
            head += f"   \u26a0 {problems} layout problem{'s' if problems != 1 else ''}"
        bold, plain = _font(True, 15), _font(False, 14)
        draw.text((x, y + PANEL_HEIGHT + 6), _fit(draw, head, bold, PANEL_WIDTH), font=bold, fill=INK)
        line = _fit(draw, first_words(caption), plain, PANEL_WIDTH)
        draw.text((x, y + PANEL_HEIGHT + 27), line, font=plain, fill=MUTED)
        panels.append(Panel(act, beat, caption, x, y, problems))
    info = PngInfo()
    places = [{"act": p.act, "beat": p.beat, "x": p.x, "y": p.y, "w": PANEL_WIDTH, "h": PANEL_HEIGHT} for p in panels]
    info.add_text("ncfvid-panels", json.dumps(places))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    sheet.save(tmp, pnginfo=info)
    tmp.replace(path)
    return panels


def preview(
    storyboard: Path,
    acts: Sequence[str] = (),
    *,
    sheet: Path | None = None,
    columns: int = DEFAULT_COLUMNS,
    out: Path | None = None,
    template_dirs: tuple[Path, ...] = (),
    jobs: int | None = None,
) -> PreviewResult:
    """Write the storyboard sheet of `storyboard` (default: output/<stem>/<stem>-storyboard.png)."""
    import shutil

    from ncfvid.check import run_acts
    from ncfvid.layoutrules import check_beats
    from ncfvid.project import Project

    started = time.perf_counter()
    project = Project.open(storyboard, acts=acts, out=out, template_dirs=template_dirs)
    loaded, story = project.loaded, project.story
    work = project.folder / "cache" / "preview"
    module_path = project.write_module(work / "scenes.py")
    scenes = [(a.id, a.scene, len(a.beat_ids)) for a in project.acts]
    for old in work.glob("run-*"):
        shutil.rmtree(old, ignore_errors=True)
    runs = run_acts(module_path, scenes, work, "l", stills=True, jobs=jobs)
    items: list[tuple[str, str, str, Path | None, int]] = []
    for chosen, run in zip(project.acts, runs, strict=True):
        problems: dict[int, int] = {}
        for finding in check_beats(run.beats, story.video.safe_margin, story.video.quality):
            problems[finding.beat] = problems.get(finding.beat, 0) + 1
        for index, beat in enumerate(chosen.act.beats):
            record = run.beats[index] if index < len(run.beats) else None
            caption = record.caption if record else " ".join(beat.narration.split())
            still = Path(record.still) if record and record.still else None
            items.append((chosen.id, beat.id, caption, still, problems.get(index, 0)))
    target = sheet if sheet is not None else project.folder / f"{loaded.stem}-storyboard.png"
    title = f"{' '.join(story.title.split())}  \u2014  {loaded.yaml.filename}, {len(items)} beats"
    panels = compose_sheet(title, items, target, columns)
    for run_dir in work.glob("run-*"):
        shutil.rmtree(run_dir, ignore_errors=True)
    failed = [run for run in runs if run.error]
    if failed:
        from ncfvid.diagnostics import UserError

        raise UserError.single(
            loaded.yaml.filename,
            f"act '{failed[0].act_id}' failed: {failed[0].error} (the sheet {target} shows the beats before it)",
        )
    return PreviewResult(target, panels, time.perf_counter() - started)
