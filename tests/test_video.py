"""Tests for ncfvid.video: fast holds in Manim renders, probe, and join (tiny resolutions, PyAV only)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ncfvid.video import JoinResult, VideoError, join_videos, probe
from ncfvid.video.soundtrack import Sound, Track, mix, read_wav, write_wav

FPS = 15
WIDTH, HEIGHT = 320, 180


# ---------------------------------------------------------------------------------------------
# helpers


def write_tone_wav(path: Path, seconds: float, freq: float = 440.0, rate: int = 44100) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def decode_rgb(path: Path, indices: set[int] | None = None) -> tuple[int, dict[int, np.ndarray]]:
    """Decode every frame (each must decode); return the count and the requested frames as int arrays."""
    kept: dict[int, np.ndarray] = {}
    count = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if indices is None or count in indices:
                kept[count] = frame.to_ndarray(format="rgb24").astype(np.int16)
            count += 1
    return count, kept


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """The first audio track as mono float samples, and its sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        chunks = [frame.to_ndarray().mean(axis=0) for frame in container.decode(stream)]
    return np.concatenate(chunks), rate


def assert_h264_cfr(path: Path, fps: int, *, reordered: bool = False) -> None:
    """H.264, yuv420p, constant frame rate: every packet lasts one frame and pts step by one frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == fps
        step = 1 / (fps * stream.time_base)
        assert step.denominator == 1
        packets = [p for p in container.demux(stream) if p.dts is not None]
    pts = [p.pts for p in packets]
    if not reordered:  # no B-frames: decode order is display order
        assert pts == sorted(pts)
    assert set(np.diff(sorted(pts)).tolist()) == {int(step)}
    assert {p.duration for p in packets} == {int(step)}
    dts = [p.dts for p in packets]
    assert all(b > a for a, b in zip(dts, dts[1:], strict=False))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


# ---------------------------------------------------------------------------------------------
# Manim renders (in-process, caching disabled unless asked)

manim = pytest.importorskip("manim")
from manim import BLUE, LEFT, RED, RIGHT, UP, YELLOW, Circle, Scene, Square, tempconfig  # noqa: E402

from ncfvid.scenelib.patches import install_fast_holds  # noqa: E402
from ncfvid.video.holds import (  # noqa: E402
    FastHoldSceneFileWriter,
    HoldStats,
    fast_hold_encoder_spec,
)


class _Base(Scene):
    fast = False

    def setup(self) -> None:
        if self.fast:
            install_fast_holds(self)

    def draw(self) -> Circle:
        circle = Circle(color=RED, fill_opacity=1).shift(LEFT)
        self.add(circle, Square(color=YELLOW).shift(UP + RIGHT))
        return circle


class LongHold(_Base):
    seconds = 30.0

    def construct(self) -> None:
        self.draw()
        self.wait(self.seconds)


class Sequence(_Base):
    sound: Path | None = None

    def construct(self) -> None:
        circle = self.draw()
        self.play(circle.animate.shift(RIGHT * 2), run_time=1)
        if self.sound is not None:
            self.add_sound(str(self.sound))
        self.wait(2.5)
        self.play(circle.animate.scale(0.5).set_color(BLUE), run_time=1)
        self.wait(0.5)


def render(scene_cls: type[Scene], media_dir: Path, *, caching: bool = False) -> tuple[Path, HoldStats | None]:
    settings = {
        "media_dir": str(media_dir),
        "pixel_width": WIDTH,
        "pixel_height": HEIGHT,
        "frame_rate": FPS,
        "disable_caching": not caching,
        "output_file": scene_cls.__name__,
        "verbosity": "ERROR",
        "progress_bar": "none",
    }
    with tempconfig(settings):
        scene = scene_cls()
        scene.render()
        writer = scene.renderer.file_writer
        stats = writer.hold_stats if isinstance(writer, FastHoldSceneFileWriter) else None
        return Path(writer.final_file_path), stats


@pytest.fixture(scope="module")
def sequence_renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, HoldStats | None]]:
    """The same animation + hold + animation + hold scene (with a sound) rendered stock and fast."""
    root = tmp_path_factory.mktemp("sequence")
    tone = write_tone_wav(root / "tone.wav", 1.2)
    stock = type("SequenceStock", (Sequence,), {"sound": tone})
    fast = type("SequenceFast", (Sequence,), {"sound": tone, "fast": True})
    return {"stock": render(stock, root / "stock"), "fast": render(fast, root / "fast")}


def test_long_hold_encodes_one_gop_and_is_frame_exact(tmp_path: Path) -> None:
    long_path, long_stats = render(type("Hold30", (LongHold,), {"fast": True}), tmp_path / "long")
    short_path, short_stats = render(type("Hold1", (LongHold,), {"fast": True, "seconds": 1.0}), tmp_path / "short")
    assert long_stats == HoldStats(frames_requested=450, frames_encoded=FPS, packets_written=450, fast_holds=1)
    # A 30 s hold pushes as many frames through the encoder as a 1 s one.
    assert short_stats is not None and short_stats.frames_encoded == long_stats.frames_encoded == FPS

    info = probe(long_path)
    assert (info.frame_count, info.width, info.height, info.fps) == (450, WIDTH, HEIGHT, Fraction(FPS))
    assert info.video_duration == pytest.approx(30.0, abs=1e-9)
    assert probe(short_path).frame_count == FPS
    assert_h264_cfr(long_path, FPS)

    count, frames = decode_rgb(long_path, {0, 14, 435, 449})
    assert count == 450
    assert np.array_equal(frames[435], frames[0])  # the last GOP copy starts with the same IDR frame
    assert mean_abs_diff(frames[449], frames[0]) < 1.0
    assert mean_abs_diff(frames[14], frames[449]) == 0.0


def test_sequence_matches_stock_manim(sequence_renders: dict[str, tuple[Path, HoldStats | None]]) -> None:
    stock_path, _ = sequence_renders["stock"]
    fast_path, stats = sequence_renders["fast"]
    stock, fast = probe(stock_path), probe(fast_path)
    # Manim's own frame arithmetic: 15 + int(2.5 * 15) + 15 + int(0.5 * 15).
    assert stock.frame_count == fast.frame_count == 15 + 37 + 15 + 7
    assert fast.video_duration == stock.video_duration
    assert stats is not None and stats.fast_holds == 1
    assert stats.frames_encoded == 15 + FPS + 15 + 7 and stats.packets_written == fast.frame_count

    assert_h264_cfr(fast_path, FPS)
    assert_h264_cfr(stock_path, FPS, reordered=True)
    stock_count, stock_frames = decode_rgb(stock_path)
    fast_count, fast_frames = decode_rgb(fast_path)
    assert stock_count == fast_count == fast.frame_count
    diffs = [mean_abs_diff(stock_frames[i], fast_frames[i]) for i in range(fast_count)]
    assert max(diffs) < 1.0, diffs  # codec noise only
    # Within the hold (frames 15..51) the picture does not pulse at GOP boundaries.
    assert max(mean_abs_diff(fast_frames[15], fast_frames[i]) for i in range(15, 52)) < 1.0

    # Audio is muxed by Manim exactly as before: same track, same length, same samples.
    assert stock.has_audio and fast.has_audio
    assert fast.audio_duration == stock.audio_duration
    stock_audio, _ = decode_audio(stock_path)
    fast_audio, _ = decode_audio(fast_path)
    assert np.array_equal(stock_audio, fast_audio)


def test_segment_encoder_holds_mid_segment(tmp_path: Path) -> None:
    """Holds that are not alone in their segment: after other frames (forced IDR) and before others."""
    from manim._config.video_encoder import VideoEncoderSpec

    from ncfvid.video.holds import FastHoldSegmentEncoder

    spec = fast_hold_encoder_spec(
        VideoEncoderSpec("mp4", "libx264", "yuv420p", 64, 48, Fraction(FPS), (("crf", "23"),))
    )
    assert spec is not None

    def picture(colour: tuple[int, int, int]) -> np.ndarray:
        rgba = np.full((48, 64, 4), 255, np.uint8)
        rgba[..., :3] = colour
        return rgba

    target = tmp_path / "segment.mp4"
    encoder = FastHoldSegmentEncoder(target=target, spec=spec, gop_frames=FPS)
    encoder.write_frame(picture(COLOURS[0]), repeat=3)
    encoder.write_frame(picture(COLOURS[1]), repeat=40)  # followed by more frames: encoded normally
    encoder.write_frame(picture(COLOURS[2]))
    encoder.write_frame(picture(COLOURS[3]), repeat=52)  # last write: GOP copies after a forced IDR
    encoder.finish()
    assert encoder.stats == HoldStats(
        frames_requested=96, frames_encoded=3 + 40 + 1 + FPS, packets_written=96, fast_holds=1
    )
    assert_h264_cfr(target, FPS)
    count, frames = decode_rgb(target)
    assert count == 96
    expected = [0] * 3 + [1] * 40 + [2] + [3] * 52
    for index, part in enumerate(expected):
        assert np.abs(frames[index].mean(axis=(0, 1)) - COLOURS[part]).max() < 8, index


def test_caching_never_mixes_stock_and_fast_segments(tmp_path: Path) -> None:
    media = tmp_path / "media"
    stock_cls = type("Cached", (LongHold,), {"seconds": 3.0})
    fast_cls = type("Cached", (LongHold,), {"seconds": 3.0, "fast": True})
    render(stock_cls, media, caching=True)
    # The fast spec (bf=0) is part of Manim's segment hash, so stock segments are not reused ...
    _, first = render(fast_cls, media, caching=True)
    assert first is not None and first.fast_holds == 1
    # ... while fast segments are.
    path, second = render(fast_cls, media, caching=True)
    assert second is not None and second.frames_requested == 0
    assert probe(path).frame_count == 45


def test_install_fast_holds_contract(tmp_path: Path) -> None:
    with tempconfig({"media_dir": str(tmp_path), "pixel_width": WIDTH, "pixel_height": HEIGHT}):
        scene = Scene()
        stock_spec = scene.session_spec.video_encoder
        install_fast_holds(scene)
        writer = scene.renderer.file_writer
        assert isinstance(writer, FastHoldSceneFileWriter)
        assert scene.session_spec.video_encoder == fast_hold_encoder_spec(stock_spec)
        assert dict(scene.session_spec.video_encoder.options)["bf"] == "0"
        install_fast_holds(scene)  # idempotent
        assert scene.renderer.file_writer is writer

        late = Scene()
        late.renderer.num_plays = 1
        with pytest.raises(RuntimeError, match="before the first"):
            install_fast_holds(late)
    # Transparent output is qtrle .mov: fast holds quietly stay off.
    with tempconfig({"media_dir": str(tmp_path), "transparent": True, "format": "mov"}):
        scene = Scene()
        install_fast_holds(scene)
        assert not isinstance(scene.renderer.file_writer, FastHoldSceneFileWriter)


def test_manim_cli_render_uses_fast_holds(tmp_path: Path) -> None:
    """The real path: `manim render --disable_caching` in a subprocess, install from setup()."""
    scene_file = tmp_path / "act.py"
    scene_file.write_text(
        textwrap.dedent(
            """
            from manim import Scene, Square
            from ncfvid.scenelib.patches import install_fast_holds

            class Act(Scene):
                def setup(self):
                    install_fast_holds(self)

                def construct(self):
                    self.add(Square())
                    self.wait(10)
            """
        )
    )
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "COLUMNS": "200"}
    manim_cli = [sys.executable, "-m", "manim", "render", "--disable_caching", "-r", f"{WIDTH},{HEIGHT}"]
    args = [*manim_cli, "--fps", str(FPS), "--media_dir", str(tmp_path / "media"), "-o", "act"]
    result = subprocess.run(
        [*args, str(scene_file), "Act"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Fast holds: 1 holds, encoded 15 of 150 frames" in result.stdout + result.stderr
    (output,) = (tmp_path / "media").rglob("act.mp4")
    assert probe(output).frame_count == 150
    assert decode_rgb(output, set())[0] == 150


def test_join_manim_acts(sequence_renders: dict[str, tuple[Path, HoldStats | None]], tmp_path: Path) -> None:
    fast_path, _ = sequence_renders["fast"]
    act = probe(fast_path)
    result = join_videos([fast_path, fast_path, fast_path], tmp_path / "video.mp4")
    assert result.info.frame_count == 3 * act.frame_count
    assert result.part_starts == pytest.approx([0.0, act.video_duration, 2 * act.video_duration])
    assert result.info.audio_duration is not None
    assert abs(result.info.audio_duration - result.info.video_duration) < 0.05
    # Acts encoded with different H.264 parameter sets cannot share one stream header.
    stock_path, _ = sequence_renders["stock"]
    with pytest.raises(VideoError, match="different codec parameters"):
        join_videos([stock_path, fast_path], tmp_path / "mixed.mp4")
    assert not (tmp_path / "mixed.mp4").exists()


# ---------------------------------------------------------------------------------------------
# probe / join on clips made directly with PyAV

COLOURS = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40), (200, 40, 200), (40, 210, 210)]


def make_clip(
    path: Path,
    colour: tuple[int, int, int],
    frames: int,
    *,
    freq: float | None = None,
    audio_seconds: float | None = None,
    rate: int = 48000,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """Solid-colour H.264 clip at 15 fps, optionally with a mono sine AAC track (default: video length)."""
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS, options={"crf": "23", "bf": "0"})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=rate, layout="mono") if freq is not None else None
        picture = np.empty((size[1], size[0], 3), np.uint8)
        picture[:] = colour
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio is not None:
            n = round((audio_seconds if audio_seconds is not None else frames / FPS) * rate)
            tone = (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)[None]
            for start in range(0, n, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
                container.mux(audio.encode(chunk))
            container.mux(audio.encode())
    return path


def rms(samples: np.ndarray, rate: int, start: float, stop: float) -> float:
    window = samples[round(start * rate) : round(stop * rate)]
    return float(np.sqrt(np.mean(window**2)))


def peak_freq(samples: np.ndarray, rate: int, start: float, stop: float) -> float:
    window = samples[round(start * rate) : round(stop * rate)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    return float(np.fft.rfftfreq(len(window), 1 / rate)[np.argmax(spectrum)])


def test_probe(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4", COLOURS[0], 20, freq=440)
    info = probe(clip)
    assert (info.width, info.height, info.fps, info.frame_count) == (64, 48, Fraction(FPS), 20)
    assert (info.video_codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.video_duration == pytest.approx(20 / FPS)
    assert info.has_audio and info.audio_codec == "aac" and info.audio_sample_rate == 48000
    assert info.audio_duration == pytest.approx(20 / FPS, abs=0.03)
    assert info.duration == pytest.approx(20 / FPS, abs=0.03)
    silent = probe(make_clip(tmp_path / "b.mp4", COLOURS[1], 5))
    assert not silent.has_audio and silent.audio_codec is None and silent.audio_duration is None

    with pytest.raises(VideoError, match="not found") as missing:
        probe(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 100)
    with pytest.raises(VideoError, match="cannot read video") as junk:
        probe(tmp_path / "junk.mp4")
    assert "\n" not in str(missing.value) + str(junk.value)


def test_join_three_parts(tmp_path: Path) -> None:
    # The middle part's audio stops 1 s into its 2.07 s of video, like an act ending on a silent hold.
    specs = [(20, 440.0, None), (31, 880.0, 1.0), (17, 1320.0, None)]
    parts = [
        make_clip(tmp_path / f"p{i}.mp4", COLOURS[i], n, freq=f, audio_seconds=a) for i, (n, f, a) in enumerate(specs)
    ]
    result = join_videos(parts, tmp_path / "out" / "joined.mp4")
    assert isinstance(result, JoinResult)
    info = result.info
    assert info.frame_count == 20 + 31 + 17
    assert info.video_duration == pytest.approx(sum(probe(p).video_duration for p in parts))
    assert result.part_starts == pytest.approx([0.0, 20 / FPS, 51 / FPS])
    assert info.has_audio and info.audio_codec == "aac"
    assert abs(info.audio_duration - info.video_duration) < 0.1
    assert_h264_cfr(tmp_path / "out" / "joined.mp4", FPS)

    # Colours right at the boundaries.
    count, frames = decode_rgb(tmp_path / "out" / "joined.mp4", {0, 19, 20, 50, 51, 67})
    assert count == 68
    expected = {0: 0, 19: 0, 20: 1, 50: 1, 51: 2, 67: 2}
    for index, part in expected.items():
        assert np.abs(frames[index].mean(axis=(0, 1)) - COLOURS[part]).max() < 8, index

    # Audio in sync: each part's tone sits inside its part; the middle part falls silent after 1 s.
    samples, rate = decode_audio(tmp_path / "out" / "joined.mp4")
    assert abs(len(samples) / rate - info.video_duration) < 0.1
    starts = result.part_starts
    for start, (_, freq, _) in zip(starts, specs, strict=True):
        assert peak_freq(samples, rate, start + 0.1, start + 0.6) == pytest.approx(freq, abs=5)
    assert rms(samples, rate, starts[1] + 0.95, starts[1] + 0.99) > 0.2
    assert rms(samples, rate, starts[1] + 1.03, starts[2] - 0.02) < 0.01


def test_join_six_parts_does_not_drift(tmp_path: Path) -> None:
    # Mixed audio: shorter, longer (trimmed), absent (silence), another sample rate.
    frames = [16, 23, 19, 30, 11, 27]
    audio_seconds = [16 / FPS, 0.8, 0.0, 3.0, 11 / FPS, 27 / FPS]  # 0: no audio track at all
    rates = [48000, 48000, 48000, 44100, 48000, 44100]
    freqs = [300.0 + 150 * i if seconds else None for i, seconds in enumerate(audio_seconds)]
    parts = [
        make_clip(tmp_path / f"p{i}.mp4", COLOURS[i], n, freq=freqs[i], audio_seconds=audio_seconds[i], rate=rates[i])
        for i, n in enumerate(frames)
    ]
    result = join_videos(parts, tmp_path / "joined.mp4")
    info = result.info
    assert info.frame_count == sum(frames)
    assert info.audio_sample_rate == 48000
    assert abs(info.audio_duration - info.video_duration) < 0.1
    samples, rate = decode_audio(tmp_path / "joined.mp4")
    assert abs(len(samples) / rate - info.video_duration) < 0.1
    for i, start in enumerate(result.part_starts):
        end = start + frames[i] / FPS
        if freqs[i] is None:
            assert rms(samples, rate, start + 0.03, end - 0.03) < 0.01
            continue
        # Each tone starts within a few ms of its part's first frame, however long earlier parts were.
        assert rms(samples, rate, start + 0.005, start + 0.04) > 0.2
        assert peak_freq(samples, rate, start + 0.005, start + 0.04) == pytest.approx(freqs[i], abs=30)
        if i > 0:
            if audio_seconds[i - 1] >= frames[i - 1] / FPS:  # previous tone runs up to this part
                before = peak_freq(samples, rate, start - 0.04, start - 0.005)
                assert before == pytest.approx(freqs[i - 1], abs=30)
            else:  # after silence the onset is sample-accurate
                assert rms(samples, rate, start - 0.04, start - 0.01) < 0.05
                onset = np.argmax(np.abs(samples[round((start - 0.05) * rate) :]) > 0.05) / rate + start - 0.05
                assert abs(onset - start) < 0.002
        assert peak_freq(samples, rate, start + 0.05, start + 0.5) == pytest.approx(freqs[i], abs=5)


def test_join_rejects_mismatched_parts(tmp_path: Path) -> None:
    a = make_clip(tmp_path / "a.mp4", COLOURS[0], 5)
    b = make_clip(tmp_path / "b.mp4", COLOURS[1], 5, size=(96, 48))
    with pytest.raises(VideoError, match="video settings differ"):
        join_videos([a, b], tmp_path / "out.mp4")
    with pytest.raises(VideoError, match="no videos"):
        join_videos([], tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    assert not join_videos([a, a], tmp_path / "out.mp4").info.has_audio


def test_failed_join_leaves_existing_output_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [make_clip(tmp_path / f"p{i}.mp4", COLOURS[i], 8, freq=440.0) for i in range(3)]
    output = tmp_path / "video.mp4"
    join_videos(parts, output)
    good = output.read_bytes()

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(parts[1].read_bytes()[:300])  # truncated: header cut off
    with pytest.raises(VideoError):
        join_videos([parts[0], corrupt, parts[2]], output)
    assert output.read_bytes() == good

    # A failure half-way through writing (after the first part) leaves no partial file behind.
    import ncfvid.video.join as join_module

    real_write_part = join_module._write_part
    calls = []

    def failing_write_part(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_write_part(*args, **kwargs)

    monkeypatch.setattr(join_module, "_write_part", failing_write_part)
    with pytest.raises(KeyboardInterrupt):
        join_videos(parts, output)
    assert output.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["video.mp4", "corrupt.mp4", "p0.mp4", "p1.mp4", "p2.mp4"]
    )


def test_joined_video_gets_ordinary_permissions(tmp_path: Path) -> None:
    parts = [make_clip(tmp_path / f"p{i}.mp4", COLOURS[i], 10) for i in range(2)]
    umask = os.umask(0o022)
    try:
        out = join_videos(parts, tmp_path / "joined.mp4").info
        mode = (tmp_path / "joined.mp4").stat().st_mode & 0o777
    finally:
        os.umask(umask)
    assert out.frame_count > 0
    assert mode == 0o644  # not mkstemp's private 0600


def test_finished_segment_encoders_are_released(tmp_path: Path) -> None:
    # Each segment's x264 context is large; a writer that kept them all grew to GBs over a long act.
    import gc

    from ncfvid.video.holds import FastHoldSegmentEncoder

    settings = {
        "media_dir": str(tmp_path),
        "pixel_width": WIDTH,
        "pixel_height": HEIGHT,
        "frame_rate": FPS,
        "disable_caching": True,
        "verbosity": "ERROR",
        "progress_bar": "none",
    }
    with tempconfig(settings):
        scene = type("SequenceReleased", (Sequence,), {"fast": True})()
        scene.render()
        gc.collect()
        alive = [obj for obj in gc.get_objects() if isinstance(obj, FastHoldSegmentEncoder)]
        assert scene.renderer.file_writer.hold_stats.fast_holds == 1  # the writer is alive, its stats too
        assert alive == []


# ---------------------------------------------------------------------------------------------
# soundtracks: an act's sounds mixed outside Manim, encoded once by the join


def tone_track(seconds: float, freq: float, rate: int, channels: int = 1, level: float = 0.3) -> Track:
    t = np.arange(round(seconds * rate)) / rate
    return Track(np.tile(level * np.sin(2 * np.pi * freq * t), (channels, 1)).astype(np.float32), rate)


def onset(samples: np.ndarray, rate: int, after: float = 0.0, level: float = 0.05) -> float:
    start = round(after * rate)
    return (start + int(np.argmax(np.abs(samples[start:]) > level))) / rate


def test_mix_places_each_sound_at_its_start(tmp_path: Path) -> None:
    low = write_tone_wav(tmp_path / "low.wav", 0.5, freq=300.0, rate=22050)
    stereo = tmp_path / "high.wav"
    write_wav(stereo, tone_track(0.4, 1200.0, 44100, channels=2))
    track = mix([Sound(str(low), 0.25), Sound(str(stereo), 1.0, gain=-6.0)])
    # The highest rate and the widest layout win; the track ends where the last sound ends.
    assert (track.rate, track.channels) == (44100, 2)
    assert track.duration == pytest.approx(1.4, abs=0.002)
    left = track.samples[0]
    assert onset(left, track.rate) == pytest.approx(0.25, abs=0.001)
    assert onset(left, track.rate, after=0.8) == pytest.approx(1.0, abs=0.001)
    assert peak_freq(left, track.rate, 0.3, 0.7) == pytest.approx(300.0, abs=5)
    assert peak_freq(left, track.rate, 1.05, 1.35) == pytest.approx(1200.0, abs=5)
    assert np.abs(track.samples[:, round(0.8 * track.rate) : round(0.95 * track.rate)]).max() == 0
    # -6 dB halves the amplitude (the 300 Hz tone came in at the same 0.3).
    assert rms(left, track.rate, 1.05, 1.35) / rms(left, track.rate, 0.3, 0.7) == pytest.approx(0.5, abs=0.02)
    # Overlapping sounds add up.
    both = mix([Sound(str(low), 0.0), Sound(str(low), 0.0)])
    assert np.abs(both.samples).max() == pytest.approx(0.6, abs=0.01)
    assert mix([]).duration == 0


def test_wav_round_trip_and_bad_files(tmp_path: Path) -> None:
    track = tone_track(0.3, 500.0, 16000, channels=2)
    write_wav(tmp_path / "t.wav", track)
    back = read_wav(tmp_path / "t.wav")
    assert (back.rate, back.channels, back.samples.shape) == (16000, 2, track.samples.shape)
    assert np.abs(back.samples - track.samples).max() < 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.wav"]  # no temporary file left
    (tmp_path / "junk.wav").write_bytes(b"RIFF" + b"\0" * 10)
    with pytest.raises(ValueError):
        read_wav(tmp_path / "junk.wav")


def test_join_with_soundtracks_encodes_each_wav_at_its_part(tmp_path: Path) -> None:
    frames = [18, 25, 14]
    # Parts carry audio of their own (a 2 kHz tone) that the soundtracks replace; the middle part has none.
    parts = [make_clip(tmp_path / f"p{i}.mp4", COLOURS[i], n, freq=2000.0) for i, n in enumerate(frames)]
    wavs: list[Path | None] = []
    for i, (offset, freq) in enumerate([(0.2, 400.0), (0.5, 700.0), (0.1, 1000.0)]):
        if i == 1:
            wavs.append(None)
            continue
        silence = np.zeros((1, round(offset * 22050)), np.float32)
        tone = tone_track(3.0, freq, 22050).samples  # longer than the part: trimmed at its end
        wavs.append(tmp_path / f"s{i}.wav")
        write_wav(tmp_path / f"s{i}.wav", Track(np.concatenate([silence, tone], axis=1), 22050))
    result = join_videos(parts, tmp_path / "joined.mp4", wavs)
    info = result.info
    assert info.frame_count == sum(frames)
    assert info.audio_sample_rate == 48000  # the middle part's own 48 kHz track is the widest
    assert abs(info.audio_duration - info.video_duration) < 0.05
    samples, rate = decode_audio(tmp_path / "joined.mp4")
    starts = result.part_starts
    # Part 0: silence, then its soundtrack's 400 Hz from 0.2 s (the clip's 2 kHz is gone).
    assert rms(samples, rate, 0.02, 0.18) < 0.01
    assert onset(samples, rate) == pytest.approx(0.2, abs=0.003)
    assert peak_freq(samples, rate, 0.3, starts[1] - 0.05) == pytest.approx(400.0, abs=8)
    # Part 1 keeps its own stream; part 2's tone starts 0.1 s in and stops at the end of the video.
    assert peak_freq(samples, rate, starts[1] + 0.1, starts[2] - 0.1) == pytest.approx(2000.0, abs=8)
    assert peak_freq(samples, rate, starts[2] + 0.15, info.video_duration - 0.05) == pytest.approx(1000.0, abs=8)
    assert rms(samples, rate, starts[2] + 0.15, info.video_duration - 0.05) > 0.15

    # Speech at its own rate: soundtracks only -> a mono track at 22.05 kHz.
    only = join_videos([parts[0], parts[2]], tmp_path / "speech.mp4", [wavs[0], wavs[2]]).info
    assert (only.audio_sample_rate, only.audio_codec) == (22050, "aac")
    with av.open(str(tmp_path / "speech.mp4")) as container:
        assert container.streams.audio[0].codec_context.layout.nb_channels == 1

    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(VideoError, match="soundtrack"):
        join_videos([parts[0]], tmp_path / "bad.mp4", [tmp_path / "bad.wav"])
    assert not (tmp_path / "bad.mp4").exists()
