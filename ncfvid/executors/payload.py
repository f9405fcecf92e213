"""What crosses between the coordinator and a remote worker (`ncfvid.executors.dask`): a task as a
self-contained payload one way, the drawn beats' files as bytes the other, and the versions both
sides must share. Plain picklable data; imports neither Manim nor Dask."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ncfvid.renderplan import ActJob, RenderSettings
from ncfvid.rendertask import TaskSpeech


@dataclass(frozen=True)
class Versions:
    """What must be the same on the coordinator and every worker: every cache key names them."""

    ncfvid: str
    manim: str
    library: str  # ncfvid.cachekeys.library_hash: the scene library the scenes run

    def describe(self) -> str:
        return f"ncfvid {self.ncfvid}, Manim {self.manim}, scene library {self.library[:12]}"


def local_versions() -> Versions:
    """This process's versions (read now: a test may change them)."""
    from importlib.metadata import version

    import ncfvid
    from ncfvid.cachekeys import library_hash

    return Versions(ncfvid.__version__, version("manim"), library_hash())


@dataclass(frozen=True)
class TaskPayload:
    """One RenderTask as a worker needs it: nothing in it refers to the coordinator's files."""

    versions: Versions  # the coordinator's: a worker with others refuses the task
    place: str  # the worker's folder for this storyboard (its own cache: glyphs, speech, segments, states)
    module_name: str
    module_text: str
    job: ActJob  # its clips' folders are the coordinator's: the worker keeps only their names
    settings: RenderSettings
    recordings: dict[str, bytes] = field(default_factory=dict)  # the module's path literal -> the file
    speech: TaskSpeech | None = None
    fresh: bool = False  # draw the beats again even if the worker's cache has them (a result was bad)


@dataclass(frozen=True)
class DrawnClip:
    """A beat clip folder's files, and what the worker measured of its picture and sound (the
    coordinator decodes what it receives and compares)."""

    index: int
    files: dict[str, bytes]
    frames: int
    samples: int


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: the job's clips, or why it failed (a Manim error, not retried)."""

    worker: str
    clips: tuple[DrawnClip, ...] = ()
    log: str = ""  # Manim's log
    error: str | None = None
    seconds: float = 0.0


def place_for(out: str, group: str) -> str:
    """A worker folder name for the storyboard whose output folder on the coordinator is `out`."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in (group or out.rstrip("/").rpartition("/")[2]))
    return f"{stem[:40]}-{hashlib.sha256(out.encode()).hexdigest()[:10]}"
