"""scenelib.fingerprint: equal stages give equal fingerprints; anything a later frame can show differs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from manim import BLUE, RED, UP, Camera, Circle, Square, Text, VGroup

from ncfvid.scenelib.fingerprint import stage_fingerprint


def scene(*mobjects, stage=None, background="#000000"):
    camera = Camera()
    camera.background_color = background
    return SimpleNamespace(mobjects=list(mobjects), foreground_mobjects=[], stage=stage or {}, camera=camera)


def build():
    title = Text("Tiny", font_size=40).to_edge(UP)
    dot = Circle(radius=0.5).set_fill(RED, 0.5)
    return title, dot, VGroup(Square(), Square().shift(np.array([2.0, 0, 0])))


def test_the_same_stage_built_twice_is_the_same_fingerprint():
    a, b = build(), build()
    assert stage_fingerprint(scene(*a, stage={"dot": a[1]})) == stage_fingerprint(scene(*b, stage={"dot": b[1]}))


def test_what_a_frame_can_show_changes_it():
    title, dot, squares = build()
    base = stage_fingerprint(scene(title, dot, squares, stage={"dot": dot}))
    variants = {
        "moved": lambda t, d, s: (d.shift(np.array([0.01, 0, 0])), (t, d, s))[1],
        "recoloured": lambda t, d, s: (d.set_fill(BLUE, 0.5), (t, d, s))[1],
        "fainter": lambda t, d, s: (t.set_opacity(0.5), (t, d, s))[1],
        "reordered": lambda t, d, s: (d, t, s),
        "fewer": lambda t, d, s: (t, d),
    }
    for name, change in variants.items():
        t, d, s = build()
        assert stage_fingerprint(scene(*change(t, d, s), stage={"dot": d})) != base, name
    # The background, and what a stage name refers to (the dot on screen, or an equal copy).
    t, d, s = build()
    assert stage_fingerprint(scene(t, d, s, stage={"dot": d}, background="#111111")) != base
    assert stage_fingerprint(scene(t, d, s, stage={"dot": d.copy()})) != base
    assert stage_fingerprint(scene(t, d, s, stage={"spot": d})) != base


def test_a_sheen_direction_counts_only_where_the_camera_reads_it():
    plain, shaded = Square(), Square().set_fill([RED, BLUE], 1)
    before = [stage_fingerprint(scene(mob)) for mob in (plain, shaded)]
    for mob in (plain, shaded):
        mob.sheen_direction = np.array([1.0, 0.0, 0.0])
    after = [stage_fingerprint(scene(mob)) for mob in (plain, shaded)]
    assert after[0] == before[0]  # a single colour: the direction is never read
    assert after[1] != before[1]  # a gradient runs along it
