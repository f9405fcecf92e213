"""The layout probe: inside a scene's Manim process, what is on screen at the end of every beat.

`StoryScene.voiceover` calls `BeatInspector.after_beat` at the end of every beat when its job asks
for it (`SceneJob.inspect`): each text and each drawn shape is recorded with its bounding box,
colours and size, as a `ncfvid.records.LayoutRecord`; the rules (`ncfvid.layoutrules`) run on those
records in the process that drives Manim.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ncfvid.files import write_atomic
from ncfvid.layoutrules import MIN_CONTRAST, ZERO_SIZE, paint_contrast, quote, shows
from ncfvid.records import GroupRecord, LayoutRecord, ShapeRecord, TextRecord

NUDGE_ATTR = "ncfvid_nudge"  # set on a mobject by StoryScene.nudge: (shift, scale)


def _own_contrast(mob: Any, background: Sequence[float]) -> float | None:
    """The best contrast with the background of the paint of `mob`'s own points (fill, stroke), or
    None when nothing is painted (a layout helper: no stroke, no fill)."""
    from manim import VMobject

    if not isinstance(mob, VMobject):
        return 21.0  # images, point clouds: assume they show
    paints = [rgba for rgba in mob.get_fill_rgbas() if rgba[3] > 0]
    if mob.get_stroke_width() > 0:
        paints += [rgba for rgba in mob.get_stroke_rgbas() if rgba[3] > 0]
    if not paints:
        return None
    return max(paint_contrast(rgba, background) for rgba in paints)


def _best(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _box(points: Any) -> list[float] | None:
    if points is None or len(points) == 0:
        return None
    lo, hi = points.min(axis=0), points.max(axis=0)
    return [round(float(lo[0]), 4), round(float(lo[1]), 4), round(float(hi[0]), 4), round(float(hi[1]), 4)]


def _is_text(mob: Any) -> bool:
    """Text, MarkupText, and numbers drawn with them (DecimalNumber): one piece of text each."""
    from manim import DecimalNumber, MarkupText, Text

    return isinstance(mob, Text | MarkupText | DecimalNumber)


def _text_of(mob: Any) -> str:
    text = getattr(mob, "original_text", None)
    if text is not None:
        return str(text)
    return "".join(str(getattr(part, "original_text", "")) for part in mob.get_family()[1:])


def _font_of(mob: Any) -> str:
    for part in mob.get_family():
        font = getattr(part, "font", None)
        if isinstance(font, str) and font:
            return font
    return ""


_GENERIC = {"VGroup", "Group", "VMobject", "Mobject", "VDict", "OpenGLVGroup", "OpenGLVMobject"}


def _component_name(mob: Any) -> str | None:
    """A readable name for a mobject that is more than a plain group: its class, and its text if it
    carries one (a Chip)."""
    name = type(mob).__name__
    if name in _GENERIC:
        return None
    inner = getattr(mob, "text", None)
    if inner is not None and _is_text(inner):
        return f"{name} {quote(_text_of(inner))}"
    title = getattr(mob, "title", None)
    if title is not None and _is_text(title):
        return f"{name} {quote(_text_of(title))}"
    return name


class BeatInspector:
    """Records, after each beat of a StoryScene, every text and shape on screen (and optionally the
    frame as a PNG); writes them to ``<folder>/<Scene>.beats.json`` after every beat."""

    def __init__(self, scene: Any, folder: Path, stills: bool = False) -> None:
        self.scene = scene
        self.folder = folder
        self.stills = stills
        self.name = type(scene).__name__
        self.beats: list[LayoutRecord] = []
        self._previous: set[int] = set()
        self._alive: list[Any] = []  # what `_previous` names, kept alive so that no new object reuses an id
        self._cap_per_size: dict[str, float] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def after_beat(self, beat: str | None, caption: str) -> None:
        """Record the screen at the end of the beat `beat`."""
        index = len(self.beats)
        record = self.snapshot(index, beat=beat, caption=caption)
        motion = getattr(self.scene, "motion", None)  # what moved during the beat (scenelib.motion)
        if motion is not None:
            seconds, start = round(motion.seconds, 4), round(motion.beat_start, 3)
            record = replace(record, start=start, motion=tuple(motion.take()), motion_seconds=seconds)
        if self.stills:
            record = replace(record, still=str(self._save_still(index, beat)))
        self.beats.append(record)
        self._write()

    def _write(self) -> None:
        records = [record.to_json() for record in self.beats]
        write_atomic(self.folder / f"{self.name}.beats.json", json.dumps(records))

    def _save_still(self, index: int, beat: str | None) -> Path:
        scene = self.scene
        camera = scene.camera
        camera.reset()
        camera.capture_mobjects(list(dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects])))
        path = self.folder / self.name / f"{index:02d}-{beat or 'beat'}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        camera.get_image().convert("RGB").save(path)
        return path

    def cap(self, font: str) -> float:
        """Height of a capital H per unit of Manim font size, in scene units, for `font`."""
        if font not in self._cap_per_size:
            from manim import Text

            self._cap_per_size[font] = Text("H", font=font, font_size=48).height / 48
        return self._cap_per_size[font]

    def snapshot(self, index: int, **about: Any) -> LayoutRecord:
        """Texts, drawn shapes and top-level groups on screen now (see `ncfvid.layoutrules`)."""
        from manim import ManimColor, config

        scene = self.scene
        background = [float(c) for c in ManimColor(scene.camera.background_color).to_rgb()]
        visit = _Visit(self, background)
        for top in list(dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects])):
            if id(top) not in visit.visited:
                visit.top(top)
        self._previous, self._alive = visit.visited, visit.alive
        return LayoutRecord(
            index=index,
            frame=[round(float(config.frame_width), 4), round(float(config.frame_height), 4)],
            texts=tuple(visit.texts),
            shapes=tuple(visit.shapes),
            groups=tuple(visit.groups),
            time=round(float(scene.renderer.time), 3),
            background=[round(c, 4) for c in background],
            **about,
        )

    def was_shown(self, mob: Any) -> bool:
        """Whether `mob` was on screen at the end of the previous beat."""
        return id(mob) in self._previous


class _Family:
    """What a top-level mobject's family shows: whether it has points, its best contrast, the boxes
    of its visible parts."""

    def __init__(self) -> None:
        self.has_points = False
        self.contrast: float | None = None
        self.boxes: list[list[float]] = []

    def box(self) -> list[float] | None:
        if not self.boxes:
            return None
        boxes = self.boxes
        return [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]


class _Visit:
    """One walk over what is on screen, collecting the records of a snapshot."""

    def __init__(self, inspector: BeatInspector, background: Sequence[float]) -> None:
        self.inspector = inspector
        self.background = background
        self.visited: set[int] = set()
        self.alive: list[Any] = []
        self.texts: list[TextRecord] = []
        self.shapes: list[ShapeRecord] = []
        self.groups: list[GroupRecord] = []

    def top(self, top: Any) -> None:
        family = _Family()
        self.visit(top, None, False, family)
        extent = _box(top.get_all_points()) if hasattr(top, "get_all_points") else None
        self.groups.append(
            GroupRecord(
                id=id(top),
                label=_component_name(top) or _describe_group(top),
                text=_is_text(top),
                new=not self.inspector.was_shown(top),
                nudged=getattr(top, NUDGE_ATTR, None) is not None,
                has_points=family.has_points,
                contrast=_round(family.contrast),
                box=family.box(),
                extent=extent,
            )
        )

    def visit(self, mob: Any, owner: str | None, nudged: bool, family: _Family) -> None:
        if id(mob) in self.visited:
            return
        self.visited.add(id(mob))
        self.alive.append(mob)
        nudged = nudged or getattr(mob, NUDGE_ATTR, None) is not None
        new = not self.inspector.was_shown(mob)
        if _is_text(mob):
            record = self.text(mob, owner, nudged, new)
            self.texts.append(record)
            family.has_points = True
            family.contrast = _best(family.contrast, record.contrast)
            if shows(record) and record.box is not None:
                family.boxes.append(record.box)
            return
        name = _component_name(mob)
        points = getattr(mob, "points", None)
        if points is not None and len(points) > 0:
            self.shape(mob, points, owner or name or type(mob).__name__, nudged, new, family)
        for sub in mob.submobjects:
            self.visit(sub, name or owner, nudged, family)

    def shape(self, mob: Any, points: Any, owner: str, nudged: bool, new: bool, family: _Family) -> None:
        contrast = _own_contrast(mob, self.background)
        box = _box(points)
        family.has_points = True
        family.contrast = _best(family.contrast, contrast)
        seen = box is not None and max(box[2] - box[0], box[3] - box[1]) >= ZERO_SIZE
        if contrast is not None and contrast >= MIN_CONTRAST and seen:
            assert box is not None
            family.boxes.append(box)
            self.shapes.append(
                ShapeRecord(
                    id=id(mob),
                    kind=type(mob).__name__,
                    owner=owner,
                    box=box,
                    contrast=round(contrast, 3),
                    new=new,
                    nudged=nudged,
                )
            )

    def text(self, mob: Any, owner: str | None, nudged: bool, new: bool) -> TextRecord:
        contrast = None
        for part in mob.family_members_with_points():
            contrast = _best(contrast, _own_contrast(part, self.background))
        box = _box(mob.get_all_points())
        try:
            font_size = float(mob.font_size) if box is not None else 0.0
        except (ZeroDivisionError, AttributeError):
            font_size = 0.0
        cap = font_size * self.inspector.cap(_font_of(mob))
        return TextRecord(
            id=id(mob),
            text=_text_of(mob),
            owner=owner,
            box=box,
            cap=round(cap, 5),
            font_size=round(font_size, 3),
            contrast=_round(contrast),
            new=new,
            nudged=nudged,
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _describe_group(mob: Any) -> str:
    """A plain group named by what it holds: its first text, or its first named part."""
    for part in mob.get_family():
        if _is_text(part):
            return f"group with text {quote(_text_of(part))}"
    for part in mob.get_family():
        name = _component_name(part)
        if name:
            return f"group of {name}"
    return type(mob).__name__
