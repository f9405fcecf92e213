"""Join act videos into one mp4: video packets are remuxed (no re-encode), audio is encoded once.

Each part's sound comes from a WAV soundtrack beside it (what `ncfvid render` writes, see
`soundtrack`), or else from the part's own audio stream (stock Manim clips), decoded.
Why the audio is not remuxed: a Manim act's audio track ends where its last sound ends, usually
before the video does (the closing hold is silent), and it carries the AAC encoder's priming frame.
Placing its packets at the act's video start would leave gaps between acts, which MP4 cannot express
for AAC (players close them up and the narration drifts ahead of the picture act by act). Writing one
continuous track, with each act's audio padded or trimmed to that act's video length, keeps every act
in sync exactly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from ncfvid.files import temp_beside

from .probe import VideoError, VideoInfo, probe
from .soundtrack import Track, read_wav, resample
from .texttracks import add_chapters, add_subtitle_tracks

__all__ = ["Bed", "Extras", "JoinResult", "join_videos"]

AUDIO_BIT_RATE = 96_000  # per channel; ample for speech (espeak-ng speaks at 22.05 kHz)
_AAC_FRAME = 1024  # samples per AAC-LC frame


@dataclass(frozen=True)
class JoinResult:
    info: VideoInfo
    part_starts: list[float]  # start of each part in the joined video, seconds (for subtitles)


class Bed(Protocol):
    """Sound laid under the narration (background music): its rate and channels count towards the
    track's, and it is computed from the whole placed narration before anything is encoded."""

    rate: int
    channels: int

    def mix(self, speech: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
        """(samples to add, shape (channels, n); the gain for the speech) for `speech` at `rate`."""
        ...


@dataclass(frozen=True)
class Extras:
    """What the joined file carries besides picture and sound, on the joined video's clock (seconds)."""

    subtitles: Sequence[tuple[str, Sequence[tuple[float, float, str]]]] = ()  # (ISO 639-2 code, cues)
    chapters: Sequence[tuple[float, float, str]] = ()  # (start, end, title)
    bed: Bed | None = None


def _check_compatible(parts: list[Path], infos: list[VideoInfo], extradata: list[bytes | None]) -> None:
    first = infos[0]
    key = (first.width, first.height, first.fps, first.video_codec, first.pix_fmt)
    for path, info, extra in zip(parts[1:], infos[1:], extradata[1:], strict=True):
        other = (info.width, info.height, info.fps, info.video_codec, info.pix_fmt)
        if other != key:
            raise VideoError(
                f"cannot join {path} ({info.width}x{info.height} {info.fps} fps {info.video_codec} "
                f"{info.pix_fmt}) after {parts[0]} ({first.width}x{first.height} {first.fps} fps "
                f"{first.video_codec} {first.pix_fmt}): video settings differ"
            )
        if extra != extradata[0]:
            # One avcC for the whole file: parts encoded with other parameter sets would decode wrongly.
            raise VideoError(
                f"cannot join {path} after {parts[0]}: encoded with different codec parameters "
                "(e.g. rendered with and without fast holds); render all acts with the same settings"
            )


class _AudioTrack:
    """One continuous AAC track fed with float32 planar chunks; emits whole AAC frames."""

    def __init__(self, container: av.container.OutputContainer, rate: int, layout: str) -> None:
        self.container = container
        self.rate = rate
        self.layout = layout
        self.channels = av.AudioLayout(layout).nb_channels
        # FFmpeg's "fast" AAC coder: a third of the default coder's time (3.3 s -> 1.1 s for the NCF
        # video's 201 s of speech), and no worse on it (SNR against the PCM 38 dB, default 32 dB).
        self.stream = container.add_stream("aac", rate=rate, layout=layout, options={"aac_coder": "fast"})
        self.stream.bit_rate = AUDIO_BIT_RATE * self.channels
        self.samples = 0  # samples accepted so far (the track's current end)
        self.bed: np.ndarray | None = None  # added to whatever is pushed, sample for sample
        self.gain = np.float32(1)
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._pts = 0

    def push(self, chunk: np.ndarray) -> None:
        if chunk.shape[1] == 0:
            return
        if self.bed is not None:
            under = self.bed[:, self.samples : self.samples + chunk.shape[1]]
            chunk = chunk * self.gain
            chunk[:, : under.shape[1]] += under
        self._pending.append(chunk)
        self._pending_len += chunk.shape[1]
        self.samples += chunk.shape[1]
        if self._pending_len >= _AAC_FRAME:
            data = np.concatenate(self._pending, axis=1)
            whole = data.shape[1] - data.shape[1] % _AAC_FRAME
            for start in range(0, whole, _AAC_FRAME):
                self._encode(data[:, start : start + _AAC_FRAME])
            self._pending = [data[:, whole:]]
            self._pending_len = data.shape[1] - whole

    def silence(self, count: int) -> None:
        while count > 0:
            n = min(count, self.rate)
            self.push(np.zeros((self.channels, n), np.float32))
            count -= n

    def _encode(self, data: np.ndarray | None) -> None:
        frame = None
        if data is not None:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=self.layout)
            frame.sample_rate = self.rate
            frame.time_base = Fraction(1, self.rate)
            frame.pts = self._pts
            self._pts += data.shape[1]
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self._pending_len:
            self._encode(np.concatenate(self._pending, axis=1))  # aac accepts a short last frame
        self._pending, self._pending_len = [], 0
        self._encode(None)


