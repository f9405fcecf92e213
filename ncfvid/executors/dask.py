"""The Dask executor (`ncfvid render --scheduler tcp://HOST:8786`, or `NCFVID_SCHEDULER`): the render's
tasks run on the workers of a Dask cluster; `--scheduler local` starts a LocalCluster of processes
(one thread each, as many as --jobs) on this machine to try it.

What runs where. The coordinator (the `ncfvid render` process) plans, checks the layout, joins the
video and mixes the sound, as always. Each task goes to a worker as a self-contained payload
(`ncfvid.executors.payload`): the scenes module's text, the job (its beats, their cache keys), the
render settings, the recordings its act may play (their bytes) and the lines it speaks. The worker
(`ncfvid.executors.daskworker`) runs Manim, forked from a fork server of its own, in a scratch folder
of its machine, and sends back the drawn beats' folders as bytes (clip, sound, captions, drawing and
layout records, SHA-256 sums). Only the coordinator writes its cache: a result is checked first
(`ncfvid.executors.received`); one that fails is drawn again, afresh, up to ATTEMPTS times. A task
that raises on a worker is retried by Dask (RETRIES), and a worker that dies mid-task has its tasks
rescheduled by Dask on the others.

Speech. The workers synthesise the lines themselves: each task carries its lines in the order its
Manim run speaks them, and the worker speaks them ahead, beside the run, into its machine's store
(`ncfvid.speech.ahead`, one engine process per task), where the worker processes of that machine
share them. The engines are deterministic (same text, voice and version, same bytes), so the sound
equals a local render's; shipping the coordinator's lines instead would make every task wait for
the coordinator's synthesis, or send it lines it already has.

Versions. Before any task runs, every worker's ncfvid, Manim and scene-library hash must equal the
coordinator's (every cache key names them): else one line names the worker and both versions. Each
task carries them too, so a worker that joins later with others refuses it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ncfvid.diagnostics import UserError
from ncfvid.executors.payload import TaskPayload, TaskResult, Versions, local_versions, place_for
from ncfvid.executors.received import BadResult, store_result
from ncfvid.files import write_atomic
from ncfvid.rendertask import RenderTask

CONNECT_SECONDS = 5.0  # an unreachable scheduler is reported after this long
WORKER_SECONDS = 5.0  # a scheduler without workers is reported after this long
ATTEMPTS = 3  # a result that fails its check is drawn again, afresh, up to this many times in all
RETRIES = 2  # Dask runs a task that raised (not a Manim failure: that comes back as the result) again
ADDRESS = re.compile(r"(?:(?:tcp|tls|ws|wss)://)?(?:\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}")  # [PROTOCOL://]HOST:PORT
WHERE = "--scheduler"  # what the one-line errors about the cluster name as their place


def _forget_half_made(err: BaseException) -> None:
    """Mark the Client that `err` left half made as closed: else, once collected, it tries to close
    its connection for 10 s and prints a traceback (its __del__), after the one-line error."""
    from distributed import Client

    frame = err.__traceback__
    while frame is not None:
        made = frame.tb_frame.f_locals.get("self")
        if isinstance(made, Client):
            made.status = "closed"
        frame = frame.tb_next


class DaskExecutor:
    """See the module docstring. `address`: the scheduler's, or "local"."""

    remote = True  # its tasks carry their speech and recordings; the coordinator speaks nothing ahead

    def __init__(self, address: str, jobs: int) -> None:
        self.address = address
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._running: dict[Any, str] = {}  # future -> group
        with _quiet_dask():
            self.client = self._connect(max(1, jobs))
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise
        self._slots = max(1, sum(self.client.nthreads().values()))

    def _connect(self, jobs: int) -> Any:
        from distributed import Client, LocalCluster

        if self.address == "local":
            self._cluster = LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
            return Client(self._cluster)
        if not ADDRESS.fullmatch(self.address):  # before Dask: its half-made client would print at exit
            raise UserError.single(
                WHERE, f"{self.address!r} is not a Dask scheduler's address: give tcp://HOST:PORT (or 'local')"
            )
        # Dask's own timeout covers the TCP connection, not its handshake: a port that accepts and
        # never answers would hang it for good, and one that answers something else makes it raise
        # whatever its decoder meets. So the connection is made in a thread, waited for a bounded time.
        made: dict[str, Any] = {}

        def connect() -> None:
            try:
                made["client"] = Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
            except BaseException as err:  # noqa: BLE001 - reported below as one line
                made["error"] = err
                _forget_half_made(err)

        thread = threading.Thread(target=connect, name="ncfvid-dask-connect", daemon=True)
        thread.start()
        thread.join(CONNECT_SECONDS + 1)
        if "client" in made:
            return made["client"]
        err = made.get("error")
        if err is None or isinstance(err, TimeoutError) or "Timed out" in str(err):
            reason = f"no answer within {CONNECT_SECONDS:g} s"
        elif isinstance(err, OSError):
            reason = " ".join(str(err).split())[:160] or type(err).__name__
        else:
            reason = "what answers there is not a Dask scheduler"
        raise UserError.single(
            WHERE,
            f"cannot reach the Dask scheduler at {self.address} ({reason}): "
            "start one with `dask scheduler`, or check the address",
        )

    def _check_workers(self) -> None:
        """Wait a little for a worker; refuse workers whose versions are not the coordinator's."""
        from ncfvid.executors.daskworker import worker_versions

        try:
            self.client.wait_for_workers(1, timeout=WORKER_SECONDS)
        except (TimeoutError, OSError):
            raise UserError.single(
                WHERE,
                f"the Dask scheduler at {self.address} has no workers (waited {WORKER_SECONDS:g} s): "
                f"start some with `dask worker {self.address}`",
            ) from None
        mine = local_versions()
        try:
            found: dict[str, Versions] = self.client.run(worker_versions)
        except Exception as err:  # noqa: BLE001 - a worker without ncfvid: one line
            reason = " ".join(str(err).split())[:160]
            raise UserError.single(WHERE, f"a Dask worker of {self.address} cannot run ncfvid ({reason})") from None
        for worker, theirs in sorted(found.items()):
            if theirs != mine:
                raise UserError.single(
                    WHERE,
                    f"the Dask worker at {worker} runs {theirs.describe()}, this coordinator {mine.describe()}: "
                    f'install the same versions on every worker (pip install "ncfvid[dask]=={mine.ncfvid}")',
                )

    @property
    def threads(self) -> int:
        """The cluster's worker threads when it was connected: how many tasks run at once."""
        return self._slots

    @property
    def slots(self) -> int:
        # twice the workers' threads: the next task waits at the scheduler (biggest first, by
        # priority) and starts as soon as a thread is free, without a round trip to this process
        return 2 * self._slots

    def run(self, task: RenderTask) -> float:
        started = time.perf_counter()
        what = f"act '{task.job.act_id}'" + (
            "" if task.job.whole else f" (beats {task.job.first + 1}-{task.job.stop} of {task.job.act_beats})"
        )
        problem = ""
        for attempt in range(ATTEMPTS):
            result = self._draw(task, payload(task, fresh=attempt > 0), what)
            write_atomic(task.log_path, result.log)
            if result.error is not None:
                raise UserError.single(
                    str(task.module_path),
                    f"{what} failed to render on the Dask worker {result.worker} ({result.error}); "
                    f"Manim's log: {task.log_path}",
                )
            try:
                store_result(task, result)
                return time.perf_counter() - started
            except BadResult as err:
                problem = f"{err} (from {result.worker})"
        raise UserError.single(
            str(task.module_path), f"{what}: its clips failed their check {ATTEMPTS} times: {problem}"
        )

    def _draw(self, task: RenderTask, sent: TaskPayload, what: str) -> TaskResult:
        """Run the payload on the cluster and wait for its result; UserError if it cannot."""
        from distributed.utils import CancelledError

        from ncfvid.executors.daskworker import draw

        future = self.client.submit(draw, sent, pure=False, retries=RETRIES, priority=round(task.weight * 1000))
        with self._lock:
            self._running[future] = task.group
        try:
            return future.result()
        except CancelledError:
            raise UserError.single(str(task.module_path), f"{what} was stopped") from None
        except Exception as err:  # noqa: BLE001 - a worker's failure, after Dask's retries: one line
            reason = " ".join(str(err).split())[:200] or type(err).__name__
            raise UserError.single(
                str(task.module_path), f"{what} failed on the Dask cluster at {self.address} ({reason})"
            ) from None
        finally:
            with self._lock:
                self._running.pop(future, None)

    def stop(self, group: str | None = None) -> None:
        """Cancel the tasks (of `group`): a task not started yet never starts; a Manim run already
        going on a worker finishes there, its result unused."""
        with self._lock:
            futures = [future for future, its in self._running.items() if group is None or its == group]
        if futures:
            self.client.cancel(futures)

    def close(self) -> None:
        with _quiet_dask():
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()


def payload(task: RenderTask, fresh: bool = False) -> TaskPayload:
    """`task` as a worker needs it (see TaskPayload); `fresh`: the worker draws its beats again even
    if its cache has them (a result that failed its check)."""
    from ncfvid.templating import py_literal

    recordings = {py_literal(path): Path(path).read_bytes() for path in task.recordings}
    return TaskPayload(
        versions=local_versions(),
        place=place_for(str(task.out.resolve()), task.group),
        module_name=task.module_path.name,
        module_text=task.module_path.read_text(encoding="utf-8"),
        job=task.job,
        settings=task.settings,
        recordings=recordings,
        speech=task.speech,
        fresh=fresh,
    )


@contextmanager
def _quiet_dask() -> Any:
    """Dask logs its connection attempts and shutdown as warnings with tracebacks: the user gets our
    one line instead."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
