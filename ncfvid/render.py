"""Render: acts drawn by Manim in subprocesses, cached beat by beat, joined into one video with
captions for the whole of it.

The unit of the cache is a beat: its clip (picture), its captions and its sound mix, under a key of
everything that can change them: the module's shared head, the act's code up to and including that
beat (a beat's picture depends on the stage the earlier beats set), the render settings, the
recordings it may play and the drawing library. Editing a narration line therefore re-renders that
beat and the act's later beats only. A job draws a span of one act's beats in one Manim process: the
act's earlier beats run with animations skipped (no frames), which sets the stage exactly as a full
run does, and each drawn beat is a Manim section of its own.

Nothing is written where the last good output was until the new output is complete: beat clips land
in the cache by an atomic rename of a finished folder; the video and subtitles by os.replace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ncfvid.cacheguard import SUMS_FILE, verified, write_sums
from ncfvid.cachekeys import (  # noqa: F401 - re-exported: they lived here before
    BEAT_MARK,
    LIBRARY_PARTS,
    code_only,
    file_hash,
    library_hash,
    split_beats,
    split_module,
)
from ncfvid.children import HOST, Children, alive
from ncfvid.diagnostics import UserError
from ncfvid.files import write_atomic
from ncfvid.forkserver import MANIM, ForkServer, start_process
from ncfvid.records import (
    CLIP_FILES,
    DrawnBeat,
    LayoutRecord,
    drawn_beats_from_json,
    layouts_from_json,
)
from ncfvid.renderplan import (  # noqa: F401 - re-exported: they lived here before
    DRAWN_FILE,
    LAYOUT_FILE,
    SKIP_COST,
    STATES_FOLDER,
    X264_PRESET,
    ActJob,
    BeatClip,
    RenderPlan,
    RenderSettings,
    beat_key,
    plan,
)
from ncfvid.scenejob import SceneJob, importable
from ncfvid.segmentstore import LISTING as SEGMENT_LISTING
from ncfvid.segmentstore import SEGMENTS_FOLDER, keep_segments

_RUNNING = Children()  # Manim processes of render jobs in progress


def scene_job(
    settings: RenderSettings, audio: Path, beats: tuple[int, int] | None = None, parts: Path | None = None
) -> SceneJob:
    """The SceneJob of a Manim run of the scenes module: the voice, where synthesised audio is cached
    and, for `ncfvid render`'s jobs, the span of `beats` to draw and the folder for their `parts`."""
    span = beats is not None and parts is not None
    return SceneJob(
        voice=dict(settings.voice_overrides),
        audio_cache=str(audio.resolve()),
        beats=beats if span else None,
        parts_dir=str(parts.resolve()) if span and parts is not None else None,
        burn_captions=settings.burn_captions,
        fast_holds=settings.fast_holds,
    )


def manim_environment(
    settings: RenderSettings, audio: Path, beats: tuple[int, int] | None = None, parts: Path | None = None
) -> dict[str, str]:
    """This process's environment with `scene_job(...)` in it (see SceneJob.to_env)."""
    return scene_job(settings, audio, beats, parts).to_env()


def _manim_arguments(settings: RenderSettings, media: Path, module_path: Path, scene: str) -> list[str]:
    return [
        "render",
        f"-q{settings.quality}",
        "--encoder-option",
        f"preset={settings.preset}",
        "--save_sections",
        "--disable_caching",
        "--progress_bar",
        "none",
        "--silent",  # no look-up of Manim's latest release on PyPI (a web request, up to 10 s) per job
        "--media_dir",
        str(media.resolve()),
        str(module_path.resolve()),
        scene,
    ]


def speech_store(cache: Path) -> Path:
    """Where ncfvid's own voices keep the lines of a render's jobs (see `ncfvid.speech.ahead`), in the
    cache folder `cache` (see RenderSettings.shared)."""
    return cache / "speech"


