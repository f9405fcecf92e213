"""Every script drawn: font coverage, texts no font can draw, control characters, right-to-left text.

tests/scripts/world.yaml names its people and films in Chinese, Hebrew, Arabic, Polish, Hindi and
accented Latin. Each of its screen texts is drawn here as the scenes draw it (Pango's SVG) and the
drawn glyphs are compared with what the installed fonts cover: no empty box (Pango's hex box for a
character no font has), a glyph for every text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ncfvid.fonts import (
    Coverage,
    describe,
    installed_coverage,
    package_for,
    parse_charset,
    screen_texts,
    uncovered,
    uncovered_message,
)
from ncfvid.pipeline import load

ROOT = Path(__file__).resolve().parent.parent
WORLD = ROOT / "tests" / "scripts" / "world.yaml"
NCFVID = Path(sys.executable).parent / "ncfvid"
HEX_BOX = re.compile(r"<path[^>]*fill:none;stroke")  # Pango's box for a glyph no font has
USE = re.compile(r'<use xlink:href="#(glyph[\d-]+)" x="([\d.-]+)"')


def drawn(text: str) -> str:
    """The SVG a scene's label of `text` is made from."""
    from ncfvid.scenelib.layout import ScriptText

    mob = ScriptText(text, font="DejaVu Sans")
    return Path(mob.file_name).read_text(encoding="utf-8")


def test_charset_ranges_and_coverage() -> None:
    coverage = Coverage(parse_charset("20-7e a0-17f 5d0-5ea"))
    assert "A" in coverage and "Ł" in coverage and "א" in coverage
    assert "王" not in coverage and "\x1f" not in coverage


def test_uncovered_characters_name_their_package() -> None:
    latin = Coverage(parse_charset("20-7e"))
    missing = uncovered("Zoë 王芳 \u200f", latin)  # a right-to-left mark is a control of layout, not a glyph
    assert missing == ["ë", "王", "芳"]
    message = uncovered_message(missing)
    assert "fonts-noto-cjk" in message and "fonts-noto-core" in message and "U+738B" in message
    assert package_for("\ue000").startswith("none") and "private-use" in describe("\ue000")


def test_installed_fonts_cover_every_script_of_the_test_story() -> None:
    coverage = installed_coverage()
    assert coverage is not None
    for char in "王芳中文שלוםمرحباŁążप्रियाZoëJosé":
        assert char in coverage, describe(char)


def test_every_screen_text_is_drawn_with_real_glyphs() -> None:
    story = load(WORLD).story
    texts = [text for _, text in screen_texts(story) if text.strip()]
    assert any("王" in t for t in texts) and any("א" <= c <= "ת" for t in texts for c in t)
    for text in texts:
        svg = drawn(text)
        assert not HEX_BOX.search(svg), f"{text!r} is drawn with an empty box"
        glyphs = USE.findall(svg)
        visible = [c for c in text if not c.isspace()]
        # shaping may join letters (Arabic, Devanagari), never to fewer than a third of them
        assert len(glyphs) * 3 >= len(visible), f"{text!r}: {len(glyphs)} glyphs for {len(visible)} characters"


def test_a_character_no_font_has_is_drawn_as_a_box() -> None:
    """The detector of the test above sees a box where there is one."""
    assert HEX_BOX.search(drawn("Tea \ue000"))


@pytest.mark.parametrize("name", ["נועה", "أحمد", "5 נועה"])
def test_right_to_left_text_keeps_every_glyph(name: str) -> None:
    glyphs = USE.findall(drawn(name))  # Pango places a glyph for the space too
    assert len(glyphs) == len(name)


def test_right_to_left_text_is_ordered_right_to_left_beside_numbers() -> None:
    """'נועה 12': read from the right, the name comes first, the number keeps its digit order."""

    def outlines(svg: str) -> list[tuple[str, float]]:
        """(outline, x) of each placed glyph."""
        symbols = dict(re.findall(r'<symbol overflow="visible" id="(glyph[\d-]+)">\s*<path[^>]* d="([^"]*)"', svg))
        return [(symbols[glyph], float(x)) for glyph, x in USE.findall(svg)]

    xs = dict(outlines(drawn("נועה 12")))

    def x_of(char: str) -> float:
        ((outline, _),) = outlines(drawn(char))
        return xs[outline]

    assert x_of("1") < x_of("2") < x_of("ה") < x_of("ע") < x_of("ו") < x_of("נ")


def test_validate_reports_uncovered_and_control_characters_at_their_lines(tmp_path: Path) -> None:
    text = WORLD.read_text(encoding="utf-8")
    text = text.replace("items: [Amélie,", 'items: ["Amélie \\uE000",').replace(
        'caption: "王芳 的口味双胞胎"', 'caption: "王芳\\x07 的口味双胞胎"'
    )
    path = tmp_path / "world.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    item_line = next(i for i, line in enumerate(lines, 1) if "Amélie" in line)
    caption_line = next(i for i, line in enumerate(lines, 1) if "口味" in line)
    result = subprocess.run(
        [str(NCFVID), "validate", str(path)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 1
    assert re.search(rf"world\.yaml:{item_line}:\d+: error: data\.items\[0\]: no installed font can", result.stderr)
    assert re.search(rf"world\.yaml:{caption_line}:\d+: error: .*control character U\+0007", result.stderr)
    assert "Traceback" not in result.stderr


def test_the_story_in_six_scripts_passes_the_layout_check() -> None:
    """Every name fits and shows: a one-word Hebrew or Arabic name once had zero size."""
    result = subprocess.run(
        [str(NCFVID), "check", str(WORLD)], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "5 beats in 1 acts, no layout problems" in result.stdout
