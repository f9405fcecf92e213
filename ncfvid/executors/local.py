"""The local executor: each task a Manim run forked from this machine's fork server (or a new process
where there is none), `jobs` at a time, drawing straight into the storyboard's cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ncfvid.render import render_job, stop_renders

if TYPE_CHECKING:
    from ncfvid.forkserver import ForkServer
    from ncfvid.rendertask import RenderTask


class LocalExecutor:
    """See the module docstring; the fork server belongs to the caller (it closes it)."""

    def __init__(self, jobs: int, server: ForkServer | None = None) -> None:
        self.jobs = max(1, jobs)
        self.server = server

    @property
    def slots(self) -> int:
        return self.jobs

    def run(self, task: RenderTask) -> float:
        return render_job(
            task.job, task.module_path, task.settings, task.out, task.log_path.parent, self.server, task.group
        )

    def stop(self, group: str | None = None) -> None:
        stop_renders(group)

    def close(self) -> None:
        pass
