"""Child processes running now, so that whoever stops a render (an interrupt, a failed layout check)
can stop them all. Imports nothing heavy: both the renderer and the check use it."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Children:
    """A thread-safe set of running child processes, each in a group (the storyboard it works for, so
    that stopping one storyboard of several stops its processes only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[subprocess.Popen[bytes], str] = {}

    def add(self, process: subprocess.Popen[bytes], group: str = "") -> None:
        with self._lock:
            self._running[process] = group

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.pop(process, None)

    @contextmanager
    def running(self, process: subprocess.Popen[bytes], group: str = "") -> Iterator[subprocess.Popen[bytes]]:
        """Count `process` as running (in `group`) for the duration of the block."""
        self.add(process, group)
        try:
            yield process
        finally:
            self.discard(process)

    def kill_all(self, group: str | None = None) -> None:
        """Kill the running processes (of `group` only, if given)."""
        with self._lock:
            for process, its_group in self._running.items():
                if group is None or its_group == group:
                    process.kill()


def alive(pid: int) -> bool:
    """Whether process `pid` is running (a dead writer's leftovers may be swept)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


# This machine, in the names of work folders and claims a process leaves in a cache that other
# machines may share (over NFS): a process id says nothing about another machine's processes.
HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag() -> str:
    """This process as the owner of a claim in a shared folder: `<host>:<pid>`."""
    return f"{HOST}:{os.getpid()}"


def owner_alive(tag: str) -> bool:
    """Whether the owner `owner_tag()` wrote (or a plain pid) may still be running: another
    machine's process always may (its claims expire by time instead)."""
    host, _, pid = tag.strip().rpartition(":")
    if host and host != HOST:
        return True
    try:
        return alive(int(pid))
    except ValueError:
        return False
