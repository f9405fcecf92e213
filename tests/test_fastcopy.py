"""scenelib.fastcopy: the same copies (and frames) as Manim's own deep copy, faster."""

from __future__ import annotations

import numpy as np
import pytest
from manim import BLUE, RED, Camera, Circle, Square, Text, Transform, VGroup, tempconfig

from ncfvid.scenelib import patches


@pytest.fixture
def stock_copy():
    patches.uninstall_fast_copy()
    yield
    patches.uninstall_fast_copy()


def scene_group() -> VGroup:
    return VGroup(
        Text("Alice rated Shrek 5", font_size=30).set_color_by_gradient(RED, BLUE),
        Circle().set_fill(RED, 0.5).shift(2 * np.array([1.0, 0, 0])),
        Square().set_stroke(BLUE, 6),
    )


def state(mobject) -> list[tuple]:
    return [
        (type(m).__name__, m.points.tobytes(), m.fill_rgbas.tobytes(), m.stroke_rgbas.tobytes(), m.stroke_width)
        for m in mobject.get_family()
    ]


def frame(mobjects) -> np.ndarray:
    with tempconfig({"pixel_width": 320, "pixel_height": 180}):
        camera = Camera()
        camera.capture_mobjects(mobjects)
        return camera.pixel_array.copy()


def transform_midway(group: VGroup) -> VGroup:
    animation = Transform(group, group.copy().scale(0.5).rotate(0.7).set_color(BLUE))
    animation.begin()
    animation.interpolate(0.4)
    return animation.mobject


def test_copy_equals_manims_and_is_independent(stock_copy):
    group = scene_group()
    stock = group.copy()
    stock_frame = frame([transform_midway(scene_group())])
    patches.install_fast_copy()
    fast = group.copy()
    assert state(fast) == state(stock) == state(group)
    assert frame([transform_midway(scene_group())]).tobytes() == stock_frame.tobytes()
    # A deep copy: changing the copy leaves the original alone ...
    fast.shift(np.array([1.0, 0, 0])).set_color(RED)
    assert state(group) == state(stock)
    # ... references inside the copied family stay shared, as deepcopy's memo keeps them ...
    text = group[0]
    copied = text.copy()
    assert copied.chars[0] is copied.submobjects[0] and text.chars[0] is text.submobjects[0]
    assert copied.submobjects[0] is not text.submobjects[0]
    # ... and only the glyph's parsed SVG path (never changed after the points are built) is shared.
    glyph, glyph_copy = text.submobjects[0][0], copied.submobjects[0][0]
    assert glyph_copy.path_obj is glyph.path_obj
    assert glyph_copy.points is not glyph.points
