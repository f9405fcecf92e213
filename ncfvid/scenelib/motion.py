"""What the viewer sees while things move: the stage sampled at several moments of every animation.

The end-of-beat check (`ncfvid.check`) sees each beat's final state; flashes happen in between. A
`MotionSampler` runs in the scene's process (a render job drawing a beat, or `ncfvid check`'s fast
run): right after an animation begins it interpolates it to a few moments (`SAMPLES`), measures the
stage as Cairo would draw it there, puts the animation back at its start, and keeps what it found
for the beat's record (`motion` in the check's beat record; the rules that word it are in
`ncfvid.motion`). Nothing is drawn: measuring the geometry Cairo paints costs a fraction of a frame.

What it looks for
    point       a painted shape of a transform that grows from, or collapses to, a lone point away
                from where it ends (or starts): Manim gives an empty group a point at the origin
                and morphs it into the matching part, which the viewer sees as a dot or a dash.
    stray       at a sampled moment, a painted speck (smaller than STRAY in both directions) that
                moves and has nothing painted near it: ink that belongs to no element.
    overlap     two texts both at least half opaque whose boxes intersect while one of them moves.
    outside     a moving painted shape past the edge of the frame.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ncfvid.records import MotionRecord

SAMPLES = (0.04, 0.27, 0.5, 0.73, 0.96)  # moments of each animation, as fractions of its run time
POINT = 0.03  # scene units (1.8 px at 480p): a shape this small in both directions is a point
AWAY = 0.12  # scene units: a point this far from the shape's other end is not where it belongs
STRAY = 0.07  # scene units (4 px at 480p): a speck; a period of small text is about 2 px
NEAR = 0.2  # scene units: ink within this of other painted ink belongs to it
OPAQUE = 0.5  # texts fainter than this while they cross fade do not read as text over text
EDGE = 0.05  # scene units past the frame's edge before a moving shape counts as outside
MOST_PER_BEAT = 12  # findings kept per beat (the first of each kind and place tell the story)


def _box(points: np.ndarray) -> tuple[float, float, float, float] | None:
    if len(points) == 0:
        return None
    lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _extent(box: Sequence[float]) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def _gap(a: Sequence[float], b: Sequence[float]) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(a[0] - b[2], b[0] - a[2], 0.0)
    dy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return float(np.hypot(dx, dy))


def _painted(mob: Any) -> bool:
    """Does `mob` put any ink on the frame (a visible stroke or fill)?"""
    try:
        fill = mob.get_fill_opacities() if hasattr(mob, "get_fill_opacities") else [1.0]
        stroke = mob.get_stroke_opacities() if mob.get_stroke_width() > 0 else [0.0]
    except (AttributeError, IndexError, ValueError):
        return True
    return float(np.max(fill, initial=0.0)) > 0.05 or float(np.max(stroke, initial=0.0)) > 0.05


def _opacity(mob: Any) -> float:
    """The strongest paint of a text's glyphs (fill, as Manim draws text)."""
    best = 0.0
    for part in mob.family_members_with_points():
        best = max(best, float(np.max(part.get_fill_opacities(), initial=0.0)))
    return best


