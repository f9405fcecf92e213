"""Render tasks: the unit an executor runs (`ncfvid.executors`), and `render_tasks`, which runs a set of
them, biggest first, with progress per label and failures per group.

A RenderTask is one ActJob (a Manim run drawing consecutive beats of one act) with everything it
needs: the scenes module, the render settings and the output folder of its storyboard, whose cache
receives the drawn beats. It is picklable, so an executor may send it to another process or machine.
`label` is how the progress display names it (the act id for one storyboard; e.g. "bookclub/dna" when
several render at once) and `group` the storyboard it belongs to: a failing task, or a layout check
that stops its storyboard, affects its own group only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ncfvid.diagnostics import Diagnostic, UserError
from ncfvid.renderplan import ActJob, RenderPlan, RenderSettings

if TYPE_CHECKING:
    from ncfvid.executors import Executor
    from ncfvid.forkserver import ForkServer


@dataclass(frozen=True)
class TaskSpeech:
    """The lines a task's Manim run speaks, in the order it speaks them, and the voice: for executors
    whose workers synthesise them (the local executor's are synthesised ahead by the coordinator)."""

    engine: str
    options: tuple[tuple[str, Any], ...]  # voice, rate and the engine's options
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RenderTask:
    """One Manim run of a storyboard's render, self-contained: see the module docstring."""

    job: ActJob
    module_path: Path  # the storyboard's generated scenes module
    settings: RenderSettings
    out: Path  # the storyboard's output folder: its cache receives the drawn beats
    label: str  # what the progress display calls it (several tasks of one act share the act's label)
    group: str = ""  # the storyboard it belongs to
    recordings: tuple[str, ...] = ()  # the recorded narration files its act may play
    speech: TaskSpeech | None = None  # what it speaks (see TaskSpeech)

    @property
    def log_path(self) -> Path:
        """Where the Manim run's log goes (on the coordinator)."""
        return self.out / "logs" / self.job.log_name

    @property
    def weight(self) -> float:
        return self.job.weight


def tasks_for(
    render_plan: RenderPlan,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    group: str = "",
    label: Callable[[str], str] = str,
    recordings: Mapping[str, Mapping[str, str]] | None = None,
    speech: Sequence[TaskSpeech | None] = (),
) -> list[RenderTask]:
    """The plan's jobs as tasks; `label(act_id)` names each in the progress display, `recordings`
    are the project's (act id -> beat id -> file, see Project.recordings_by_act), `speech` is each
    job's (in the plan's order; none: the coordinator speaks ahead)."""
    played = recordings or {}
    return [
        RenderTask(
            job,
            module_path,
            settings,
            out,
            label(job.act_id),
            group,
            tuple(sorted(played.get(job.act_id, {}).values())),
            speech[n] if n < len(speech) else None,
        )
        for n, job in enumerate(render_plan.jobs)
    ]


Report = Callable[..., None]  # report(label, state, seconds, log=path): see ncfvid.progress.RenderProgress


def render_tasks(
    tasks: Sequence[RenderTask],
    executor: Executor,
    report: Report,
    stopped: Callable[[str], bool] = lambda group: False,
) -> dict[str, list[Diagnostic]]:
    """Run every task on `executor`, the biggest first, `executor.slots` at a time; report each label
    rendering (its first task started), done or failed/stopped (its last task ended). A task of a group
    for which `stopped(group)` is true does not start (whoever stops a group also calls
    `executor.stop(group)` for its running tasks). A failed task stops nothing else (but without
    parallelism its group's later tasks, as a plain sequential run would). Returns the diagnostics of
    the failed tasks per group (absent: the group had none). On an interrupt every running task is
    stopped and the interrupt raised."""
    run = _Runner(tasks, executor, report, stopped)
    todo = sorted(tasks, key=lambda task: -task.weight)
    with _sigterm_interrupts():
        if executor.slots <= 1 or len(todo) <= 1:
            try:
                for task in todo:
                    if task.group not in run.failures:
                        run(task)
            except BaseException:
                executor.stop()
                raise
            return run.failures
        with ThreadPoolExecutor(max_workers=min(executor.slots, len(todo))) as pool:
            futures: list[Future[None]] = [pool.submit(run, task) for task in todo]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                run.interrupted.set()
                pool.shutdown(wait=False, cancel_futures=True)  # start no further task
                executor.stop()  # and stop the running ones
                raise
    return run.failures


def render_jobs(
    render_plan: RenderPlan,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    report: Callable[..., None],
    abort: threading.Event | None = None,
    server: ForkServer | None = None,
) -> None:
    """Run the plan's jobs on this machine, up to `settings.jobs` at a time (see `render_tasks`);
    report each act once it is cached, rendering, done or failed. Once `abort` is set no further job
    starts (whoever sets it stops the running ones, see `ncfvid.render.stop_renders`). The Manim runs
    are forked from `server` if given (see `ncfvid.render.start_fork_server`), else started as new
    processes. Raises UserError with every failed job's error."""
    from ncfvid.executors.local import LocalExecutor

    executor = LocalExecutor(settings.jobs, server)
    try:
        render_plan_tasks(render_plan, module_path, settings, out, report, abort, executor)
    finally:
        executor.close()


def render_plan_tasks(
    render_plan: RenderPlan,
    module_path: Path,
    settings: RenderSettings,
    out: Path,
    report: Callable[..., None],
    abort: threading.Event | None,
    executor: Executor,
    recordings: Mapping[str, Mapping[str, str]] | None = None,
    speech: Sequence[TaskSpeech | None] = (),
) -> None:
    """`render_jobs` on any executor: one storyboard's plan, its acts' ids as labels (for `recordings`
    and `speech` see `tasks_for`)."""
    from ncfvid.render import remove_abandoned_work

    stopping = abort if abort is not None else threading.Event()
    tasks = tasks_for(render_plan, module_path, settings, out, recordings=recordings, speech=speech)
    for act in dict.fromkeys(clip.act_id for clip in render_plan.clips):
        if not any(task.label == act for task in tasks):
            report(act, "cached", None)
    remove_abandoned_work(render_plan)
    failures = render_tasks(tasks, executor, report, lambda group: stopping.is_set())
    errors = [diagnostic for found in failures.values() for diagnostic in found]
    if errors:
        raise UserError(errors)


class _Runner:
    """Runs one task at a time (from any thread), keeping the per-label progress and per-group failures."""

    def __init__(
        self, tasks: Sequence[RenderTask], executor: Executor, report: Report, stopped: Callable[[str], bool]
    ) -> None:
        self.executor, self.report, self.stopped = executor, report, stopped
        self.pending: dict[str, int] = {}
        for task in tasks:
            self.pending[task.label] = self.pending.get(task.label, 0) + 1
        self.began: dict[str, float] = {}
        self.failed: set[str] = set()
        self.failures: dict[str, list[Diagnostic]] = {}
        self.interrupted = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, task: RenderTask) -> None:
        if self.interrupted.is_set() or self.stopped(task.group):
            return
        label = task.label
        with self.lock:
            first = label not in self.began
            self.began.setdefault(label, time.perf_counter())
        if first:
            self.report(label, "rendering", None, log=task.log_path)
        try:
            self.executor.run(task)
        except UserError as err:
            with self.lock:
                self.pending[label] -= 1
                self.failed.add(label)
                self.failures.setdefault(task.group, []).extend(err.diagnostics)
            state = "stopped" if self.stopped(task.group) or self.interrupted.is_set() else "failed"
            self.report(label, state, time.perf_counter() - self.began[label], log=task.log_path)
            return
        with self.lock:
            self.pending[label] -= 1
            last = self.pending[label] == 0 and label not in self.failed
        if last:
            self.report(label, "done", time.perf_counter() - self.began[label])


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While rendering, SIGTERM (CI timeouts, `kill`) unwinds like Ctrl-C: each Manim child is killed
    and its unfinished work folder removed, instead of the process vanishing mid-write."""
    import signal

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
