"""`ncfvid render` as steps over a Project: plan the beat clips, check the layout (on the records the
render jobs take, or beside the renders for beats cached without one), render the missing beats,
join the video. The click command only reads options and prints.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncfvid.diagnostics import UserError
from ncfvid.folders import act_cache, remove
from ncfvid.forkserver import ForkServer
from ncfvid.project import Project
from ncfvid.renderplan import RenderPlan, RenderSettings, plan

if TYPE_CHECKING:
    from ncfvid.executors import Executor


@dataclass(frozen=True)
class RenderOptions:
    """What the command line asks of a render."""

    quality: str | None = None  # default: the storyboard's
    draft: bool = False
    voice: str | None = None
    engine: str | None = None
    burn_captions: bool = False
    jobs: int | None = None  # default: cores
    force: bool = False
    quiet: bool = False
    no_check: bool = False
    formats: tuple[str, ...] = ("mp4",)  # also written beside the MP4: webm, gif
    gif_range: tuple[float, float] | None = None  # the GIF's span, seconds

    def overrides(self) -> dict[str, object]:
        """The voice settings the command line changes."""
        overrides: dict[str, object] = {}
        if self.draft:
            overrides["engine"] = "draft"
        elif self.engine:
            overrides["engine"] = self.engine
        if self.voice:
            overrides["voice"] = self.voice
        return overrides

    def settings(self, project: Project) -> RenderSettings:
        return RenderSettings(
            quality=self.quality or project.story.video.quality,
            voice_overrides=tuple(sorted(self.overrides().items())),
            burn_captions=self.burn_captions,
            jobs=self.jobs or os.cpu_count() or 1,
        )


def plan_render(project: Project, options: RenderOptions, *, dry_run: bool = False) -> RenderPlan:
    """The beat clips of the project's acts and the jobs for the missing ones (`force`: all of them,
    their cached clips removed unless this is a dry run)."""
    settings = options.settings(project)
    specs = [(a.id, a.scene, a.beat_ids) for a in project.acts]
    cache = project.cache / "beats"
    render_plan = plan(project.module, specs, project.recordings_by_act(), settings, cache)
    if options.force and not dry_run:  # a dry run changes nothing, the cache included
        acts = [act.id for act in project.acts]
        own = act_cache(project.folder / "cache", acts)
        if project.shared_cache is not None:  # the storyboard's clips alone: other storyboards' stay
            own += [clip.folder for clip in render_plan.clips if clip.folder.exists()]
        remove(own, "the cache of the acts")
        render_plan = plan(project.module, specs, project.recordings_by_act(), settings, cache)
    if render_plan.jobs:  # a fully cached render needs no speech engine (nor Manim)
        check_engine(project, voice_settings(project, options), options)
    if log_suffix(project):  # a translation (or frame) may render beside the storyboard: logs of its own
        jobs = [replace(job, log_name=log_name(job.log_name, project)) for job in render_plan.jobs]
        render_plan = RenderPlan(render_plan.clips, jobs)
    return render_plan


def log_suffix(project: Project) -> str:
    """`.de` for a translation, `-9x16` for another frame, "" for the storyboard as it is."""
    return project.loaded.name[len(project.loaded.stem) :]


def log_name(name: str, project: Project) -> str:
    """A Manim log's name (`intro.log`) for the project: `intro.de.log` for a translation."""
    return name.removesuffix(".log") + log_suffix(project) + ".log"


def voice_settings(project: Project, options: RenderOptions) -> dict[str, Any]:
    """The storyboard's voice with the command line's changes."""
    return {**project.story.voice.model_dump(), **options.overrides()}


