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

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ncfvid
from ncfvid import renderenv
from ncfvid.children import Children
from ncfvid.diagnostics import UserError
from ncfvid.files import write_atomic
from ncfvid.forkserver import MANIM, ForkServer, start_process

_RUNNING = Children()  # Manim processes of render jobs in progress
LIBRARY_PARTS = ("scenelib", "speech", "video", "storydata.py")
CLIP_FILES = renderenv.CLIP_FILES
LAYOUT_FILE = "layout.json"  # and, beside them, its layout record for the check (see BeatClip.layout)
DRAWN_FILE = "drawn.json"  # and how long drawing it took (to weigh the beat when planning jobs)
STATES_FOLDER = "states"  # per act: state key (a beat's own code + the stage it starts from) -> clip folder


@dataclass(frozen=True)
class BeatClip:
    """One beat's entry in the cache: its picture, captions and sound, under its key."""

    act_id: str
    index: int  # the beat's place in its act, from 0
    key: str
    folder: Path
    own: str = ""  # the key of the beat's own code alone (with the stage it starts from: its state)

    @property
    def cached(self) -> bool:
        return all((self.folder / name).is_file() for name in CLIP_FILES)

    def layout(self) -> dict[str, Any] | None:
        """What was on screen at the end of the beat (`ncfvid.check.BeatInspector`'s record, taken
        while the beat was drawn), if the clip has a record of the current format."""
        try:
            record = json.loads((self.folder / LAYOUT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("format") == layout_format() else None


@functools.cache
def layout_format() -> str:
    """The format of layout records: the check's source (which records and reads them)."""
    from ncfvid.check import check_source_hash

    return check_source_hash()[:16]


@dataclass(frozen=True)
class ActJob:
    """One Manim run: draws `clips` (consecutive beats of one act); the act's earlier beats run skipped."""

    act_id: str
    scene: str
    clips: tuple[BeatClip, ...]
    act_beats: int  # how many beats the act has
    weight: float  # a guess at the work (see `_job_cost`), to start the biggest jobs first
    log_name: str = ""

    @property
    def whole(self) -> bool:
        return len(self.clips) == self.act_beats

    @property
    def first(self) -> int:
        return self.clips[0].index

    @property
    def stop(self) -> int:
        return self.clips[-1].index + 1


@dataclass(frozen=True)
class RenderPlan:
    """Every beat clip of the chosen acts in video order, and the jobs that draw the missing ones."""

    clips: list[BeatClip]
    jobs: list[ActJob]

    def act_clips(self, act_id: str) -> list[BeatClip]:
        return [clip for clip in self.clips if clip.act_id == act_id]


# x264 preset for beat clips. Manim's default ("medium") spends most of a -q h render waiting for the
# encoder; on these flat-coloured pictures "veryfast" keeps the quality (same crf) for a somewhat
# larger file. Measured in bench/results.md.
X264_PRESET = "veryfast"


@dataclass(frozen=True)
class RenderSettings:
    quality: str = "l"
    voice_overrides: tuple[tuple[str, object], ...] = ()
    burn_captions: bool = False
    fast_holds: bool = True
    jobs: int = 1
    preset: str = X264_PRESET


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


BEAT_MARK = re.compile(r"^[ \t]+# Beat '", re.M)  # how act.py.j2 opens each beat's code


def split_beats(act_source: str, beats: int) -> list[str]:
    """Each beat's share of an act class's code: the class up to the beat, then each beat's block.

    Found from the act template's `# Beat '...'` comments; a template without them (a user override)
    gives the whole act to every beat, so that any change re-renders the whole act.
    """
    marks = [m.start() for m in BEAT_MARK.finditer(act_source)]
    if beats < 1 or len(marks) != beats:
        return [act_source] * max(beats, 1)
    bounds = [0, *marks[1:], len(act_source)]
    return [act_source[bounds[i] : bounds[i + 1]] for i in range(beats)]


def code_only(source: str) -> str:
    """`source` without its whole-line comments: they name storyboard lines, which move when an
    earlier part of the storyboard grows, and never change a pixel."""
    return re.sub(r"^[ \t]*#.*(?:\n|$)", "", source, flags=re.M)


def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def beat_key(head: str, act_prefix: str, settings: RenderSettings, recordings: Sequence[str], lib: str) -> str:
    """Everything that can change a beat's pixels or sound: `act_prefix` is the act's code up to and
    including the beat, `recordings` the audio files of the act's beats up to it."""
    payload = {
        "head": head,
        "act": act_prefix,
        "quality": settings.quality,
        "voice": list(settings.voice_overrides),
        "burn": settings.burn_captions,
        "holds": settings.fast_holds,
        "preset": settings.preset,
        "recordings": [_file_hash(path) for path in recordings],
        "library": lib,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def plan(
    module: str,
    acts: Sequence[tuple[str, str, Sequence[str]]],
    recordings: dict[str, dict[str, str]],
    settings: RenderSettings,
    cache_root: Path,
) -> RenderPlan:
    """The beat clips of `acts` ((act id, scene class, beat ids) in order) and the jobs for the missing
    ones: one per run of consecutive missing beats, runs split further while there are fewer jobs
    than `settings.jobs` (so that an edit in one long act still uses every core)."""
    head, sources = split_module(module)
    head = code_only(head)
    lib = library_hash()
    clips: list[BeatClip] = []
    jobs: list[ActJob] = []
    weight: dict[BeatClip, float] = {}  # a beat's work
    for act_id, scene, beat_ids in acts:
        shares = split_beats(sources[scene], len(beat_ids))
        codes = [code_only(share) for share in shares]  # shares start at line starts: same as on the whole
        act_recordings = recordings.get(act_id, {})
        run: list[BeatClip] = []
        for index in range(len(beat_ids)):
            played = [act_recordings[b] for b in beat_ids[: index + 1] if b in act_recordings]
            key = beat_key(head, "".join(codes[: index + 1]), settings, played, lib)
            mine = [act_recordings[beat_ids[index]]] if beat_ids[index] in act_recordings else []
            own = beat_key(head, codes[index], settings, mine, lib)
            clip = BeatClip(act_id, index, key, cache_root / act_id / f"{index:02d}-{key}", own)
            clips.append(clip)
            weight[clip] = float(len(shares[index]))  # refined by _weigh_by_last_draw
            if not clip.cached:
                run.append(clip)
            if run and (clip.cached or index == len(beat_ids) - 1):
                jobs.append(ActJob(act_id, scene, tuple(run), len(beat_ids), sum(weight[c] for c in run)))
                run = []
    if jobs:
        _weigh_by_last_draw(weight, {job.act_id for job in jobs})
    jobs = _split_for_cores(jobs, settings.jobs, weight, SKIP_COST.get(settings.quality, 0.3))
    named = []
    for job in jobs:  # one log per job; an act drawn by one job keeps the plain <act>.log
        alone = sum(1 for other in jobs if other.act_id == job.act_id) == 1
        name = f"{job.act_id}.log" if alone else f"{job.act_id}.beats-{job.first}-{job.stop - 1}.log"
        named.append(replace(job, log_name=name))
    named.sort(key=lambda job: -job.weight)  # the biggest first: the cores finish closer together
    return RenderPlan(clips, named)


def _weigh_by_last_draw(weight: dict[BeatClip, float], acts: set[str]) -> None:
    """Weigh the beats of `acts` by how long drawing them took last time (any cached version of the
    same beat, the newest; an edit seldom changes that much), in place of the length of their code.
    A beat never drawn keeps its code length, scaled to seconds by the act's measured beats."""
    for act_id in acts:
        beats = {clip: w for clip, w in weight.items() if clip.act_id == act_id}
        measured: dict[BeatClip, float] = {}
        for clip in beats:
            versions = sorted(clip.folder.parent.glob(f"{clip.index:02d}-*/{DRAWN_FILE}"), key=_mtime)
            for record in reversed(versions):
                try:
                    measured[clip] = float(json.loads(record.read_text(encoding="utf-8"))["seconds"])
                    break
                except (OSError, ValueError, KeyError, TypeError):
                    continue
        if not measured:
            continue
        per_char = sum(measured.values()) / max(1.0, sum(beats[clip] for clip in measured))
        for clip, code_length in beats.items():
            weight[clip] = measured.get(clip, code_length * per_char)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# What running a beat with animations skipped costs, against drawing it (mobjects are still built,
# copied and interpolated; no pixel is drawn, parsed texts come from the glyph cache): measured on
# the NCF architecture act, all 8 beats skipped 1.1 s against 9 s drawn at -q l, and ~55 s drawn at
# -q h (bench/results.md). Other qualities lie between.
SKIP_COST = {"l": 0.12, "m": 0.05, "h": 0.02, "p": 0.02, "k": 0.01}


def _job_cost(clips: Sequence[BeatClip], weight: dict[BeatClip, float], skip: float) -> float:
    """A job's work: drawing its beats, and first running the act's earlier beats skipped."""
    earlier = sum(w for c, w in weight.items() if c.act_id == clips[0].act_id and c.index < clips[0].index)
    return sum(weight[c] for c in clips) + skip * earlier


def _split_for_cores(jobs: list[ActJob], cores: int, weight: dict[BeatClip, float], skip: float) -> list[ActJob]:
    """Split the costliest multi-beat job in two until there is a job per core, where the two halves
    cost the most alike (the second half also runs the first one's beats skipped)."""
    jobs = [replace(job, weight=_job_cost(job.clips, weight, skip)) for job in jobs]
    while len(jobs) < cores:
        splittable = [job for job in jobs if len(job.clips) > 1]
        if not splittable:
            break
        job = max(splittable, key=lambda j: j.weight)
        cut = min(
            range(1, len(job.clips)),
            key=lambda k: max(_job_cost(job.clips[:k], weight, skip), _job_cost(job.clips[k:], weight, skip)),
        )
        jobs.remove(job)
        for part in (job.clips[:cut], job.clips[cut:]):
            jobs.append(replace(job, clips=part, weight=_job_cost(part, weight, skip)))
    return jobs


def manim_environment(
    settings: RenderSettings, audio: Path, beats: tuple[int, int] | None = None, parts: Path | None = None
) -> dict[str, str]:
    """The environment of a Manim run of the scenes module: the voice, where synthesised audio is
    cached and, for `ncfvid render`'s jobs, the span of `beats` to draw and the folder for their `parts`."""
    env = dict(os.environ)
    env[renderenv.VOICE] = json.dumps(dict(settings.voice_overrides))
    env[renderenv.AUDIO_CACHE] = str(audio.resolve())
    for name in (renderenv.BEATS, renderenv.PARTS_DIR):
        env.pop(name, None)
    if beats is not None and parts is not None:
        env[renderenv.BEATS] = f"{beats[0]}:{beats[1]}"
        env[renderenv.PARTS_DIR] = str(parts.resolve())
    env[renderenv.BURN_CAPTIONS] = "1" if settings.burn_captions else "0"
    env[renderenv.FAST_HOLDS] = "1" if settings.fast_holds else "0"
    return _importable(env)


def _importable(env: dict[str, str]) -> dict[str, str]:
    """`env` with this ncfvid first on PYTHONPATH: the scenes module imports ncfvid, and a source
    checkout must work without installing."""
    root = str(Path(ncfvid.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def render_job(
    job: ActJob,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    log_dir: Path,
    server: ForkServer | None = None,
) -> float:
    """Draw the job's beats with Manim into the cache, forked from `server` if there is one (else in
    a new process); returns seconds taken. Raises UserError on failure."""
    started = time.perf_counter()
    cache = job.clips[0].folder.parent
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f".tmp-{job.first}-{os.getpid()}-{time.monotonic_ns()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / job.log_name
    arguments = [
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
        str((work / "media").resolve()),
        str(module_path.resolve()),
        job.scene,
    ]
    # One audio folder per act (and span start): two jobs may draw parts of one act at once.
    audio = out / "cache" / "audio" / (job.act_id if job.first == 0 else f"{job.act_id}.from-{job.first}")
    env = manim_environment(settings, audio, (job.first, job.stop), work)
    states = cache / STATES_FOLDER
    env[renderenv.STATES] = json.dumps({"dir": str(states.resolve()), "keys": {c.index: c.own for c in job.clips}})
    env[renderenv.GLYPHS] = str((out / "cache" / "glyphs").resolve())
    inspect = work / "inspect"
    if not settings.burn_captions:  # record each beat's layout for the check (burnt captions would be in it)
        env[renderenv.INSPECT] = str(inspect.resolve())
    what = f"act '{job.act_id}'" + ("" if job.whole else f" (beats {job.first + 1}-{job.stop} of {job.act_beats})")
    try:
        with log_path.open("w", encoding="utf-8") as log:
            command = [sys.executable, "-m", "manim", *arguments]
            manim = start_process(server, MANIM, ["manim", *arguments], command, env, work, log)
            with _RUNNING.running(manim):
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
        for clip, (video, record) in zip(job.clips, parts, strict=True):
            final = work / f"final-{clip.index}"
            final.mkdir()
            if video is None:  # served: drawn before from the same state (see StoryScene._drawn_before)
                for name in (*CLIP_FILES, LAYOUT_FILE, DRAWN_FILE):
                    if (Path(record["served"]) / name).is_file():
                        _link_or_copy(Path(record["served"]) / name, final / name)
            else:
                shutil.move(str(video), final / "clip.mp4")
                shutil.move(str(work / record["sound"]), final / "sound.wav")
                (final / "cues.json").write_text(json.dumps(record["cues"], indent=1), encoding="utf-8")
                (final / DRAWN_FILE).write_text(json.dumps({"seconds": record["seconds"]}), encoding="utf-8")
                if clip.index in layouts:
                    layout = {**layouts[clip.index], "format": layout_format()}
                    (final / LAYOUT_FILE).write_text(json.dumps(layout), encoding="utf-8")
            try:
                final.rename(clip.folder)  # atomic: a clip folder is complete or absent
            except OSError:
                if not clip.cached:  # someone else finished the same clip first: theirs is as good
                    raise
            if video is not None and record.get("state"):
                _index_state(states, record["state"], clip.folder.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return time.perf_counter() - started


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # the same clip under the new key, without a second copy
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _index_state(states: Path, state: str, folder: str) -> None:
    """Record that the clip in `folder` was drawn from state `state` (atomically)."""
    write_atomic(states / state, folder)


def _layout_records(inspect: Path, scene: str) -> dict[int, dict[str, Any]]:
    """Beat index -> the layout the job recorded at the end of that beat (none without INSPECT)."""
    path = inspect / f"{scene}.beats.json"
    if not path.is_file():
        return {}
    return {record["index"]: record for record in json.loads(path.read_text(encoding="utf-8"))}


def _drawn_beats(work: Path, job: ActJob) -> list[tuple[Path | None, dict[str, Any]]] | None:
    """(section video, beat record) for each beat of the job (no video for a beat served from the
    cache), or None if any is missing."""
    listing = work / f"{job.scene}.beats.json"
    indexes = list((work / "media").rglob(f"sections/{job.scene}.json"))
    if not listing.is_file() or len(indexes) != 1:
        return None
    records = {record["index"]: record for record in json.loads(listing.read_text(encoding="utf-8"))}
    videos = {
        section["name"]: indexes[0].parent / section["video"]
        for section in json.loads(indexes[0].read_text(encoding="utf-8"))
    }
    parts: list[tuple[Path | None, dict[str, Any]]] = []
    for clip in job.clips:
        video, record = videos.get(f"beat-{clip.index}"), records.get(clip.index)
        if record is not None and record.get("served"):
            served = Path(record["served"])
            if not all((served / name).is_file() for name in CLIP_FILES):
                return None
            parts.append((None, record))
            continue
        if video is None or record is None or not video.is_file() or not (work / record["sound"]).is_file():
            return None
        parts.append((video, record))
    return parts


def _last_error_line(log_path: Path) -> str:
    lines = [line.strip() for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Unavailable)\b.*:", line) or "Error:" in line:
            return line[:200]
    return "see the log"


def stop_renders() -> None:
    """Kill every running Manim render (their threads clean up and report them failed or stopped)."""
    _RUNNING.kill_all()


def render_jobs(
    render_plan: RenderPlan,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    report: Callable[..., None],
    abort: threading.Event | None = None,
    server: ForkServer | None = None,
) -> None:
    """Run the plan's jobs, up to `settings.jobs` at a time; report each act once it is cached,
    rendering (its first job started), done or failed (its last job ended). Once `abort` is set no
    further job starts (whoever sets it stops the running ones, see `stop_renders`). The Manim runs
    are forked from `server` if given (see `start_fork_server`), else started as new processes."""
    stopping = abort if abort is not None else threading.Event()
    acts = list(dict.fromkeys(clip.act_id for clip in render_plan.clips))
    pending = {act: sum(1 for job in render_plan.jobs if job.act_id == act) for act in acts}
    began: dict[str, float] = {}
    failed: set[str] = set()
    lock = threading.Lock()
    for act in acts:
        if not pending[act]:
            report(act, "cached", None)
    log_dir = out / "logs"

    def run(job: ActJob) -> None:
        if stopping.is_set():
            return
        with lock:
            first = job.act_id not in began
            began.setdefault(job.act_id, time.perf_counter())
        if first:
            report(job.act_id, "rendering", None, log=log_dir / job.log_name)
        try:
            render_job(job, module_path, settings, out, log_dir, server)
        except UserError:
            with lock:
                pending[job.act_id] -= 1
                failed.add(job.act_id)
            state = "stopped" if stopping.is_set() else "failed"
            report(job.act_id, state, time.perf_counter() - began[job.act_id], log=log_dir / job.log_name)
            raise
        with lock:
            pending[job.act_id] -= 1
            last = pending[job.act_id] == 0 and job.act_id not in failed
        if last:
            report(job.act_id, "done", time.perf_counter() - began[job.act_id])

    _remove_abandoned_work(render_plan)
    _run_all(render_plan.jobs, run, settings, stopping)


def start_fork_server() -> ForkServer | None:
    """A fork server for the Manim runs of a render, or None where this system cannot fork."""
    if not hasattr(os, "fork"):
        return None
    return ForkServer(_importable(dict(os.environ)))


def _run_all(
    todo: Sequence[ActJob], run: Callable[[ActJob], None], settings: RenderSettings, stopping: threading.Event
) -> None:
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
                pool.shutdown(wait=False, cancel_futures=True)  # start no further job
                stop_renders()  # and stop the running ones
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


def _remove_abandoned_work(render_plan: RenderPlan) -> None:
    """Remove work folders (`.tmp-<beat>-<pid>-<ns>`) left by renders that were killed outright."""
    for folder in {clip.folder.parent for clip in render_plan.clips}:
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


def assemble(clips: Sequence[BeatClip], video_path: Path) -> tuple[float, list[float]]:
    """Join the beat clips into the final video and write its SRT and VTT; returns (length, part starts)."""
    from ncfvid.subtitles import join_act_cues, split_caption, write_subtitles
    from ncfvid.video.join import join_videos

    result = join_videos([c.folder / "clip.mp4" for c in clips], video_path, [c.folder / "sound.wav" for c in clips])
    parts = []
    for clip, start in zip(clips, result.part_starts, strict=True):
        raw = json.loads((clip.folder / "cues.json").read_text(encoding="utf-8"))
        parts.append(([cue for c in raw for cue in split_caption(c["text"], c["start"], c["end"])], start))
    ends = [*result.part_starts[1:], result.info.duration]
    lengths = [end - start for start, end in zip(result.part_starts, ends, strict=True)]
    write_subtitles(join_act_cues(parts, lengths), video_path.with_suffix(".srt"), video_path.with_suffix(".vtt"))
    return result.info.duration, list(result.part_starts)
