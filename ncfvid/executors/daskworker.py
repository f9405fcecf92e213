"""The worker side of the Dask executor: draw one task's beats in this machine's scratch folder and
send their files back (`draw`, called by Dask on a worker with a TaskPayload).

Each worker process keeps one fork server (started by the version check, or by its first task, and
closed when the process ends): a Manim run forks from it in a few milliseconds instead of paying the
~2.5 s start of Python and Manim. Each storyboard has a folder of its own under the scratch folder
(`NCFVID_WORKER_CACHE`, default <tmp>/ncfvid-worker-<uid>), laid out as a render's output folder: the
module, its recordings, and a cache (glyphs, spoken lines, animation segments, beat clips and the
states index) shared by the worker processes of the machine and kept between renders, so a task run
again (a retry, a second render) reuses what it can. The clips it sends are the cache's folders as
`ncfvid render` stores them, SHA-256 sums included.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ncfvid.diagnostics import UserError
from ncfvid.executors.payload import DrawnClip, TaskPayload, TaskResult, Versions, local_versions
from ncfvid.files import write_atomic
from ncfvid.forkserver import ForkServer

SCRATCH_ENV = "NCFVID_WORKER_CACHE"

_server: ForkServer | None = None
_server_lock = threading.Lock()
_voices: dict[str, Any] = {}  # voice -> engine processes, kept between tasks (closed at exit)
atexit.register(lambda: [pool.close() for pool in _voices.values()])


def scratch() -> Path:
    """This machine's folder for the storyboards its workers render."""
    configured = os.environ.get(SCRATCH_ENV)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"ncfvid-worker-{os.getuid()}"


def fork_server() -> ForkServer | None:
    """This worker process's fork server, started on first use (None where there is no fork)."""
    global _server
    from ncfvid.render import start_fork_server

    with _server_lock:
        if _server is None:
            _server = start_fork_server()
            if _server is not None:
                atexit.register(_server.close)
        return _server


def worker_versions() -> Versions:
    """This worker's versions (the coordinator's check before any job runs); starts the fork server
    meanwhile, so that it has imported Manim when the first task comes."""
    fork_server()
    return local_versions()


def draw(payload: TaskPayload) -> TaskResult:
    """Draw the payload's beats (or find them drawn in this machine's cache) and return their files.
    A Manim failure comes back as the result's error; anything else raises (Dask retries the task)."""
    from ncfvid.cacheguard import verified
    from ncfvid.render import remove_abandoned_work, render_job
    from ncfvid.renderplan import RenderPlan

    started = time.perf_counter()
    worker = _address()
    mine = local_versions()
    if mine != payload.versions:
        return TaskResult(
            worker, error=f"this worker runs {mine.describe()}, the coordinator {payload.versions.describe()}"
        )
    root = scratch() / payload.place
    module = _write_module(root, payload)
    beats = root / "cache" / "beats"
    clips = tuple(replace(clip, folder=beats / clip.act_id / clip.folder.name) for clip in payload.job.clips)
    job = replace(payload.job, clips=clips)
    log_path = root / "logs" / job.log_name
    remove_abandoned_work(RenderPlan(list(clips), []))  # work folders of this machine's killed runs
    if payload.fresh:
        for clip in clips:
            shutil.rmtree(clip.folder, ignore_errors=True)
    if not all(verified(clip.folder) for clip in clips):
        ahead = _speak_ahead(payload, root)
        try:
            render_job(job, module, payload.settings, root, log_path.parent, fork_server())
        except UserError as err:
            return TaskResult(worker, log=_read(log_path), error=str(err.diagnostics[0].message))
        finally:
            if ahead is not None:
                ahead.stop()
    return TaskResult(
        worker,
        tuple(_pack(clip.index, clip.folder) for clip in clips),
        _read(log_path),
        None,
        time.perf_counter() - started,
    )


def _write_module(root: Path, payload: TaskPayload) -> Path:
    """The scenes module in the worker's folder (named by its content: several versions may render at
    once), its recordings' paths pointing at copies beside it."""
    from ncfvid.templating import py_literal

    text = payload.module_text
    for literal, data in sorted(payload.recordings.items()):
        digest = hashlib.sha256(data).hexdigest()[:20]
        suffix = Path(literal.strip('"')).suffix
        copy = root / "recordings" / f"{digest}{suffix}"
        if not copy.is_file() or copy.stat().st_size != len(data):
            write_atomic(copy, data)
        text = text.replace(literal, py_literal(str(copy)))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    stem, _, suffix = payload.module_name.rpartition(".")
    module = root / f"{stem}-{digest}.{suffix}"
    if not module.is_file():
        write_atomic(module, text)
    return module


def _speak_ahead(payload: TaskPayload, root: Path) -> Any:
    """Synthesise the task's lines beside its Manim run (one engine process per voice, kept by this
    worker process between tasks: Festival starts once, not once a task; see ncfvid.speech.ahead),
    into this storyboard's speech store on this machine; None when there is nothing to do."""
    if payload.speech is None:
        return None
    from ncfvid.render import speech_store
    from ncfvid.speech.ahead import start_ahead

    speech = payload.speech
    return start_ahead(speech.engine, dict(speech.options), speech.lines, speech_store(root / "cache"), 1, _voices)


def _pack(index: int, folder: Path) -> DrawnClip:
    """A cached clip folder's files as bytes, with its picture's frame count and its sound's samples."""
    import wave

    from ncfvid.video.probe import probe

    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
    with wave.open(str(folder / "sound.wav")) as sound:
        samples = sound.getnframes()
    return DrawnClip(index, files, probe(folder / "clip.mp4").frame_count, samples)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "this process"
