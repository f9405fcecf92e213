"""espeak-ng as a manim-voiceover speech service, through the espeak-ng library (ctypes).

While it synthesises, the library reports each word's audio position (espeakEVENT_WORD, with the
word's 1-based character position in the input) and each SSML ``<mark name=.../>`` it reaches
(espeakEVENT_MARK). manim-voiceover's ``<bookmark mark="x"/>`` tags become SSML marks, so
``wait_until_bookmark("x")`` waits for the moment espeak really got there. (espeak-ng reports a mark at
the start of the next word, and loses a mark that sits between two sentences; such a bookmark gets the
next word's start time too.)

The library itself (ctypes, forked synthesis, SSML marks) lives in `ncfvid.speech.espeakng`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import PathLike, SpeechService

from ncfvid.speech import (
    build_word_boundaries,
    sound_ends,
    split_bookmarks,
    voiceover_data,
    write_wav,
)
from ncfvid.speech.entries import claim_entry, load_entry, note_synthesis, save_entry
from ncfvid.speech.espeakng import (
    DEFAULT_PITCH,
    FORMAT_VERSION,
    INSTALL_HINT,
    Synthesis,
    SynthesisError,
    check_available,
    clamp_rate,
    espeak_version,
    synthesize,
    to_ssml,
    word_starts,
)
from ncfvid.speech.service import OwnCacheService

__all__ = [
    "INSTALL_HINT",
    "EspeakService",
    "Synthesis",
    "SynthesisError",
    "check_available",
    "espeak_version",
    "synthesize",
]


class EspeakService(OwnCacheService):
    """Speech from espeak-ng: offline, deterministic, hundreds of times faster than real time.

    Options: `voice` (an espeak-ng voice, e.g. "en-us", "en-gb", "en-us+f3"), `rate` (words per
    minute; espeak-ng does 80-450, other values are clamped), `pitch` (0-100, espeak's default 50).
    manim-voiceover's `global_speed` is folded into the rate (manim-voiceover would otherwise need the
    sox program to stretch the audio). Each of these can also be given per voiceover, as keywords of
    ``self.voiceover(...)``; `beat_id` is accepted and ignored.
    """

    def __init__(
        self,
        voice: str = "en-us",
        rate: int = 165,
        pitch: int | None = None,
        *,
        isolate: bool = True,
        global_speed: float = 1.0,
        cache_dir: PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        if rate <= 0 or global_speed <= 0:
            raise ValueError(f"rate and global_speed must be positive, not {rate} and {global_speed}")
        effective_rate = clamp_rate(rate * global_speed)
        if pitch is not None and not 0 <= int(pitch) <= 100:
            raise ValueError(f"espeak-ng pitch must be 0-100, not {pitch}")
        check_available()  # fail early, with the install hint
        synthesize("", voice=voice, rate=effective_rate, isolate=isolate)  # ValueError for an unknown voice
        SpeechService.__init__(self, global_speed=1.0, cache_dir=cache_dir, **kwargs)
        self.voice = voice
        self.rate = effective_rate
        self.pitch = None if pitch is None else int(pitch)
        self.isolate = isolate
        self.synth_count = 0  # syntheses run by this service (cache misses)

    def _settings(self, kwargs: dict[str, Any]) -> tuple[str, int, int | None]:
        kwargs.pop("beat_id", None)  # used by RecordedService; harmless here
        voice = str(kwargs.pop("voice", self.voice))
        rate = clamp_rate(kwargs.pop("rate", self.rate))
        pitch = kwargs.pop("pitch", self.pitch)
        if kwargs:
            raise TypeError(f"EspeakService got unexpected options: {', '.join(sorted(kwargs))}")
        return voice, rate, None if pitch is None else int(pitch)

    def generate_from_text(
        self,
        text: str,
        cache_dir: PathLike | None = None,
        path: PathLike | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        folder = Path(cache_dir if cache_dir is not None else self.cache_dir)
        voice, rate, pitch = self._settings(dict(kwargs))
        plain, bookmarks = split_bookmarks(text)
        config: dict[str, Any] = {"voice": voice, "rate": rate, "format": FORMAT_VERSION, "espeak": espeak_version()}
        if pitch is not None:  # None would never compare equal after manim-voiceover's cache round trip
            config["pitch"] = pitch
        if bookmarks:
            config["bookmarks"] = [offset for _, offset in bookmarks]
        input_data = {"input_text": plain, "service": "espeak-ng", "config": config}

        cached = load_entry(folder, input_data)
        if cached is None and path is None:
            with claim_entry(folder, input_data) as ours:  # another job may be speaking this line
                if ours:
                    audio = self.get_audio_basename(input_data) + ".wav"
                    return self._speak(text, plain, bookmarks, input_data, folder, audio, voice, rate, pitch)
            cached = load_entry(folder, input_data)
        if cached is not None and (path is None or cached.get("original_audio") == os.fspath(path)):
            cached["input_text"] = text  # the cache matched on the spoken text; keep this call's tags
            return cached  # type: ignore[return-value]
        audio = os.fspath(path) if path is not None else self.get_audio_basename(input_data) + ".wav"
        return self._speak(text, plain, bookmarks, input_data, folder, audio, voice, rate, pitch)

    def _speak(
        self,
        text: str,
        plain: str,
        bookmarks: list[tuple[str, int]],
        input_data: dict[str, Any],
        folder: Path,
        audio: str,
        voice: str,
        rate: int,
        pitch: int | None,
    ) -> dict[str, Any]:
        offsets = [offset for _, offset in bookmarks]
        payload, origin = to_ssml(plain, offsets)
        result = synthesize(
            payload,
            voice=voice,
            rate=rate,
            pitch=DEFAULT_PITCH if pitch is None else pitch,
            ssml=True,
            isolate=self.isolate,
        )
        self.synth_count += 1
        write_wav(folder / audio, result.pcm, result.sample_rate)
        duration = len(result.pcm) / 2 / result.sample_rate
        starts = word_starts(plain, result.words, origin)
        ends = sound_ends(result.pcm, result.sample_rate, [seconds for _, seconds in starts], duration)
        mark_times = {name: ms / 1000.0 for name, ms in result.marks}
        marks = []
        for i, offset in enumerate(offsets):
            if f"m{i}" in mark_times:
                marks.append((offset, mark_times[f"m{i}"]))
            else:
                # espeak-ng loses a mark at a sentence boundary; a mark it does report comes at the start
                # of the next word, so use that.
                later = [seconds for start, seconds in starts if start >= offset]
                marks.append((offset, later[0] if later else duration))
        spans = [(start, seconds, end) for (start, seconds), end in zip(starts, ends, strict=True)]
        bounds = build_word_boundaries(plain, spans, duration, marks)
        data = voiceover_data(text, input_data, audio, bounds)
        save_entry(folder, data)
        note_synthesis(folder, audio)
        return data
