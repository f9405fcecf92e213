"""Render: each act's scene in its own Manim subprocess, cached by a key of everything that can change
its pixels or sound, then the clips joined into one video with captions for the whole of it.

Nothing is written where the last good output was until the new output is complete: clips land in
the cache by an atomic rename of a finished folder; the video and subtitles by os.replace.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ncfvid
from ncfvid import renderenv
from ncfvid.diagnostics import UserError

_RUNNING: set[subprocess.Popen[bytes]] = set()  # Manim processes of act renders in progress
_RUNNING_LOCK = threading.Lock()
QUALITY_FOLDERS = {"l": "480p15", "m": "720p30", "h": "1080p60", "p": "1440p60", "k": "2160p60"}
LIBRARY_PARTS = ("scenelib", "speech", "video", "storydata.py")
CLIP_FILES = ("clip.mp4", "cues.json", "sound.wav")  # a cached act: picture, captions, sound


@dataclass(frozen=True)
class ActJob:
    """One act to render: its scene class, its cache key and where its clip lives."""

    act_id: str
    scene: str
    key: str
    clip_dir: Path

    @property
    def cached(self) -> bool:
        return all((self.clip_dir / name).is_file() for name in CLIP_FILES)


@dataclass(frozen=True)
class RenderSettings:
    quality: str = "l"
    voice_overrides: tuple[tuple[str, object], ...] = ()
    burn_captions: bool = False
    fast_holds: bool = True
    jobs: int = 1


def library_hash() -> str:
    """A hash of the drawing library, speech services and video code the scenes run."""
    digest = hashlib.sha256(ncfvid.__version__.encode())
    root = Path(ncfvid.__file__).parent
    for part in LIBRARY_PARTS:
        path = root / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def split_module(module: str) -> tuple[str, dict[str, str]]:
    """The module's shared head (imports, data, settings) and the source of each act class."""
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^class (Act\w+)\(Story\):", module, re.M)]
    if not starts:
        return module, {}
    head = module[: starts[0][0]]
    acts = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(module)
        acts[name] = module[start:end]
    return head, acts