def _resampler(audio: _AudioTrack | None) -> av.AudioResampler | None:
    """A resampler of a part's own audio to the joined track's format (None without a track)."""
    return None if audio is None else av.AudioResampler(format="fltp", layout=audio.layout, rate=audio.rate)


def _place_soundtrack(audio: _AudioTrack, soundtrack: Track, start: Fraction, end_sample: int) -> None:
    """A part's soundtrack WAV at `start` in the joined track, cut at `end_sample`."""
    audio.silence(round(start * audio.rate) - audio.samples)
    samples = resample(soundtrack, audio.rate, audio.channels).samples
    audio.push(samples[:, : max(0, end_sample - audio.samples)])


def _write_part(
    path: Path,
    out: av.container.OutputContainer,
    out_video: av.stream.Stream,
    audio: _AudioTrack | None,
    start: Fraction,
    end: Fraction,
    soundtrack: Track | None = None,
) -> None:
    """Remux one part's video to [start, end) and append its audio, padded or trimmed to end.

    The audio is `soundtrack` (placed at `start`) if given, else the part's own audio stream."""
    with av.open(str(path)) as src:
        video = src.streams.video[0]
        from_stream = audio is not None and soundtrack is None and bool(src.streams.audio)
        src_audio = src.streams.audio[0] if from_stream else None
        streams = [video] if src_audio is None else [video, src_audio]
        # The first displayed frame goes to `start`; with B-frames the first dts lies below it.
        shift = round(start / video.time_base) - (video.start_time or 0)
        resampler = _resampler(audio) if src_audio is not None else None
        end_sample = round(end * audio.rate) if audio is not None else 0
        placed = False
        if audio is not None and soundtrack is not None:
            _place_soundtrack(audio, soundtrack, start, end_sample)

        def push(converted: list[av.AudioFrame]) -> None:
            assert audio is not None
            for frame in converted:
                data = frame.to_ndarray()
                take = min(data.shape[1], end_sample - audio.samples)
                if take > 0:
                    audio.push(data[:, :take])

        def add_audio(decoded: list[av.AudioFrame]) -> None:
            nonlocal placed
            assert audio is not None and resampler is not None
            for frame in decoded:
                if not placed and frame.pts is not None and frame.time_base is not None:
                    # An audio track that starts late keeps its offset within the act.
                    offset = max(Fraction(0), frame.pts * frame.time_base)
                    audio.silence(round((start + offset) * audio.rate) - audio.samples)
                    placed = True
                push(resampler.resample(frame))

        for packet in src.demux(*streams):
            if packet.stream.type == "video":
                if packet.dts is None:
                    continue  # demux's flush packet
                packet.pts += shift
                packet.dts += shift
                packet.stream = out_video
                out.mux(packet)
            else:
                add_audio(list(packet.decode()))  # the dts-less flush packet drains the decoder
        if resampler is not None:
            push(resampler.resample(None))
        if audio is not None:
            # A part's audio usually stops before its video (the closing hold): silence up to the cut.
            audio.silence(end_sample - audio.samples)


def join_videos(
    parts: list[Path],
    output: Path,
    soundtracks: list[Path | None] | None = None,
    extras: Callable[[list[float], float], Extras] | None = None,
) -> JoinResult:
    """Concatenate act videos into ``output`` (written atomically) and report where each part starts.

    All parts need the same video size, frame rate, codec, pixel format and codec parameters (as
    rendered by one ncfvid configuration). ``soundtracks`` gives each part a WAV that replaces its
    own audio (None: use the part's audio stream). If any part has sound, the output has one AAC track
    at the highest sample rate among them; parts without sound contribute silence. ``extras`` is
    called with each part's start and the total length, and gives subtitle tracks, chapters and a
    bed (which needs every part's soundtrack) to write into the file as well.
    Raises VideoError; ``output`` is only replaced on success.
    """
    parts = [Path(p) for p in parts]
    output = Path(output)
    infos, tracks = _read_parts(parts, soundtracks)

    # Part boundaries from exact frame counts (constant frame rate), so no rounding accumulates.
    fps = infos[0].fps
    bounds = [Fraction(0)]
    for info in infos:
        bounds.append(bounds[-1] + Fraction(info.frame_count) / fps)
    rates = [t.rate for t in tracks if t is not None]
    rates += [i.audio_sample_rate or 0 for i, t in zip(infos, tracks, strict=True) if t is None and i.has_audio]
    extra = extras([float(b) for b in bounds[:-1]], float(bounds[-1])) if extras is not None else Extras()
    if extra.bed is not None:
        if any(track is None for track in tracks):
            raise VideoError("background music needs every part's soundtrack WAV")
        rates.append(extra.bed.rate)

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(output, ".joining.mp4")
    try:
        _write_joined(tmp, parts, tracks, bounds, rates, extra, infos)
        info = probe(tmp)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return JoinResult(info=info, part_starts=[float(b) for b in bounds[:-1]])


