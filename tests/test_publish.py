"""Publishing without Manim: subtitle tracks and chapters in a join, music ducking, formats, the handout,
the HTTP server, and bad input (music, thumbnail, port, range) reported in one line."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from ncfvid.pipeline import load
from ncfvid.publish.assemble import BeatEntry, chapter_list, iso639_1, iso639_2
from ncfvid.publish.formats import FormatError, parse_range, to_gif, to_webm
from ncfvid.publish.handout import write_handout
from ncfvid.publish.music import PEAK_LIMIT, MusicBed, Span, duck_envelope, schedule
from ncfvid.publish.serve import PortInUse, make_server
from ncfvid.schema import Music
from ncfvid.video.join import Extras, join_videos
from ncfvid.video.probe import VideoError

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
RATE = 22050


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def ffprobe(path: Path, *args: str) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe (Debian ffmpeg) is not installed; `make setup` installs it")
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def tone(seconds: float, freq: float = 3000, rate: int = 44100, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)).astype(np.float32)


def clip(path: Path, frames: int, colour: int) -> Path:
    """A small H.264 clip at 15 fps, one flat colour."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for index in range(frames):
            image = np.full((96, 160, 3), colour, np.uint8)
            image[:, : 4 + index * 4] = 255 - colour  # something moves
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 15)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    folder = tmp_path_factory.mktemp("parts")
    videos = [clip(folder / f"p{i}.mp4", 30, 40 + 80 * i) for i in range(2)]
    speech = np.random.default_rng(0).uniform(-0.3, 0.3, RATE).astype(np.float32)  # 1 s of "speech"
    sounds = [write_wav(folder / f"p{i}.wav", speech) for i in range(2)]
    return videos, sounds


def test_join_writes_chapters_and_a_subtitle_track_per_language(parts, tmp_path: Path) -> None:
    videos, sounds = parts
    seen = {}

    def extras(starts: list[float], length: float) -> Extras:
        seen.update(starts=starts, length=length)
        cues = [(0.5, 1.5, "Hello, world"), (2.1, 3.0, "Zweiter Teil <b>ß</b>")]
        return Extras(subtitles=[("eng", cues), ("deu", cues[1:])], chapters=[(0, 2, "One"), (2, length, "Two")])

    out = join_videos(videos, tmp_path / "joined.mp4", sounds, extras).info
    assert seen == {"starts": [0.0, 2.0], "length": 4.0}
    probed = ffprobe(tmp_path / "joined.mp4", "-show_chapters", "-show_streams")
    assert [(c["tags"]["title"], float(c["start_time"]), float(c["end_time"])) for c in probed["chapters"]] == [
        ("One", 0.0, 2.0),
        ("Two", 2.0, 4.0),
    ]
    subtitles = [s for s in probed["streams"] if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in subtitles] == [("mov_text", "eng"), ("mov_text", "deu")]
    assert out.frame_count == 60 and out.has_audio
    srt = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(tmp_path / "joined.mp4"), "-map", "0:s:1", "-f", "srt", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "00:00:02,100 --> 00:00:03,000" in srt and "Zweiter Teil <b>ß</b>" in srt


def speech_bursts(seconds: float, rate: int, bursts: list[tuple[float, float]]) -> np.ndarray:
    """Noise (no energy kept at any one frequency) during `bursts`, silence elsewhere."""
    speech = np.zeros((1, round(seconds * rate)), np.float32)
    noise = np.random.default_rng(1).uniform(-0.5, 0.5, speech.shape[1]).astype(np.float32)
    for start, end in bursts:
        speech[0, round(start * rate) : round(end * rate)] = noise[round(start * rate) : round(end * rate)]
    return speech


def level_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) + 1e-12))


def test_music_ducks_under_speech_loops_and_fades(tmp_path: Path) -> None:
    music = Music(file="tone.wav", volume=-18, duck=-12, fade=1.0)
    path = write_wav(tmp_path / "tone.wav", tone(1.5, rate=RATE), RATE)  # shorter than the video: loops
    bed, gain = MusicBed([Span(0, 10, music, path)]).mix(speech_bursts(10, RATE, [(3, 5)]), RATE)
    assert gain == 1.0 and bed.shape == (1, 10 * RATE)

    def between(start: float, end: float) -> np.ndarray:
        return bed[:, round(start * RATE) : round(end * RATE)]

    gap, speaking = level_db(between(1.5, 2.5)), level_db(between(3.2, 4.8))
    assert abs(gap - (20 * np.log10(0.5 / np.sqrt(2)) - 18)) < 0.2  # the tone's level, 18 dB down
    assert gap - speaking >= 11.5, (gap, speaking)
    assert abs(level_db(between(7, 8.5)) - gap) < 0.2  # back up after speech, looped past 1.5 s
    assert np.abs(bed[:, :10]).max() < 1e-3 and np.abs(bed[:, -10:]).max() < 1e-3  # faded in and out


