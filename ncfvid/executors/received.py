"""Clips drawn elsewhere entering the coordinator's cache: each is checked first (every file there, its
SHA-256 sums match, the picture decodes to the frame count the worker measured and the sound holds
the samples it measured), then published by the atomic rename `ncfvid render` uses for its own."""

from __future__ import annotations

import json
import os
import shutil
import time
import wave
from pathlib import Path

from ncfvid.cacheguard import SUMS_FILE, Damaged, check_clip, verified
from ncfvid.children import HOST
from ncfvid.executors.payload import DrawnClip, TaskResult
from ncfvid.files import write_atomic
from ncfvid.records import CLIP_FILES
from ncfvid.renderplan import DRAWN_FILE, LAYOUT_FILE, STATES_FOLDER, BeatClip
from ncfvid.rendertask import RenderTask

ALLOWED = frozenset((*CLIP_FILES, SUMS_FILE, DRAWN_FILE, LAYOUT_FILE))


class BadResult(Exception):
    """A worker's result that must not enter the cache; the message says why (one line)."""


def store_result(task: RenderTask, result: TaskResult) -> None:
    """Check every clip of `result` against `task`'s beats, then store them all; BadResult if one
    fails its check (nothing is stored then)."""
    cache = task.job.clips[0].folder.parent
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".tmp-{task.job.first}-{HOST}-{os.getpid()}-{time.monotonic_ns()}"  # swept if we die
    work.mkdir()
    try:
        drawn = {clip.index: clip for clip in result.clips}
        received = []
        for clip in task.job.clips:
            if clip.index not in drawn:
                raise BadResult(f"beat {clip.index + 1} is missing from the result")
            folder = work / f"final-{clip.index}"
            unpack(drawn[clip.index], folder)
            received.append((clip, folder))
        for clip, folder in received:
            _publish(clip, folder, cache.parent / STATES_FOLDER)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def unpack(drawn: DrawnClip, folder: Path) -> None:
    """Write a received clip's files into `folder` and check them; BadResult if they fail."""
    unknown = sorted(set(drawn.files) - ALLOWED)
    if unknown:
        raise BadResult(f"beat {drawn.index + 1}: unexpected file(s) {', '.join(unknown)}")
    missing = [name for name in (*CLIP_FILES, SUMS_FILE) if name not in drawn.files]
    if missing:
        raise BadResult(f"beat {drawn.index + 1}: {', '.join(missing)} missing")
    folder.mkdir(parents=True)
    for name, data in drawn.files.items():
        (folder / name).write_bytes(data)
    try:
        check_clip(folder)  # the sums the worker recorded (re-recorded here under the new time stamps)
    except Damaged as err:
        raise BadResult(f"beat {drawn.index + 1}: {err}") from None
    frames, samples = _decoded_frames(folder / "clip.mp4"), _samples(folder / "sound.wav")
    if frames != drawn.frames or samples != drawn.samples:
        raise BadResult(
            f"beat {drawn.index + 1}: {frames} frame(s) and {samples} sample(s) decode, "
            f"the worker drew {drawn.frames} and {drawn.samples}"
        )


def _decoded_frames(path: Path) -> int:
    import av

    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0))
    except (OSError, ValueError, IndexError, av.FFmpegError):
        return 0


def _samples(path: Path) -> int:
    try:
        with wave.open(str(path)) as sound:
            return sound.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def _publish(clip: BeatClip, folder: Path, states: Path) -> None:
    """Move a checked clip folder to its place in the cache (atomically), and index its state."""
    try:
        folder.rename(clip.folder)  # atomic: a clip folder is complete or absent
    except OSError:
        if not verified(clip.folder):  # else someone finished the same clip first: theirs is as good
            folder.rename(clip.folder)  # the damaged folder that was in the way is gone now
    try:
        state = json.loads((clip.folder / DRAWN_FILE).read_text(encoding="utf-8")).get("state")
    except (OSError, ValueError, AttributeError):
        state = None
    if isinstance(state, str) and state:
        # as render._index_state: a later job drawing from the same state is served this clip
        write_atomic(states / state, f"{clip.folder.parent.name}/{clip.folder.name}")