def dry_run_lines(project: Project, render_plan: RenderPlan, force: bool) -> list[str]:
    """What `--dry-run` prints: each act cached, or which of its beats would render."""
    lines = []
    for act in project.acts:
        missing = [c.index + 1 for c in render_plan.act_clips(act.id) if force or not c.cached]
        if not missing:
            lines.append(f"{act.id:<20} cached")
        elif len(missing) == len(act.beat_ids):
            lines.append(f"{act.id:<20} would render")
        else:
            beats = ", ".join(map(str, missing))
            lines.append(f"{act.id:<20} would render beat(s) {beats} of {len(act.beat_ids)} (the rest is cached)")
    return lines


def render_project(
    project: Project,
    options: RenderOptions,
    render_plan: RenderPlan,
    server: ForkServer | None,
    echo: Callable[[str], None],
    echo_err: Callable[[str], None],
    executor: Executor | None = None,
) -> None:
    """Render the plan's missing beats (the layout check beside them) on `executor` (default: this
    machine's, forked from `server`), join the video, report it."""
    from ncfvid.executors import executor_for
    from ncfvid.progress import RenderProgress
    from ncfvid.rendertask import render_plan_tasks

    started = time.perf_counter()
    settings = options.settings(project)
    module_path = project.write_module()
    # The check reads the layout each render job records as it draws a beat; an act with cached beats
    # that have no record (older caches, or burnt-in captions, which would be in the record) is checked
    # by `ncfvid check`'s own run beside the renders.
    executor = executor or executor_for(None, settings.jobs, server)
    remote = getattr(executor, "remote", False)  # its workers speak their lines (see TaskSpeech)
    gate = LayoutGate(project, render_plan, options, server, echo_err, executor=executor)
    progress = RenderProgress([act.id for act in project.acts], project.folder / "logs", quiet=options.quiet)
    progress.header(f"Rendering {len(project.acts)} act(s) of {project.filename} at -q{settings.quality}")
    voice = voice_settings(project, options)
    ahead = speak_ahead(project, render_plan, voice, settings.jobs) if render_plan.jobs and not remote else None
    speech = task_speech(project, render_plan, voice) if remote else []
    try:
        with progress:
            render_plan_tasks(
                render_plan,
                module_path,
                settings,
                project.folder,
                progress.report,
                gate.abort,
                executor,
                project.recordings_by_act(),
                speech,
            )
        if ahead is not None:
            finish_ahead(project, ahead, voice["engine"], progress)
    except BaseException as err:
        if ahead is not None:
            ahead.stop()
        gate.stopped(err)
        raise
    checked = gate.outcome(settings.quality)
    if checked is not None and not options.quiet:
        echo(f"Checked {checked} beats: no layout problems")
    video, length = join(project, render_plan, options)
    progress.finish(video, length, time.perf_counter() - started)


def join(project: Project, render_plan: RenderPlan, options: RenderOptions) -> tuple[Path, float]:
    """Join the plan's clips and publish the video (see ncfvid.publish.assemble): (its path, its length)."""
    from ncfvid.publish.assemble import publish
    from ncfvid.publish.formats import FormatError
    from ncfvid.video.probe import VideoError

    stem = project.loaded.name  # ncf, or ncf.de for a translation
    name = f"{stem}-" + "-".join(a.id for a in project.acts) if project.named else stem
    video = project.folder / f"{name}.mp4"
    try:
        published = publish(
            project.loaded,
            render_plan.clips,
            video,
            language=project.language,  # a translation's; None: the storyboard's voice says it
            formats=options.formats,
            gif_range=options.gif_range,
        )
    except (FormatError, VideoError) as err:
        raise UserError.single(project.filename, str(err)) from None
    return video, published.length


def _job_lines(project: Project, render_plan: RenderPlan) -> list[list[str]]:
    """The lines each of the plan's jobs speaks, in order: its act's lines from the first (earlier
    beats run skipped) to its last beat. Beats with a recording are left out."""
    from ncfvid.compiler import spoken_text

    prepared, story = project.prepared, project.story
    acts = {act.id: act for act in story.acts}
    return [
        [
            spoken_text(story, beat, prepared.context)
            for beat in acts[job.act_id].beats[: job.stop]
            if f"{job.act_id}.{beat.id}" not in prepared.recordings
        ]
        for job in render_plan.jobs
    ]


