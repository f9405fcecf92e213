"""Executors: what runs a render's tasks (`ncfvid.rendertask.RenderTask`, one Manim run each).

The planner (`ncfvid.renderapp`) hands tasks to an executor through `ncfvid.rendertask.render_tasks`;
`run` returns once the task's beats are in its storyboard's cache. The local executor (the default)
forks each run from this machine's fork server; the Dask executor (`--scheduler`) sends each task to
a Dask cluster and stores the clips that come back. Executors drive Manim; they never import the code
that runs inside it (`ncfvid.scenelib`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ncfvid.forkserver import ForkServer
    from ncfvid.rendertask import RenderTask


SCHEDULER_ENV = "NCFVID_SCHEDULER"  # the Dask scheduler to render on when --scheduler is not given


class Executor(Protocol):
    """Runs render tasks; thread-safe (`render_tasks` calls `run` from up to `slots` threads)."""

    @property
    def slots(self) -> int:
        """How many tasks it runs at once."""
        ...

    def run(self, task: RenderTask) -> float:
        """Draw the task's beats into its storyboard's cache; the seconds taken. Raises UserError
        (one line, naming the module and the Manim log) when the task fails."""
        ...

    def stop(self, group: str | None = None) -> None:
        """Kill the running tasks (of `group` only, if given): their `run` raises UserError."""
        ...

    def close(self) -> None:
        """Release what the executor holds (processes, connections)."""
        ...


def executor_for(scheduler: str | None, jobs: int, server: ForkServer | None = None) -> Executor:
    """The executor for `--scheduler`: None, this machine, `jobs` tasks at once forked from `server`;
    a Dask scheduler's address, its cluster; "local", a Dask LocalCluster of `jobs` processes here.
    Raises UserError (one line) when the cluster cannot be reached or its workers do not fit."""
    if scheduler:
        try:
            from ncfvid.executors.dask import DaskExecutor
        except ImportError as err:  # distributed is an extra
            from ncfvid.diagnostics import UserError

            raise UserError.single(
                "--scheduler", f'rendering on Dask needs `pip install "ncfvid[dask]"` ({err})'
            ) from None
        return DaskExecutor(scheduler, jobs)
    from ncfvid.executors.local import LocalExecutor

    return LocalExecutor(jobs, server)


def scheduler_from(option: str | None) -> str | None:
    """The scheduler address of `--scheduler`, else of NCFVID_SCHEDULER; None: render locally."""
    value = (option or os.environ.get(SCHEDULER_ENV) or "").strip()
    return value or None


def start_executors(
    scheduler: str | None, jobs: int | None, dry_run: bool, on_close: Callable[[Callable[[], None]], object]
) -> tuple[ForkServer | None, Executor | None, int | None]:
    """What `ncfvid render` runs its tasks with, each closed through `on_close` when the command ends
    (however it ends), and the jobs to plan for: (a fork server, None, `jobs`) on this machine, the
    server importing Manim while the storyboard is prepared (see ncfvid.forkserver); (None, the Dask
    executor, `jobs` or the cluster's threads) with a scheduler (its workers have their own fork
    servers). A dry run needs neither."""
    if dry_run:
        return None, None, jobs
    if scheduler is None:
        from ncfvid.render import start_fork_server

        server = start_fork_server()
        if server is not None:
            on_close(server.close)
        return server, None, jobs
    executor = executor_for(scheduler, jobs or os.cpu_count() or 1)
    on_close(executor.close)
    return None, executor, jobs or getattr(executor, "threads", executor.slots)  # plan for the cluster's threads
