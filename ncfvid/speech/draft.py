"""A silent voice for fast previews and CI: each beat lasts as long as its words take at a speaking rate.

The WAV is silence (8 kHz, 16-bit, mono: about 16 kB per second); word boundaries are spread evenly
over the text (each word at its share of the characters), so bookmarks still land in sensible places.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import PathLike, SpeechService

from ncfvid.speech import (
    build_word_boundaries,
    count_words,
    is_word,
    split_bookmarks,
    token_spans,
    voiceover_data,
    write_wav,
)
from ncfvid.speech.service import OwnCacheService

SAMPLE_RATE = 8000
MIN_SECONDS = 0.6  # the shortest beat with any words
EMPTY_SECONDS = 0.1  # a beat with no words still gets a (tiny) sound file
DEFAULT_RATE = 165
FORMAT_VERSION = 1


def draft_seconds(text: str, rate: float = DEFAULT_RATE) -> float:
    """How long `text` (bookmark tags allowed) takes at `rate` words per minute, to whole samples."""
    if rate <= 0:
        raise ValueError(f"rate must be a positive number of words per minute, not {rate}")
    plain, _ = split_bookmarks(text)
    words = count_words(plain)
    seconds = max(MIN_SECONDS, words * 60.0 / rate) if words else EMPTY_SECONDS
    return round(seconds * SAMPLE_RATE) / SAMPLE_RATE


def linear_word_starts(plain: str, duration: float) -> list[tuple[int, float]]:
    """(token start, seconds) for each word, at its share of the characters of `plain`."""
    total = max(len(plain), 1)
    return [(start, duration * start / total) for start, end in token_spans(plain) if is_word(plain[start:end])]


class DraftService(OwnCacheService):
    """Writes silence of the narration's estimated length, with word timings spread evenly.

    Options: `rate` (words per minute, default 165). `voice` and `pitch` are accepted and ignored so
    a storyboard's espeak settings work unchanged; `global_speed` is folded into the rate.
    """

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        voice: str | None = None,
        pitch: int | None = None,
        global_speed: float = 1.0,
        cache_dir: PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        if rate <= 0 or global_speed <= 0:
            raise ValueError(f"rate must be a positive number of words per minute, not {rate}")
        SpeechService.__init__(self, global_speed=1.0, cache_dir=cache_dir, **kwargs)
        self.rate = rate * global_speed

    def generate_from_text(
        self,
        text: str,
        cache_dir: PathLike | None = None,
        path: PathLike | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        folder = Path(cache_dir if cache_dir is not None else self.cache_dir)
        for ignored in ("beat_id", "voice", "pitch"):
            kwargs.pop(ignored, None)
        rate = kwargs.pop("rate", self.rate)
        if kwargs:
            raise TypeError(f"DraftService got unexpected options: {', '.join(sorted(kwargs))}")
        plain, _ = split_bookmarks(text)
        input_data = {
            "input_text": plain,
            "service": "ncfvid-draft",
            "config": {"rate": rate, "sample_rate": SAMPLE_RATE, "format": FORMAT_VERSION},
        }
        seconds = draft_seconds(plain, rate)
        audio = os.fspath(path) if path is not None else self.get_audio_basename(input_data) + ".wav"
        if not (folder / audio).is_file():
            write_wav(folder / audio, b"\0\0" * round(seconds * SAMPLE_RATE), SAMPLE_RATE)
        bounds = build_word_boundaries(plain, linear_word_starts(plain, seconds), seconds)
        return voiceover_data(text, input_data, audio, bounds)
