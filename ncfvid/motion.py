"""The motion check's findings, worded: what `ncfvid.scenelib.motion` saw while animations played.

The scene's process records, per beat, what it found at sampled moments of each animation (`motion`
in the check's beat record). This module turns those records into findings at the beat's line:
what, where in pixels of the rendered frame, and when (into the beat, and into the video when the
records come from the render, which knows where each act starts).
"""

from __future__ import annotations

from collections.abc import Sequence

from ncfvid.layoutrules import PIXEL_HEIGHTS, Finding
from ncfvid.records import LayoutRecord

KINDS = {
    "point": "{what} at {where}",
    "stray": "{what} with nothing near it: ink that belongs to no element, at {where}",
    "overlap": "{what} while it moves, at {where}",
    "outside": "{what} moves {past:.2f} units past the edge of the frame, at {where}",
}


def _pixels(box: Sequence[float], frame: Sequence[float], height: int) -> str:
    """A box in scene units as the pixel position (or range) of the rendered frame."""
    scale = height / min(frame)  # `height`: pixels of the short side, in every aspect
    x0, x1 = (box[0] + frame[0] / 2) * scale, (box[2] + frame[0] / 2) * scale
    y0, y1 = (frame[1] / 2 - box[3]) * scale, (frame[1] / 2 - box[1]) * scale
    if x1 - x0 < 3 and y1 - y0 < 3:
        return f"x {(x0 + x1) / 2:.0f} px, y {(y0 + y1) / 2:.0f} px"
    return f"x {x0:.0f}-{x1:.0f} px, y {y0:.0f}-{y1:.0f} px"


def act_starts(acts: Sequence[Sequence[LayoutRecord]]) -> list[float]:
    """Where each act starts in the video, from the beat records of every act in order (an act's
    last beat ends the act)."""
    starts, at = [], 0.0
    for beats in acts:
        starts.append(at)
        at += float(beats[-1].time) if beats else 0.0
    return starts


def motion_findings(beats: Sequence[LayoutRecord], quality: str, act_start: float | None = None) -> list[Finding]:
    """The findings in one act's beat records (each problem once, at the first beat it shows).

    With `act_start` (seconds into the video where the act starts) the time in the video is given."""
    height = PIXEL_HEIGHTS.get(quality, 480)
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for record in beats:
        for item in record.motion:
            where = _pixels(item.box, record.frame, height)
            if (item.kind, item.what, where) in seen:
                continue
            seen.add((item.kind, item.what, where))
            text = KINDS[item.kind].format(where=where, what=item.what, past=item.past or 0.0)
            when = f"{item.at:.1f} s into the beat"
            if act_start is not None:
                when += f", {act_start + record.start + item.at:.1f} s into the video"
            findings.append(Finding(record.index, f"during the animation, {when}: {text}", False))
    return findings
