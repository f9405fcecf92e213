"""The layout rules `ncfvid check` applies to the records of what is on screen at the end of every
beat (`ncfvid.records.LayoutRecord`, taken inside Manim by `ncfvid.scenelib.probe`). Pure: no Manim.

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

Each problem is reported once, at the first beat it shows. Texts of one element (a table, a chip)
that break the same rule in the same beat make one finding, named by the worst.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ncfvid.records import GroupRecord, LayoutRecord, ShapeRecord, TextRecord

# --- rules' thresholds --------------------------------------------------------------------------

EDGE_TOLERANCE = 0.02  # scene units (1.2 px at 480p): rounding, anti-aliasing
OVERLAP_TOLERANCE = 0.04  # scene units (2.4 px at 480p), in both directions
MIN_CAP_PX = 8.0  # capital-letter height in pixels of the rendered frame
MIN_CAP_FRACTION = 0.01  # ... and at least this fraction of the frame height at any quality
MIN_CONTRAST = 1.2  # WCAG contrast ratio with the background below which a colour is not seen
ZERO_SIZE = 1e-3  # scene units

PIXEL_HEIGHTS = {"l": 480, "m": 720, "h": 1080, "p": 1440, "k": 2160}


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


def quote(text: str, limit: int = 40) -> str:
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "\u2026"
    return "'" + flat.replace("'", "\u2019") + "'"


def shows(record: TextRecord | GroupRecord) -> bool:
    """Is a text or group record painted in a colour that stands out from the background?"""
    return record.contrast is not None and record.contrast >= MIN_CONTRAST


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


def _by_owner(items: Sequence[TextRecord]) -> list[list[TextRecord]]:
    """Texts grouped by the named element that holds them (a table, a chip); loose texts alone."""
    groups: dict[str, list[TextRecord]] = {}
    alone: list[list[TextRecord]] = []
    for item in items:
        if item.owner:
            groups.setdefault(item.owner, []).append(item)
        else:
            alone.append([item])
    return alone + list(groups.values())


def _texts(group: Sequence[TextRecord], worst: TextRecord) -> str:
    """`text 'x'` for one text, `text 'x' and 4 other texts of RatingsGrid` for several."""
    what = f"text {quote(worst.text)}"
    if len(group) > 1:
        what += f" and {len(group) - 1} other text{'s' if len(group) > 2 else ''} of {_owner(worst.owner or '')}"
    return what


def _owner(name: str) -> str:
    return name if "'" in name else f"the {name}"


def _ids(group: Sequence[TextRecord]) -> frozenset[Any]:
    return frozenset((item.id, _key_box(item.box)) for item in group)


class _Report:
    """Findings of one act, each problem (by its key) once, at the first beat it shows."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.reported: set[Any] = set()
        self.beat = 0

    def __call__(self, key: Any, message: str, nudged: bool) -> None:
        if key not in self.reported:
            self.reported.add(key)
            self.findings.append(Finding(self.beat, message, nudged))


def check_beats(beats: Sequence[LayoutRecord], margin: float, quality: str) -> list[Finding]:
    """The rules over one act's beat records (in order); each problem once, at its first beat.

    Texts held by one named element (a table, a chip) that break the same rule in the same beat are
    one finding, named by the worst of them."""
    report = _Report()
    for record in beats:
        report.beat = record.index
        area, whole = Area.safe(record.frame, margin), Area.whole(record.frame)
        shown = [t for t in record.texts if t.box is not None and shows(t)]
        _check_visible(record, report)
        _check_text_edges(shown, area, whole, report)
        _check_shape_edges(record.shapes, area, whole, report)
        _check_overlaps(shown, report)
        _check_sizes(shown, quality, min(record.frame), report)  # the short side: PIXEL_HEIGHTS are its pixels
    return report.findings


def _check_visible(record: LayoutRecord, report: _Report) -> None:
    """What this beat introduced must show (unpainted layout helpers are not drawn at all)."""
    new_texts = [t for t in record.texts if t.new]
    zero = [t for t in new_texts if t.box is None or min(t.box[2] - t.box[0], t.box[3] - t.box[1]) < ZERO_SIZE]
    for group in _by_owner(zero):
        what = _texts(group, group[0])
        verb = "has" if len(group) == 1 else "have"
        report(("zero", _ids(group)), f"{what} {verb} zero size", any(t.nudged for t in group))
    faint = [t for t in new_texts if t not in zero and t.contrast is not None and not shows(t)]
    for group in _by_owner(faint):
        worst = min(group, key=lambda t: t.contrast or 0.0)
        message = _invisible(_texts(group, worst), worst.contrast or 0.0)
        report(("invisible", _ids(group)), message, any(t.nudged for t in group))
    for element in record.groups:
        _check_group_visible(element, report)


