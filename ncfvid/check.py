"""`ncfvid check`: find layout defects at the end of every beat without rendering any video.

How it runs
    The storyboard is compiled as for a render, then each act's scene runs in a Manim subprocess
    (several acts at once, `ncfvid.scenelib.checkrun`) with the silent draft voice (beat lengths come
    from the word count at once; nothing is synthesised), `dry_run` (no file is written) and a fast
    `play` that settles each animation at its end state (`ncfvid.scenelib.fastplay`). At the end of
    every beat the layout probe (`ncfvid.scenelib.probe`) records what is on screen as a
    `ncfvid.records.LayoutRecord`; the rules (`ncfvid.layoutrules`) run on those records in this
    process. Records are cached per act by everything that can change them, so an unchanged act is
    not run again.

Each problem is reported once, at the first beat it shows, positioned at that beat in the
storyboard (at its `nudge:` when the element was nudged in that beat).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ncfvid.cachekeys import code_only, library_hash, split_module
from ncfvid.children import Children
from ncfvid.diagnostics import Diagnostic, finalize
from ncfvid.files import write_atomic
from ncfvid.forkserver import ForkServer, start_process
from ncfvid.layoutrules import (  # noqa: F401 - re-exported: the rules lived here before
    EDGE_TOLERANCE,
    MIN_CAP_FRACTION,
    MIN_CAP_PX,
    MIN_CONTRAST,
    OVERLAP_TOLERANCE,
    PIXEL_HEIGHTS,
    ZERO_SIZE,
    Finding,
    check_beats,
    contrast_ratio,
    min_cap_height,
    paint_contrast,
)
from ncfvid.records import LAYOUT_FORMAT, LayoutRecord, RecordFormatError, layouts_from_json
from ncfvid.scenejob import SceneJob

if TYPE_CHECKING:
    from ncfvid.pipeline import Prepared
    from ncfvid.project import ActScene, Project

WORKER_ENTRY = "ncfvid.scenelib.checkrun:worker_main"  # the check's Manim process (see run_acts)


@dataclass
class ActRun:
    """One act's beat records from a check run."""

    act_id: str
    scene: str
    beats: list[LayoutRecord]
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


def act_check_key(head: str, act_source: str, quality: str, stills: bool) -> str:
    """Everything that can change an act's beat records: the records' format, the act's code, the
    quality, and the library that runs it (the probe and fast play are in it)."""
    payload = {
        "v": LAYOUT_FORMAT,
        "head": head,
        "act": act_source,
        "quality": quality,
        "stills": stills,
        "library": library_hash(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def check_job(audio: Path, inspect_dir: Path, stills: bool, exact: bool = False) -> SceneJob:
    """The SceneJob of a check's Manim process: the draft voice, every beat, the probe on; animations
    settled at their end unless `exact` (Manim's own skipping: slower, for tests that compare)."""
    return SceneJob(
        voice={"engine": "draft"},
        audio_cache=str(audio.resolve()),
        fast_holds=False,
        inspect=str(inspect_dir.resolve()),
        glyphs=str((audio.parent.parent / "glyphs").resolve()),  # beside the render's
        stills=stills,
        settle=not exact,
    )


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
    exact: bool = False,
) -> list[ActRun]:
    """Run the acts `(act id, scene class, number of beats)` of a generated module in check mode,
    in processes forked from `server` if given (see ncfvid.forkserver), else in new ones.

    With `cache_dir` and `keys` (scene -> key), records found in the cache are reused and new ones
    stored there. `exact`: play animations with Manim's own skipping instead of settling them.
    """
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, ActRun] = {}
    todo = []
    for act_id, scene, count in acts:
        cached = _cached_run(act_id, scene, cache_dir / f"{act_id}-{keys[scene]}.json") if cache_dir and keys else None
        if cached is not None:
            runs[scene] = cached
        else:
            todo.append((act_id, scene, count))
    if todo:
        inspect_dir = work / f"run-{os.getpid()}-{time.monotonic_ns()}"
        inspect_dir.mkdir(parents=True)
        job = check_job(work / "audio", inspect_dir, stills, exact)
        workers = min(jobs or os.cpu_count() or 1, len(todo))
        groups = _split([(scene, count + 2) for _, scene, count in todo], workers)
        for run in _run_workers(module_path, groups, work, inspect_dir, quality, job, server):
            run = ActRun(
                next(a for a, s, _ in todo if s == run.scene), run.scene, run.beats, run.error, seconds=run.seconds
            )
            runs[run.scene] = run
            if run.error is None and cache_dir is not None and keys and not stills:
                _store_run(run, cache_dir / f"{run.act_id}-{keys[run.scene]}.json")
        if not stills:
            shutil.rmtree(inspect_dir, ignore_errors=True)
    return [runs[scene] for _, scene, _ in acts]


def _cached_run(act_id: str, scene: str, path: Path) -> ActRun | None:
    try:
        beats = layouts_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecordFormatError):
        return None
    return ActRun(act_id, scene, beats, cached=True)


def _store_run(run: ActRun, target: Path) -> None:
    write_atomic(target, json.dumps([record.to_json() for record in run.beats]))
    for old in target.parent.glob(f"{run.act_id}-*.json"):  # earlier versions of the act
        if old != target and len(old.stem) == len(target.stem):
            old.unlink(missing_ok=True)