def _engine_options(voice: dict[str, Any]) -> dict[str, Any]:
    return {"voice": voice.get("voice"), "rate": voice.get("rate"), **(voice.get("options") or {})}


def task_speech(project: Project, render_plan: RenderPlan, voice: dict[str, Any]) -> list[Any]:
    """Each of the plan's jobs' lines and voice, for executors whose workers synthesise them (see
    rendertask.TaskSpeech), in the plan's order."""
    from ncfvid.rendertask import TaskSpeech

    options = tuple(sorted(_engine_options(voice).items()))
    return [TaskSpeech(voice["engine"], options, tuple(lines)) for lines in _job_lines(project, render_plan)]


def speak_ahead(project: Project, render_plan: RenderPlan, voice: dict[str, Any], workers: int) -> Any:
    """Start synthesising the lines the render's jobs will speak, in parallel and beside them, in the
    order the jobs ask for them (`ncfvid.speech.ahead`); None when the engine needs no help or every
    line is cached."""
    from ncfvid.render import speech_store
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.ahead import start_ahead

    # The biggest jobs start first. Take the jobs' lines in turn: first lines first.
    needs = _job_lines(project, render_plan)
    lines = [need[i] for i in range(max(map(len, needs), default=0)) for need in needs if i < len(need)]
    options = _engine_options(voice)
    try:
        return start_ahead(voice["engine"], options, lines, speech_store(project.cache), workers)
    except (EngineUnavailable, OSError) as err:
        raise UserError.single(project.filename, f"{voice['engine']}: {err}") from None


def finish_ahead(project: Project, ahead: Any, engine: str, progress: Any) -> None:
    """Wait for the synthesis ahead; report it, or what went wrong as one line."""
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.festivalengine import SynthesisError

    try:
        done = ahead.finish()
    except (EngineUnavailable, SynthesisError, OSError) as err:
        raise UserError.single(project.filename, f"{engine}: {err}") from None
    progress.header(f"Spoke {done.synthesised} of {done.lines} line(s) with {engine} in {done.seconds:.1f} s")


def check_engine(project: Project, settings: dict[str, Any], options: RenderOptions) -> None:
    """Fail before rendering when the speech engine cannot run here: at the storyboard's
    `voice.engine` line, or naming the command-line option that chose the engine."""
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.registry import check_engine as check_available

    try:
        check_available(settings["engine"], {"voice": settings.get("voice")})
    except EngineUnavailable as err:
        if "engine" in options.overrides():
            raise UserError.single(project.filename, f"--engine {settings['engine']}: {err}") from None
        line, column = project.loaded.yaml.positions.locate(("voice", "engine"))
        raise UserError.single(project.filename, str(err), line=line, column=column, path="voice.engine") from None


