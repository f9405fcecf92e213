"""Layouts that adapt: the frame's shape (video.aspect, --aspect) and tables that wrap, then
abbreviate with a legend, before anything shrinks (ncfvid.scenelib.tablefit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ncfvid.scenelib.tablefit import MIN_COLUMN, PAD, fit_columns, wrap

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"


def width(text: str) -> float:
    return 0.1 * len(text)  # a monospace stand-in: 0.1 units per character


def test_wrap_makes_the_widest_line_as_narrow_as_it_can() -> None:
    assert wrap("Crouching Tiger, Hidden Dragon", width, 2) == ["Crouching Tiger,", "Hidden Dragon"]
    assert wrap("Crouching Tiger, Hidden Dragon", width, 1) == ["Crouching Tiger, Hidden Dragon"]
    lines = wrap("The Lord of the Rings: The Fellowship of the Ring", width, 3)
    assert lines == ["The Lord of the", "Rings: The Fellowship", "of the Ring"]  # 21: the least of any 3
    assert wrap("Shrek", width, 3) == ["Shrek"]


def test_columns_wrap_before_they_abbreviate() -> None:
    names = ["Crouching Tiger, Hidden Dragon", "Star Wars"]
    roomy = fit_columns(names, width, room=10.0)
    assert roomy.depth == 1 and not roomy.legend and roomy.widths == [3.0 + PAD, 1.7]
    wrapped = fit_columns(names, width, room=4.0)
    assert wrapped.lines[0] == ["Crouching Tiger,", "Hidden Dragon"] and not wrapped.legend
    assert sum(wrapped.widths) <= 4.0


def test_columns_abbreviate_with_a_legend_when_wrapping_is_not_enough() -> None:
    names = [f"A film with a rather long name number {n}" for n in range(7)]
    keyed = fit_columns(names, width, room=7.0)
    assert [lines for lines in keyed.lines] == [[k] for k in "ABCDEFG"]
    assert keyed.legend == list(zip("ABCDEFG", names, strict=True))
    assert all(w == MIN_COLUMN for w in keyed.widths)


def test_use_aspect_keeps_the_short_side() -> None:
    from manim import config

    from ncfvid.scenelib.layout import use_aspect

    before = (config.pixel_width, config.pixel_height, config.frame_width, config.frame_height)
    try:
        config.pixel_width, config.pixel_height = 854, 480
        use_aspect("9:16")
        assert (config.pixel_width, config.pixel_height) == (480, 854)
        assert config.frame_width == 8.0 and round(config.frame_height, 3) == 14.222
        use_aspect("1:1")
        assert (config.pixel_width, config.pixel_height, config.frame_width, config.frame_height) == (480, 480, 8, 8)
        use_aspect("16:9")
        assert (config.pixel_width, config.pixel_height) == (854, 480)
    finally:
        config.pixel_width, config.pixel_height, config.frame_width, config.frame_height = before


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.render
@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
def test_long_names_lay_out_in_every_frame(aspect: str, tmp_path: Path) -> None:
    # 7 films of up to 50 characters, 6 viewers with long names: no finding in any frame.
    board = "tests/aspect/longnames.yaml"
    result = run("check", board, "--aspect", aspect, "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{board}: 6 beats in 2 acts, no layout problems")


@pytest.mark.render
def test_the_check_knows_the_frame(tmp_path: Path) -> None:
    # The first storyboard's layout rules in an upright frame: a nudge off the right edge of it.
    board = "tests/layout/nudge.yaml"
    result = run("check", board, "--aspect", "9:16", "-o", tmp_path, "--act", "intro")
    assert result.returncode == 1
    assert "past the right edge of the safe area" in result.stderr


def test_aspect_is_part_of_the_compiled_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ncfvid import pipeline

    monkeypatch.setattr(pipeline, "ASPECT_OVERRIDE", ["9:16"])
    loaded = pipeline.load(ROOT / "tests" / "data" / "tiny.yaml")
    assert loaded.story.video.aspect == "9:16" and loaded.name == "tiny-9x16"
    text = pipeline.compile_prepared(pipeline.prepare(loaded, tmp_path / "cache"))
    assert '    aspect = "9:16"\n' in text
