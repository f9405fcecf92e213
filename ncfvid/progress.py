"""What `ncfvid render` shows while it works: one row per act (cached, waiting, rendering with its
progress, done with its time, failed with its log) and, at the end, the video's path, length and the
total time.

On a terminal the rows are a live rich display; anywhere else (CI, pipes, tests) they are plain lines,
one per change of state:

      intro                cached
      answer               rendering…
      answer               done in 12.3 s

A rendering act's progress is read from its Manim log (``output/<stem>/logs/<act>.log``): Manim logs
"Animation N : Partial movie file written" after each play/wait. The act's previous log, if any,
gives the expected count. ``quiet`` prints nothing but the final path (errors go to stderr elsewhere).
rich is imported only for a live display.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

__all__ = ["ActRow", "RenderProgress", "count_animations"]

_ANIMATION = re.compile(rb"\bAnimation (\d+) :")


def count_animations(log: Path) -> int:
    """How many animations (plays and waits) a Manim log says were written: 0 if there is no log."""
    try:
        data = log.read_bytes()
    except OSError:
        return 0
    return max((int(m.group(1)) + 1 for m in _ANIMATION.finditer(data)), default=0)


@dataclass
class ActRow:
    """One act's state; `animations` is counted from its log while it renders."""

    act_id: str
    log: Path
    expected: int  # animations in the act's previous log (0: unknown)
    state: str = "waiting"  # waiting | cached | rendering | done | failed | stopped (interrupted)
    started: float | None = None
    seconds: float | None = None
    animations: int = 0
    _offset: int = field(default=0, repr=False)

    def poll(self) -> None:
        """Read what the log gained since the last poll (complete lines only)."""
        try:
            with self.log.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        for match in _ANIMATION.finditer(data[:end]):
            self.animations = max(self.animations, int(match.group(1)) + 1)
        self._offset += end

    def elapsed(self) -> float:
        if self.seconds is not None:
            return self.seconds
        return time.perf_counter() - self.started if self.started is not None else 0.0


class RenderProgress:
    """Receives `report(act_id, state, seconds)` from `ncfvid.render.render_jobs` (from any thread).

    Use as a context manager around the rendering; `header` before it and `finish` after it.
    Create it before the render starts: it reads each act's previous log for the expected progress.
    """

    def __init__(
        self,
        act_ids: Sequence[str],
        log_dir: Path,
        *,
        quiet: bool = False,
        live: bool | None = None,
        logs: Mapping[str, Path] | None = None,
    ) -> None:
        """`act_ids`: the rows; `logs` their previous logs where not `log_dir/<row>.log` (several
        storyboards: rows `<storyboard>/<act>`, each with its storyboard's log folder)."""
        self.quiet = quiet
        where = {a: (logs or {}).get(a, log_dir / f"{a}.log") for a in act_ids}
        self.rows = {a: ActRow(a, where[a], count_animations(where[a])) for a in act_ids}
        self._lock = threading.Lock()
        self._console: Any = None
        self._live: Any = None
        self._spinners: dict[str, Any] = {}
        if not quiet:
            if live is None:
                live = click.get_text_stream("stdout").isatty()
            if live:
                from rich.console import Console

                self._console = Console(highlight=False)

    @property
    def is_live(self) -> bool:
        return self._console is not None

    # --- plain or rich output -------------------------------------------------------------------

    def _print(self, text: str, style: str | None = None) -> None:
        if self.quiet:
            return
        if self._console is not None:
            self._console.print(text, style=style, markup=False)
        else:
            click.echo(text)

    def header(self, text: str) -> None:
        self._print(text, "bold")

    def __enter__(self) -> RenderProgress:
        if self._console is not None:
            from rich.live import Live

            self._live = Live(self, console=self._console, refresh_per_second=4, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()  # leaves the last picture of the rows on screen
            self._live = None

    # --- events -------------------------------------------------------------------------------

    def report(self, act_id: str, state: str, seconds: float | None, log: Path | None = None) -> None:
        """An act's new state; `log` is the Manim log to follow (or to point at when it failed)."""
        with self._lock:
            row = self.rows.setdefault(act_id, ActRow(act_id, Path(f"{act_id}.log"), 0))
            if log is not None and log != row.log:
                row.log, row._offset = log, 0
            row.state = state
            if state == "rendering":
                row.started = time.perf_counter()
                row.animations, row._offset = 0, 0
            elif state in ("done", "failed", "stopped"):
                row.seconds = seconds if seconds is not None else row.elapsed()
                if state == "done":
                    row.poll()
        if self._console is None:
            self._print(self.plain_line(row))

    def plain_line(self, row: ActRow) -> str:
        if row.state == "done":
            return f"  {row.act_id:<20} done in {row.seconds or 0:.1f} s"
        if row.state == "rendering":
            return f"  {row.act_id:<20} rendering…"
        if row.state == "failed":
            return f"  {row.act_id:<20} failed after {row.seconds or 0:.1f} s (Manim's log: {row.log})"
        return f"  {row.act_id:<20} {row.state}"

    def finish(self, video: Path, length: float, seconds: float) -> None:
        """The last word: the video's path (alone when quiet), its length and the total time."""
        if self.quiet:
            click.echo(str(video))
            return
        self._print(f"{video}  ({length:.1f} s of video, rendered in {seconds:.1f} s)", "bold green")

    # --- the live picture -----------------------------------------------------------------------

    def __rich__(self) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, width=24)
        table.add_column(no_wrap=True)
        with self._lock:
            rows = list(self.rows.values())
            for row in rows:
                if row.state == "rendering":
                    row.poll()
            for row in rows:
                name = Text(f"  {row.act_id}")
                if row.state == "cached":
                    table.add_row(name, Text("cached", style="dim green"), Text(""))
                elif row.state == "done":
                    table.add_row(name, Text(f"✓ done in {row.seconds or 0:.1f} s", style="green"), Text(""))
                elif row.state == "failed":
                    failed = Text(f"✗ failed after {row.seconds or 0:.1f} s", style="bold red")
                    table.add_row(name, failed, Text(f"log: {row.log}", style="red"))
                elif row.state == "stopped":
                    table.add_row(name, Text(f"stopped after {row.seconds or 0:.1f} s", style="yellow"), Text(""))
                elif row.state == "rendering":
                    spinner = self._spinners.setdefault(row.act_id, Spinner("dots", style="cyan"))
                    done = row.animations
                    if row.expected and done <= row.expected:
                        bar: Any = ProgressBar(total=row.expected, completed=done, width=20)
                        count = f"animation {done}/~{row.expected}"
                    else:
                        bar, count = Text(""), f"animation {done}"
                    status = Table.grid(padding=(0, 1))
                    status.add_row(spinner, Text(f"rendering {row.elapsed():.0f} s", style="cyan"))
                    right = Table.grid(padding=(0, 1))
                    right.add_row(bar, Text(count, style="dim"))
                    table.add_row(name, status, right)
                else:
                    table.add_row(name, Text("waiting", style="dim"), Text(""))
        return table
