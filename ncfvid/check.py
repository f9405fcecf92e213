"""`ncfvid check`: find layout defects at the end of every beat without rendering any video.

How it runs
    The storyboard is compiled as for a render, then each act's scene runs in a Manim subprocess
    (several acts at once) with the silent draft voice (beat lengths come from the word count at
    once; nothing is synthesised), `dry_run` (no file is written) and a fast `play`: instead of
    interpolating animations frame by frame, each animation is settled at its end state (a FadeIn
    adds its mobject, a FadeOut removes it, a Transform makes its mobject the target...; animations
    it does not know run Manim's own begin/finish). At the end of every beat, `StoryScene.voiceover`
    calls a `BeatInspector` (enabled by the NCFVID_INSPECT environment variable) that records what is
    on screen: each text and each drawn shape with its bounding box, colours and size. The rules
    below run on those records in the calling process. Records are cached per act by everything
    that can change them, so an unchanged act is not run again.

The rules (thresholds are the constants below)
    safe area   every visible text and shape lies inside the frame less `video.safe_margin` (default
                5%) on each side, to within EDGE_TOLERANCE.
    overlap     no two visible texts' bounding boxes intersect by more than OVERLAP_TOLERANCE in both
                directions (text on a box, a chip or a table is fine; text on text is not).
    size        a text's capital letters are at least MIN_CAP_PX pixels tall at the chosen quality
                (480 px high for -q l), and never below MIN_CAP_FRACTION of the frame's height at
                any quality. At 480p that is 8 px: DejaVu Sans at Manim font size 13.2 or more (the
                layout's smallest size, 14, gives 8.5 px).
    visible     nothing a beat introduced is invisible: a text or an on-screen group with zero size,
                or whose paint (its colours with their opacity, over the background) has a contrast
                ratio with the background below MIN_CONTRAST: the background's colour, or nearly
                transparent. Unpainted helpers (no stroke, no fill: a table's cell anchors) are not
                drawn at all and are not reported.

Each problem is reported once, at the first beat it shows, positioned at that beat in the
storyboard (at its `nudge:` when the element was nudged in that beat). Texts of one element (a
table, a chip) that break the same rule in the same beat make one finding, named by the worst.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncfvid import renderenv
from ncfvid.children import Children
from ncfvid.diagnostics import Diagnostic, UserError
from ncfvid.files import write_atomic
from ncfvid.forkserver import ForkServer, start_process

if TYPE_CHECKING:
    from ncfvid.pipeline import Prepared

# --- rules' thresholds --------------------------------------------------------------------------

EDGE_TOLERANCE = 0.02  # scene units (1.2 px at 480p): rounding, anti-aliasing
OVERLAP_TOLERANCE = 0.04  # scene units (2.4 px at 480p), in both directions
MIN_CAP_PX = 8.0  # capital-letter height in pixels of the rendered frame
MIN_CAP_FRACTION = 0.01  # ... and at least this fraction of the frame height at any quality
MIN_CONTRAST = 1.2  # WCAG contrast ratio with the background below which a colour is not seen
ZERO_SIZE = 1e-3  # scene units

PIXEL_HEIGHTS = {"l": 480, "m": 720, "h": 1080, "p": 1440, "k": 2160}
MANIM_QUALITIES = {
    "l": "low_quality",
    "m": "medium_quality",
    "h": "high_quality",
    "p": "production_quality",
    "k": "fourk_quality",
}
NUDGE_ATTR = "ncfvid_nudge"  # set on a mobject by StoryScene.nudge: (shift, scale)
FORMAT_VERSION = 1


# ================================================================================================
# In the scene's process: what is on screen at the end of a beat
# ================================================================================================


def _relative_luminance(rgb: Sequence[float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG contrast ratio of two RGB colours (channels 0..1): 1 (same) to 21 (black on white)."""
    la, lb = _relative_luminance(a), _relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def paint_contrast(rgba: Sequence[float], background: Sequence[float]) -> float:
    """Contrast with the background of a colour drawn with its opacity over it."""
    alpha = max(0.0, min(1.0, float(rgba[3])))
    shown = [bg + alpha * (float(c) - bg) for c, bg in zip(rgba[:3], background, strict=True)]
    return contrast_ratio(shown, background)


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
        return f"{name} {_quote(_text_of(inner))}"
    title = getattr(mob, "title", None)
    if title is not None and _is_text(title):
        return f"{name} {_quote(_text_of(title))}"
    return name