def render_job(
    job: ActJob,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    log_dir: Path,
    server: ForkServer | None = None,
    group: str = "",
) -> float:
    """Draw the job's beats with Manim into the cache, forked from `server` if there is one (else in
    a new process); returns seconds taken. Raises UserError on failure. `stop_renders(group)` kills it."""
    started = time.perf_counter()
    cache = job.clips[0].folder.parent
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".tmp-{job.first}-{HOST}-{os.getpid()}-{time.monotonic_ns()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / job.log_name
    arguments = _manim_arguments(settings, work / "media", module_path, job.scene)
    # One audio folder per act (and span start): two jobs may draw parts of one act at once. The
    # storyboard's own: manim-voiceover's services keep a cache.json that two writers would break.
    audio = out / "cache" / "audio" / (job.act_id if job.first == 0 else f"{job.act_id}.from-{job.first}")
    shared = job.cache  # content-addressed: shared by acts, languages and (--cache) storyboards
    states = cache.parent / STATES_FOLDER
    inspect = work / "inspect"
    segments = shared / SEGMENTS_FOLDER
    scene = scene_job(settings, audio, (job.first, job.stop), work).but(
        states_dir=str(states.resolve()),
        state_keys={c.index: c.own for c in job.clips},
        segments_dir=None if settings.burn_captions else str(segments.resolve()),  # burnt captions move
        picture_keys={c.index: c.picture for c in job.clips},
        glyphs=str((shared / "glyphs").resolve()),
        # record each beat's layout for the check (burnt captions would be in it)
        inspect=None if settings.burn_captions else str(inspect.resolve()),
        speech=str(speech_store(shared).resolve()),
    )
    what = f"act '{job.act_id}'" + ("" if job.whole else f" (beats {job.first + 1}-{job.stop} of {job.act_beats})")
    try:
        with log_path.open("w", encoding="utf-8") as log:
            command = [sys.executable, "-m", "manim", *arguments]
            manim = start_process(server, MANIM, ["manim", *arguments], command, scene.to_env(), work, log)
            with _RUNNING.running(manim, group):
                try:
                    manim.wait()
                finally:
                    manim.kill()  # a no-op once it exited; on an interrupt, no Manim is left behind
                    manim.wait()
        parts = _drawn_beats(work, job) if manim.returncode == 0 else None
        if parts is None:
            reason = _last_error_line(log_path)
            raise UserError.single(str(module_path), f"{what} failed to render ({reason}); Manim's log: {log_path}")
        layouts = _layout_records(inspect, job.scene)
        reuse = keep_segments(work / SEGMENT_LISTING.format(scene=job.scene), segments)
        for clip, (video, record) in zip(job.clips, parts, strict=True):
            _store_clip(clip, video, record, layouts.get(clip.index), work, states, reuse.get(clip.index))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return time.perf_counter() - started


def _store_clip(
    clip: BeatClip,
    video: Path | None,
    record: DrawnBeat,
    layout: LayoutRecord | None,
    work: Path,
    states: Path,
    segments: tuple[int, int] | None = None,
) -> None:
    """Move a drawn beat's clip from the job's `work` folder into the cache (or link the clip it was
    served from), atomically."""
    final = work / f"final-{clip.index}"
    final.mkdir()
    if video is None:  # served: drawn before from the same state (see StoryScene._drawn_before)
        served = Path(record.served or "")
        for name in (*CLIP_FILES, LAYOUT_FILE, DRAWN_FILE, SUMS_FILE):
            if (served / name).is_file():
                _link_or_copy(served / name, final / name)
        if not (final / SUMS_FILE).is_file():
            write_sums(final)
    else:
        shutil.move(str(video), final / "clip.mp4")
        shutil.move(str(work / record.sound), final / "sound.wav")
        cues = [asdict(cue) for cue in record.cues]
        (final / "cues.json").write_text(json.dumps(cues, indent=1), encoding="utf-8")
        drawn, reused = segments or (0, 0)  # animations drawn, and reused from another render (scenelib.segments)
        made = {"seconds": record.seconds, "animations_drawn": drawn, "animations_reused": reused}
        made["state"] = record.state  # what it was drawn from: a server checks it (StoryScene._drawn_before)
        (final / DRAWN_FILE).write_text(json.dumps(made), encoding="utf-8")
        if layout is not None:
            (final / LAYOUT_FILE).write_text(json.dumps(layout.to_json()), encoding="utf-8")
        write_sums(final)
    try:
        final.rename(clip.folder)  # atomic: a clip folder is complete or absent
    except OSError:
        if verified(clip.folder):  # someone else finished the same clip first: theirs is as good
            return
        final.rename(clip.folder)  # the damaged folder that was in the way is gone now
    if video is not None and record.state:
        _index_state(states, record.state, f"{clip.folder.parent.name}/{clip.folder.name}")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the same clip under the new key, without a second copy
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _index_state(states: Path, state: str, folder: str) -> None:
    """Record that the clip in `folder` (`<act>/<clip folder>`, beside `states`) was drawn from state
    `state` (atomically)."""
    write_atomic(states / state, folder)


