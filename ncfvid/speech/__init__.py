"""Speech services for manim-voiceover: espeak-ng (default, offline), a silent draft voice, and
recorded narration per beat. `registry.make_service` picks one by name.

This module stays light (no manim import): it holds the error type and the helpers the services
share to turn word positions into manim-voiceover word boundaries.

Word boundaries (``data["word_boundaries"]``) carry a ``boundary_type``:

- ``"Word"``: one per spoken word, in order; ``text_offset`` is the 0-based offset of the word (without
  surrounding punctuation) in the narration *after* manim-voiceover removed its bookmark tags. Engines
  that know where each word's sound ends (Festival; espeak-ng, measured on its audio) also give its
  ``duration_milliseconds``: captions start and end on the words' sound (`word_sounds`).
- ``"Bookmark"``: the exact time espeak-ng reached a ``<bookmark mark="..."/>`` (from an SSML mark).
- ``"Start"`` / ``"End"``: offsets 0 and len(text) at times 0 and the audio's length, so that
  manim-voiceover's interpolation also covers bookmarks before the first or after the last word.

Use `word_timings` to get just the words' starts, `word_sounds` their starts and ends.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ncfvid.files import write_atomic

#: manim_voiceover.tracker.AUDIO_OFFSET_RESOLUTION (audio offsets count 1e-7 s); copied so this
#: module does not import manim. A test checks the two agree.
AUDIO_OFFSET_RESOLUTION = 10_000_000

#: manim-voiceover's bookmark tag (manim_voiceover.helper.remove_bookmarks), with the name captured.
BOOKMARK_TAG = re.compile(r"<bookmark\s*mark\s*=['\"](\w*)[\"']\s*/>")

_EDGE_PUNCT = ".,;:!?\"'()[]{}«»“”‘’…—–-"


class EngineUnavailable(RuntimeError):
    """A speech engine cannot run here; the message says in one line how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def split_bookmarks(text: str) -> tuple[str, list[tuple[str, int]]]:
    """The text without bookmark tags, and each bookmark's (name, offset) in that text.

    Offsets are computed exactly as manim-voiceover's tracker does (the length of the tag-free text
    before the tag), so they can be compared with word boundaries' ``text_offset``.
    """
    plain: list[str] = []
    length = 0
    marks: list[tuple[str, int]] = []
    last = 0
    for tag in BOOKMARK_TAG.finditer(text):
        piece = text[last : tag.start()]
        plain.append(piece)
        length += len(piece)
        marks.append((tag.group(1), length))
        last = tag.end()
    plain.append(text[last:])
    return "".join(plain), marks


