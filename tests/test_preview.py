"""`ncfvid preview`: the storyboard sheet's layout (fast, from made-up stills) and the sheet of
storyboards/ncf.yaml end to end: its size and one panel per beat."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ncfvid.preview import (
    PANEL_HEIGHT,
    PANEL_WIDTH,
    SHEET_BACKGROUND,
    compose_sheet,
    first_words,
    panel_origin,
    sheet_size,
)

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"


def panels_seen(image: Image.Image, count_max: int, columns: int) -> int:
    """How many grid places, in order, hold a picture (not the sheet's background) at their centre."""
    seen = 0
    for index in range(count_max):
        x, y = panel_origin(index, columns)
        if x + PANEL_WIDTH > image.width or y + PANEL_HEIGHT > image.height:
            break
        if image.getpixel((x + PANEL_WIDTH // 2, y + PANEL_HEIGHT // 2)) == SHEET_BACKGROUND:
            break
        seen += 1
    return seen


def test_sheet_size() -> None:
    assert sheet_size(1, 4) == sheet_size(1, 1)  # never wider than its panels
    width, height = sheet_size(17, 4)
    assert width == 14 + 4 * (PANEL_WIDTH + 14)
    assert sheet_size(16, 4)[1] < height == sheet_size(20, 4)[1]  # 5 rows


def test_first_words() -> None:
    assert first_words("one two three", 5) == "one two three"
    assert first_words("a b c d e f", 3) == "a b c \u2026"


def test_compose_sheet_one_panel_per_item(tmp_path: Path) -> None:
    stills = []
    for index, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200), (90, 90, 90), (250, 250, 0)]):
        path = tmp_path / f"{index}.png"
        Image.new("RGB", (854, 480), colour).save(path)
        stills.append(path)
    items = [("act", f"beat{i}", f"Narration of beat {i}.", still, i % 2) for i, still in enumerate(stills)]
    items.append(("act", "failed", "Never ran.", None, 0))
    sheet = tmp_path / "sheet.png"
    panels = compose_sheet("Title", items, sheet, columns=4)
    assert [p.beat for p in panels] == [f"beat{i}" for i in range(5)] + ["failed"]
    with Image.open(sheet) as image:
        assert image.size == sheet_size(6, 4)
        assert panels_seen(image.convert("RGB"), 10, 4) == 6
        x, y = panel_origin(1, 4)
        assert image.convert("RGB").getpixel((x + 10, y + 10)) == (30, 200, 30)
        places = json.loads(image.text["ncfvid-panels"])
    assert [(p["beat"], p["x"], p["y"]) for p in places] == [(p.beat, p.x, p.y) for p in panels]


@pytest.mark.render
def test_preview_of_ncf_has_one_panel_per_beat(tmp_path: Path) -> None:
    from ncfvid.pipeline import load

    story = load(ROOT / "storyboards" / "ncf.yaml").story
    beats = [(act.id, beat.id) for act in story.acts for beat in act.beats]
    sheet = tmp_path / "sheet.png"
    result = subprocess.run(
        [str(NCFVID), "preview", "storyboards/ncf.yaml", "-o", str(sheet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert re.match(rf"{re.escape(str(sheet))}  \({len(beats)} beats; [\d.]+ s\)", result.stdout), result.stdout
    with Image.open(sheet) as image:
        assert image.size == sheet_size(len(beats), 4)
        places = json.loads(image.text["ncfvid-panels"])
        assert [(p["act"], p["beat"]) for p in places] == beats
        assert panels_seen(image.convert("RGB"), len(beats) + 4, 4) == len(beats)
        # Each panel is a frame of the video: mostly the theme's dark background, not a blank.
        for place in places:
            panel = image.crop((place["x"], place["y"], place["x"] + place["w"], place["y"] + place["h"]))
            colours = panel.convert("L").getextrema()
            assert colours[0] < 40 and colours[1] > 150, (place, colours)
