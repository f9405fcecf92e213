"""Background music under the narration: where it plays, how it ducks while someone speaks, and a
mix that never clips.

The storyboard's `music:` plays under the whole video; an act's `music:` replaces it for that act
(`false`: silence). Where consecutive acts play the same music it runs on without a restart. Each
span of music is looped (or cut) to its length, fades in and out over `fade` seconds, and plays at
`volume` dB, `duck` dB lower while someone speaks: speech is found in the placed narration itself
(10 ms frames above -45 dBFS), a little before it starts and after it stops, and the level glides
between the two over a fifth of a second, so it neither pumps between words nor cuts off a syllable.
The whole mix is then scaled, if need be, so that no sample comes within 1 dB of full scale (the
AAC encoder overshoots peaks slightly).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ncfvid.schema import Music, Storyboard
from ncfvid.video.probe import VideoError

__all__ = ["MusicBed", "Span", "duck_envelope", "music_key", "schedule"]

SPEECH_FLOOR_DB = -45.0  # a 10 ms frame louder than this is speech
LOOKAHEAD = 0.1  # s: the music is down before the first syllable
HOLD = 0.35  # s: and stays down through the short gaps between words
GLIDE = 0.2  # s: how long the level takes to move between its two levels
PEAK_LIMIT = 10 ** (-1 / 20)  # -1 dBFS


@dataclass(frozen=True)
class Span:
    """`music` (its file resolved) playing over [start, end) seconds of the video."""

    start: float
    end: float
    music: Music
    path: Path


def _act_music(story: Storyboard) -> list[Music | None]:
    return [story.music if act.music is None else (act.music or None) for act in story.acts]


def schedule(story: Storyboard, base_dir: Path, acts: Sequence[tuple[str, float, float]]) -> list[Span]:
    """The spans of music over `acts` ((act id, start, end) in video order): one per run of
    consecutive acts playing the same music."""
    by_id = dict(zip([act.id for act in story.acts], _act_music(story), strict=True))
    spans: list[Span] = []
    for act_id, start, end in acts:
        music = by_id[act_id]
        if music is None:
            continue
        if spans and spans[-1].music == music and abs(spans[-1].end - start) < 1e-6:
            spans[-1] = Span(spans[-1].start, end, music, spans[-1].path)
        else:
            spans.append(Span(start, end, music, (base_dir / music.file).resolve()))
    return spans


def music_key(spans: Sequence[Span]) -> list[object]:
    """What the mix depends on besides the narration: each span's times, settings and file contents."""
    return [[s.start, s.end, s.music.model_dump(), _file_digest(str(s.path))] for s in spans]


@functools.lru_cache(maxsize=16)
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _read(path: Path):  # noqa: ANN202 - a Track
    from ncfvid.video.soundtrack import decode

    return decode(path)


def duck_envelope(speech: np.ndarray, rate: int) -> np.ndarray:
    """Per sample of `speech` ((channels, n) floats): 1 where someone speaks, 0 where nobody does,
    gliding in between (see the module's notes)."""
    n = speech.shape[1]
    hop = max(1, rate // 100)
    frames = -(-n // hop)
    level = np.zeros(frames * hop, np.float32)
    level[:n] = np.abs(speech).max(axis=0)
    rms = np.sqrt(np.mean(level.reshape(frames, hop) ** 2, axis=1))
    active = (rms > 10 ** (SPEECH_FLOOR_DB / 20)).astype(np.float32)
    per_second = rate / hop
    glide = max(1, round(GLIDE * per_second))
    before = round(LOOKAHEAD * per_second) + glide // 2
    after = round(HOLD * per_second) + glide // 2
    # Widen each stretch of speech: `before` frames earlier, `after` frames later.
    widened = np.convolve(active, np.ones(before + after + 1, np.float32), mode="full")
    widened = (widened[before : before + frames] > 0).astype(np.float32)
    smooth = np.convolve(widened, np.ones(glide, np.float32) / glide, mode="same")
    centres = (np.arange(frames) + 0.5) * hop
    return np.interp(np.arange(n), centres, np.clip(smooth, 0, 1)).astype(np.float32)


def _fades(length: int, rate: int, fade: float) -> np.ndarray:
    """A gain per sample: up from 0 over `fade` s, down to 0 over the last `fade` s (at most half each)."""
    ramp = min(round(fade * rate), length // 2)
    gain = np.ones(length, np.float32)
    if ramp > 0:
        up = np.linspace(0, 1, ramp, endpoint=False, dtype=np.float32)
        gain[:ramp] = up
        gain[length - ramp :] = up[::-1]
    return gain


class MusicBed:
    """The music of `spans`, ducked under the narration (see `ncfvid.video.join.Bed`)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        self.spans = list(spans)
        self.tracks = {}
        for span in self.spans:
            try:
                self.tracks[span.path] = _read(span.path)
            except (av.FFmpegError, OSError, ValueError, IndexError) as error:  # changed since validation
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise VideoError(f"cannot read the music file {span.music.file}: {reason}") from error
        self.rate = max(track.rate for track in self.tracks.values())
        self.channels = max(track.channels for track in self.tracks.values())

    def mix(self, speech: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
        from ncfvid.video.soundtrack import resample

        n, channels = speech.shape[1], speech.shape[0]
        envelope = duck_envelope(speech, rate)
        bed = np.zeros((channels, n), np.float32)
        for span in self.spans:
            first, last = round(span.start * rate), min(n, round(span.end * rate))
            source = resample(self.tracks[span.path], rate, channels).samples
            if last <= first or source.shape[1] == 0:
                continue
            loops = -(-(last - first) // source.shape[1])
            music = np.tile(source, (1, loops))[:, : last - first]
            level = span.music.volume + span.music.duck * envelope[first:last]
            gain = np.power(np.float32(10), level / np.float32(20)) * _fades(last - first, rate, span.music.fade)
            bed[:, first:last] += music * gain
        peak = _peak(speech, bed)
        scale = min(1.0, PEAK_LIMIT / peak) if peak > 0 else 1.0
        if scale < 1.0:
            bed *= np.float32(scale)
        return bed, scale


def _peak(speech: np.ndarray, bed: np.ndarray, chunk: int = 1 << 20) -> float:
    """The largest magnitude of speech + bed, a chunk at a time (no third full-length array)."""
    peak = 0.0
    for start in range(0, speech.shape[1], chunk):
        part = speech[:, start : start + chunk] + bed[:, start : start + chunk]
        if part.size:
            peak = max(peak, float(np.abs(part).max()))
    return peak
