"""Read the facts about a video file that the pipeline checks and joins on (PyAV only)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

__all__ = ["VideoError", "VideoInfo", "probe"]


class VideoError(Exception):
    """A video file is missing, unreadable or unsuitable; the message is one line."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    video_duration: float  # seconds
    frame_count: int
    video_codec: str
    pix_fmt: str | None
    has_audio: bool
    audio_codec: str | None
    audio_duration: float | None  # seconds
    audio_sample_rate: int | None
    duration: float  # container duration, seconds


def _stream_seconds(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def _packet_span(container: av.container.InputContainer, stream: av.stream.Stream) -> tuple[int, float]:
    """Packet count and pts span (s) of one stream, for files whose header has no frame count."""
    count, first, end = 0, None, None
    for packet in container.demux(stream):
        if packet.dts is None:
            continue  # demux's flush packet
        count += 1
        if packet.pts is not None and packet.time_base is not None:
            start = packet.pts * packet.time_base
            stop = start + (packet.duration or 0) * packet.time_base
            first = start if first is None else min(first, start)
            end = stop if end is None else max(end, stop)
    return count, float(end - first) if first is not None and end is not None else 0.0


def probe(path: str | Path) -> VideoInfo:
    """Describe the first video (and first audio) stream of ``path``; raise VideoError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"video file not found: {path}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"no video stream in {path}")
            video = container.streams.video[0]
            fps = video.average_rate or video.guessed_rate or video.base_rate
            if not fps:
                raise VideoError(f"cannot tell the frame rate of {path}")
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = container.duration / av.time_base if container.duration is not None else 0.0
            frame_count = video.frames
            video_duration = _stream_seconds(video)
            if not frame_count or video_duration is None:
                counted, span = _packet_span(container, video)
                frame_count = frame_count or counted
                video_duration = video_duration if video_duration is not None else span
            audio_duration = _stream_seconds(audio) if audio is not None else None
            return VideoInfo(
                width=video.codec_context.width,
                height=video.codec_context.height,
                fps=Fraction(fps),
                video_duration=video_duration,
                frame_count=frame_count,
                video_codec=video.codec_context.name,
                pix_fmt=video.codec_context.pix_fmt,
                has_audio=audio is not None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                audio_duration=audio_duration,
                audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
                duration=duration or max(video_duration, audio_duration or 0.0),
            )
    except VideoError:
        raise
    except (av.FFmpegError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise VideoError(f"cannot read video {path}: {reason}") from error