class LayoutGate:
    """`render`'s layout check: on the records the render jobs take as they draw each beat, and, for
    acts with cached beats that have none, `ncfvid check`'s own run beside the renders (it needs one
    core for a few seconds, which a render of one act leaves idle), which stops the renders on errors."""

    def __init__(
        self,
        project: Project,
        render_plan: RenderPlan,
        options: RenderOptions,
        server: ForkServer | None,
        echo_err: Callable[[str], None],
        group: str | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.project, self.render_plan, self.options, self.echo_err = project, render_plan, options, echo_err
        self.group = group  # the renders its errors stop (None: all; several storyboards: its own)
        self.executor = executor  # what runs them (None: this machine's fork server)
        self.abort = threading.Event()  # set when the layout check finds errors: stop rendering
        self.separate: list[str] = []
        if not options.no_check:
            self.separate = [a.id for a in project.acts if options.burn_captions or not self._recorded(a.id)]
        self.checker: _CheckBeside | None = None
        if self.separate:
            self.checker = _CheckBeside(self._stop, project.only(self.separate), options, server)
            self.checker.start()

    def _stop(self) -> None:
        from ncfvid.render import stop_renders

        self.abort.set()
        if self.executor is not None:
            self.executor.stop(self.group)
        else:
            stop_renders(self.group)

    def _recorded(self, act_id: str) -> bool:
        """Whether the act's beats that will not render (cached) have their layout records."""
        return all(clip.layout() is not None for clip in self.render_plan.act_clips(act_id) if clip.cached)

    def stopped(self, err: BaseException) -> None:
        """The renders stopped with `err`: the check's errors if it stopped them, else stop the check."""
        if self.checker is None:
            return
        if isinstance(err, UserError) and self.checker.failed.is_set():
            self._raise(self.checker.outcome())  # the check stopped the renders: its errors are the story
        from ncfvid.check import stop_workers

        stop_workers()

    def outcome(self, quality: str) -> int | None:
        """After the renders: raise the layout errors found, else how many beats were checked (None
        with --no-check)."""
        checked = 0
        if self.checker is not None:
            errors = self.checker.outcome()
            self._raise(errors)
            checked += self.checker.beats
        if self.options.no_check:
            return None
        recorded = self.project.only([a.id for a in self.project.acts if a.id not in self.separate])
        return checked + self._check_recorded(recorded, quality)

    def _check_recorded(self, project: Project, quality: str) -> int:
        """The layout check on the records the render jobs took of the acts' beats; raises its errors,
        else returns how many beats it checked."""
        from ncfvid.check import check_project, recorded_diagnostics

        records = {act.id: self._layouts(act.id) for act in project.acts}
        found = recorded_diagnostics(project, {k: v for k, v in records.items() if v}, quality)
        unrecorded = [act_id for act_id, beats in records.items() if beats is None]
        if unrecorded:  # a job that left no record (it should not happen): check those acts the slow way
            found += check_project(project.only(unrecorded), quality=quality).diagnostics
        self._raise([d for d in found if d.severity == "error"])
        return sum(len(self.render_plan.act_clips(act.id)) for act in project.acts)

    def _layouts(self, act_id: str) -> list[Any] | None:
        """The layout records of an act's beats, taken as they were rendered; None if one has none."""
        layouts = [clip.layout() for clip in self.render_plan.act_clips(act_id)]
        return None if any(layout is None for layout in layouts) else layouts

    def _raise(self, errors: list[Any]) -> None:
        if errors:
            self.echo_err("The layout check found problems (render anyway with --no-check):")
            raise UserError(errors)


class _CheckBeside(threading.Thread):
    """`ncfvid check` on some acts in a thread; on errors it calls `on_errors`, which stops the renders."""

    def __init__(
        self, on_errors: Callable[[], None], project: Project, options: RenderOptions, server: ForkServer | None
    ) -> None:
        super().__init__(name="ncfvid-layout-check", daemon=True)
        self.on_errors, self.project, self.options, self.server = on_errors, project, options, server
        self.result: Any = None
        self.error: BaseException | None = None
        self.failed = threading.Event()

    def run(self) -> None:
        from ncfvid.check import check_project

        try:
            quality, jobs = self.options.quality, self.options.jobs
            self.result = check_project(self.project, quality=quality, jobs=jobs, server=self.server)
        except BaseException as err:  # handed to the main thread by outcome()
            self.error = err
        if self.error is not None or any(d.severity == "error" for d in self.result.diagnostics):
            self.failed.set()
            self.on_errors()

    @property
    def beats(self) -> int:
        return int(self.result.beats)

    def outcome(self) -> list[Any]:
        """Wait for the check; raise what went wrong running it, else return the errors it found."""
        self.join()
        if self.error is not None:
            raise self.error
        return [d for d in self.result.diagnostics if d.severity == "error"]
