"""Festival's lines in the speech cache: the key of a line (text, voice, rate and the versions of
Festival, the voice and this code), its entry (audio, word boundaries for manim-voiceover), and
synthesising a line that is not there yet (or waiting for a render that is synthesising it ahead).
The processes that speak are `ncfvid.speech.festivalengine`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ncfvid.speech import (
    build_word_boundaries,
    is_word,
    split_bookmarks,
    voiceover_data,
    write_wav,
)
from ncfvid.speech.entries import claim_entry, entry_path, load_entry, note_synthesis, save_entry
from ncfvid.speech.festivalengine import (
    DEFAULT_VOICE,
    FORMAT_VERSION,
    NATURAL_RATE,
    PENDING_WAIT,
    SILENT_RATE,
    SILENT_SECONDS,
    Synthesis,
    festival_version,
    speakable,
    token_times,
    voice_signature,
    word_spans,
)


def speed_for(rate: float) -> float:
    """hts_engine's speed factor for `rate` words per minute (within what still sounds like speech)."""
    return min(max(float(rate) / NATURAL_RATE, 0.5), 2.0)


def voice_and_rate(options: Mapping[str, Any]) -> tuple[str, float]:
    """The voice and words-per-minute rate a service with these options speaks with (a
    manim-voiceover `global_speed` folded into the rate)."""
    voice = options.get("voice") or DEFAULT_VOICE
    rate = float(options.get("rate") or NATURAL_RATE) * float(options.get("global_speed") or 1.0)
    if rate <= 0:
        raise ValueError(f"rate and global_speed must be positive, not {options.get('rate')}")
    return str(voice), rate


def line_key(text: str, *, voice: str, rate: float) -> dict[str, Any]:
    """The cache key (input data) of `text` (bookmark tags allowed): bookmarks do not change the sound."""
    plain, _ = split_bookmarks(text)
    return input_data(plain, voice, rate)


def is_cached(text: str, folder: Path, *, voice: str, rate: float) -> bool:
    """Whether `line_data` would find `text` in the cache."""
    return load_entry(folder, line_key(text, voice=voice, rate=rate)) is not None


def _wait_for_ahead(folder: Path, key: Mapping[str, Any]) -> None:
    """While a live render is synthesising this line ahead into `folder` (`ncfvid.speech.ahead`),
    wait for it rather than speak it a second time; give up after PENDING_WAIT seconds."""
    from ncfvid.speech.pending import pending_owners

    entry = entry_path(folder, key)
    deadline = time.monotonic() + PENDING_WAIT
    while not entry.is_file() and time.monotonic() < deadline and pending_owners(folder, entry.name):
        time.sleep(0.02)


def input_data(plain: str, voice: str, rate: float) -> dict[str, Any]:
    """What identifies a line's synthesis: the text, voice, rate and the versions of Festival, the
    voice and this module (the lexicon is already applied to the text)."""
    config = {
        "voice": voice,
        "rate": float(rate),
        "format": FORMAT_VERSION,
        "festival": festival_version(),
        "voice_files": voice_signature(voice),
    }
    return {"input_text": plain, "service": "festival", "config": config}


def audio_name(data: Mapping[str, Any]) -> str:
    """A content-addressed file name for the line's WAV."""
    from slugify import slugify

    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    slug = slugify(str(data["input_text"]), max_length=40, word_boundary=True, save_order=True) or "line"
    return f"festival-{slug}-{digest}.wav"


def line_data(
    text: str,
    folder: Path,
    speaker: Callable[[str, float], Synthesis],
    *,
    voice: str = DEFAULT_VOICE,
    rate: float = NATURAL_RATE,
    path: str | None = None,
    wait: bool = True,
) -> tuple[dict[str, Any], bool]:
    """manim-voiceover data for one line (`text`: one space between words, bookmark tags allowed),
    from the cache in `folder` or synthesised by `speaker` (a FestivalProcess's or FestivalPool's
    `speak`) and stored there; with `wait`, a line a render is synthesising ahead is waited for.
    Returns (data, whether it was synthesised)."""
    plain, bookmarks = split_bookmarks(text)
    key = input_data(plain, voice, rate)
    cached = load_entry(folder, key)
    if cached is None and wait:
        _wait_for_ahead(folder, key)
        cached = load_entry(folder, key)
    if cached is None and path is None:
        with claim_entry(folder, key) as ours:
            if ours:
                return _synthesise(text, plain, bookmarks, key, folder, speaker, rate, audio_name(key)), True
        cached = load_entry(folder, key)  # spoken by the process we waited for
    if cached is not None and (path is None or cached.get("original_audio") == path):
        spans = [(int(o), float(s), float(e)) for o, s, e in cached.get("word_spans", [])]
        duration = float(cached.get("duration", 0.0))
        return _data(text, plain, bookmarks, key, str(cached["original_audio"]), spans, duration), False
    return _synthesise(text, plain, bookmarks, key, folder, speaker, rate, path or audio_name(key)), True


def _synthesise(
    text: str,
    plain: str,
    bookmarks: Sequence[tuple[str, int]],
    key: dict[str, Any],
    folder: Path,
    speaker: Callable[[str, float], Synthesis],
    rate: float,
    audio: str,
) -> dict[str, Any]:
    spoken, origin = speakable(plain)
    if any(is_word(chunk) for chunk in spoken.split()):
        result = speaker(spoken, speed_for(rate))
    else:  # nothing Festival can say (only symbols, emoji, another script): a moment of silence
        result = Synthesis(b"\0\0" * int(SILENT_RATE * SILENT_SECONDS), SILENT_RATE, [])
    write_wav(folder / audio, result.pcm, result.sample_rate)
    duration = len(result.pcm) / 2 / result.sample_rate
    spans = word_spans(plain, token_times(plain, origin, result.words))
    data = _data(text, plain, bookmarks, key, audio, spans, duration)
    save_entry(folder, {**data, "word_spans": spans, "duration": duration})
    note_synthesis(folder, audio)
    return data


def _data(
    text: str,
    plain: str,
    bookmarks: Sequence[tuple[str, int]],
    key: dict[str, Any],
    audio: str,
    spans: Sequence[tuple[int, float, float]],
    duration: float,
) -> dict[str, Any]:
    marks = []
    for _, offset in bookmarks:  # Festival has no marks: a bookmark is when the next word starts
        later = [start for token, start, _ in spans if token >= offset]
        marks.append((offset, later[0] if later else duration))
    bounds = build_word_boundaries(plain, spans, duration, marks)
    return voiceover_data(text, key, audio, bounds)