def _leaves(mobs: Iterable[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for mob in mobs:
        for part in mob.get_family():
            if len(part.points) > 0:
                seen.setdefault(id(part), part)
    return list(seen.values())


def _flatten(animations: Iterable[Any]) -> list[Any]:
    """The animations that move mobjects, groups opened (a Succession is left whole: it starts its
    parts as it goes, so it cannot be sampled out of order)."""
    from manim import AnimationGroup, Succession

    out: list[Any] = []
    for animation in animations:
        if isinstance(animation, AnimationGroup) and not isinstance(animation, Succession):
            out.extend(_flatten(animation.animations))
        else:
            out.append(animation)
    return out


def _home(mob: Any) -> tuple[float, float, float, float] | None:
    """The box of `mob`'s painted shapes that are more than points (a lone point is what is looked for)."""
    boxes = [b for leaf in _leaves([mob]) if _painted(leaf) and (b := _box(leaf.points)) and _extent(b) >= POINT]
    if not boxes:
        return None
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def _name(mob: Any) -> str:
    from ncfvid.scenelib.probe import _component_name, _describe_group

    return _component_name(mob) or _describe_group(mob)


class MotionSampler:
    """Samples every animation a StoryScene plays (see the module's docstring); one per scene."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.findings: list[MotionRecord] = []
        self.beat_start = 0.0
        self.seconds = 0.0  # CPU spent sampling during the beat (bench/motion.py weighs it)

    def take(self) -> list[MotionRecord]:
        """The findings of the beat that just ended (and start the next beat)."""
        found, self.findings = self.findings, []
        self.beat_start = float(self.scene.renderer.time)
        self.seconds = 0.0
        return found

    def _add(self, kind: str, at: float, what: str, box: Sequence[float], **extra: Any) -> None:
        if any((f.kind, f.what) == (kind, what) for f in self.findings) or len(self.findings) >= MOST_PER_BEAT:
            return
        rounded = [round(float(v), 3) for v in box]
        self.findings.append(MotionRecord(kind, round(at - self.beat_start, 3), what, rounded, **extra))

    def sample(self, animations: Sequence[Any], start: float) -> None:
        """Look at `animations` (begun, as `Scene.begin_animations` leaves them) played from `start`."""
        from manim import Wait

        moving = [a for a in animations if not isinstance(a, Wait)]
        if not moving:
            return
        started = time.process_time()  # CPU: other processes on the machine do not count
        try:
            self._sample(moving, start)
        finally:
            self.seconds += time.process_time() - started

    def _sample(self, moving: Sequence[Any], start: float) -> None:
        from manim import Succession

        run_time = max(float(a.run_time) for a in moving)
        for animation in _flatten(moving):
            self._points(animation, start)
        sampled = [a for a in moving if not isinstance(a, Succession)]
        homes: dict[int, list[tuple[float, float, float, float]]] = {}
        try:
            for alpha in (0.0, 1.0):  # where each element starts and ends: the ink it owns
                for animation in sampled:
                    if alpha:  # begun animations stand at their start
                        animation.interpolate(alpha)
                    box = _home(animation.mobject)
                    for leaf in _leaves([animation.mobject]) if box is not None else []:
                        homes.setdefault(id(leaf), []).append(box)
            frame, stage = self._frame(), _Stage(self.scene, homes)
            for alpha in SAMPLES:
                for animation in sampled:
                    animation.interpolate(min(1.0, alpha * run_time / max(float(animation.run_time), 1e-9)))
                self._moment(start + alpha * run_time, stage, frame)
        finally:
            for animation in sampled:
                animation.interpolate(0.0)

    def _frame(self) -> tuple[float, float, float, float]:
        from manim import config

        w, h = float(config.frame_width), float(config.frame_height)
        return -w / 2, -h / 2, w / 2, h / 2

    def _points(self, animation: Any, start: float) -> None:
        """The rule `point`: a transform's shape that has a lone point at one end."""
        from manim import TransformFromCopy

        target = getattr(animation, "target_copy", None)
        begun = getattr(animation, "starting_mobject", None)
        if target is None or begun is None:
            return
        owner = _name(getattr(animation, "target_mobject", None) or animation.mobject)
        if isinstance(animation, TransformFromCopy):  # played backwards: from the target to the mobject
            begun, target, owner = target, begun, _name(animation.mobject)
        # A point shows where no other ink of the animation is at that moment: a growing shape at the
        # start (by the element as it begins, else as it ends: GrowArrow starts as a point), a
        # collapsing one at the end.
        first_home, last_home = _home(begun), _home(target)
        own = {True: first_home or last_home, False: last_home or first_home}
        pairs = zip(begun.family_members_with_points(), target.family_members_with_points(), strict=False)
        for first, last in pairs:
            a, b = _box(first.points), _box(last.points)
            if a is None or b is None or not (_painted(first) or _painted(last)):
                continue
            for grows, (point, shape) in ((True, (a, b)), (False, (b, a))):
                home = own[grows]
                lone = _gap(point, shape) > AWAY and (home is None or _gap(point, home) > AWAY)
                if _extent(point) < POINT <= _extent(shape) and lone:
                    verb = "grows from" if grows else "collapses to"
                    seen = start if grows else start + float(animation.run_time)
                    what = f"a {type(last).__name__} of {owner} {verb} a lone point"
                    self._add("point", seen, what, point, shape=[round(v, 3) for v in shape])
                    break

    def _moment(self, at: float, stage: _Stage, frame: Sequence[float]) -> None:
        """The rules `stray`, `overlap` and `outside` on the stage as it is now."""
        from ncfvid.scenelib.probe import _text_of

        inks = [(m, box) for m in stage.moving if _painted(m) and (box := _box(m.points)) is not None]
        big = np.array([box for _, box in inks if _extent(box) >= STRAY] or np.empty((0, 4)))
        for mob, box in inks:
            if _extent(box) < STRAY:
                others = np.concatenate([stage.still, big, np.array(stage.homes[id(mob)]).reshape(-1, 4)])
                if not len(others) or _gaps(box, others).min() > NEAR:
                    self._add("stray", at, f"a speck of {type(mob).__name__}", box)
            past = _past(box, frame)
            if past > EDGE and all(_past(home, frame) <= EDGE for home in stage.homes[id(mob)]):
                self._add("outside", at, f"a {type(mob).__name__}", box, past=round(past, 3))
        moving = [(t, b, f) for t, f in stage.moving_texts if (b := _shown_box(t)) is not None]
        for i, (a, box_a, fam_a) in enumerate(moving):
            for b, box_b, fam_b in [*moving[i + 1 :], *stage.still_texts]:
                if id(a) in fam_b or id(b) in fam_a:
                    continue
                x0, y0, x1, y1 = _meet(box_a, box_b)
                # (Texts that end on each other are the end-of-beat check's finding.)
                if x1 - x0 > 0.04 and y1 - y0 > 0.04 and not stage.end_on_each_other(a, b):
                    what = f"text '{_text_of(a)[:30]}' over text '{_text_of(b)[:30]}'"
                    self._add("overlap", at, what, (x0, y0, x1, y1))


def _past(box: Sequence[float], frame: Sequence[float]) -> float:
    """How far `box` reaches past the frame's edge (negative: inside)."""
    return max(frame[0] - box[0], frame[1] - box[1], box[2] - frame[2], box[3] - frame[3])


def _meet(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, float]:
    """The intersection of two boxes (empty when x1 <= x0 or y1 <= y0)."""
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _gaps(box: Sequence[float], boxes: np.ndarray) -> np.ndarray:
    """`_gap` from one box to each row of an (n, 4) array of boxes."""
    dx = np.maximum(np.maximum(boxes[:, 0] - box[2], box[0] - boxes[:, 2]), 0.0)
    dy = np.maximum(np.maximum(boxes[:, 1] - box[3], box[1] - boxes[:, 3]), 0.0)
    return np.hypot(dx, dy)


def _shown_box(text: Any) -> tuple[float, float, float, float] | None:
    """A text's box when it is opaque enough to read as text, else None."""
    return _box(text.get_all_points()) if _opacity(text) >= OPAQUE else None


class _Stage:
    """The stage during one `play`, split once into what moves and what stands still (measured once)."""

    def __init__(self, scene: Any, homes: dict[int, list[Any]]) -> None:
        from ncfvid.scenelib.probe import _is_text

        self.homes = homes
        tops = list(dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects]))
        leaves = _leaves(tops)
        self.moving = [m for m in leaves if id(m) in homes]
        still = [b for m in leaves if id(m) not in homes and _painted(m) and (b := _box(m.points)) is not None]
        self.still = np.array([b for b in still if _extent(b) >= STRAY] or np.empty((0, 4)))
        self.moving_texts: list[tuple[Any, set[int]]] = []
        self.still_texts: list[tuple[Any, Any, set[int]]] = []
        self.ends: dict[int, Any] = {}
        for text in (m for top in tops for m in top.get_family() if _is_text(m)):
            family = {id(p) for p in text.get_family()}
            if any(i in homes for i in family):
                self.moving_texts.append((text, family))
                self.ends[id(text)] = _box(text.get_all_points())  # built at the animations' end
            elif (box := _shown_box(text)) is not None:
                self.still_texts.append((text, box, family))
                self.ends[id(text)] = box

    def end_on_each_other(self, a: Any, b: Any) -> bool:
        box_a, box_b = self.ends.get(id(a)), self.ends.get(id(b))
        if box_a is None or box_b is None:
            return False
        x0, y0, x1, y1 = _meet(box_a, box_b)
        return x1 - x0 > 0.04 and y1 - y0 > 0.04


def play_sampled(scene: Any, animations: Sequence[Any], settle: Any) -> None:
    """`ncfvid check`'s fast play with the motion sampled: begin each animation as Manim does, sample
    it, and finish it (exact); without a sampler, `settle` each (end state only)."""
    from manim import Wait

    sampler = getattr(scene, "motion", None)
    if sampler is None:
        for animation in animations:
            settle(scene, animation)
        return
    moving = [a for a in animations if not isinstance(a, Wait)]
    for animation in moving:
        animation._setup_scene(scene)
        animation.begin()
    sampler.sample(moving, float(scene.renderer.time))
    for animation in moving:
        animation.finish()
        animation.clean_up_from_scene(scene)