def _quote(text: str, limit: int = 40) -> str:
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "\u2026"
    return "'" + flat.replace("'", "\u2019") + "'"


class BeatInspector:
    """Records, after each beat of a StoryScene, every text and shape on screen (and optionally the
    frame as a PNG); writes them to ``<folder>/<Scene>.beats.json`` after every beat."""

    def __init__(self, scene: Any, folder: Path, stills: bool = False) -> None:
        self.scene = scene
        self.folder = folder
        self.stills = stills
        self.name = type(scene).__name__
        self.beats: list[dict[str, Any]] = []
        self._previous: set[int] = set()
        self._alive: list[Any] = []  # what `_previous` names, kept alive so that no new object reuses an id
        self._cap_per_size: dict[str, float] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def after_beat(self, beat: str | None, caption: str) -> None:
        """Record the screen at the end of the beat `beat`."""
        record = self.snapshot()
        record.update(
            index=len(self.beats),
            beat=beat,
            caption=caption,
            time=round(float(self.scene.renderer.time), 3),
        )
        if self.stills:
            record["still"] = str(self._save_still(len(self.beats), beat))
        self.beats.append(record)
        self._write()

    def _write(self) -> None:
        write_atomic(self.folder / f"{self.name}.beats.json", json.dumps(self.beats))

    def _save_still(self, index: int, beat: str | None) -> Path:
        scene = self.scene
        camera = scene.camera
        camera.reset()
        camera.capture_mobjects(list(dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects])))
        path = self.folder / self.name / f"{index:02d}-{beat or 'beat'}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        camera.get_image().convert("RGB").save(path)
        return path

    def _cap(self, font: str) -> float:
        """Height of a capital H per unit of Manim font size, in scene units, for `font`."""
        if font not in self._cap_per_size:
            from manim import Text

            self._cap_per_size[font] = Text("H", font=font, font_size=48).height / 48
        return self._cap_per_size[font]

    def snapshot(self) -> dict[str, Any]:
        """Texts, drawn shapes and top-level groups on screen now (see `check_beats` for the rules)."""
        from manim import ManimColor, config

        scene = self.scene
        background = [float(c) for c in ManimColor(scene.camera.background_color).to_rgb()]
        tops = list(dict.fromkeys([*scene.mobjects, *scene.foreground_mobjects]))
        visited: set[int] = set()
        alive: list[Any] = []
        texts: list[dict[str, Any]] = []
        shapes: list[dict[str, Any]] = []
        groups: list[dict[str, Any]] = []

        def visit(mob: Any, owner: str | None, nudged: bool, out: dict[str, Any]) -> None:
            if id(mob) in visited:
                return
            visited.add(id(mob))
            alive.append(mob)
            nudged = nudged or getattr(mob, NUDGE_ATTR, None) is not None
            new = id(mob) not in self._previous
            if _is_text(mob):
                record = self._text_record(mob, background, owner, nudged, new)
                texts.append(record)
                out["has_points"] = True
                out["contrast"] = _best(out["contrast"], record["contrast"])
                if shows(record) and record["box"] is not None:
                    out["boxes"].append(record["box"])
                return
            name = _component_name(mob)
            points = getattr(mob, "points", None)
            if points is not None and len(points) > 0:
                contrast = _own_contrast(mob, background)
                box = _box(points)
                out["has_points"] = True
                out["contrast"] = _best(out["contrast"], contrast)
                seen = box is not None and max(box[2] - box[0], box[3] - box[1]) >= ZERO_SIZE
                if contrast is not None and contrast >= MIN_CONTRAST and seen:
                    out["boxes"].append(box)
                    shapes.append(
                        {
                            "id": id(mob),
                            "kind": type(mob).__name__,
                            "owner": owner or name or type(mob).__name__,
                            "box": box,
                            "contrast": round(contrast, 3),
                            "new": new,
                            "nudged": nudged,
                        }
                    )
            for sub in mob.submobjects:
                visit(sub, name or owner, nudged, out)

        for top in tops:
            if id(top) in visited:
                continue
            out: dict[str, Any] = {"has_points": False, "contrast": None, "boxes": []}
            visit(top, None, False, out)
            boxes = out["boxes"]
            box = None
            if boxes:
                box = [
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                ]
            extent = _box(top.get_all_points()) if hasattr(top, "get_all_points") else None
            groups.append(
                {
                    "id": id(top),
                    "label": _component_name(top) or _describe_group(top),
                    "text": _is_text(top),
                    "new": id(top) not in self._previous,
                    "nudged": getattr(top, NUDGE_ATTR, None) is not None,
                    "has_points": out["has_points"],
                    "contrast": _round(out["contrast"]),
                    "box": box,
                    "extent": extent,
                }
            )
        self._previous, self._alive = visited, alive
        return {
            "frame": [round(float(config.frame_width), 4), round(float(config.frame_height), 4)],
            "background": [round(c, 4) for c in background],
            "texts": texts,
            "shapes": shapes,
            "groups": groups,
        }

    def _text_record(
        self, mob: Any, background: Sequence[float], owner: str | None, nudged: bool, new: bool
    ) -> dict[str, Any]:
        contrast = None
        for part in mob.family_members_with_points():
            contrast = _best(contrast, _own_contrast(part, background))
        box = _box(mob.get_all_points())
        try:
            font_size = float(mob.font_size) if box is not None else 0.0
        except (ZeroDivisionError, AttributeError):
            font_size = 0.0
        cap = font_size * self._cap(_font_of(mob))
        return {
            "id": id(mob),
            "text": _text_of(mob),
            "owner": owner,
            "box": box,
            "cap": round(cap, 5),
            "font_size": round(font_size, 3),
            "contrast": _round(contrast),
            "new": new,
            "nudged": nudged,
        }


