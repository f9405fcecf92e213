"""Dask clusters for the tests, as separate processes: a `dask scheduler` on a free port and `dask worker`
processes (one thread each, no nanny: killing one kills the worker), each worker with a scratch
folder (NCFVID_WORKER_CACHE). Every process runs in a session of its own and is killed, with what it
started (fork servers, Manim runs), when the cluster is closed, whatever the test did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
FAKE_VERSION = Path(__file__).resolve().parent / "dask_fake_version.py"  # a worker --preload


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scratch = folder / "scratch"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, "NCFVID_WORKER_CACHE": str(self.scratch)}
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append(process)
        return process

    def start_scheduler(self) -> None:
        info = self.folder / "scheduler.json"
        self._start(
            "scheduler",
            [str(BIN / "dask"), "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
        )
        deadline = time.monotonic() + 60
        while not info.is_file():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Dask scheduler: {(self.folder / 'scheduler.log').read_text()}")
            time.sleep(0.1)
        import json

        time.sleep(0.1)  # written in one go, but be sure
        self.address = json.loads(info.read_text())["address"]

    def start_worker(self, *extra: str) -> subprocess.Popen[bytes]:
        command = [str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard", *extra]
        worker = self._start(f"worker-{len(self.workers)}", command)
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(count, timeout=120)

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the process, its fork server and its Manim runs
            except ProcessLookupError:
                pass
            process.wait()


@contextmanager
def dask_cluster(folder: Path, workers: int = 2, *extra: str) -> Iterator[Cluster]:
    """A scheduler and `workers` workers (started with `extra` options), all registered."""
    folder.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder)
    try:
        cluster.start_scheduler()
        for _ in range(workers):
            cluster.start_worker(*extra)
        if workers:
            cluster.wait_for_workers(workers)
        yield cluster
    finally:
        cluster.close()


def running_manim(worker: subprocess.Popen[bytes]) -> bool:
    """Whether a Manim run forked for `worker` (a grandchild: worker -> fork server -> run) is going."""
    children = _children()
    return any(children.get(server) for server in children.get(worker.pid, []))


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[0] != "Z":
                found.setdefault(int(stat[1]), []).append(int(entry.name))
    return found