def _layout_records(inspect: Path, scene: str) -> dict[int, LayoutRecord]:
    """Beat index -> the layout the job recorded at the end of that beat (none without `inspect`)."""
    path = inspect / f"{scene}.beats.json"
    if not path.is_file():
        return {}
    return {record.index: record for record in layouts_from_json(json.loads(path.read_text(encoding="utf-8")))}


def _drawn_beats(work: Path, job: ActJob) -> list[tuple[Path | None, DrawnBeat]] | None:
    """(section video, beat record) for each beat of the job (no video for a beat served from the
    cache), or None if any is missing."""
    listing = work / f"{job.scene}.beats.json"
    indexes = list((work / "media").rglob(f"sections/{job.scene}.json"))
    if not listing.is_file() or len(indexes) != 1:
        return None
    drawn = drawn_beats_from_json(json.loads(listing.read_text(encoding="utf-8")))
    records = {record.index: record for record in drawn}
    videos = {
        section["name"]: indexes[0].parent / section["video"]
        for section in json.loads(indexes[0].read_text(encoding="utf-8"))
    }
    parts: list[tuple[Path | None, DrawnBeat]] = []
    for clip in job.clips:
        video, record = videos.get(f"beat-{clip.index}"), records.get(clip.index)
        if record is not None and record.served:
            if not all((Path(record.served) / name).is_file() for name in CLIP_FILES):
                return None
            parts.append((None, record))
            continue
        if video is None or record is None or not video.is_file() or not (work / record.sound).is_file():
            return None
        parts.append((video, record))
    return parts


def _last_error_line(log_path: Path) -> str:
    lines = [line.strip() for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Unavailable)\b.*:", line) or "Error:" in line:
            return line[:200]
    return "see the log"


def stop_renders(group: str | None = None) -> None:
    """Kill every running Manim render (of `group` only, if given); their threads clean up and report
    them failed or stopped."""
    _RUNNING.kill_all(group)


def start_fork_server() -> ForkServer | None:
    """A fork server for the Manim runs of a render, or None where this system cannot fork."""
    if not hasattr(os, "fork"):
        return None
    return ForkServer(importable(dict(os.environ)))


def remove_abandoned_work(render_plan: RenderPlan) -> None:
    """Remove work folders (`.tmp-<beat>-<host>-<pid>-<ns>`) left by renders on this machine that
    were killed outright (a shared cache holds other machines' work too: theirs is left alone)."""
    for folder in {clip.folder.parent for clip in render_plan.clips}:
        for work in folder.glob(".tmp-*"):
            match = re.search(r"-(?:([0-9a-f]{8})-)?(\d+)-\d+$", work.name)  # no host: before hosts were named
            if match and match.group(1) in (None, HOST) and not alive(int(match.group(2))):
                shutil.rmtree(work, ignore_errors=True)