def _check_group_visible(element: GroupRecord, report: _Report) -> None:
    if not element.new or not element.has_points or element.contrast is None or element.text:
        return
    label = element.label
    what = label if label.startswith("group") else f"element {quote(label)}"
    extent = element.extent
    if not shows(element):
        report(("invisible", element.id), _invisible(what, element.contrast), element.nudged)
    elif extent is not None and max(extent[2] - extent[0], extent[3] - extent[1]) < ZERO_SIZE:
        report(("zero", element.id), f"{what} has zero size", element.nudged)


def _check_text_edges(shown: Sequence[TextRecord], area: Area, whole: Area, report: _Report) -> None:
    """Texts inside the safe area."""
    outside = [t for t in shown if _overshoot(t.box or [], area)]
    for group in _by_owner(outside):
        worst = max(group, key=lambda t: max(_overshoot(t.box or [], area).values()))
        past: dict[str, float] = {}
        frame_past: dict[str, float] = {}
        for text in group:
            for edge, amount in _overshoot(text.box or [], area).items():
                past[edge] = max(past.get(edge, 0.0), amount)
            for edge, amount in _overshoot(text.box or [], whole).items():
                frame_past[edge] = max(frame_past.get(edge, 0.0), amount)
        message = _edge_message(_texts(group, worst), past, frame_past, plural=len(group) > 1)
        report(("edge", _ids(group)), message, any(t.nudged for t in group))


def _check_shape_edges(shapes: Sequence[ShapeRecord], area: Area, whole: Area, report: _Report) -> None:
    """Shapes inside the safe area: the worst part of each named element."""
    worst_shapes: dict[str, tuple[dict[str, float], dict[str, float], bool, tuple[Any, ...]]] = {}
    for shape in shapes:
        past = _overshoot(shape.box, area)
        if not past:
            continue
        owner = shape.owner
        merged, frame_past, nudged, keys = worst_shapes.get(owner, ({}, {}, False, ()))
        for edge, amount in past.items():
            merged[edge] = max(merged.get(edge, 0.0), amount)
        for edge, amount in _overshoot(shape.box, whole).items():
            frame_past[edge] = max(frame_past.get(edge, 0.0), amount)
        key = (shape.id, _key_box(shape.box))
        worst_shapes[owner] = (merged, frame_past, nudged or shape.nudged, (*keys, key))
    for owner, (past, frame_past, nudged, keys) in worst_shapes.items():
        what = f"element {quote(owner)}" if "'" not in owner else owner
        report(("edge-shape", owner, frozenset(keys)), _edge_message(what, past, frame_past), nudged)


def _check_overlaps(shown: Sequence[TextRecord], report: _Report) -> None:
    """No text over text."""
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            w, h = _boxes_overlap(a.box or [], b.box or [])
            if w > OVERLAP_TOLERANCE and h > OVERLAP_TOLERANCE:
                key = ("overlap", frozenset([(a.id, _key_box(a.box)), (b.id, _key_box(b.box))]))
                message = f"text {quote(a.text)} overlaps text {quote(b.text)} ({w:.2f} x {h:.2f} units)"
                report(key, message, a.nudged or b.nudged)


def _check_sizes(shown: Sequence[TextRecord], quality: str, frame_height: float, report: _Report) -> None:
    """Capital letters tall enough to read at this quality."""
    pixels = PIXEL_HEIGHTS[quality]
    smallest = min_cap_height(quality, frame_height)
    small = [t for t in shown if 0 < t.cap < smallest - 1e-6]
    for group in _by_owner(small):
        worst = min(group, key=lambda t: t.cap)
        low, high = worst.cap * pixels / frame_height, max(t.cap for t in group) * pixels / frame_height
        size = f"{low:.1f} px" if high - low < 0.05 else f"{low:.1f} to {high:.1f} px"
        verb = "is" if len(group) == 1 else "are"
        message = (
            f"{_texts(group, worst)} {verb} too small to read at {pixels}p: capitals {size} tall "
            f"(font size {worst.font_size:.1f}), at least {smallest * pixels / frame_height:.1f} px are needed"
        )
        key = ("small", frozenset((t.id, t.text, round(t.cap, 3)) for t in group))
        report(key, message, any(t.nudged for t in group))