def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def act_key(head: str, act_source: str, settings: RenderSettings, recordings: Sequence[str], lib: str) -> str:
    """Everything that can change an act's pixels or sound."""
    payload = {
        "head": head,
        "act": act_source,
        "quality": settings.quality,
        "voice": list(settings.voice_overrides),
        "burn": settings.burn_captions,
        "holds": settings.fast_holds,
        "recordings": [_file_hash(path) for path in recordings],
        "library": lib,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def plan(
    module: str,
    act_ids: Sequence[str],
    scene_names: Sequence[str],
    recordings: dict[str, list[str]],
    settings: RenderSettings,
    cache_root: Path,
) -> list[ActJob]:
    """One job per act, in order, each knowing whether its clip is already cached."""
    head, sources = split_module(module)
    lib = library_hash()
    jobs = []
    for act_id, scene in zip(act_ids, scene_names, strict=True):
        key = act_key(head, sources[scene], settings, recordings.get(act_id, []), lib)
        jobs.append(ActJob(act_id, scene, key, cache_root / f"{act_id}-{key}"))
    return jobs


def manim_environment(settings: RenderSettings, out: Path, work: Path, act_id: str) -> dict[str, str]:
    env = dict(os.environ)
    env[renderenv.VOICE] = json.dumps(dict(settings.voice_overrides))
    # One audio folder per act: manim-voiceover's cache index is not safe for concurrent writers.
    env[renderenv.AUDIO_CACHE] = str((out / "cache" / "audio" / act_id).resolve())
    env[renderenv.CUES_DIR] = str(work.resolve())
    env[renderenv.SOUNDTRACK] = "1"
    env[renderenv.BURN_CAPTIONS] = "1" if settings.burn_captions else "0"
    env[renderenv.FAST_HOLDS] = "1" if settings.fast_holds else "0"
    # The scenes module imports ncfvid; make a source checkout importable without installing.
    root = str(Path(ncfvid.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def render_act(job: ActJob, module_path: Path, settings: RenderSettings, out: Path, log_dir: Path) -> float:
    """Render one act with Manim into the cache; returns seconds taken. Raises UserError on failure."""
    started = time.perf_counter()
    work = job.clip_dir.parent / f".tmp-{job.act_id}-{os.getpid()}-{time.monotonic_ns()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{job.act_id}.log"
    command = [
        sys.executable,
        "-m",
        "manim",
        "render",
        f"-q{settings.quality}",
        "--disable_caching",
        "--progress_bar",
        "none",
        "--media_dir",
        str((work / "media").resolve()),
        str(module_path.resolve()),
        job.scene,
    ]
    try:
        with log_path.open("w", encoding="utf-8") as log:
            manim = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=manim_environment(settings, out, work, job.act_id),
                cwd=work,
            )
            with _RUNNING_LOCK:
                _RUNNING.add(manim)
            try:
                manim.wait()
            finally:
                manim.kill()  # a no-op once it exited; on an interrupt, no Manim is left behind
                manim.wait()
                with _RUNNING_LOCK:
                    _RUNNING.discard(manim)
        videos = list((work / "media" / "videos").rglob(f"{QUALITY_FOLDERS[settings.quality]}/{job.scene}.mp4"))
        cues = work / f"{job.scene}.cues.json"
        sound = work / f"{job.scene}.sound.wav"
        if manim.returncode != 0 or not videos or not cues.is_file() or not sound.is_file():
            reason = _last_error_line(log_path)
            raise UserError.single(
                str(module_path),
                f"act '{job.act_id}' failed to render ({reason}); Manim's log: {log_path}",
            )
        final = work / "final"
        final.mkdir()
        shutil.move(str(videos[0]), final / "clip.mp4")
        shutil.move(str(cues), final / "cues.json")
        shutil.move(str(sound), final / "sound.wav")
        try:
            final.rename(job.clip_dir)  # atomic: a clip folder is complete or absent
        except OSError:
            if not job.cached:  # someone else finished the same clip first: theirs is as good
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return time.perf_counter() - started


def _last_error_line(log_path: Path) -> str:
    lines = [line.strip() for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Unavailable)\b.*:", line) or "Error:" in line:
            return line[:200]
    return "see the log"


def render_jobs(
    jobs: Sequence[ActJob],
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    report: Callable[[str, str, float | None], None],
) -> None:
    """Render the jobs whose clips are not cached, up to `settings.jobs` at a time."""
    todo = [job for job in jobs if not job.cached]
    for job in jobs:
        if job.cached:
            report(job.act_id, "cached", None)
    log_dir = out / "logs"

    def run(job: ActJob) -> None:
        report(job.act_id, "rendering", None)
        started = time.perf_counter()
        try:
            seconds = render_act(job, module_path, settings, out, log_dir)
        except UserError:
            report(job.act_id, "stopped" if stopping.is_set() else "failed", time.perf_counter() - started)
            raise
        report(job.act_id, "done", seconds)

    stopping = threading.Event()
    _remove_abandoned_work(jobs)
    with _sigterm_interrupts():
        if settings.jobs <= 1 or len(todo) <= 1:
            for job in todo:
                run(job)
            return
        with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
            futures = [pool.submit(run, job) for job in todo]
            errors = []
            try:
                for future in futures:
                    try:
                        future.result()
                    except UserError as err:
                        errors.extend(err.diagnostics)
            except BaseException:
                stopping.set()
                pool.shutdown(wait=False, cancel_futures=True)  # start no further act
                with _RUNNING_LOCK:
                    for process in _RUNNING:  # and stop the running ones (their threads clean up)
                        process.kill()
                raise
            if errors:
                raise UserError(errors)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While rendering, SIGTERM (CI timeouts, `kill`) unwinds like Ctrl-C: each Manim child is killed
    and its unfinished work folder removed, instead of the process vanishing mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remove_abandoned_work(jobs: Sequence[ActJob]) -> None:
    """Remove work folders (`.tmp-<act>-<pid>-<ns>`) left by renders that were killed outright."""
    for folder in {job.clip_dir.parent for job in jobs}:
        for work in folder.glob(".tmp-*"):
            match = re.search(r"-(\d+)-\d+$", work.name)
            if match and not _alive(int(match.group(1))):
                shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def assemble(jobs: Sequence[ActJob], video_path: Path) -> tuple[float, list[float]]:
    """Join the act clips into the final video and write its SRT and VTT; returns (length, act starts)."""
    from ncfvid.subtitles import join_act_cues, split_caption, write_subtitles
    from ncfvid.video.join import join_videos

    clips = [job.clip_dir / "clip.mp4" for job in jobs]
    result = join_videos(clips, video_path, [job.clip_dir / "sound.wav" for job in jobs])
    acts = []
    for job, start in zip(jobs, result.part_starts, strict=True):
        raw = json.loads((job.clip_dir / "cues.json").read_text(encoding="utf-8"))
        acts.append(([cue for c in raw for cue in split_caption(c["text"], c["start"], c["end"])], start))
    lengths = [b - a for a, b in zip(result.part_starts, [*result.part_starts[1:], result.info.duration], strict=True)]
    cues = join_act_cues(acts, lengths)
    write_subtitles(cues, video_path.with_suffix(".srt"), video_path.with_suffix(".vtt"))
    return result.info.duration, list(result.part_starts)
