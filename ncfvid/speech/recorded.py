"""Recorded narration: a narrator's file for a beat replaces the synthetic voice for that beat.

The beat's timing follows the recording (its real length). The file goes into manim-voiceover's
cache folder under a content-hashed name: a 16-bit PCM WAV is copied as it is; anything else (MP3,
FLAC, OGG, M4A, or a WAV in another sample format) is decoded with PyAV into a 16-bit PCM WAV, so the
length manim-voiceover measures is exactly what Manim plays, and no ffmpeg program is needed.

Word timings for a recording are estimated cheaply: the words are spread over the *voiced* parts of the
recording (by their share of the characters), skipping leading/trailing silence and pauses, so a
bookmark after a pause lands after the pause.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import wave
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import PathLike, SpeechService
from slugify import slugify

from ncfvid.speech import (
    build_word_boundaries,
    cached_audio_ok,
    is_word,
    split_bookmarks,
    token_spans,
    voiceover_data,
    write_wav,
)
from ncfvid.speech.entries import load_entry, save_entry
from ncfvid.speech.service import OwnCacheService

#: Recording file types `find_recording` looks for, in order of preference.
SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
FORMAT_VERSION = 1
FRAME_SECONDS = 0.01
GAP_SECONDS = 0.15  # quieter stretches shorter than this count as speech (stops inside words)

Lookup = Mapping[str, PathLike] | Callable[[str], PathLike | None]


def find_recording(voiceover_dir: Path, beat_id: str) -> Path | None:
    """`<beat_id>.wav` (or .mp3, .flac, .ogg, .m4a; any case) in `voiceover_dir`, if there is one."""
    folder = Path(voiceover_dir)
    if not beat_id or not folder.is_dir():
        return None
    found: dict[str, Path] = {}
    for entry in folder.iterdir():
        suffix = entry.suffix.lower()
        if entry.stem == beat_id and suffix in SUFFIXES and entry.is_file():
            found.setdefault(suffix, entry)
    for suffix in SUFFIXES:
        if suffix in found:
            return found[suffix]
    return None


def has_recordings(voiceover_dir: Path | None) -> bool:
    """Whether `voiceover_dir` holds any recording file."""
    if voiceover_dir is None or not Path(voiceover_dir).is_dir():
        return False
    return any(p.suffix.lower() in SUFFIXES and p.is_file() for p in Path(voiceover_dir).iterdir())


def read_pcm(path: Path) -> tuple[bytes, int, int]:
    """(16-bit interleaved PCM, sample rate, channels) of an audio file. 16-bit PCM WAVs are read with
    the wave module; everything else is decoded with PyAV (mono stays mono, more channels become stereo)."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() == 2 and wav.getcomptype() == "NONE":
                return wav.readframes(wav.getnframes()), wav.getframerate(), wav.getnchannels()
    except (wave.Error, EOFError):
        pass
    import av

    chunks: list[bytes] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        channels = 1 if stream.codec_context.channels == 1 else 2
        rate = stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="s16", layout="mono" if channels == 1 else "stereo", rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().tobytes())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().tobytes())
    return b"".join(chunks), int(rate), channels


def _is_pcm16_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getsampwidth() == 2 and wav.getcomptype() == "NONE"
    except (wave.Error, EOFError):
        return False