def _run_workers(
    module_path: Path,
    groups: list[list[str]],
    work: Path,
    inspect_dir: Path,
    quality: str,
    job: SceneJob,
    server: ForkServer | None,
) -> list[ActRun]:
    """Run each group of scenes in a check process of its own, all at once; their runs (act ids left
    empty), after all have ended."""
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
        module, _, function = WORKER_ENTRY.partition(":")
        command = [sys.executable, "-c", f"from {module} import {function}; {function}()", *arguments]
        entry_argv = ["ncfvid-check", *arguments]
        proc = start_process(server, WORKER_ENTRY, entry_argv, command, job.to_env(), inspect_dir, log)
        _WORKERS.add(proc)
        processes.append((proc, log, group, n))
    runs = []
    for proc, log, group, n in processes:
        proc.wait()
        _WORKERS.discard(proc)
        log.close()
        log_text = (inspect_dir / f"worker-{n}.log").read_text(encoding="utf-8", errors="replace")
        for scene in group:
            runs.append(_worker_result(inspect_dir, scene, proc.returncode, log_text))
    return runs


def _worker_result(inspect_dir: Path, scene: str, returncode: int, log_text: str) -> ActRun:
    """What a check process left of one scene's run."""
    beats_file = inspect_dir / f"{scene}.beats.json"
    error_file = inspect_dir / f"{scene}.error.json"
    beats = layouts_from_json(json.loads(beats_file.read_text(encoding="utf-8"))) if beats_file.is_file() else []
    error = None
    if error_file.is_file():
        error = json.loads(error_file.read_text(encoding="utf-8"))["error"]
    elif returncode != 0:
        error = _last_line(log_text) or f"the check's Manim process exited with {returncode}"
    seconds_file = inspect_dir / f"{scene}.seconds"
    seconds = float(seconds_file.read_text()) if seconds_file.is_file() else 0.0
    return ActRun("", scene, beats, error, seconds=seconds)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line[:200]
    return lines[-1][:200] if lines else ""


def check(
    storyboard: Path,
    acts: Sequence[str] = (),
    *,
    quality: str | None = None,
    out: Path | None = None,
    template_dirs: tuple[Path, ...] = (),
    jobs: int | None = None,
    use_cache: bool = True,
    server: ForkServer | None = None,
    language: str | None = None,
) -> CheckResult:
    """Check a storyboard's layout (told in `language`, if given: its translation), beat by beat (see
    `check_project`). Raises UserError when the storyboard is invalid. The result's diagnostics hold
    the storyboard's validation warnings too."""
    from ncfvid.project import Project

    project = Project.open(storyboard, acts=acts, out=out, template_dirs=template_dirs, language=language)
    result = check_project(project, quality=quality, jobs=jobs, use_cache=use_cache, server=server)
    result.diagnostics = finalize([*project.loaded.warnings, *result.diagnostics])
    return result


def check_project(
    project: Project,
    *,
    quality: str | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    server: ForkServer | None = None,
) -> CheckResult:
    """The layout findings of the project's chosen acts, beat by beat (the runs forked from `server`
    if given, else new processes)."""
    started = time.perf_counter()
    quality = quality or project.story.video.quality
    work = project.folder / "cache" / "check"
    module_path = project.write_module(work / "scenes.py")
    head, sources = split_module(project.module)
    scenes = [(a.id, a.scene, len(a.beat_ids)) for a in project.acts]
    keys = {scene: act_check_key(code_only(head), code_only(sources[scene]), quality, False) for _, scene, _ in scenes}
    cache_dir = work / "acts" if use_cache else None
    runs = run_acts(module_path, scenes, work, quality, jobs=jobs, cache_dir=cache_dir, keys=keys, server=server)
    diagnostics = []
    for act, run in zip(project.acts, runs, strict=True):
        diagnostics.extend(_diagnostics(project, act, run, quality))
    return CheckResult(finalize(diagnostics), runs, project.prepared, time.perf_counter() - started)


def recorded_diagnostics(project: Project, records: dict[str, list[LayoutRecord]], quality: str) -> list[Diagnostic]:
    """The check's findings from layout records taken while rendering (`render` records each beat's
    layout as it draws it): act id -> the records of all its beats, in order."""
    from ncfvid.motion import act_starts

    out: list[Diagnostic] = []
    every = [a.id for a in project.story.acts]
    starts = {}
    if set(every) <= set(records):  # the whole video: where each act starts in it
        starts = dict(zip(every, act_starts([records[a] for a in every]), strict=True))
    for act in project.acts:
        if act.id in records:
            run = ActRun(act.id, act.scene, records[act.id])
            out.extend(_diagnostics(project, act, run, quality, starts.get(act.id)))
    return out


def _diagnostics(
    project: Project, chosen: ActScene, run: ActRun, quality: str, act_start: float | None = None
) -> list[Diagnostic]:
    from ncfvid.motion import motion_findings

    loaded = project.loaded
    act, index = chosen.act, chosen.index
    margin = loaded.story.video.safe_margin
    out = []

    def at(beat_index: int, nudged: bool) -> tuple[int, int]:
        loc: tuple[str | int, ...] = ("acts", index, "beats", beat_index)
        beat = act.beats[beat_index]
        if nudged and beat.nudge is not None:
            loc = (*loc, "nudge")
        return loaded.yaml.positions.locate(loc)

    for finding in [*check_beats(run.beats, margin, quality), *motion_findings(run.beats, quality, act_start)]:
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
