"""What a Manim run hands back to the process that drives it: typed records, read and written as JSON.

Both sides import this module (it imports nothing of Manim). Each record kind carries an explicit
format number, bumped when its fields or their meaning change, never when a message is reworded:
a cached record of another format is not used.

- `LayoutRecord`: what is on screen at the end of a beat (`ncfvid.scenelib.probe` takes it, the
  layout rules in `ncfvid.layoutrules` read it).
- `DrawnBeat`: a beat a render job drew (or served from a clip drawn before): its captions, its
  sound mix's file and how long drawing it took.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

LAYOUT_FORMAT = 3  # 1 was the untyped record of ncfvid.check; 3 added what moved (`motion`)
BEATS_FORMAT = 1

# What a cached beat clip folder holds (picture, captions, sound): the renderer writes it, and a
# scene serving a beat drawn before checks it is all there.
CLIP_FILES = ("clip.mp4", "cues.json", "sound.wav")

Box = list[float]  # [left, bottom, right, top] in scene units


class RecordFormatError(ValueError):
    """A record of another format (written by another version of ncfvid), or not a record at all."""


@dataclass(frozen=True)
class TextRecord:
    """One piece of text on screen (a Text, MarkupText or DecimalNumber)."""

    id: int  # the mobject's id(): the same text across beats
    text: str
    owner: str | None  # the named element holding it (a table, a chip), if any
    box: Box | None  # None: no points
    cap: float  # capital-letter height, scene units
    font_size: float
    contrast: float | None  # best contrast of its paint with the background; None: unpainted
    new: bool  # not on screen at the end of the previous beat
    nudged: bool  # moved by the beat's `nudge:`


@dataclass(frozen=True)
class ShapeRecord:
    """A drawn (painted, visible) shape that is not text."""

    id: int
    kind: str  # the mobject's class
    owner: str  # the named element holding it, else its class
    box: Box
    contrast: float
    new: bool
    nudged: bool


@dataclass(frozen=True)
class GroupRecord:
    """A top-level mobject on screen, with what its family shows."""

    id: int
    label: str
    text: bool  # the group is itself a text
    new: bool
    nudged: bool
    has_points: bool
    contrast: float | None
    box: Box | None  # around its visible parts
    extent: Box | None  # around all its points


@dataclass(frozen=True)
class MotionRecord:
    """Something seen at a sampled moment of an animation (`ncfvid.scenelib.motion`)."""

    kind: str  # point | stray | overlap | outside
    at: float  # seconds into the beat
    what: str
    box: Box  # where, in scene units
    shape: Box | None = None  # point: the shape it grows into (or collapses from)
    past: float | None = None  # outside: how far past the frame's edge


@dataclass(frozen=True)
class LayoutRecord:
    """What is on screen at the end of one beat."""

    index: int  # the beat's place in its act
    frame: list[float]  # frame width, height in scene units
    texts: tuple[TextRecord, ...] = ()
    shapes: tuple[ShapeRecord, ...] = ()
    groups: tuple[GroupRecord, ...] = ()
    beat: str | None = None  # the beat's id
    caption: str = ""
    time: float = 0.0  # scene time at the end of the beat
    background: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    still: str | None = None  # a PNG of the beat's last frame (ncfvid preview)
    start: float = 0.0  # scene time at the start of the beat
    motion: tuple[MotionRecord, ...] = ()  # what the motion check saw while the beat's animations played
    motion_seconds: float = 0.0  # CPU seconds the motion check took (bench/motion.py)

    def to_json(self) -> dict[str, Any]:
        return {"format": LAYOUT_FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> LayoutRecord:
        """The record in `data` (as `to_json` wrote it); RecordFormatError for any other format."""
        if not isinstance(data, dict) or data.get("format") != LAYOUT_FORMAT:
            raise RecordFormatError(f"not a layout record of format {LAYOUT_FORMAT}")
        fields = {k: v for k, v in data.items() if k != "format"}
        try:
            return cls(
                **{k: v for k, v in fields.items() if k not in ("texts", "shapes", "groups", "motion")},
                motion=tuple(MotionRecord(**m) for m in fields.get("motion", ())),
                texts=tuple(TextRecord(**t) for t in fields.get("texts", ())),
                shapes=tuple(ShapeRecord(**s) for s in fields.get("shapes", ())),
                groups=tuple(GroupRecord(**g) for g in fields.get("groups", ())),
            )
        except TypeError as err:
            raise RecordFormatError(str(err)) from None


def layouts_from_json(data: Any) -> list[LayoutRecord]:
    """A list of layout records (an act's, as cached by `ncfvid check`)."""
    if not isinstance(data, list):
        raise RecordFormatError("not a list of layout records")
    return [LayoutRecord.from_json(item) for item in data]


@dataclass(frozen=True)
class Cue:
    """A beat's caption, timed from the beat's first frame."""

    beat: str | None
    start: float
    end: float
    text: str
    #: (start, end, word) of each spoken word's sound, where the engine gave word times (captions
    #: follow them); empty for a recording or the draft voice (captions share the line by characters)
    words: tuple[tuple[float, float, str], ...] = ()


@dataclass(frozen=True)
class DrawnBeat:
    """A beat a render job drew, or served from a clip drawn before from the same state."""

    index: int
    cues: tuple[Cue, ...] = ()
    sound: str = ""  # its sound mix, a WAV file in the job's parts folder
    seconds: float = 0.0  # what drawing it took (weighs it in later plans)
    state: str | None = None  # its state key (the beat's own code and the stage it starts from)
    served: str | None = None  # the cached clip folder it is served from (not drawn)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DrawnBeat:
        cues = tuple(Cue(**{**c, "words": tuple(tuple(w) for w in c.get("words", ()))}) for c in data.get("cues", ()))
        return cls(**{**data, "cues": cues})


def drawn_beats_to_json(beats: list[DrawnBeat]) -> dict[str, Any]:
    return {"format": BEATS_FORMAT, "beats": [beat.to_json() for beat in beats]}


def drawn_beats_from_json(data: Any) -> list[DrawnBeat]:
    if not isinstance(data, dict) or data.get("format") != BEATS_FORMAT:
        raise RecordFormatError(f"not a list of drawn beats of format {BEATS_FORMAT}")
    return [DrawnBeat.from_json(item) for item in data["beats"]]