def test_music_never_clips_under_loud_speech(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "loud.wav", tone(2, rate=RATE, amplitude=1.0), RATE)
    speech = np.zeros((1, 4 * RATE), np.float32)
    speech[0, RATE : 2 * RATE] = np.sign(np.sin(np.arange(RATE) / 5))  # full-scale square wave
    bed, gain = MusicBed([Span(0, 4, Music(file="loud.wav", volume=0, duck=0, fade=0), path)]).mix(speech, RATE)
    assert gain < 1
    assert np.abs(speech * gain + bed).max() <= PEAK_LIMIT + 1e-6


def test_music_unreadable_at_publish_time_is_a_video_error(tmp_path: Path) -> None:
    (tmp_path / "gone.mp3").write_bytes(b"ID3 but nothing after")
    with pytest.raises(VideoError, match="cannot read the music file gone.mp3"):
        MusicBed([Span(0, 1, Music(file="gone.mp3"), tmp_path / "gone.mp3")])


def test_duck_envelope_moves_before_speech_and_holds_through_word_gaps() -> None:
    envelope = duck_envelope(speech_bursts(4, 1000, [(1, 1.5), (1.7, 2)]), 1000)
    assert envelope[500] == 0 and envelope[3500] == 0
    assert envelope[1000] == pytest.approx(1) and envelope[1600] == pytest.approx(1)  # ducked in the 0.2 s gap


def test_music_schedule_per_act(tmp_path: Path) -> None:
    text = TINY.read_text(encoding="utf-8").replace("acts:\n", "music: {file: a.wav}\nacts:\n")
    text = text.replace("    title: Answer\n", "    title: Answer\n    music: {file: b.wav, volume: -20}\n")
    write_wav(tmp_path / "a.wav", tone(1)), write_wav(tmp_path / "b.wav", tone(1))
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    story = load(tmp_path / "s.yaml").story
    spans = schedule(story, tmp_path, [("intro", 0, 3), ("answer", 3, 9)])
    assert [(s.start, s.end, s.path.name, s.music.volume) for s in spans] == [
        (0, 3, "a.wav", -18),
        (3, 9, "b.wav", -20),
    ]
    silent = story.model_copy(update={"acts": [story.acts[0], story.acts[1].model_copy(update={"music": False})]})
    assert [(s.start, s.end) for s in schedule(silent, tmp_path, [("intro", 0, 3), ("answer", 3, 9)])] == [(0, 3)]
    same = story.model_copy(update={"acts": [story.acts[0], story.acts[1].model_copy(update={"music": None})]})
    assert [(s.start, s.end) for s in schedule(same, tmp_path, [("intro", 0, 3), ("answer", 3, 9)])] == [(0, 9)]


