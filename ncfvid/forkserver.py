"""A fork server for Manim runs: import Manim and the scene library once, fork a process per run.

Every `python -m manim render` process spends ~2.5 s on this machine before it draws anything:
starting Python, importing Manim, manim-voiceover and the scene library, setting up Manim's CLI.
`ncfvid render` starts one Manim run per job (a cold NCF render has seven or more), so a server
process pays that once and forks each run from there: the child starts with everything imported,
sets the job's environment, folder, log and `sys.argv`, and calls the job's entry point, e.g. Manim's
own command line (`manim render ...`) exactly as `python -m manim` would. Manim's `config` is still
read from the job's arguments and the scenes module still loaded from its file by Manim in the child,
so a run is the same as in a new process.

Protocol (JSON lines): the client writes `{"id", "entry", "argv", "env", "cwd", "log"}` (`entry` is
"module:function", called without arguments; `argv` becomes `sys.argv`) to the server's stdin;
the server answers `{"id", "pid"}` once the child runs (or `{"id", "error"}`), and `{"pid", "code"}`
when a child ends. When its stdin closes (the client is done, or died) the server kills the children
still running and exits. The server forks only from its single thread.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

#: What the server imports before it forks: what a scenes module needs, and Manim's CLI.
PRELOAD = ("manim", "manim.__main__", "manim_voiceover", "ncfvid.scenelib", "ncfvid.speech.espeak")
MANIM = "manim.__main__:main"  # the entry of `python -m manim`


class ForkServerError(RuntimeError):
    """The server is gone or refused a job (the caller falls back to a plain subprocess)."""


class ForkedProcess:
    """A Manim run forked by the server; quacks like the parts of `subprocess.Popen` the renderer uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._ended = threading.Event()

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked Manim {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self._ended.is_set():
            return
        try:
            os.kill(self.pid, signal.SIGKILL)  # the server reaps it and reports its end
        except ProcessLookupError:
            pass

    def _end(self, code: int) -> None:
        self.returncode = code
        self._ended.set()


class ForkServer:
    """Client side: start the server, fork runs from it, close it. Thread-safe."""

    def __init__(self, env: Mapping[str, str], preload: Sequence[str] = (), cwd: Path | None = None) -> None:
        command = [sys.executable, "-m", "ncfvid.forkserver", *preload]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next_id = 0
        self._started: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()

    def spawn(self, entry: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> ForkedProcess:
        """Call `entry` ("module:function") in a forked child with this `sys.argv`, environment,
        folder and log file (appended to)."""
        with self._lock:
            if self._closed or self._process.poll() is not None:
                raise ForkServerError("the fork server is not running")
            self._next_id += 1
            request_id = self._next_id
            started = threading.Event()
            answer: dict[str, Any] = {}
            self._started[request_id] = (started, answer)
            request = {"id": request_id, "entry": entry, "argv": list(argv), "env": dict(env)}
            request.update(cwd=str(Path(cwd).resolve()), log=str(Path(log).resolve()))  # the server has its own cwd
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
            except OSError as err:
                raise ForkServerError(f"the fork server is gone ({err})") from err
        started.wait()
        if "pid" not in answer:
            raise ForkServerError(answer.get("error", "the fork server stopped"))
        return answer["child"]

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            with self._lock:
                if "id" in message:
                    started, answer = self._started.pop(message["id"])
                    answer.update(message)
                    if "pid" in message:
                        child = ForkedProcess(message["pid"])
                        answer["child"] = child
                        self._children[child.pid] = child
                    started.set()
                elif "code" in message:  # always after the child's start: the server reaps after replying
                    self._children.pop(message["pid"])._end(message["code"])
        # The server is gone: every run it had is over, and no start will be answered.
        with self._lock:
            self._closed = True
            for child in self._children.values():
                child._end(-signal.SIGKILL)
            self._children.clear()
            for started, _ in self._started.values():
                started.set()
            self._started.clear()

    def close(self) -> None:
        """Stop the server; it kills any run still going."""
        with self._lock:
            self._closed = True
            idle = not self._children
        if idle:  # nothing to clean up: do not wait for a server that may still be importing
            self._process.kill()
        if self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_process(
    server: ForkServer | None,
    entry: str,
    argv: Sequence[str],
    command: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    log: IO[str],
) -> subprocess.Popen[bytes] | ForkedProcess:
    """Call `entry` with `argv` forked from `server`, or, without one (or when it is gone), run `command`
    as a new process; either way in `cwd` with `env`, writing to `log`."""
    if server is not None:
        try:
            return server.spawn(entry, argv, env, cwd, Path(log.name))
        except ForkServerError:
            pass
    return subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd)


# --- server side -----------------------------------------------------------------------------------


def serve(preload: Sequence[str], requests: IO[str], replies: IO[str]) -> None:
    """Import `preload`, then fork a run per request until `requests` ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the client, which stops the runs
    keep_freed_memory()  # the forked runs inherit it
    for name in (*PRELOAD, *preload):
        importlib.import_module(name)
    children: set[int] = set()
    fd = requests.fileno()
    buffer = b""
    open_ = True
    while open_ or children:
        if open_:
            ready, _, _ = select.select([fd], [], [], 0.05 if children else None)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_ = False
                    for pid in children:
                        _kill(pid)
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    _reply(replies, _start(json.loads(line), children))
        else:
            _reap(children, replies, block=True)
            continue
        _reap(children, replies, block=False)


#: glibc's mallopt parameters, and the values a Manim run wants (see `keep_freed_memory`)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_KEEP = ((_M_MMAP_THRESHOLD, 64 << 20), (_M_TRIM_THRESHOLD, 256 << 20), (_M_TOP_PAD, 64 << 20))


def keep_freed_memory() -> None:
    """Make this process's C allocator (glibc) keep the memory it frees for the next allocation.

    A Manim run allocates and frees a few arrays the size of a frame for every frame it draws and
    encodes (the camera's pixels, the encoder's pictures). glibc serves allocations that large with a
    fresh mmap and unmaps them when they are freed, so the next frame's pages are faulted in, zeroed,
    again: ~800,000 page faults in a cold -q l NCF render, 2.3 s of system time. Allocations under
    64 MiB from the heap, and up to 256 MiB kept free at its top instead of returned, halve the faults
    and cut the system time by a third. Nothing computed changes. A no-op without glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    for parameter, value in _KEEP:
        mallopt(parameter, value)


def _start(request: dict[str, Any], children: set[int]) -> dict[str, Any]:
    if threading.active_count() != 1:  # forking a threaded process can copy a held lock
        return {"id": request["id"], "error": "the fork server has started a thread; cannot fork safely"}
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = _run(request)
        finally:
            os._exit(code)
    children.add(pid)
    return {"id": request["id"], "pid": pid}


def _run(request: dict[str, Any]) -> int:
    """In the child: become the job's process (e.g. `python -m manim <argv>`); its exit code."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    try:
        module, _, function = request["entry"].partition(":")
        getattr(importlib.import_module(module), function)()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _reap(children: set[int], replies: IO[str], block: bool) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        if pid in children:
            children.discard(pid)
            _reply(replies, {"pid": pid, "code": os.waitstatus_to_exitcode(status)})
        if block:
            return


def _reply(replies: IO[str], message: dict[str, Any]) -> None:
    try:
        replies.write(json.dumps(message) + "\n")
        replies.flush()
    except OSError:  # the client is gone; the loop ends when its end of stdin closes
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    serve(sys.argv[1:], sys.stdin, sys.stdout)
