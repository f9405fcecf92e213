"""`ncfvid render A.yaml B.yaml ...`: several storyboards rendered as one set of tasks.

Every storyboard is opened, locked (its output folder; a shared cache folder is shared) and planned
first; one that is invalid (or names an act it lacks, or has no voice) reports its errors at its
file:line and the others go on. The missing beats of every storyboard then go to one executor as one
set of tasks, the biggest first (`ncfvid.rendertask.render_tasks`), under one progress display whose
rows are `<storyboard>/<act>`. A task that fails, or a layout check that finds errors, fails its own
storyboard only (`group`: its output name); the others are checked, joined and published as one
storyboard's render would be. The summary lists each storyboard's video and length, or that it failed;
`render_course` returns whether all passed.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncfvid.course import Target, problems
from ncfvid.diagnostics import Diagnostic, UserError
from ncfvid.forkserver import ForkServer
from ncfvid.project import Project
from ncfvid.renderapp import LayoutGate, RenderOptions, dry_run_lines, join, plan_render, voice_settings
from ncfvid.renderplan import RenderPlan
from ncfvid.rendertask import RenderTask

if TYPE_CHECKING:
    from ncfvid.executors import Executor


@dataclass
class Member:
    """One storyboard (in one language) of the course, and how its render went."""

    target: Target
    project: Project | None = None
    plan: RenderPlan | None = None
    gate: LayoutGate | None = None
    ahead: Any = None  # the synthesis of its lines ahead of the jobs (ncfvid.speech.ahead)
    errors: list[Diagnostic] = field(default_factory=list)
    video: Path | None = None
    length: float = 0.0

    @property
    def name(self) -> str:
        """Its group and the first part of its progress rows: `ncf`, `ncf.de`."""
        return self.project.loaded.name if self.project is not None else self.target.stem

    @property
    def ok(self) -> bool:
        return not self.errors and self.project is not None


def render_targets(
    targets: Sequence[Target],
    options: RenderOptions,
    *,
    acts: Sequence[str] = (),
    cache: Path | None = None,
    template_dirs: tuple[Path, ...] = (),
    dry_run: bool = False,
    server: ForkServer | None = None,
    executor: Executor | None = None,
    stack: ExitStack,
    warn: Callable[[Diagnostic], None],
    echo: Callable[[str], None],
    echo_err: Callable[[str], None],
) -> bool:
    """`ncfvid render`: several storyboards as a course (`render_course`); one storyboard, in each
    language asked for in turn, as always (its errors raised as UserError). True when all rendered."""
    from ncfvid.renderapp import render_project

    settings = {"acts": acts, "cache": cache, "template_dirs": template_dirs, "dry_run": dry_run, "server": server}
    settings["executor"] = executor
    if len({target.storyboard.resolve() for target in targets}) > 1:
        return render_course(targets, options, stack=stack, warn=warn, echo=echo, echo_err=echo_err, **settings)
    for target in targets:
        project, render_plan = _open_and_plan(target, options, acts, cache, template_dirs, dry_run, stack, warn)
        if dry_run:  # no layout check, no rendering: only what would render
            echo("\n".join(dry_run_lines(project, render_plan, options.force)))
            continue
        render_project(project, options, render_plan, server, echo, echo_err, executor)
    return True


def render_course(
    targets: Sequence[Target],
    options: RenderOptions,
    *,
    acts: Sequence[str] = (),
    cache: Path | None = None,
    template_dirs: tuple[Path, ...] = (),
    dry_run: bool = False,
    server: ForkServer | None = None,
    executor: Executor | None = None,
    stack: ExitStack,
    warn: Callable[[Diagnostic], None],
    echo: Callable[[str], None],
    echo_err: Callable[[str], None],
) -> bool:
    """Render `targets` (see the module docstring); the folder locks go on `stack`. True when every
    storyboard rendered (or, with `dry_run`, was planned)."""
    from ncfvid.clishared import sources
    from ncfvid.diagnostics import format_text

    def report_errors(errors: list[Diagnostic]) -> None:  # as soon as a storyboard fails
        echo_err(format_text(errors, sources(errors)).rstrip())

    started = time.perf_counter()
    members = [Member(target) for target in targets]
    # A storyboard's plan splits its acts' runs until it has a job per core; in a course the others'
    # jobs keep the cores busy, so each splits for its share of them only.
    cores = options.jobs or os.cpu_count() or 1
    share = replace(options, jobs=max(1, cores // len(members)))
    for member in members:
        _open(member, share, acts, cache, template_dirs, dry_run, stack, warn, report_errors)
        if dry_run and member.ok:
            assert member.project is not None and member.plan is not None
            echo(f"{member.target.name}:")
            echo("\n".join("  " + line for line in dry_run_lines(member.project, member.plan, options.force)))
    if dry_run:
        return all(member.ok for member in members)
    _render(members, options, server, echo_err, report_errors, executor)
    for member in members:
        if member.ok:
            _publish(member, options, echo, report_errors)
    _summary(members, time.perf_counter() - started, options.quiet, echo)
    return all(member.ok for member in members)


def _open(
    member: Member,
    options: RenderOptions,
    acts: Sequence[str],
    cache: Path | None,
    template_dirs: tuple[Path, ...],
    dry_run: bool,
    stack: ExitStack,
    warn: Callable[[Diagnostic], None],
    report_errors: Callable[[list[Diagnostic]], None],
) -> None:
    """Open, lock and plan one storyboard; its errors (reported at once) fail it alone."""
    from ncfvid.folders import folder_error

    try:
        member.project, member.plan = _open_and_plan(
            member.target, options, acts, cache, template_dirs, dry_run, stack, warn
        )
    except UserError as err:
        _fail(member, err.diagnostics, report_errors)
    except OSError as err:  # a folder that cannot be written: one line naming it
        user = folder_error(err)
        if user is None:
            raise
        _fail(member, user.diagnostics, report_errors)


def _open_and_plan(
    target: Target,
    options: RenderOptions,
    acts: Sequence[str],
    cache: Path | None,
    template_dirs: tuple[Path, ...],
    dry_run: bool,
    stack: ExitStack,
    warn: Callable[[Diagnostic], None],
) -> tuple[Project, RenderPlan]:
    """Open a storyboard, lock its folder (and a shared cache) on `stack` unless this is a dry run,
    and plan its render. Raises UserError."""
    from ncfvid.folders import cache_lock, render_lock

    project = Project.open(
        target.storyboard,
        acts=acts,
        out=target.out,
        template_dirs=template_dirs,
        warn=warn,
        language=target.language,
        cache=cache,
    )
    if not dry_run:  # one render at a time in a folder: a second one waits, then finds the work done
        stack.enter_context(render_lock(project.folder, notice=not options.quiet))
        if project.shared_cache is not None:  # shared with other renders; `clean` waits for them
            stack.enter_context(cache_lock(project.shared_cache, notice=not options.quiet))
    return project, plan_render(project, options, dry_run=dry_run)


def _fail(member: Member, errors: list[Diagnostic], report_errors: Callable[[list[Diagnostic]], None]) -> None:
    member.errors = list(errors) or [Diagnostic(member.target.name, 0, 0, "", "failed")]
    report_errors(member.errors)


def _render(
    members: list[Member],
    options: RenderOptions,
    server: ForkServer | None,
    echo_err: Callable[[str], None],
    report_errors: Callable[[list[Diagnostic]], None],
    given: Executor | None = None,
) -> None:
    """Draw the missing beats of every storyboard that opened, as one set of tasks, on the `given`
    executor (default: this machine's, forked from `server`)."""
    from ncfvid.executors import executor_for
    from ncfvid.progress import RenderProgress
    from ncfvid.rendertask import render_tasks

    ready = [m for m in members if m.ok]
    if not ready:
        return
    jobs = options.settings(ready[0].project).jobs  # type: ignore[arg-type]
    executor = given or executor_for(None, jobs, server)
    tasks, rows = _tasks(ready, options, server, jobs, echo_err, report_errors, executor)
    tasks = _once(tasks)
    progress = RenderProgress(list(rows), Path("."), quiet=options.quiet, logs=rows)
    storyboards = len({m.target.storyboard for m in ready if m.ok})
    progress.header(f"Rendering {len(rows)} act(s) of {storyboards} storyboard(s), {len(tasks)} job(s)")
    for row in rows:
        if not any(task.label == row for task in tasks):
            progress.report(row, "cached", None)

    def stopped(group: str) -> bool:
        gate = _member(members, group).gate
        return gate is not None and gate.abort.is_set()

    try:
        with progress:
            failures = render_tasks(tasks, executor, progress.report, stopped)
    except BaseException as err:  # an interrupt: every storyboard stops
        for member in ready:
            _stop(member)
            if member.gate is not None:
                member.gate.stopped(err)
        raise
    finally:
        if given is None:
            executor.close()
    for member in ready:
        if member.name in failures and member.ok:
            _fail(member, _why(member, failures[member.name], echo_err), report_errors)
        elif member.ok and member.plan is not None and not all(clip.cached for clip in member.plan.clips):
            why = "its beats shared with another storyboard were not drawn: that storyboard failed"
            _fail(member, [Diagnostic(member.target.name, 0, 0, "", why)], report_errors)


def _tasks(
    ready: list[Member],
    options: RenderOptions,
    server: ForkServer | None,
    jobs: int,
    echo_err: Callable[[str], None],
    report_errors: Callable[[list[Diagnostic]], None],
    executor: Executor,
) -> tuple[list[RenderTask], dict[str, Path]]:
    """The tasks of the storyboards that opened, and their progress rows (-> each act's last log);
    each storyboard's layout gate and its synthesis ahead started (a voice that fails fails it)."""
    from ncfvid.render import remove_abandoned_work
    from ncfvid.renderapp import log_name, speak_ahead, task_speech
    from ncfvid.rendertask import tasks_for

    remote = getattr(executor, "remote", False)  # its workers speak their lines (see TaskSpeech)
    speaking = [m for m in ready if m.plan is not None and m.plan.jobs and not remote]
    tasks: list[RenderTask] = []
    rows: dict[str, Path] = {}
    for member in ready:
        project, plan, name = member.project, member.plan, member.name
        assert project is not None and plan is not None
        if member in speaking:  # the voice's processes shared out among the storyboards that speak
            voice, workers = voice_settings(project, options), max(1, jobs // len(speaking))
            try:
                member.ahead = speak_ahead(project, plan, voice, workers)
            except UserError as err:
                _fail(member, err.diagnostics, report_errors)
                continue
        logs = project.folder / "logs"
        rows.update({f"{name}/{act.id}": logs / log_name(f"{act.id}.log", project) for act in project.acts})
        module_path = project.write_module()
        label = functools.partial("{}/{}".format, name)
        speech = task_speech(project, plan, voice_settings(project, options)) if remote else []
        settings, recordings = options.settings(project), project.recordings_by_act()
        tasks += tasks_for(plan, module_path, settings, project.folder, name, label, recordings, speech)
        member.gate = LayoutGate(project, plan, options, server, echo_err, group=name, executor=executor)
        remove_abandoned_work(plan)
    return tasks, rows


def _once(tasks: list[RenderTask]) -> list[RenderTask]:
    """The tasks, each set of clips drawn once: storyboards that share an act's code (and a cache
    folder) share its clips, which the first storyboard's task draws (its act's row in the others:
    cached; if that task fails, so do they)."""
    drawn: set[tuple[Path, ...]] = set()
    once = []
    for task in tasks:
        folders = tuple(clip.folder for clip in task.job.clips)
        if folders not in drawn:
            drawn.add(folders)
            once.append(task)
    return once


def _why(member: Member, errors: list[Diagnostic], echo_err: Callable[[str], None]) -> list[Diagnostic]:
    """What failed a storyboard's renders: its tasks' errors, or its layout check's when that
    stopped them (waited for: a check of its acts may still run)."""
    _stop(member)
    checker = member.gate.checker if member.gate is not None else None
    if checker is None:
        return errors
    try:
        found = checker.outcome()
    except UserError as err:
        found = err.diagnostics
    if checker.failed.is_set() and found:
        echo_err("The layout check found problems (render anyway with --no-check):")
        return found
    return errors


def _publish(
    member: Member,
    options: RenderOptions,
    echo: Callable[[str], None],
    report_errors: Callable[[list[Diagnostic]], None],
) -> None:
    """After the renders: the storyboard's synthesis and layout check, then its video."""
    from ncfvid.renderapp import finish_ahead

    project, plan, gate = member.project, member.plan, member.gate
    assert project is not None and plan is not None and gate is not None
    quality = options.settings(project).quality
    try:
        if member.ahead is not None:
            finish_ahead(project, member.ahead, voice_settings(project, options)["engine"], _Lines(echo, options))
        checked = gate.outcome(quality)
        if checked is not None and not options.quiet:
            echo(f"{member.name}: checked {checked} beats: no layout problems")
        member.video, member.length = join(project, plan, options)
    except UserError as err:
        _fail(member, err.diagnostics, report_errors)


def _summary(members: list[Member], seconds: float, quiet: bool, echo: Callable[[str], None]) -> None:
    """Each storyboard's result, then how many rendered."""
    for member in members:
        if member.video is not None:
            echo(str(member.video) if quiet else f"{member.video}  ({member.length:.1f} s of video)")
        elif not quiet:
            echo(f"{member.target.name}: failed ({problems(member.errors)})")
    if quiet:
        return
    done = sum(1 for member in members if member.video is not None)
    echo(f"{done} of {len(members)} storyboards rendered in {seconds:.1f} s")


def _member(members: list[Member], group: str) -> Member:
    return next(member for member in members if member.name == group)


def _stop(member: Member) -> None:
    if member.ahead is not None:
        member.ahead.stop()
        member.ahead = None


class _Lines:
    """What `finish_ahead` reports through (a progress display's `header`), as plain lines."""

    def __init__(self, echo: Callable[[str], None], options: RenderOptions) -> None:
        self.echo, self.quiet = echo, options.quiet

    def header(self, text: str) -> None:
        if not self.quiet:
            self.echo(text)