def shows(record: dict[str, Any]) -> bool:
    """Is a text or group record painted in a colour that stands out from the background?"""
    return record["contrast"] is not None and record["contrast"] >= MIN_CONTRAST


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _describe_group(mob: Any) -> str:
    """A plain group named by what it holds: its first text, or its first named part."""
    for part in mob.get_family():
        if _is_text(part):
            return f"group with text {_quote(_text_of(part))}"
    for part in mob.get_family():
        name = _component_name(part)
        if name:
            return f"group of {name}"
    return type(mob).__name__


# --- fast play: settle each animation at its end state ---------------------------------------


def settle(scene: Any, animation: Any) -> None:
    """Put `scene` in the state `animation` leaves it in, without interpolating it."""
    from manim import (
        AnimationGroup,
        Circumscribe,
        Create,
        DrawBorderThenFill,
        FadeIn,
        Flash,
        FocusOn,
        GrowFromPoint,
        Indicate,
        ReplacementTransform,
        ShowPartial,
        Transform,
        TransformFromCopy,
        UpdateFromAlphaFunc,
        UpdateFromFunc,
        Wait,
        Wiggle,
        Write,
    )

    if isinstance(animation, Circumscribe | Flash | FocusOn | Indicate | Wiggle):
        return  # a passing mark or a there-and-back: ends where it started
    if isinstance(animation, AnimationGroup):
        for part in animation.animations:
            settle(scene, part)
        return
    if isinstance(animation, Wait):
        return
    mob = animation.mobject
    if animation.is_remover():
        scene.remove(mob)
        return
    if animation.is_introducer():
        scene.add(mob)
    ends_at_one = abs(animation.rate_func(1.0) - 1.0) < 1e-9
    if isinstance(
        animation, FadeIn | GrowFromPoint | Create | Write | DrawBorderThenFill | ShowPartial | TransformFromCopy
    ):
        if ends_at_one:
            return  # ends at the mobject as it is
    if type(animation) in (Transform, ReplacementTransform) and ends_at_one:
        target = animation.target_mobject
        if animation.replace_mobject_with_target_in_scene:
            scene.replace(mob, target)
        else:
            mob.become(target)
        return
    if isinstance(animation, UpdateFromAlphaFunc):
        animation.update_function(mob, animation.rate_func(1.0))
        return
    if isinstance(animation, UpdateFromFunc):
        animation.update_function(mob)
        return
    # Anything else: Manim's own start and end (copies the mobject, but is exact).
    animation._setup_scene(scene)
    animation.begin()
    animation.finish()
    animation.clean_up_from_scene(scene)


def fast_play(scene: Any, *args: Any, **kwargs: Any) -> None:
    """`Scene.play` for a check: advance the clock by the animations' run time and settle them."""
    for key in ("subcaption", "subcaption_duration", "subcaption_offset"):
        kwargs.pop(key, None)
    animations = scene.compile_animations(*args, **kwargs)
    scene.add_mobjects_from_animations(animations)
    run_time = scene.get_run_time(animations)
    for animation in animations:
        settle(scene, animation)
    scene.update_mobjects(dt=run_time)
    scene.renderer.time += run_time


