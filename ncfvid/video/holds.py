"""Cheap holds: a still frame of any length costs about one GOP (~1 s) of H.264 encoding.

Manim turns a static ``wait`` into one ``write_frame(pixels, repeat=N)`` call and then encodes the
same picture N times. Here the segment encoder instead encodes one short closed GOP of ``g`` frames
(an IDR frame followed by P frames, no B-frames) and muxes copies of those packets with shifted
timestamps until exactly N frames are written. A copy is decodable on its own because it starts with
an IDR frame, and without B-frames every P frame refers only backwards, so the first ``r`` packets of
a GOP are also a valid stream for the remainder. Frame count, frame rate and timestamps are exactly
those of stock Manim, so durations and audio sync do not change.

Every partial movie file of a scene must share one set of encoder options (Manim concatenates them
by remuxing, keeping the first file's SPS/PPS), so the fast path patches the scene's resolved
encoder spec once (``bf=0``, ``forced-idr=1``). That patched spec is also what Manim hashes into
cached segment names, so cached segments of stock renders (with B-frames) are never mixed in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
from manim import logger
from manim._config.video_encoder import VideoEncoderSpec
from manim.scene.scene_file_writer import SceneFileWriter, _SceneFileWriterSettings
from manim.scene.video_segment_encoder import VideoSegmentEncoder

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FAST_HOLD_OPTIONS",
    "FastHoldSceneFileWriter",
    "FastHoldSegmentEncoder",
    "HoldStats",
    "fast_hold_encoder_spec",
]

# Options every segment of a fast-hold scene is encoded with. bf=0 makes decode order equal display
# order (so a GOP prefix is decodable); forced-idr makes a forced key frame an IDR, i.e. a closed GOP.
FAST_HOLD_OPTIONS: dict[str, str] = {"bf": "0", "forced-idr": "1"}
_SUPPORTED_CODECS = frozenset({"libx264"})


@dataclass
class HoldStats:
    """Frame accounting of one writer: how much work the encoder really did."""

    frames_requested: int = 0  # frames the scene asked for (what stock Manim would encode)
    frames_encoded: int = 0  # frames actually pushed through the encoder
    packets_written: int = 0  # packets muxed into partial movie files (== frames written)
    fast_holds: int = 0  # holds written as GOP copies

    def add(self, other: HoldStats) -> None:
        self.frames_requested += other.frames_requested
        self.frames_encoded += other.frames_encoded
        self.packets_written += other.packets_written
        self.fast_holds += other.fast_holds


def fast_hold_encoder_spec(spec: VideoEncoderSpec | None) -> VideoEncoderSpec | None:
    """Return ``spec`` with the fast-hold options, or None when the codec is not supported."""
    if spec is None or spec.codec not in _SUPPORTED_CODECS:
        return None
    options = dict(spec.options)
    options.update(FAST_HOLD_OPTIONS)
    return replace(spec, options=tuple(sorted(options.items())))


def _drop_sei(data: bytes) -> bytes:
    """Drop SEI NAL units (x264's ~600-byte settings banner on a stream's first frame) from an
    Annex B packet; copies do not need them. Emulation prevention guarantees that 00 00 01 only
    occurs at start codes, so splitting on it is exact."""
    if not data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return data
    head, *nals = data.split(b"\x00\x00\x01")
    kept = [nal for nal in nals if nal and nal[0] & 0x1F != 6]
    return head + b"".join(b"\x00\x00\x01" + nal for nal in kept) if kept else data


def _gop_frames(spec: VideoEncoderSpec, gop_seconds: float) -> int:
    return max(1, round(float(spec.frame_rate) * gop_seconds))


class FastHoldSegmentEncoder(VideoSegmentEncoder):
    """A segment encoder that writes long repeats of one frame as copies of a short closed GOP.

    A long repeat is kept pending: if more frames follow in the same segment it is encoded normally
    (the encoder cannot be resumed after the flush the GOP needs); if it is the segment's last write,
    which is always the case for Manim's frozen-frame ``wait``, it becomes GOP copies.
    """

    def __init__(self, *, target: Path, spec: VideoEncoderSpec, gop_frames: int) -> None:
        if dict(spec.options).get("bf") != "0":
            raise ValueError("FastHoldSegmentEncoder needs a spec from fast_hold_encoder_spec().")
        super().__init__(target=target, spec=spec)
        self.gop_frames = gop_frames
        self.stats = HoldStats()
        self._time_base = Fraction(spec.frame_rate.denominator, spec.frame_rate.numerator)
        self._pending: tuple[np.ndarray, int] | None = None

    def write_frame(self, pixels: np.ndarray, *, repeat: int = 1) -> None:
        self._validate_frame(pixels, repeat)
        try:
            self._encode_pending_normally()
            self.stats.frames_requested += repeat
            if repeat > self.gop_frames:
                self._pending = (pixels, repeat)
            else:
                self._mux_all(self._encode(pixels, repeat))
        except BaseException as error:
            raise self._operation_error("encode", error) from error

    def _encode_pending_normally(self) -> None:
        if self._pending is not None:
            pixels, repeat = self._pending
            self._pending = None
            self._mux_all(self._encode(pixels, repeat))

    def _encode(self, pixels: np.ndarray, count: int, *, key_first: bool = False) -> list[av.Packet]:
        """Push ``count`` copies of one picture through the encoder; return the packets it emits."""
        frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
        frame.time_base = self._time_base
        packets: list[av.Packet] = []
        for i in range(count):
            frame.pts = self._next_pts
            frame.pict_type = av.video.frame.PictureType.I if key_first and i == 0 else av.video.frame.PictureType.NONE
            self._next_pts += 1
            packets.extend(self._stream.encode(frame))
        self.stats.frames_encoded += count
        return packets

    def _mux_all(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            self._container.mux(packet)
        self.stats.packets_written += len(packets)

    def _write_hold_as_gop_copies(self, pixels: np.ndarray, count: int) -> None:
        start = self._next_pts
        g = self.gop_frames
        packets = self._encode(pixels, g, key_first=True)
        packets.extend(self._stream.encode(None))  # flush: the GOP must be complete
        earlier = [p for p in packets if p.pts is not None and p.pts < start]
        gop = [p for p in packets if p.pts is not None and p.pts >= start]
        if (
            len(gop) != g
            or not gop[0].is_keyframe
            or [p.pts for p in gop] != list(range(start, start + g))
            or any(p.dts != p.pts for p in gop)
        ):
            # Cannot happen with bf=0/forced-idr; fail loudly rather than write an undecodable file.
            raise RuntimeError(
                f"encoder did not produce a closed {g}-frame GOP without reordering for a hold "
                f"(pts={[p.pts for p in gop]}, key={[p.is_keyframe for p in gop]})"
            )
        self._mux_all(earlier)
        self._mux_all(gop)
        payloads = [(_drop_sei(bytes(p)), p.is_keyframe, p.duration) for p in gop]
        for k in range(g, count):
            data, is_key, duration = payloads[k % g]
            copy = av.Packet(data)
            copy.pts = copy.dts = start + k
            copy.duration = duration
            copy.time_base = self._time_base
            copy.is_keyframe = is_key
            copy.stream = self._stream
            self._container.mux(copy)
        self.stats.packets_written += count - g
        self.stats.fast_holds += 1
        self._next_pts = start + count

    def finish(self) -> None:
        """Write a pending hold as GOP copies (or flush normally), then close the segment."""
        if self._closed:
            return
        self._closed = True
        first_error: Exception | None = None
        try:
            try:
                if self._pending is not None:
                    pixels, repeat = self._pending
                    self._pending = None
                    self._write_hold_as_gop_copies(pixels, repeat)
                else:
                    self._mux_all(list(self._stream.encode(None)))
            except Exception as error:
                first_error = error
        finally:
            try:
                self._container.close()
            except Exception as error:
                if first_error is None:
                    first_error = error
        if first_error is not None:
            raise self._operation_error("finish", first_error) from first_error


class FastHoldSceneFileWriter(SceneFileWriter):
    """A SceneFileWriter whose H.264 segments write long holds as GOP copies.

    Prefer :func:`ncfvid.scenelib.patches.install_fast_holds`, which also patches the scene's encoder
    spec that Manim hashes into cached segment names. For codecs other than libx264 this behaves
    exactly like the stock writer.
    """

    gop_seconds: float = 1.0

    def __init__(self, settings: _SceneFileWriterSettings, *, gop_seconds: float | None = None) -> None:
        patched = fast_hold_encoder_spec(settings.video_encoder)
        if patched is not None and patched != settings.video_encoder:
            settings = replace(settings, video_encoder=patched)
        if gop_seconds is not None:
            self.gop_seconds = gop_seconds
        self.fast_holds_enabled = patched is not None
        self._stats_lock = threading.Lock()
        # Only the stats: holding the encoders would keep every segment's x264 context (tens of MB at
        # 480p, hundreds at 1080p) alive until the scene ends.
        self._segment_stats: list[HoldStats] = []
        super().__init__(settings)

    @property
    def hold_stats(self) -> HoldStats:
        """Totals over every segment encoder this writer created (complete once finish() ran)."""
        total = HoldStats()
        with self._stats_lock:
            for stats in self._segment_stats:
                total.add(stats)
        return total

    def _create_segment_encoder(self, target: Path) -> VideoSegmentEncoder:
        spec = self.video_encoder
        if not self.fast_holds_enabled or spec is None:
            return super()._create_segment_encoder(target)
        encoder = FastHoldSegmentEncoder(target=target, spec=spec, gop_frames=_gop_frames(spec, self.gop_seconds))
        with self._stats_lock:
            self._segment_stats.append(encoder.stats)
        return encoder

    def finish(self) -> None:
        super().finish()
        stats = self.hold_stats
        if stats.fast_holds:
            logger.info(
                "Fast holds: %d holds, encoded %d of %d frames",
                stats.fast_holds,
                stats.frames_encoded,
                stats.frames_requested,
            )
