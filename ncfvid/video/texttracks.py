"""Soft subtitles (mov_text) and chapters in an MP4 written with PyAV.

FFmpeg's mov_text encoder only opens with an ASS header (it converts ASS events), but a mov_text
sample is simply the UTF-8 text after a 16-bit big-endian length: the packets are written directly,
and the encoder is never asked to encode. Chapters go through the muxer's own chapter support (the
MP4 muxer writes a QuickTime chapter track and a Nero `chpl` box, which players and `ffprobe -show_chapters`
read).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import av

__all__ = ["add_chapters", "add_subtitle_tracks", "movtext_sample"]

MS = Fraction(1, 1000)
_MAX_SAMPLE = 0xFFFF  # a mov_text sample's text length is 16 bits

# The smallest ASS header FFmpeg's mov_text encoder accepts when the stream is opened; its font is
# FFmpeg's default (Arial), so that decoders add no font tag to the text.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
    b"Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
    b"MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


def movtext_sample(text: str) -> bytes:
    """One mov_text sample: the text's UTF-8 length (16-bit big-endian), then the text."""
    data = text.encode("utf-8")[:_MAX_SAMPLE]
    return len(data).to_bytes(2, "big") + data


def add_subtitle_tracks(
    out: av.container.OutputContainer, tracks: Sequence[tuple[str, Sequence[tuple[float, float, str]]]]
) -> list[av.Packet]:
    """Add one mov_text stream per (ISO 639-2 language, cues) to `out` (before anything is muxed);
    returns their packets, to be muxed once every stream is added."""
    packets = []
    for language, cues in tracks:
        stream = out.add_stream("mov_text")
        stream.codec_context.subtitle_header = _ASS_HEADER
        stream.codec_context.time_base = MS
        stream.time_base = MS
        stream.metadata["language"] = language
        previous_end = 0
        for start, end, text in cues:
            first, last = max(round(start * 1000), previous_end), round(end * 1000)
            if last <= first:
                continue
            packet = av.Packet(movtext_sample(text))
            packet.stream = stream
            packet.pts = packet.dts = first
            packet.duration = last - first
            packet.time_base = MS
            packets.append(packet)
            previous_end = last
    return packets


def add_chapters(out: av.container.OutputContainer, chapters: Sequence[tuple[float, float, str]]) -> None:
    """Write `chapters` ((start, end, title) in seconds) into `out`'s header."""
    if not chapters:
        return
    out.set_chapters(
        [
            {
                "id": number,
                "start": round(start * 1000),
                "end": round(end * 1000),
                "time_base": MS,
                "metadata": {"title": title},
            }
            for number, (start, end, title) in enumerate(chapters, start=1)
        ]
    )
