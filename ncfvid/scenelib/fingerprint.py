"""A fingerprint of everything on a scene's stage that later beats can draw or depend on.

A beat's frames depend on its own code and on the stage the earlier beats left: the mobjects (on
screen, and kept by name for later beats), their outlines, paint, order and updaters, the camera's
frame and background, and the random generators (when seeded). Editing a narration line usually changes only how
long its beat lasts, not that stage; when the fingerprint at a beat's start and the beat's own code
are those of a beat drawn before, its clip is that beat's clip (`ncfvid render` serves it from the
cache instead of drawing it). Anything not covered here would make two different stages look alike,
so the fingerprint errs on the side of difference: every plain value a mobject holds is in it, and
which mobjects are the same object (a stage name and a mobject on screen, a group and its parts).
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from manim import ManimColor, Mobject

_PLAIN = (int, float, bool, str, type(None))
_VOLATILE = frozenset({"original_id"})  # Manim's copies record the id() of their original
_SCALARS = frozenset(_PLAIN)  # exact types only: a subclass (numpy's float64) takes the general path


def stage_fingerprint(scene: Any, trace: list[str] | None = None, animations: Sequence[Any] = ()) -> str:
    """A hex digest of the scene's stage (see the module docstring); `trace` collects what went in.
    With `animations` (a play's, compiled), also what they animate to: their kind, settings, and
    every mobject they hold (a Transform's target is on no stage until it plays)."""
    walk = _Fingerprint(trace)
    put, visit = walk.put, walk.visit
    for animation in animations:
        walk.visit_animation(animation)
    put("screen", [visit(mob) for mob in scene.mobjects], [visit(mob) for mob in scene.foreground_mobjects])
    stage = getattr(scene, "stage", {})
    put("stage", [(name, visit(stage[name])) for name in sorted(stage)])
    camera = scene.camera
    put("camera", str(camera.background_color), camera.frame_width, camera.frame_height)
    put(np.asarray(camera.frame_center, dtype=float))
    if getattr(scene, "random_seed", None) is not None:  # unseeded (Manim's default), it differs every run
        put("random", random.getstate(), np.random.get_state()[1], np.random.get_state()[2])
    return walk.hexdigest()[:32]


class _Fingerprint:
    """One walk over a stage, hashing what it meets (each mobject once, numbered in the order met)."""

    def __init__(self, trace: list[str] | None) -> None:
        self.parts: list[bytes] = []  # what goes into the digest, hashed once at the end (see `hexdigest`)
        self.numbers: dict[int, int] = {}  # id(mobject) -> its number, in the order first met
        self.trace = trace

    def put(self, *values: Any) -> None:
        if self.trace is not None:
            shown = [hashlib.sha256(v.tobytes()).hexdigest()[:16] if isinstance(v, np.ndarray) else v for v in values]
            self.trace.append(repr(shown))
        append = self.parts.append
        for value in values:
            if isinstance(value, np.ndarray):
                append(_array_header(value.dtype, value.shape))
                append(value.tobytes())  # C order, as np.ascontiguousarray(value).tobytes()
            else:
                append(repr(value).encode())
            append(b"\x00")

    def hexdigest(self) -> str:
        """The digest of everything put so far (one pass over the parts: a stage puts ~10^5 small values)."""
        return hashlib.sha256(b"".join(self.parts)).hexdigest()

    def visit(self, mob: Mobject) -> int:
        if id(mob) in self.numbers:
            return self.numbers[id(mob)]
        number = self.numbers[id(mob)] = len(self.numbers)
        put, visit, append = self.put, self.visit, self.parts.append
        fast = self.trace is None
        put("mob", number, type(mob).__qualname__)
        for name, value in sorted(vars(mob).items()):
            if name in _VOLATILE or name == "submobjects" or (name == "sheen_direction" and not _shaded(mob)):
                continue
            if fast and type(value) in _SCALARS:  # most values: what put(name, value) adds, without the call
                append(_name_part(name))
                append(repr(value).encode())
                append(b"\x00")
            elif isinstance(value, np.ndarray) or _plain(value):
                put(name, value)
            elif isinstance(value, ManimColor):
                put(name, value.to_hex(with_alpha=True))
            elif isinstance(value, Mobject):  # e.g. a target set by generate_target()
                put(name, visit(value))
            elif isinstance(value, list | tuple) and value and all(isinstance(v, Mobject) for v in value):
                put(name, [visit(v) for v in value])
            elif name == "updaters":
                put(name, [getattr(u, "__qualname__", type(u).__qualname__) for u in value])
        put("parts", [visit(part) for part in mob.submobjects])
        return number

    def visit_animation(self, animation: Any) -> None:
        self.put("animation", type(animation).__qualname__)
        for name, value in sorted(vars(animation).items()):
            if isinstance(value, Mobject):
                self.put(name, self.visit(value))
            elif _plain(value):
                self.put(name, value)
            elif callable(value):  # a rate function, an update function
                self.put(name, getattr(value, "__qualname__", type(value).__qualname__))
            elif isinstance(value, list | tuple) and value and all(hasattr(v, "interpolate") for v in value):
                for part in value:  # an AnimationGroup's animations
                    self.visit_animation(part)


@functools.cache
def _name_part(name: str) -> bytes:
    """An attribute's name as put() adds it, with its separator."""
    return repr(name).encode() + b"\x00"


@functools.cache
def _array_header(dtype: np.dtype[Any], shape: tuple[int, ...]) -> bytes:
    """An array's dtype and shape as the digest takes them (`str(dtype)` is slow; there are few of them)."""
    return f"{dtype}{shape}".encode()


def _plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    return isinstance(value, tuple | list) and all(_plain(v) for v in value)


def _shaded(mob: Mobject) -> bool:
    """Whether the camera reads the mobject's sheen direction: for sheen, or a gradient of colours.
    (Unread, it is left out: Manim's glyphs carry one that depends on how their text was made.)"""
    if getattr(mob, "sheen_factor", 0) != 0:
        return True
    colours = [getattr(mob, name, None) for name in ("fill_rgbas", "stroke_rgbas", "background_stroke_rgbas")]
    return any(isinstance(c, np.ndarray) and c.ndim == 2 and len(c) > 1 for c in colours)