def _write_joined(
    tmp: Path,
    parts: list[Path],
    tracks: list[Track | None],
    bounds: list[Fraction],
    rates: list[int],
    extra: Extras,
    infos: list[VideoInfo],
) -> None:
    """Write the joined video into `tmp`: the parts' picture remuxed, one audio track, the extras."""
    with av.open(str(parts[0])) as first:
        template = first.streams.video[0]
        out = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            out_video = out.add_stream_from_template(template=template)
            audio = None
            if rates:
                layout = _widest_layout(parts, infos, tracks, extra.bed.channels if extra.bed else 1)
                audio = _AudioTrack(out, max(rates), layout)
                _lay_bed(audio, extra.bed, tracks, bounds)
            subtitles = add_subtitle_tracks(out, extra.subtitles)
            add_chapters(out, extra.chapters)
            for packet in subtitles:  # the muxer interleaves them with the picture by time
                out.mux(packet)
            for path, start, end, track in zip(parts, bounds[:-1], bounds[1:], tracks, strict=True):
                try:
                    _write_part(path, out, out_video, audio, start, end, track)
                except (av.FFmpegError, ValueError) as error:
                    raise VideoError(f"cannot join {path}: {str(error).splitlines()[0]}") from error
            if audio is not None:
                audio.close()
        except BaseException:
            with contextlib.suppress(Exception):
                out.close()
            raise
        out.close()


def _read_parts(parts: list[Path], soundtracks: list[Path | None] | None) -> tuple[list[VideoInfo], list[Track | None]]:
    """Each part's facts and soundtrack; raises VideoError when they cannot be joined."""
    if not parts:
        raise VideoError("no videos to join")
    wavs = list(soundtracks) if soundtracks is not None else [None] * len(parts)
    if len(wavs) != len(parts):
        raise ValueError("one soundtrack (or None) per part")
    infos = [probe(p) for p in parts]
    tracks: list[Track | None] = []
    for wav in wavs:
        try:
            tracks.append(read_wav(Path(wav)) if wav is not None else None)
        except (OSError, ValueError) as error:
            raise VideoError(f"cannot read the soundtrack {wav}: {error}") from error
    extradata = []
    for path in parts:
        with av.open(str(path)) as src:
            extradata.append(src.streams.video[0].codec_context.extradata)
    _check_compatible(parts, infos, extradata)
    return infos, tracks


def _lay_bed(audio: _AudioTrack, bed: Bed | None, tracks: list[Track | None], bounds: list[Fraction]) -> None:
    """Give `audio` the bed mixed under the whole placed narration (and the narration's gain)."""
    if bed is None:
        return
    speech = _placed(tracks, bounds, audio.rate, audio.channels)  # type: ignore[arg-type]
    samples, gain = bed.mix(speech, audio.rate)
    audio.bed, audio.gain = samples.astype(np.float32, copy=False), np.float32(gain)


def _placed(tracks: list[Track], bounds: list[Fraction], rate: int, channels: int) -> np.ndarray:
    """The whole narration as `_write_part` places it: each part's track from its start, cut at its end."""
    out = np.zeros((channels, round(bounds[-1] * rate)), np.float32)
    for track, start, end in zip(tracks, bounds[:-1], bounds[1:], strict=True):
        first, last = round(start * rate), round(end * rate)
        samples = resample(track, rate, channels).samples[:, : last - first]
        out[:, first : first + samples.shape[1]] = samples
    return out


def _widest_layout(parts: list[Path], infos: list[VideoInfo], tracks: list[Track | None], channels: int = 1) -> str:
    for path, info, track in zip(parts, infos, tracks, strict=True):
        if track is not None:
            channels = max(channels, track.channels)
        elif info.has_audio:
            with av.open(str(path)) as src:
                channels = max(channels, src.streams.audio[0].codec_context.layout.nb_channels)
    return "mono" if channels == 1 else "stereo"
