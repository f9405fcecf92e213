"""Executors: what runs a render's tasks (`ncfvid.rendertask.RenderTask`, one Manim run each).

The planner (`ncfvid.renderapp`) hands tasks to an executor through `ncfvid.rendertask.render_tasks`;
`run` returns once the task's beats are in its storyboard's cache. The local executor (the default)
forks each run from this machine's fork server; the Dask executor (`--scheduler`) sends each task to
a Dask cluster and stores the clips that come back. Executors drive Manim; they never import the code
that runs inside it (`ncfvid.scenelib`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ncfvid.forkserver import ForkServer
    from ncfvid.rendertask import RenderTask


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
    """The executor for `--scheduler` (None: this machine, `jobs` tasks at once, forked from `server`)."""
    from ncfvid.executors.local import LocalExecutor

    return LocalExecutor(jobs, server)
