"""Child processes running now, so that whoever stops a render (an interrupt, a failed layout check)
can stop them all. Imports nothing heavy: both the renderer and the check use it."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Children:
    """A thread-safe set of running child processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.add(process)

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(process)

    @contextmanager
    def running(self, process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
        """Count `process` as running for the duration of the block."""
        self.add(process)
        try:
            yield process
        finally:
            self.discard(process)

    def kill_all(self) -> None:
        with self._lock:
            for process in self._running:
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
