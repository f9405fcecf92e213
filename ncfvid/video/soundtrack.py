"""An act's sound as one PCM track, mixed outside Manim.

Stock Manim overlays every sound into a pydub segment, exports it as WAV, encodes it to AAC and
remuxes the act's whole video to add it; the join then decodes that AAC and encodes it again. For a
narrated act that is seconds of work per act and a second-generation AAC track. When ncfvid renders,
the scene instead records which sound starts when (`Sound`), writes the mix as one WAV beside its
clip, and the join encodes every act's WAV once, at the narration's own sample rate.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ncfvid.speech import write_wav as write_pcm_wav

__all__ = ["Sound", "Track", "decode", "mix", "read_wav", "resample", "write_wav"]


@dataclass(frozen=True)
class Sound:
    """A sound file placed at `start` seconds of an act, louder or softer by `gain` dB."""

    path: str
    start: float
    gain: float | None = None


@dataclass(frozen=True)
class Track:
    """Float32 samples, shape (channels, n), at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.rate


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def resample(track: Track, rate: int, channels: int) -> Track:
    """`track` at another rate and channel count (mono is copied to both sides of stereo at full level)."""
    samples = track.samples
    if track.channels != channels:  # by hand: FFmpeg's mono->stereo matrix would lower speech by 3 dB
        samples = np.tile(samples[:1], (channels, 1)) if track.channels == 1 else samples.mean(axis=0, keepdims=True)
    if track.rate == rate or samples.shape[1] == 0:
        return Track(samples.astype(np.float32, copy=False), rate)
    layout = _layout(samples.shape[0])
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=layout)
    frame.sample_rate = track.rate
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    chunks = [f.to_ndarray() for f in [*resampler.resample(frame), *resampler.resample(None)]]
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((samples.shape[0], 0), np.float32)
    return Track(data.astype(np.float32, copy=False), rate)


def decode(path: str | Path) -> Track:
    """Every sample of the first audio stream of `path` (WAV, MP3, …), at its own rate, mono or stereo."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = 1 if stream.codec_context.layout.nb_channels == 1 else 2
        resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=rate)
        chunks = []
        for frame in container.decode(stream):
            chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    return Track(data.astype(np.float32, copy=False), rate)


def mix(sounds: list[Sound], default_rate: int = 22050) -> Track:
    """All `sounds` overlaid at their start times, at the highest rate among them (mono if all are)."""
    tracks = [decode(sound.path) for sound in sounds]
    if not tracks:
        return Track(np.zeros((1, 0), np.float32), default_rate)
    rate = max(track.rate for track in tracks)
    channels = max(track.channels for track in tracks)
    placed = []
    for sound, track in zip(sounds, tracks, strict=True):
        data = resample(track, rate, channels).samples
        if sound.gain:
            data = data * np.float32(10 ** (sound.gain / 20))
        placed.append((max(0, round(sound.start * rate)), data))
    out = np.zeros((channels, max(start + data.shape[1] for start, data in placed)), np.float32)
    for start, data in placed:
        out[:, start : start + data.shape[1]] += data
    return Track(out, rate)


def write_wav(path: Path, track: Track) -> None:
    """Write `track` as 16-bit PCM WAV, atomically (a reader never sees half a file)."""
    pcm = (np.clip(track.samples, -1.0, 1.0) * 32767).round().astype("<i2")
    write_pcm_wav(Path(path), pcm.T.tobytes(), track.rate, track.channels)


def read_wav(path: Path) -> Track:
    """A WAV written by `write_wav`; raises ValueError for anything else (or a broken file)."""
    try:
        with wave.open(str(path), "rb") as src:
            if src.getsampwidth() != 2:
                raise ValueError("expected 16-bit PCM")
            channels = src.getnchannels()
            rate = src.getframerate()
            pcm = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as error:
        raise ValueError(str(error) or "truncated WAV") from error
    if pcm.size % channels:
        raise ValueError("truncated WAV")
    samples = (pcm.reshape(-1, channels).T.astype(np.float32) / 32767).copy()
    return Track(samples, rate)