def token_spans(plain: str) -> list[tuple[int, int]]:
    """(start, end) of each whitespace-separated token."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", plain)]


def word_core(plain: str, start: int, end: int) -> tuple[int, int]:
    """The token's span without leading and trailing punctuation (the whole token if it is all
    punctuation)."""
    core_start, core_end = start, end
    while core_start < core_end and plain[core_start] in _EDGE_PUNCT:
        core_start += 1
    while core_end > core_start and plain[core_end - 1] in _EDGE_PUNCT:
        core_end -= 1
    if core_start == core_end:
        return start, end
    return core_start, core_end


def is_word(token: str) -> bool:
    """A token that is spoken as a word: it has a letter or digit."""
    return any(ch.isalnum() for ch in token)


def count_words(plain: str) -> int:
    return sum(1 for start, end in token_spans(plain) if is_word(plain[start:end]))


def build_word_boundaries(
    plain: str,
    words: Sequence[tuple[int, float] | tuple[int, float, float]],
    duration: float,
    bookmarks: Iterable[tuple[int, float]] = (),
) -> list[dict[str, Any]]:
    """manim-voiceover word boundaries from word times.

    `words` holds (token start offset in `plain`, seconds) for each spoken token, in text order, or
    (offset, start, end) where the engine knows when the word's sound ends; `bookmarks` holds
    (offset in `plain`, seconds). Text offsets come out strictly increasing and audio offsets
    non-decreasing (manim-voiceover interpolates between them with scipy's interp1d).
    """
    entries: dict[int, dict[str, Any]] = {}
    for start, seconds, *rest in words:
        end = start
        while end < len(plain) and not plain[end].isspace():
            end += 1
        core_start, core_end = word_core(plain, start, end)
        entry = {
            "audio_offset": _ticks(seconds),
            "text_offset": core_start,
            "word_length": core_end - core_start,
            "text": plain[core_start:core_end],
            "boundary_type": "Word",
        }
        if rest:
            entry["duration_milliseconds"] = max(int(round((min(rest[0], duration) - seconds) * 1000)), 0)
        entries.setdefault(core_start, entry)
    for offset, seconds in bookmarks:
        if offset in entries:  # a bookmark right before a word: the word's own start is that moment
            continue
        entries[offset] = {
            "audio_offset": _ticks(seconds),
            "text_offset": offset,
            "word_length": 0,
            "text": "",
            "boundary_type": "Bookmark",
        }
    if plain and 0 not in entries:
        entries[0] = {"audio_offset": 0, "text_offset": 0, "word_length": 0, "text": "", "boundary_type": "Start"}
    if plain and len(plain) not in entries:
        entries[len(plain)] = {
            "audio_offset": _ticks(duration),
            "text_offset": len(plain),
            "word_length": 0,
            "text": "",
            "boundary_type": "End",
        }
    bounds = [entries[offset] for offset in sorted(entries)]
    # Keep time moving forward and inside the audio.
    limit = _ticks(duration)
    latest = 0
    for bound in bounds:
        bound["audio_offset"] = min(max(bound["audio_offset"], latest), limit)
        latest = bound["audio_offset"]
    return bounds


def voiceover_data(text: str, input_data: dict[str, Any], audio: str, bounds: list[dict[str, Any]]) -> dict[str, Any]:
    """What a service's generate_from_text returns. Fewer than two boundaries are left out: manim-voiceover
    would only warn and fall back to spreading the text evenly over the audio."""
    data: dict[str, Any] = {"input_text": text, "input_data": input_data, "original_audio": audio}
    if len(bounds) >= 2:
        data["word_boundaries"] = bounds
    return data


def _ticks(seconds: float) -> int:
    return int(round(seconds * AUDIO_OFFSET_RESOLUTION))


def word_timings(data: Mapping[str, Any]) -> list[tuple[float, str]]:
    """(seconds from the start of the voiceover, word) for each spoken word of a voiceover's data
    (``tracker.data``); empty when the service gave no word boundaries."""
    return [
        (bound["audio_offset"] / AUDIO_OFFSET_RESOLUTION, bound.get("text", ""))
        for bound in data.get("word_boundaries") or []
        if bound.get("boundary_type", "Word") == "Word"
    ]


def sound_ends(pcm: bytes, sample_rate: int, starts: Sequence[float], duration: float) -> list[float]:
    """Where each word's sound ends, for an engine that reports only when words start (espeak-ng):
    the end of the last loud 10 ms frame before the next word starts (or the audio ends)."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    hop = max(int(sample_rate * 0.01), 1)
    frames = len(samples) // hop
    if frames == 0:
        return [min(start, duration) for start in starts]
    rms = np.sqrt((samples[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))
    loud = rms >= max(0.03 * float(rms.max()), 30.0)
    ends = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else duration
        first, last = int(start * sample_rate) // hop, min(int(stop * sample_rate) // hop, frames)
        heard = np.flatnonzero(loud[first:last])
        end = (first + int(heard[-1]) + 1) * hop / sample_rate if len(heard) else start
        ends.append(min(max(end, start), max(stop, start)))
    return ends


def word_sounds(data: Mapping[str, Any]) -> list[tuple[float, float, str]]:
    """(start, end, word) in seconds from the start of the voiceover for each spoken word, where the
    engine gave when each word's sound ends; empty otherwise (a recording, the draft voice)."""
    words = [b for b in data.get("word_boundaries") or [] if b.get("boundary_type", "Word") == "Word"]
    if not words or any(b.get("duration_milliseconds") is None for b in words):
        return []
    sounds = []
    for bound in words:
        start = bound["audio_offset"] / AUDIO_OFFSET_RESOLUTION
        sounds.append((start, start + bound["duration_milliseconds"] / 1000, bound.get("text", "")))
    return sounds


def write_wav(path: Path, pcm: bytes, sample_rate: int, channels: int = 1) -> None:
    """Write 16-bit PCM to `path` as a WAV file, atomically (`ncfvid.files.write_atomic`)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    write_atomic(path, buffer.getvalue())


def wav_seconds(path: Path) -> float:
    """The length of a PCM WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def cached_audio_ok(data: Mapping[str, Any] | None, cache_dir: Path) -> bool:
    """A cache entry whose audio file is still there."""
    if not data:
        return False
    audio = data.get("original_audio")
    return isinstance(audio, str) and (cache_dir / audio).is_file()