def _own_media_dir(shared: Path, fallback: Path) -> str:
    """`shared` (which keeps Manim's text cache between checks) when no other process uses it, else a
    folder of this run: Manim writes its cached SVG files in place, so two writers can corrupt them."""
    import fcntl

    shared.mkdir(parents=True, exist_ok=True)
    lock = (shared / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return str(fallback / f"media-{os.getpid()}")
    _held_locks.append(lock)  # released when the process exits
    return str(shared)


_held_locks: list[Any] = []


def worker_main(argv: Sequence[str] | None = None) -> None:
    """Run acts of a generated module for a check: `MODULE OUT_DIR QUALITY MEDIA_DIR SCENE...`.

    Writes `<Scene>.beats.json` (see BeatInspector) for each scene and, when a scene fails,
    `<Scene>.error.json`. Set NCFVID_CHECK_EXACT=1 to play animations with Manim's own (slower)
    skipping instead of `fast_play`.
    """
    import importlib.util

    args = list(sys.argv[1:] if argv is None else argv)
    module_path, out_dir, quality, media_dir, *scenes = args
    from manim import config

    config.quality = MANIM_QUALITIES[quality]
    config.dry_run = True
    config.disable_caching = True
    config.progress_bar = "none"
    config.verbosity = "ERROR"
    config.media_dir = _own_media_dir(Path(media_dir), Path(out_dir))
    from ncfvid.scenelib.scene import StoryScene

    if os.environ.get("NCFVID_CHECK_EXACT") != "1":
        StoryScene.play = fast_play  # type: ignore[method-assign,assignment]
    spec = importlib.util.spec_from_file_location("ncfvid_checked_scenes", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = Path(out_dir)
    audio_root = os.environ.get(renderenv.AUDIO_CACHE, str(out / "audio"))
    for name in scenes:
        os.environ[renderenv.AUDIO_CACHE] = str(Path(audio_root) / name)
        started = time.perf_counter()
        try:
            scene = getattr(module, name)(skip_animations=True)
            scene.render()
        except Exception as err:  # noqa: BLE001 - reported to the user as a finding
            error = {
                "error": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc(),
            }
            (out / f"{name}.error.json").write_text(json.dumps(error), encoding="utf-8")
        (out / f"{name}.seconds").write_text(f"{time.perf_counter() - started:.3f}", encoding="utf-8")


# ================================================================================================
# In the calling process: the rules
# ================================================================================================


@dataclass(frozen=True)
class Finding:
    """One problem at the end of a beat of an act."""

    beat: int  # index of the beat in its act
    message: str
    nudged: bool = False
    severity: str = "error"


@dataclass(frozen=True)
class Area:
    left: float
    bottom: float
    right: float
    top: float

    @classmethod
    def safe(cls, frame: Sequence[float], margin: float) -> Area:
        w, h = frame[0] * (1 - 2 * margin) / 2, frame[1] * (1 - 2 * margin) / 2
        return cls(-w, -h, w, h)

    @classmethod
    def whole(cls, frame: Sequence[float]) -> Area:
        return cls(-frame[0] / 2, -frame[1] / 2, frame[0] / 2, frame[1] / 2)


def _overshoot(box: Sequence[float], area: Area) -> dict[str, float]:
    """How far the box goes past each edge of the area (only edges it crosses)."""
    out = {
        "left": area.left - box[0],
        "bottom": area.bottom - box[1],
        "right": box[2] - area.right,
        "top": box[3] - area.top,
    }
    return {edge: amount for edge, amount in out.items() if amount > EDGE_TOLERANCE}


def _edge_message(what: str, past: dict[str, float], frame_past: dict[str, float], plural: bool = False) -> str:
    worst = sorted(past.items(), key=lambda kv: -kv[1])
    first_edge, first = worst[0]
    text = f"{what} {'extend up to' if plural else 'extends'} {first:.2f} units past the {first_edge} edge"
    for edge, amount in worst[1:]:
        text += f" and {amount:.2f} past the {edge} edge"
    text += " of the safe area"
    if frame_past:
        cut = max(frame_past.values())
        text += f" ({cut:.2f} units of it are cut off by the frame)"
    return text


def min_cap_height(quality: str, frame_height: float = 8.0) -> float:
    """The smallest readable capital-letter height, in scene units, at `quality`."""
    pixels = PIXEL_HEIGHTS[quality]
    return max(MIN_CAP_PX * frame_height / pixels, MIN_CAP_FRACTION * frame_height)


def _boxes_overlap(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    return min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])


def _key_box(box: Sequence[float] | None) -> tuple[float, ...]:
    return tuple(round(v, 2) for v in box) if box else ()


def _invisible(what: str, contrast: float) -> str:
    return (
        f"{what} is invisible: it is drawn in the background's colour or nearly transparent "
        f"(contrast with the background {contrast:.2f}:1, needs {MIN_CONTRAST:g}:1)"
    )


def _by_owner(items: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Texts grouped by the named element that holds them (a table, a chip); loose texts alone."""
    groups: dict[str, list[dict[str, Any]]] = {}
    alone: list[list[dict[str, Any]]] = []
    for item in items:
        if item.get("owner"):
            groups.setdefault(item["owner"], []).append(item)
        else:
            alone.append([item])
    return alone + list(groups.values())


def _texts(group: Sequence[dict[str, Any]], worst: dict[str, Any]) -> str:
    """`text 'x'` for one text, `text 'x' and 4 other texts of RatingsGrid` for several."""
    what = f"text {_quote(worst['text'])}"
    if len(group) > 1:
        what += f" and {len(group) - 1} other text{'s' if len(group) > 2 else ''} of {_owner(worst['owner'])}"
    return what


def _owner(name: str) -> str:
    return name if "'" in name else f"the {name}"


def _ids(group: Sequence[dict[str, Any]]) -> frozenset[Any]:
    return frozenset((item["id"], _key_box(item["box"])) for item in group)


def check_beats(beats: Sequence[dict[str, Any]], margin: float, quality: str) -> list[Finding]:
    """The rules over one act's beat records (in order); each problem once, at its first beat.

    Texts held by one named element (a table, a chip) that break the same rule in the same beat are
    one finding, named by the worst of them."""
    findings: list[Finding] = []
    reported: set[Any] = set()

    def report(key: Any, beat: int, message: str, nudged: bool) -> None:
        if key not in reported:
            reported.add(key)
            findings.append(Finding(beat, message, nudged))

    pixels = PIXEL_HEIGHTS[quality]
    for record in beats:
        index = record["index"]
        frame = record["frame"]
        area, whole = Area.safe(frame, margin), Area.whole(frame)
        smallest = min_cap_height(quality, frame[1])
        shown = [t for t in record["texts"] if t["box"] is not None and shows(t)]

        # visible: what this beat introduced must show (unpainted layout helpers are not drawn at all)
        new_texts = [t for t in record["texts"] if t["new"]]
        zero = [
            t
            for t in new_texts
            if t["box"] is None or min(t["box"][2] - t["box"][0], t["box"][3] - t["box"][1]) < ZERO_SIZE
        ]
        for group in _by_owner(zero):
            what = _texts(group, group[0])
            report(
                ("zero", _ids(group)),
                index,
                f"{what} {'has' if len(group) == 1 else 'have'} zero size",
                any(t["nudged"] for t in group),
            )
        faint = [t for t in new_texts if t not in zero and t["contrast"] is not None and not shows(t)]
        for group in _by_owner(faint):
            worst = min(group, key=lambda t: t["contrast"])
            report(
                ("invisible", _ids(group)),
                index,
                _invisible(_texts(group, worst), worst["contrast"]),
                any(t["nudged"] for t in group),
            )
        for element in record["groups"]:
            if not element["new"] or not element["has_points"] or element["contrast"] is None or element["text"]:
                continue
            label = element["label"]
            what = label if label.startswith("group") else f"element {_quote(label)}"
            extent = element["extent"]
            if not shows(element):
                report(("invisible", element["id"]), index, _invisible(what, element["contrast"]), element["nudged"])
            elif extent is not None and max(extent[2] - extent[0], extent[3] - extent[1]) < ZERO_SIZE:
                report(("zero", element["id"]), index, f"{what} has zero size", element["nudged"])

        # safe area: texts
        outside = [t for t in shown if _overshoot(t["box"], area)]
        for group in _by_owner(outside):
            worst = max(group, key=lambda t: max(_overshoot(t["box"], area).values()))
            past: dict[str, float] = {}
            frame_past: dict[str, float] = {}
            for text in group:
                for edge, amount in _overshoot(text["box"], area).items():
                    past[edge] = max(past.get(edge, 0.0), amount)
                for edge, amount in _overshoot(text["box"], whole).items():
                    frame_past[edge] = max(frame_past.get(edge, 0.0), amount)
            message = _edge_message(_texts(group, worst), past, frame_past, plural=len(group) > 1)
            report(("edge", _ids(group)), index, message, any(t["nudged"] for t in group))

        # safe area: shapes, the worst part of each named element
        worst_shapes: dict[str, tuple[dict[str, float], dict[str, float], bool, tuple[Any, ...]]] = {}
        for shape in record["shapes"]:
            past = _overshoot(shape["box"], area)
            if not past:
                continue
            owner = shape["owner"]
            merged, frame_past, nudged, keys = worst_shapes.get(owner, ({}, {}, False, ()))
            for edge, amount in past.items():
                merged[edge] = max(merged.get(edge, 0.0), amount)
            for edge, amount in _overshoot(shape["box"], whole).items():
                frame_past[edge] = max(frame_past.get(edge, 0.0), amount)
            key = (shape["id"], _key_box(shape["box"]))
            worst_shapes[owner] = (merged, frame_past, nudged or shape["nudged"], (*keys, key))
        for owner, (past, frame_past, nudged, keys) in worst_shapes.items():
            what = f"element {_quote(owner)}" if "'" not in owner else owner
            report(("edge-shape", owner, frozenset(keys)), index, _edge_message(what, past, frame_past), nudged)

        # overlap: text over text
        for i, a in enumerate(shown):
            for b in shown[i + 1 :]:
                w, h = _boxes_overlap(a["box"], b["box"])
                if w > OVERLAP_TOLERANCE and h > OVERLAP_TOLERANCE:
                    key = ("overlap", frozenset([(a["id"], _key_box(a["box"])), (b["id"], _key_box(b["box"]))]))
                    message = f"text {_quote(a['text'])} overlaps text {_quote(b['text'])} ({w:.2f} x {h:.2f} units)"
                    report(key, index, message, a["nudged"] or b["nudged"])

        # size: capital letters tall enough to read at this quality
        small = [t for t in shown if 0 < t["cap"] < smallest - 1e-6]
        for group in _by_owner(small):
            worst = min(group, key=lambda t: t["cap"])
            low, high = worst["cap"] * pixels / frame[1], max(t["cap"] for t in group) * pixels / frame[1]
            size = f"{low:.1f} px" if high - low < 0.05 else f"{low:.1f} to {high:.1f} px"
            verb = "is" if len(group) == 1 else "are"
            message = (
                f"{_texts(group, worst)} {verb} too small to read at {pixels}p: capitals {size} tall "
                f"(font size {worst['font_size']:.1f}), at least {smallest * pixels / frame[1]:.1f} px are needed"
            )
            key = ("small", frozenset((t["id"], t["text"], round(t["cap"], 3)) for t in group))
            report(key, index, message, any(t["nudged"] for t in group))
    return findings


# ================================================================================================
# Orchestration: compile, run the acts (cached), report
# ================================================================================================


@dataclass
class ActRun:
    """One act's beat records from a check run."""

    act_id: str
    scene: str
    beats: list[dict[str, Any]]
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0


@dataclass
class CheckResult:
    """The outcome of `check`: problems, as diagnostics, and what was run."""

    diagnostics: list[Diagnostic]
    runs: list[ActRun] = field(default_factory=list)
    prepared: Prepared | None = None
    seconds: float = 0.0

    @property
    def beats(self) -> int:
        return sum(len(run.beats) for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")


def check_source_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def act_check_key(head: str, act_source: str, quality: str, stills: bool) -> str:
    """Everything that can change an act's beat records."""
    from ncfvid.render import library_hash

    payload = {
        "v": FORMAT_VERSION,
        "head": head,
        "act": act_source,
        "quality": quality,
        "stills": stills,
        "library": library_hash(),
        "check": check_source_hash(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _worker_env(audio: Path, inspect_dir: Path, stills: bool) -> dict[str, str]:
    import ncfvid

    env = dict(os.environ)
    env[renderenv.VOICE] = json.dumps({"engine": "draft"})
    env[renderenv.AUDIO_CACHE] = str(audio.resolve())
    env[renderenv.BURN_CAPTIONS] = "0"
    env[renderenv.FAST_HOLDS] = "0"
    env[renderenv.INSPECT] = str(inspect_dir.resolve())
    env[renderenv.GLYPHS] = str((audio.parent.parent / "glyphs").resolve())  # beside the render's
    env[renderenv.STILLS] = "1" if stills else "0"
    env.pop(renderenv.BEATS, None)  # every beat, drawn
    env.pop(renderenv.PARTS_DIR, None)
    root = str(Path(ncfvid.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _split(items: Sequence[tuple[str, int]], workers: int) -> list[list[str]]:
    """Share (name, weight) items among `workers` lists, heaviest first, each to the lightest list."""
    shares: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, workers))]
    for name, weight in sorted(items, key=lambda kv: -kv[1]):
        shares.sort(key=lambda s: s[0])
        load, names = shares[0]
        shares[0] = (load + weight, [*names, name])
    return [names for _, names in shares if names]


_WORKERS = Children()  # check processes running now (a render that runs the check beside it stops them)


def stop_workers() -> None:
    """Kill the check's Manim processes (when the render that runs the check beside it stops)."""
    _WORKERS.kill_all()


def run_acts(
    module_path: Path,
    acts: Sequence[tuple[str, str, int]],
    work: Path,
    quality: str,
    *,
    stills: bool = False,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    keys: dict[str, str] | None = None,
    server: ForkServer | None = None,
) -> list[ActRun]:
    """Run the acts `(act id, scene class, number of beats)` of a generated module in check mode,
    in processes forked from `server` if given (see ncfvid.forkserver), else in new ones.

    With `cache_dir` and `keys` (scene -> key), records found in the cache are reused and new ones
    stored there.
    """
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, ActRun] = {}
    todo = []
    for act_id, scene, count in acts:
        cached = cache_dir / f"{act_id}-{keys[scene]}.json" if cache_dir is not None and keys else None
        if cached is not None and cached.is_file():
            runs[scene] = ActRun(act_id, scene, json.loads(cached.read_text(encoding="utf-8")), cached=True)
        else:
            todo.append((act_id, scene, count))
    if todo:
        inspect_dir = work / f"run-{os.getpid()}-{time.monotonic_ns()}"
        inspect_dir.mkdir(parents=True)
        workers = min(jobs or os.cpu_count() or 1, len(todo))
        groups = _split([(scene, count + 2) for _, scene, count in todo], workers)
        processes = []
        for n, group in enumerate(groups):
            log = (inspect_dir / f"worker-{n}.log").open("w", encoding="utf-8")
            arguments = [
                str(module_path.resolve()),
                str(inspect_dir.resolve()),
                quality,
                str((work / "media" / f"worker-{n}").resolve()),  # Manim's text cache is not safe to share
                *group,
            ]
            env = _worker_env(work / "audio", inspect_dir, stills)
            command = [sys.executable, "-c", "from ncfvid.check import worker_main; worker_main()", *arguments]
            entry_argv = ["ncfvid-check", *arguments]
            proc = start_process(server, "ncfvid.check:worker_main", entry_argv, command, env, inspect_dir, log)
            _WORKERS.add(proc)
            processes.append((proc, log, group, n))
        for proc, log, group, n in processes:
            proc.wait()
            _WORKERS.discard(proc)
            log.close()
            log_text = (inspect_dir / f"worker-{n}.log").read_text(encoding="utf-8", errors="replace")
            for scene in group:
                act_id = next(a for a, s, _ in todo if s == scene)
                beats_file = inspect_dir / f"{scene}.beats.json"
                error_file = inspect_dir / f"{scene}.error.json"
                beats = json.loads(beats_file.read_text(encoding="utf-8")) if beats_file.is_file() else []
                error = None
                if error_file.is_file():
                    error = json.loads(error_file.read_text(encoding="utf-8"))["error"]
                elif proc.returncode != 0:
                    error = _last_line(log_text) or f"the check's Manim process exited with {proc.returncode}"
                seconds_file = inspect_dir / f"{scene}.seconds"
                seconds = float(seconds_file.read_text()) if seconds_file.is_file() else 0.0
                runs[scene] = ActRun(act_id, scene, beats, error, seconds=seconds)
                if error is None and cache_dir is not None and keys and not stills:
                    target = write_atomic(cache_dir / f"{act_id}-{keys[scene]}.json", json.dumps(beats))
                    for old in cache_dir.glob(f"{act_id}-*.json"):  # earlier versions of the act
                        if old != target and len(old.stem) == len(target.stem):
                            old.unlink(missing_ok=True)
        if not stills:
            import shutil

            shutil.rmtree(inspect_dir, ignore_errors=True)
    return [runs[scene] for _, scene, _ in acts]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line[:200]
    return lines[-1][:200] if lines else ""


def load_acts(storyboard: Path, acts: Sequence[str], out: Path | None) -> tuple[Any, Path, Any, Any]:
    """Validate and prepare a storyboard for `check` or `preview`: (loaded, output folder, prepared,
    the chosen acts)."""
    from ncfvid.pipeline import load, output_dir, prepare

    loaded = load(storyboard)
    folder = output_dir(loaded, out)
    prepared = prepare(loaded, folder / "cache")
    return loaded, folder, prepared, select_acts(prepared, acts)


def select_acts(prepared: Prepared, acts: Iterable[str]) -> list[tuple[int, Any]]:
    """(index, act) of the chosen acts (all when none is named); UserError for an unknown id."""
    story = prepared.loaded.story
    known = [act.id for act in story.acts]
    wanted = list(acts)
    for act_id in wanted:
        if act_id not in known:
            raise UserError.single(
                prepared.loaded.yaml.filename, f"no act {act_id!r}; the acts are: {', '.join(known)}"
            )
    return [(i, a) for i, a in enumerate(story.acts) if not wanted or a.id in wanted]


def check(
    storyboard: Path,
    acts: Sequence[str] = (),
    *,
    quality: str | None = None,
    out: Path | None = None,
    template_dirs: tuple[Path, ...] = (),
    jobs: int | None = None,
    use_cache: bool = True,
    warn: Callable[[Diagnostic], None] | None = None,
    server: ForkServer | None = None,
) -> CheckResult:
    """Check a storyboard's layout, beat by beat (the runs forked from `server` if given). Raises
    UserError when the storyboard is invalid.

    The result's diagnostics hold the storyboard's validation warnings and the layout findings.
    """
    from ncfvid.compiler import scene_class_name, write_module
    from ncfvid.pipeline import compile_prepared
    from ncfvid.render import code_only, split_module

    started = time.perf_counter()
    loaded, folder, prepared, chosen = load_acts(storyboard, acts, out)
    story = loaded.story
    quality = quality or story.video.quality
    module = compile_prepared(prepared, template_dirs)
    work = folder / "cache" / "check"
    module_path = write_module(module, work / "scenes.py")
    head, sources = split_module(module)
    scenes = [(a.id, scene_class_name(i, a.id), len(a.beats)) for i, a in chosen]
    keys = {scene: act_check_key(code_only(head), code_only(sources[scene]), quality, False) for _, scene, _ in scenes}
    runs = run_acts(
        module_path,
        scenes,
        work,
        quality,
        jobs=jobs,
        cache_dir=work / "acts" if use_cache else None,
        keys=keys,
        server=server,
    )
    diagnostics = list(loaded.warnings)
    for (index, act), run in zip(chosen, runs, strict=True):
        diagnostics.extend(_diagnostics(prepared, index, act, run, quality))
    from ncfvid.diagnostics import finalize

    return CheckResult(finalize(diagnostics), runs, prepared, time.perf_counter() - started)


def recorded_diagnostics(
    prepared: Prepared, chosen: Sequence[tuple[int, Any]], records: dict[str, list[dict[str, Any]]], quality: str
) -> list[Diagnostic]:
    """The check's findings from layout records taken while rendering (`render` records each beat's
    layout as it draws it): act id -> the records of all its beats, in order."""
    out: list[Diagnostic] = []
    for index, act in chosen:
        if act.id in records:
            out.extend(_diagnostics(prepared, index, act, ActRun(act.id, "", records[act.id]), quality))
    return out


def _diagnostics(prepared: Prepared, index: int, act: Any, run: ActRun, quality: str) -> list[Diagnostic]:
    loaded = prepared.loaded
    margin = loaded.story.video.safe_margin
    out = []

    def at(beat_index: int, nudged: bool) -> tuple[int, int]:
        loc: tuple[str | int, ...] = ("acts", index, "beats", beat_index)
        beat = act.beats[beat_index]
        if nudged and beat.nudge is not None:
            loc = (*loc, "nudge")
        return loaded.yaml.positions.locate(loc)

    for finding in check_beats(run.beats, margin, quality):
        beat = act.beats[finding.beat]
        message = f"act '{act.id}' beat '{beat.id}': {finding.message}"
        if finding.nudged and beat.nudge is not None:
            shift = ", ".join(f"{v:g}" for v in beat.nudge.shift)
            message += f" (the beat's nudge moves it: shift [{shift}], scale {beat.nudge.scale:g})"
        line, column = at(finding.beat, finding.nudged)
        out.append(Diagnostic(loaded.yaml.filename, line, column, "", message, "error"))
    if run.error is not None:
        done = len(run.beats)
        if done < len(act.beats):
            line, column = at(done, False)
            where = f"act '{act.id}' beat '{act.beats[done].id}'"
        else:
            line, column = loaded.yaml.positions.locate(("acts", index))
            where = f"act '{act.id}'"
        out.append(Diagnostic(loaded.yaml.filename, line, column, "", f"{where}: the scene failed: {run.error}"))
    return out
