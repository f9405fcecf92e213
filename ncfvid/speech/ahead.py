"""Synthesis ahead of rendering: every line a render's Manim jobs will speak, in parallel, once.

A slow engine (Festival: a second to start, about 1/30 of real time to speak) would otherwise speak
inside each Manim job, one line after another, and a job drawing the second half of an act would
speak its first half again. `ncfvid render` instead hands the lines of the acts it renders to
`synthesize_ahead`, which speaks those not cached yet on a pool of engine processes (one per core)
into the folder the jobs' services read (`ncfvid.speech.registry.make_service`'s `store`), so the
jobs find every line there and speak nothing. Same cache entries as the service's own: a line is
never synthesised twice for the same text, voice, rate and engine version.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Ahead:
    """What `synthesize_ahead` did: lines asked for, lines synthesised (not cached), seconds taken."""

    lines: int
    synthesised: int
    seconds: float


def synthesize_ahead(
    engine: str, options: Mapping[str, Any], lines: Sequence[str], store: Path, workers: int
) -> Ahead | None:
    """Synthesise the `lines` (as passed to the scene's voiceover) that `store` lacks, `workers` at a
    time; None for an engine that speaks fast enough inside the jobs (espeak, draft) or not ours."""
    from ncfvid.speech.registry import NATIVE

    if engine not in NATIVE or not NATIVE[engine].ahead:
        return None
    from ncfvid.speech import festivalengine as festival

    started = time.perf_counter()
    voice, rate = festival.voice_and_rate(options)
    texts = list(dict.fromkeys(" ".join(line.split()) for line in lines))  # as the service sees them
    store.mkdir(parents=True, exist_ok=True)
    missing = [text for text in texts if not festival.is_cached(text, store, voice=voice, rate=rate)]
    if not missing:
        return Ahead(len(texts), 0, time.perf_counter() - started)
    # The longest lines first: the processes finish closer together.
    missing.sort(key=len, reverse=True)
    with festival.FestivalPool(voice, min(workers, len(missing))) as pool:
        pool.map(lambda text: festival.line_data(text, store, pool.speak, voice=voice, rate=rate), missing)
    return Ahead(len(texts), len(missing), time.perf_counter() - started)
