"""scenelib.glyphcache: parsed texts come back from disk equal to a fresh parse."""

from __future__ import annotations

import numpy as np
import pytest
from manim import RED, Text, VGroup
from manim.mobject.svg import svg_mobject

from ncfvid.scenelib import glyphcache, patches


@pytest.fixture(autouse=True)
def no_glyph_cache():
    patches.uninstall_glyph_cache()
    yield
    patches.uninstall_glyph_cache()


def labels() -> VGroup:
    svg_mobject.SVG_HASH_TO_MOB_MAP.clear()  # a new process: nothing parsed yet
    return VGroup(Text("Alice × Shrek = 1.6", font_size=30, color=RED), Text("taste twins", weight="BOLD"))


def outlines(group: VGroup) -> list[tuple]:
    return [
        (type(m).__name__, m.points.tobytes(), m.fill_rgbas.tobytes(), m.stroke_rgbas.tobytes())
        for m in group.get_family()
    ]


def test_loaded_texts_equal_parsed_ones(tmp_path):
    parsed = outlines(labels())
    patches.install_glyph_cache(tmp_path)
    stored = labels()  # parsed, and stored
    entries = sorted(tmp_path.iterdir())
    assert len(entries) == 2
    loaded = labels()  # from disk
    assert outlines(stored) == outlines(loaded) == parsed
    assert sorted(tmp_path.iterdir()) == entries
    # The loaded text is a Text like any other: its characters are its own outlines, and it can change.
    text = loaded[0]
    assert text.chars[0] is text.submobjects[0]
    text.set_color("#00ff00")
    assert outlines(labels()) == parsed


def test_another_text_or_style_is_another_entry(tmp_path):
    patches.install_glyph_cache(tmp_path)
    svg_mobject.SVG_HASH_TO_MOB_MAP.clear()
    Text("one")
    Text("one")  # the same SVG: the same entry
    Text("one", weight="BOLD")
    Text("one", font_size=20)  # Pango lays out each size on its own: another SVG
    Text("two")
    assert len(list(tmp_path.iterdir())) == 4


def test_a_broken_entry_is_parsed_again(tmp_path):
    patches.install_glyph_cache(tmp_path)
    good = outlines(labels())
    for entry in tmp_path.iterdir():
        entry.write_bytes(b"not a pickle")
    assert outlines(labels()) == good
    entry = next(tmp_path.iterdir())
    assert glyphcache._load(entry) is not None  # stored again


def test_an_entry_that_loads_as_empty_is_parsed_again(tmp_path, capsys):
    """Issue 15: a pickle that loads as empty outlines drew beats without text (and the check then
    blamed the storyboard for text of zero size); each entry now carries its SHA-256."""
    import pickle

    patches.install_glyph_cache(tmp_path)
    good = outlines(labels())
    for entry in tmp_path.iterdir():
        entry.write_bytes(pickle.dumps(([], {})))
    again = labels()
    assert outlines(again) == good and all(len(text.submobjects) > 0 for text in again)
    assert "damaged parsed text" in capsys.readouterr().err
    assert all(glyphcache._load(entry) is not None for entry in tmp_path.iterdir())  # repaired


def test_points_do_not_alias_between_loaded_copies(tmp_path):
    patches.install_glyph_cache(tmp_path)
    labels()
    first, second = labels(), labels()
    first.shift(np.array([1.0, 0, 0]))
    assert outlines(second) != outlines(first)