def voiced_word_starts(plain: str, pcm: bytes, sample_rate: int, channels: int) -> list[tuple[int, float]]:
    """(token start, seconds) for each word of `plain`, spread over the voiced parts of the audio."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    duration = len(samples) / sample_rate if sample_rate else 0.0
    spans = [(s, e) for s, e in token_spans(plain) if is_word(plain[s:e])]
    if not spans:
        return []
    total_chars = max(len(plain), 1)
    hop = max(int(sample_rate * FRAME_SECONDS), 1)
    n_frames = len(samples) // hop
    if n_frames == 0:
        return [(s, duration * s / total_chars) for s, _ in spans]
    rms = np.sqrt((samples[: n_frames * hop].reshape(n_frames, hop) ** 2).mean(axis=1))
    threshold = max(0.1 * float(np.percentile(rms, 95)), 50.0)
    voiced = rms >= threshold
    # Close short gaps: stops and quiet consonants inside speech.
    gap = int(GAP_SECONDS / FRAME_SECONDS)
    indices = np.flatnonzero(voiced)
    if len(indices) == 0:
        return [(s, duration * s / total_chars) for s, _ in spans]
    for a, b in zip(indices[:-1], indices[1:], strict=True):
        if 1 < b - a <= gap:
            voiced[a:b] = True
    cumulative = np.concatenate([[0], np.cumsum(voiced)])  # voiced frames before frame i
    total_voiced = int(cumulative[-1])
    starts = []
    for start, _ in spans:
        target = total_voiced * start / total_chars
        frame = int(np.searchsorted(cumulative, target, side="right")) - 1
        # the first voiced frame at or after that point
        while frame < n_frames and not voiced[frame]:
            frame += 1
        starts.append((start, min(frame, n_frames) * hop / sample_rate))
    return starts


class RecordedService(OwnCacheService):
    """Serves a beat's recording (timing follows the file) and falls back to another service.

    A recording is looked up, in order, by the `beat_id` keyword (``self.voiceover(text, beat_id=...)``)
    and then by the narration text (without bookmark tags), in `recordings` (a mapping, or a callable
    returning a path or None) and then, for the beat id, in `recordings_dir` (`find_recording`). With no
    recording the `fallback` service speaks; without a fallback that is an error (LookupError).
    """

    def __init__(
        self,
        recordings: Lookup | None = None,
        fallback: SpeechService | None = None,
        *,
        recordings_dir: PathLike | None = None,
        cache_dir: PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        if cache_dir is None and fallback is not None:
            cache_dir = fallback.cache_dir
        SpeechService.__init__(self, cache_dir=cache_dir, **kwargs)
        self.recordings = recordings
        self.recordings_dir = Path(recordings_dir) if recordings_dir is not None else None
        self.fallback = fallback
        if fallback is not None:
            # Let manim-voiceover's wrapper treat the fallback's audio as the fallback itself would
            # (Whisper transcription for services without word timings, speed change).
            self.global_speed = fallback.global_speed
            self.transcription_model = fallback.transcription_model
            self._whisper_model = fallback._whisper_model
            self.transcription_kwargs = fallback.transcription_kwargs

    def recording_for(self, text: str, beat_id: str | None = None) -> Path | None:
        """The recording to play for this beat, if there is one."""
        plain, _ = split_bookmarks(" ".join(text.split()))
        keys = [k for k in (beat_id, plain) if k]
        for key in keys:
            found = self._lookup(key)
            if found is not None:
                return found
        if beat_id and self.recordings_dir is not None:
            return find_recording(self.recordings_dir, beat_id)
        return None

    def _lookup(self, key: str) -> Path | None:
        if self.recordings is None:
            return None
        value = self.recordings(key) if callable(self.recordings) else self.recordings.get(key)
        if value is None:
            return None
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"recording for {key!r} not found: {path}")
        return path

    def generate_from_text(
        self,
        text: str,
        cache_dir: PathLike | None = None,
        path: PathLike | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        folder = Path(cache_dir if cache_dir is not None else self.cache_dir)
        beat_id = kwargs.pop("beat_id", None)
        source = self.recording_for(text, None if beat_id is None else str(beat_id))
        if source is None:
            if self.fallback is None:
                raise LookupError(f"no recording for beat {beat_id!r} and no fallback voice: {text[:60]!r}")
            if self._fallback_takes_beat_id():
                kwargs["beat_id"] = beat_id
            return dict(self.fallback.generate_from_text(text, cache_dir=folder, path=path, **kwargs))
        return self._serve(text, source, folder, path)

    def _fallback_takes_beat_id(self) -> bool:
        return isinstance(self.fallback, OwnCacheService)  # ncfvid's own services (this one too)

    def _serve(self, text: str, source: Path, folder: Path, path: PathLike | None) -> dict[str, Any]:
        plain, _ = split_bookmarks(text)
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        input_data = {
            "input_text": plain,
            "service": "ncfvid-recorded",
            "config": {"sha256": digest, "format": FORMAT_VERSION},
        }
        cached = load_entry(folder, input_data)
        if cached is not None and cached_audio_ok(cached, folder) and path is None:
            result = dict(cached)
            result["input_text"] = text
            return result
        if path is not None:
            audio = os.fspath(path)
        else:
            slug = slugify(plain, max_length=40, word_boundary=True, save_order=True) or "beat"
            audio = f"recorded-{slug}-{digest[:16]}.wav"
        target = folder / audio
        pcm, rate, channels = read_pcm(source)
        if path is not None or not target.is_file():
            if _is_pcm16_wav(source):
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            else:
                write_wav(target, pcm, rate, channels)
        duration = len(pcm) / 2 / channels / rate
        bounds = build_word_boundaries(plain, voiced_word_starts(plain, pcm, rate, channels), duration)
        data = voiceover_data(text, input_data, audio, bounds)
        save_entry(folder, data)
        return data

    def _wrap_generate_from_text(self, text: str, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.fallback is not None and not isinstance(self.fallback, OwnCacheService):
            # A manim-voiceover service (gTTS, Azure, ...) finds its own results in cache.json only
            # if the wrapper keeps appending them there; and may need Whisper or a speed change.
            return dict(SpeechService._wrap_generate_from_text(self, text, **kwargs))
        return super()._wrap_generate_from_text(text, **kwargs)

    def audio_callback(self, audio_path: str, data: Any, **kwargs: Any) -> None:
        served = data.get("input_data", {}).get("service") if isinstance(data, Mapping) else None
        if self.fallback is not None and served != "ncfvid-recorded":
            kwargs.pop("beat_id", None)
            self.fallback.audio_callback(audio_path, data, **kwargs)
