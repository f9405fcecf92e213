"""Synthesis ahead of, and beside, rendering: every line a render's Manim jobs will speak, once.

A slow engine (Festival: a second to start, about 1/30 of real time to speak) would otherwise speak
inside each Manim job, one line after another, and a job drawing the second half of an act would
speak its first half again. `ncfvid render` instead hands the lines of the acts it renders to
`start_ahead`, which speaks those not cached yet on a pool of engine processes (one per core), in
the order the jobs will ask for them, into the folder the jobs' services read (`make_service`'s
`store`), while the jobs already start. Until it is done a pending list in that folder names the
lines still to come: a job that reaches one waits for it instead of speaking it a second time
(`festivallines.line_data`). Same cache entries as the service's own: a line is never synthesised
twice for the same text, voice, rate and engine version.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncfvid.files import write_atomic
from ncfvid.speech.pending import PENDING, pending_owners, remove_stale_markers  # noqa: F401 - pending_owners re-exported


@dataclass(frozen=True)
class Ahead:
    """What the synthesis ahead did: lines asked for, lines synthesised (not cached), seconds taken."""

    lines: int
    synthesised: int
    seconds: float


class AheadRun:
    """Lines being synthesised in a thread of this process; `finish` waits for them."""

    def __init__(
        self,
        lines: int,
        missing: list[str],
        speak: Any,
        pool: Any,
        marker: Path,
        own_pool: bool = True,
        halt: threading.Event | None = None,
    ) -> None:
        self.lines = lines
        self.missing = missing
        self.pool = pool
        self.own_pool = own_pool  # else the caller's, kept open for its next run
        self.halt = halt or threading.Event()  # set by stop: `speak` skips the lines not begun
        self.marker = marker
        self.started = time.perf_counter()
        self.seconds = 0.0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(speak,), name="ncfvid-speak-ahead", daemon=True)
        self._thread.start()

    def _run(self, speak: Any) -> None:
        try:
            self.pool.map(speak, self.missing)
        except BaseException as err:  # noqa: BLE001 - reported by finish()
            self.error = err
        finally:
            self.seconds = time.perf_counter() - self.started
            if self.own_pool:
                self.pool.close()
            self.marker.unlink(missing_ok=True)  # jobs still waiting speak what is missing themselves

    def finish(self) -> Ahead:
        """Wait until every line is synthesised; re-raise what went wrong."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        return Ahead(self.lines, len(self.missing), self.seconds)

    def stop(self) -> None:
        """Stop synthesising (the render failed or was interrupted)."""
        self.halt.set()  # a caller's pool is not closed: the lines not begun are skipped
        if self.own_pool:
            self.pool.close()
        self.marker.unlink(missing_ok=True)
        self._thread.join(timeout=5)


def start_ahead(
    engine: str,
    options: Mapping[str, Any],
    lines: Sequence[str],
    store: Path,
    workers: int,
    pools: dict[str, Any] | None = None,
) -> AheadRun | None:
    """Start synthesising the `lines` (as passed to the scene's voiceover, in the order the jobs need
    them) that `store` lacks, `workers` at a time; None when there is nothing to do, or for an engine
    that speaks fast enough inside the jobs (espeak, draft) or is not ncfvid's. With `pools` (voice ->
    engine pool, kept by the caller between runs) the engine processes outlive the run: a process
    that runs many (a Dask worker) starts Festival once, not once a run."""
    from ncfvid.speech.registry import NATIVE

    if engine not in NATIVE or not NATIVE[engine].ahead:
        return None
    from ncfvid.speech import festivalengine as festival
    from ncfvid.speech import festivallines
    from ncfvid.speech.entries import entry_path

    voice, rate = festivallines.voice_and_rate(options)
    texts = list(dict.fromkeys(" ".join(line.split()) for line in lines))  # as the service sees them
    store.mkdir(parents=True, exist_ok=True)
    missing = [text for text in texts if not festivallines.is_cached(text, store, voice=voice, rate=rate)]
    if not missing:
        return None
    remove_stale_markers(store / PENDING)
    marker = store / PENDING / f"{os.getpid()}.txt"
    names = [entry_path(store, festivallines.line_key(text, voice=voice, rate=rate)).name for text in missing]
    write_atomic(marker, "\n".join(names) + "\n")
    if pools is None:
        pool = festival.FestivalPool(voice, min(workers, len(missing)))
    else:
        if voice not in pools:
            pools[voice] = festival.FestivalPool(voice, workers)
        pool = pools[voice]
    halt = threading.Event()

    def speak(text: str) -> None:
        if not halt.is_set():
            festivallines.line_data(text, store, pool.speak, voice=voice, rate=rate, wait=False)

    return AheadRun(len(texts), missing, speak, pool, marker, own_pool=pools is None, halt=halt)


def synthesize_ahead(
    engine: str, options: Mapping[str, Any], lines: Sequence[str], store: Path, workers: int
) -> Ahead | None:
    """`start_ahead`, then wait for it: Ahead(lines, 0, ...) when all were cached; None for an engine
    that is not synthesised ahead."""
    from ncfvid.speech.registry import NATIVE

    if engine not in NATIVE or not NATIVE[engine].ahead:
        return None
    started = time.perf_counter()
    run = start_ahead(engine, options, lines, store, workers)
    if run is None:
        return Ahead(len({" ".join(line.split()) for line in lines}), 0, time.perf_counter() - started)
    return run.finish()
