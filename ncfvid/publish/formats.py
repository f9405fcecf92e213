"""Other formats of the published MP4: WebM (VP9 + Opus, with the chapters) and a short GIF loop.

Both are made from the joined MP4 with PyAV (and Pillow for the GIF's palette), written to a
temporary file beside the target and renamed over it only when complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av

from ncfvid.video.texttracks import add_chapters

__all__ = ["FormatError", "GIF_MAX_SECONDS", "parse_range", "to_gif", "to_webm"]

FORMATS = ("mp4", "webm", "gif")
GIF_MAX_SECONDS = 60.0  # a GIF is a short loop; past a minute it is megabytes of a poor video
GIF_WIDTH = 480
GIF_FPS = 10
# VP9 at constant quality, at libvpx's fastest setting: on the NCF video at -q l, 11 times faster
# than "good" at cpu-used 5 (2.6 s against 21.7 s for 30 s of video) for a 15% larger file.
VP9_OPTIONS = {
    "crf": "34",
    "b": "0",
    "deadline": "realtime",
    "cpu-used": "8",
    "row-mt": "1",
    "tile-columns": "1",
    "threads": str(min(8, os.cpu_count() or 1)),
}
OPUS_BIT_RATE = 64_000


class FormatError(Exception):
    """A format could not be made; the message is one line."""


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` that becomes `target` when the block succeeds."""
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def parse_range(text: str) -> tuple[float, float]:
    """'12-20', '1:05-1:20' or '12.5-20' -> (start, end) seconds; raises ValueError."""
    first, dash, last = text.partition("-")
    if not dash:
        raise ValueError(f"{text!r} is not a time range; write START-END, e.g. 12-20 or 1:05-1:20")
    start, end = _seconds(first), _seconds(last)
    if end <= start:
        raise ValueError(f"the range {text!r} ends before it starts")
    return start, end


def _seconds(text: str) -> float:
    try:
        parts = [float(p) for p in text.strip().split(":")]
    except ValueError:
        raise ValueError(f"{text!r} is not a time; write seconds (12.5) or m:ss (1:05)") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        raise ValueError(f"{text!r} is not a time; write seconds (12.5) or m:ss (1:05)")
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return total


def to_webm(source: Path, target: Path, chapters: Sequence[tuple[float, float, str]] = ()) -> Path:
    """`source` as WebM: VP9 picture, Opus sound (48 kHz), the same chapters."""
    try:
        with av.open(str(source)) as src, _replacing(target) as tmp:
            with av.open(str(tmp), "w", format="webm") as out:
                _transcode_webm(src, out, chapters)
    except av.FFmpegError as error:
        raise FormatError(f"cannot write {target}: {str(error).splitlines()[0]}") from error
    return target


def _transcode_webm(src: av.container.InputContainer, out: av.container.OutputContainer, chapters: Sequence) -> None:
    video_in = src.streams.video[0]
    fps = video_in.average_rate or Fraction(15)
    video = out.add_stream("libvpx-vp9", rate=fps, options=dict(VP9_OPTIONS))
    video.width, video.height, video.pix_fmt = video_in.codec_context.width, video_in.codec_context.height, "yuv420p"
    video.codec_context.time_base = Fraction(1) / fps
    audio = resampler = None
    if src.streams.audio:
        layout = "mono" if src.streams.audio[0].codec_context.layout.nb_channels == 1 else "stereo"
        audio = out.add_stream("libopus", rate=48000, layout=layout)
        audio.bit_rate = OPUS_BIT_RATE
        resampler = av.AudioResampler(format="flt", layout=layout, rate=48000, frame_size=960)
    add_chapters(out, chapters)
    index = samples = 0
    for frame in src.decode(*[video_in, *src.streams.audio[:1]]):
        if isinstance(frame, av.VideoFrame):
            frame.pts, frame.time_base = index, video.codec_context.time_base
            index += 1
            out.mux(video.encode(frame.reformat(format="yuv420p")))
        elif audio is not None and resampler is not None:
            for chunk in resampler.resample(frame):
                chunk.pts, chunk.time_base = samples, Fraction(1, 48000)
                samples += chunk.samples
                out.mux(audio.encode(chunk))
    if audio is not None and resampler is not None:
        for chunk in resampler.resample(None):
            chunk.pts, chunk.time_base = samples, Fraction(1, 48000)
            samples += chunk.samples
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))
    out.mux(video.encode(None))


def to_gif(source: Path, target: Path, start: float, end: float) -> Path:
    """[start, end) of `source` as a looping GIF, at most `GIF_WIDTH` px wide and `GIF_FPS` frames a second."""
    if end - start > GIF_MAX_SECONDS:
        raise FormatError(
            f"a GIF is a short loop, and {end - start:.0f} s is more than {GIF_MAX_SECONDS:.0f} s: "
            "choose a shorter act (--act ID) or a time range (--range 12-20)"
        )
    frames = _gif_frames(source, start, end)
    if not frames:
        raise FormatError(f"no frame of {source} lies between {start:g} s and {end:g} s")
    palette = _palette(frames)
    from PIL import Image

    images = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    with _replacing(target) as tmp:
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / GIF_FPS), loop=0
        )
    return target


def _gif_frames(source: Path, start: float, end: float) -> list:  # list of PIL images
    frames = []
    with av.open(str(source)) as src:
        stream = src.streams.video[0]
        width = min(GIF_WIDTH, stream.codec_context.width)
        height = round(stream.codec_context.height * width / stream.codec_context.width / 2) * 2
        src.seek(max(0, int(start / stream.time_base)), stream=stream, backward=True)
        next_time = start
        for frame in src.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else next_time
            if t >= end:
                break
            if t + 1e-6 >= next_time:
                frames.append(frame.reformat(width=width, height=height, format="rgb24").to_image())
                next_time += 1 / GIF_FPS
    return frames


def _palette(frames: list):  # noqa: ANN202 - a PIL image in "P" mode
    """One palette for every frame (no flicker between frames): from a strip of up to 12 of them."""
    from PIL import Image

    picked = frames[:: max(1, len(frames) // 12)][:12]
    width, height = picked[0].size
    strip = Image.new("RGB", (width, height * len(picked)))
    for index, frame in enumerate(picked):
        strip.paste(frame, (0, index * height))
    return strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