@pytest.mark.parametrize(
    ("insert", "message"),
    [
        ("music: {file: nowhere.mp3}\n", r"music file 'nowhere\.mp3' not found"),
        ("music: {file: notes.mp3}\n", r"music file 'notes\.mp3' cannot be read as audio"),
        (
            "thumbnail: answer.fil\n",
            r"thumbnail 'answer\.fil' is not a beat of this storyboard; did you mean 'answer\.fill'",
        ),
    ],
)
def test_bad_music_and_thumbnail_are_one_line_at_their_line(tmp_path: Path, insert: str, message: str) -> None:
    (tmp_path / "notes.mp3").write_text("these are not sounds\n", encoding="utf-8")
    text = TINY.read_text(encoding="utf-8").replace("acts:\n", insert + "acts:\n")
    line = text.splitlines().index(insert.strip()) + 1
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    result = run("validate", "s.yaml", cwd=tmp_path)
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert re.match(rf"s\.yaml:{line}:\d+: error: .*{message}", first), result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_format_and_bad_range_are_usage_errors(tmp_path: Path) -> None:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    result = run("render", "tiny.yaml", "--format", "avi", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2 and "'avi' is not one of 'mp4', 'webm', 'gif'" in result.stderr
    result = run("render", "tiny.yaml", "--format", "gif", "--range", "20-10", "--dry-run", cwd=tmp_path)
    assert result.returncode == 2 and "ends before it starts" in result.stderr and "Traceback" not in result.stderr


def test_chapter_list_ranges_and_language_codes() -> None:
    assert chapter_list([(0, 61, "Intro"), (61.9, 4000, "Two"), (3725, 4000, "Late")]) == (
        "00:00 Intro\n01:01 Two\n1:02:05 Late\n"
    )
    assert parse_range("1:05-1:20.5") == (65, 80.5) and parse_range("3-4") == (3, 4)
    for bad in ("3", "a-b", "5-2"):
        with pytest.raises(ValueError):
            parse_range(bad)
    assert [iso639_2(x) for x in ("en-us", "de", "deu", "xx")] == ["eng", "deu", "deu", "und"]
    assert [iso639_1(x) for x in ("eng", "spa", "und")] == ["en", "es", "und"]


def test_gif_is_a_small_loop_and_webm_has_vp9_and_opus(parts, tmp_path: Path) -> None:
    videos, sounds = parts
    joined = join_videos(videos, tmp_path / "j.mp4", sounds).info
    assert joined.duration == pytest.approx(4, abs=0.1)
    from PIL import Image

    with Image.open(to_gif(tmp_path / "j.mp4", tmp_path / "j.gif", 1.0, 3.0)) as gif:
        assert gif.n_frames == 20 and gif.info["loop"] == 0 and gif.size == (160, 96)  # every frame differs
    with pytest.raises(FormatError, match="short loop"):
        to_gif(tmp_path / "j.mp4", tmp_path / "long.gif", 0, 100)
    assert not (tmp_path / "long.gif").exists()
    to_webm(tmp_path / "j.mp4", tmp_path / "j.webm", [(0, 2, "A"), (2, 4, "B")])
    probed = ffprobe(tmp_path / "j.webm", "-show_streams", "-show_chapters", "-show_format")
    assert [s["codec_name"] for s in probed["streams"]] == ["vp9", "opus"]
    assert [c["tags"]["title"] for c in probed["chapters"]] == ["A", "B"]
    assert float(probed["format"]["duration"]) == pytest.approx(4, abs=0.1)


def test_handout_has_one_page_per_beat(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (854, 480), (14, 17, 23)).save(tmp_path / "still.png")
    long = "A narration line long enough to need wrapping onto several lines of the page. " * 12
    beats = [BeatEntry("a", "Act A", f"b{i}", i * 2.0, i * 2.0 + 2, long, "still.png") for i in range(3)]
    write_handout(tmp_path / "h.pdf", "Title", beats, tmp_path)
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (Debian poppler-utils) is not installed; `make setup` installs it")
    info = subprocess.run(["pdfinfo", str(tmp_path / "h.pdf")], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.M)
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(tmp_path / "h.pdf"), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == 3
    text = subprocess.run(["pdftotext", str(tmp_path / "h.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Act A" in text and "several lines" in text


def test_server_answers_ranges_and_reports_a_port_in_use(tmp_path: Path) -> None:
    import threading

    (tmp_path / "v.bin").write_bytes(bytes(range(256)) * 4)
    server = make_server(tmp_path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v.bin", headers={"Range": "bytes=10-19"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 206 and response.read() == bytes(range(10, 20))
            assert response.headers["Content-Range"] == "bytes 10-19/1024"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v.bin") as response:
            assert response.status == 200 and len(response.read()) == 1024
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is in use"):
            make_server(tmp_path, "127.0.0.1", port)
    finally:
        server.shutdown()
        server.server_close()


def test_serve_port_in_use_is_one_line(tmp_path: Path) -> None:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    (tmp_path / "output" / "tiny").mkdir(parents=True)
    (tmp_path / "output" / "tiny" / "index.html").write_text("<p>page</p>", encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "tiny.yaml", "--port", str(taken.getsockname()[1]), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[0].startswith("tiny.yaml: error: port ")
    assert "choose another with --port" in result.stderr and "Traceback" not in result.stderr
