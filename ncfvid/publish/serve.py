"""`ncfvid serve`: the review page over HTTP on this machine, and with `--watch` a new render on every
save of the storyboard (changed beats only: the render's own cache), after which the page reloads
itself (it polls review.json, see `ncfvid.publish.review`).

Video needs HTTP range requests to seek, which Python's plain file handler does not answer; this one
does. Renders run as `ncfvid render` subprocesses, one at a time; a failed render prints its error
and leaves the last good video served.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["PortInUse", "Watcher", "make_server", "serve_review"]

POLL = 0.3  # s between looks at the storyboard


class PortInUse(Exception):
    """The port is taken; the message is one line."""


class _Handler(SimpleHTTPRequestHandler):
    """Files of one folder, never cached by the browser, with single byte ranges (`Range: bytes=a-b`)."""

    _span: tuple[int, int] | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the terminal shows renders, not requests

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._span = None
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file() or match.group(0) == "bytes=-":
            return super().send_head()  # type: ignore[return-value]
        size = path.stat().st_size
        first, last = match.groups()
        start = int(first) if first else max(0, size - int(last))
        end = min(size - 1, int(last)) if first and last else size - 1
        if start >= size or end < start:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.end_headers()
            return None
        handle = path.open("rb")
        handle.seek(start)
        self._span = (start, end)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return handle  # type: ignore[return-value]

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self._span is None:
            return super().copyfile(source, outputfile)
        remaining = self._span[1] - self._span[0] + 1
        while remaining > 0:
            chunk = source.read(min(remaining, 1 << 16))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)


def make_server(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """A server of `folder` at host:port (port 0: any free port); raises PortInUse."""
    handler = partial(_Handler, directory=str(folder))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(f"port {port} on {host} is in use (or not allowed); choose another with --port") from None
        raise PortInUse(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    server.daemon_threads = True
    return server


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # being replaced by an editor: look again next time


class Watcher(threading.Thread):
    """Renders `storyboard` with `render_args` now and after every change to its content."""

    def __init__(
        self, storyboard: Path, render_args: Sequence[str], say: Callable[[str], None], poll: float = POLL
    ) -> None:
        super().__init__(name="ncfvid-watch", daemon=True)
        self.storyboard = storyboard
        self.render_args = list(render_args)
        self.say = say
        self.poll = poll
        self.stopping = threading.Event()
        self.renders = 0  # finished renders (good or failed)

    def run(self) -> None:
        seen = _digest(self.storyboard)
        self._render()
        while not self.stopping.wait(self.poll):
            now = _digest(self.storyboard)
            if now is None or now == seen:
                continue
            seen = now
            self.say(f"{self.storyboard} changed: rendering the changed beats")
            self._render()

    def _render(self) -> None:
        command = [sys.executable, "-m", "ncfvid", "render", str(self.storyboard), *self.render_args]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=_child_env())
        self.renders += 1
        for line in (result.stdout + result.stderr).splitlines():
            if line.strip():
                self.say(f"  {line}")
        seconds = time.perf_counter() - started
        if result.returncode == 0:
            self.say(f"published in {seconds:.1f} s; the page reloads itself")
        else:
            self.say("the render failed; the page keeps the last good video")

    def stop(self) -> None:
        self.stopping.set()


def _child_env() -> dict[str, str]:
    """This process's environment, with this ncfvid importable by `python -m ncfvid`."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def serve_review(
    loaded: Any, folder: Path, host: str, port: int, watch: Sequence[str] | None, say: Callable[[str], None]
) -> None:
    """Serve `folder` until interrupted; with `watch` (render options), render `loaded`'s storyboard
    now and after every change. Raises UserError (at the storyboard) for a port in use or no page."""
    from ncfvid.diagnostics import UserError

    if watch is None and not (folder / "index.html").is_file():
        raise UserError.single(loaded.yaml.filename, f"no review page in {folder}/ yet: render first, or add --watch")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        server = make_server(folder, host, port)
    except PortInUse as err:
        raise UserError.single(loaded.yaml.filename, str(err)) from None
    watcher = None
    if watch is not None:
        watcher = Watcher(loaded.path, ["-o", str(folder), *watch], lambda line: print(line, file=sys.stderr))
        watcher.start()
    say(f"Serving {folder / 'index.html'} at http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if watcher is not None:
            watcher.stop()
        server.server_close()
