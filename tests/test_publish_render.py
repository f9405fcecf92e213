"""Published renders end to end (slow: Manim): chapters, subtitle track, WebM, GIF, poster, handout,
music ducking measured in the rendered audio, and the review page in headless Chromium, served
with and without --watch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from browser import Browser, chromium  # tests/browser.py

pytestmark = pytest.mark.render

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
DATA = ROOT / "tests" / "data"
SCREENSHOTS = ROOT / "output" / "test-screenshots"  # kept, to be looked at


def ncfvid(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(NCFVID), *args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def ffprobe(path: Path, *args: str) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe (Debian ffmpeg) is not installed; `make setup` installs it")
    result = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.yaml rendered (draft voice) with a WebM and a GIF of its second act's time; its folder."""
    folder = tmp_path_factory.mktemp("published")
    shutil.copy(DATA / "tiny.yaml", folder / "tiny.yaml")
    ncfvid(
        "render", "tiny.yaml", "-q", "l", "--draft", "--format", "webm", "--format", "gif", "--range", "0-3", cwd=folder
    )
    return folder


def test_mp4_has_chapters_and_a_tagged_subtitle_track(tiny: Path) -> None:
    out = tiny / "output" / "tiny"
    probed = ffprobe(out / "tiny.mp4", "-show_chapters", "-show_streams")
    chapters = [(c["tags"]["title"], float(c["start_time"]), float(c["end_time"])) for c in probed["chapters"]]
    assert [c[0] for c in chapters] == ["Intro", "Answer"] and chapters[0][1] == 0
    assert chapters[0][2] == chapters[1][1] and chapters[1][2] == pytest.approx(
        float(probed["streams"][0]["duration"]), abs=0.1
    )
    subtitles = [s for s in probed["streams"] if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in subtitles] == [("mov_text", "eng")]
    lines = (out / "tiny.chapters.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "00:00 Intro" and re.fullmatch(r"00:0\d Answer", lines[1])
    embedded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out / "tiny.mp4"), "-map", "0:s:0", "-f", "srt", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert embedded.strip() == (out / "tiny.srt").read_text(encoding="utf-8").strip()


def test_webm_gif_and_poster(tiny: Path) -> None:
    out = tiny / "output" / "tiny"
    probed = ffprobe(out / "tiny.webm", "-show_streams", "-show_chapters")
    assert [(s["codec_type"], s["codec_name"]) for s in probed["streams"]] == [("video", "vp9"), ("audio", "opus")]
    assert [c["tags"]["title"] for c in probed["chapters"]] == ["Intro", "Answer"]
    from PIL import Image

    with Image.open(out / "tiny.gif") as gif:
        durations = []
        for index in range(gif.n_frames):  # Pillow merges identical frames into one longer frame
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert sum(durations) == 3000 and gif.info["loop"] == 0 and gif.size[0] <= 480
    with Image.open(out / "tiny.png") as poster:  # thumbnail: default, the first beat's last frame
        assert poster.size == (854, 480)
    first = json.loads((out / "review.json").read_text(encoding="utf-8"))["beats"][0]
    assert (out / first["still"]).read_bytes() == (out / "tiny.png").read_bytes()
    made = {name: (out / name).stat().st_mtime_ns for name in ("tiny.mp4", "tiny.webm", "tiny.gif")}
    ncfvid("render", "tiny.yaml", "-q", "l", "--draft", cwd=tiny)  # no format asked: nothing is made again
    ncfvid("render", "tiny.yaml", "-q", "l", "--draft", "--format", "webm", cwd=tiny)
    assert {name: (out / name).stat().st_mtime_ns for name in made} == made


def test_handout_one_page_per_beat(tiny: Path) -> None:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (Debian poppler-utils) is not installed; `make setup` installs it")
    result = ncfvid("handout", "tiny.yaml", "--draft", cwd=tiny)
    assert "(4 pages)" in result.stdout
    pdf = tiny / "output" / "tiny" / "tiny.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+4$", info, re.M) and re.search(r"^Title:\s+Tiny$", info, re.M)
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tiny / "page")], check=True)
    assert len(list(tiny.glob("page-*.png"))) == 4
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Three people, three drinks." in text and re.search(r"About \d\.\d stars\.", text)


def _tone_db(mono: np.ndarray, rate: int, freq: float = 3000) -> tuple[float, float]:
    """(level of the tone at `freq`, level of everything else), dB RMS, of a Hann-windowed stretch."""
    window = np.hanning(len(mono))
    spectrum = np.abs(np.fft.rfft(mono * window)) ** 2
    near = np.abs(np.fft.rfftfreq(len(mono), 1 / rate) - freq) <= 30
    scale = 2 / (len(mono) * np.sum(window**2))
    return tuple(10 * np.log10(part * scale + 1e-20) for part in (spectrum[near].sum(), spectrum[~near].sum()))  # type: ignore[return-value]


def test_music_ducks_under_speech_and_never_clips(tmp_path: Path) -> None:
    shutil.copy(DATA / "music.yaml", tmp_path / "music.yaml")
    rate = 44100
    tone = 0.5 * np.sin(2 * np.pi * 3000 * np.arange(2 * rate) / rate)  # 2 s: the music loops
    with wave.open(str(tmp_path / "tone.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    ncfvid("render", "music.yaml", "-q", "l", cwd=tmp_path)  # espeak: real speech with gaps
    with av.open(str(tmp_path / "output" / "music" / "music.mp4")) as container:
        assert container.duration / av.time_base == pytest.approx(13, abs=0.15)  # every beat's `seconds:` kept
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        audio = np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)
    assert np.abs(audio).max() < 0.95, "a sample at (or within 0.5 dB of) full scale"
    mono, size = audio.mean(axis=0), rate // 10
    levels = [_tone_db(mono[i : i + size], rate) for i in range(0, round(9.5 * rate) - size, size // 2)]
    speaking = [tone for tone, other in levels if other > -30]  # act 1 (the music plays): 0-10 s
    gaps = [tone for tone, other in levels if other < -60]
    assert len(speaking) > 10 and len(gaps) > 10, levels
    difference = np.median(gaps) - np.median(speaking)
    assert difference >= 10, f"the music is only {difference:.1f} dB lower under speech"
    assert np.median(gaps) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)) - 18, abs=1.5)  # volume: -18
    ending = [_tone_db(mono[i : i + size], rate)[0] for i in range(round(11 * rate), len(mono) - size, size)]
    assert max(ending) < np.median(gaps) - 40  # act 2 has `music: false`
    out = tmp_path / "output" / "music"
    beats = json.loads((out / "review.json").read_text(encoding="utf-8"))["beats"]
    still = next(b["still"] for b in beats if (b["act"], b["beat"]) == ("answer", "ids"))  # thumbnail: answer.ids
    assert (out / "music.png").read_bytes() == (out / still).read_bytes()
    assert (out / beats[0]["still"]).read_bytes() != (out / still).read_bytes()


def _serve(folder: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    with (folder / "serve.log").open("w") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [str(NCFVID), "serve", "tiny.yaml", "--port", "0", *args],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    line = process.stdout.readline() if process.stdout else ""
    match = re.search(r"at (http://\S+/)", line)
    assert match, line + (folder / "serve.log").read_text()
    return process, match.group(1)


def _stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    server.wait(timeout=10)
    if server.stdout is not None:
        server.stdout.close()


@pytest.fixture
def browser() -> Browser:
    binary = chromium()
    if binary is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; `make setup` installs it)")
    page = Browser(binary)
    yield page
    page.close()


VIDEO = "document.getElementById('video')"


def test_review_page_plays_has_captions_and_seeks(tiny: Path, browser: Browser) -> None:
    server, url = _serve(tiny)
    try:
        browser.goto(url)
        assert browser.wait_for(f"{VIDEO}.readyState >= 3 && {VIDEO}.duration") == pytest.approx(9.5, abs=1)
        assert browser.evaluate(f"{VIDEO}.play().then(() => 'playing')") == "playing"
        browser.wait_for(f"{VIDEO}.currentTime > 0.5", timeout=10)
        cues = browser.wait_for(
            f"(() => {{ const t = {VIDEO}.textTracks[0]; t.mode = 'showing';"
            " return t.cues && t.cues.length && [...t.cues].map(c => [c.startTime, c.text]); })()"
        )
        srt = (tiny / "output" / "tiny" / "tiny.srt").read_text(encoding="utf-8")
        assert len(cues) == srt.count(" --> ") and cues[0][1] == "A tiny test."
        browser.evaluate(f"{VIDEO}.pause()")
        beat = json.loads((tiny / "output" / "tiny" / "review.json").read_text(encoding="utf-8"))["beats"][2]
        browser.click(f"#beat-{beat['act']}-{beat['beat']}")
        assert browser.wait_for(f"{VIDEO}.seeking === false && {VIDEO}.currentTime") == pytest.approx(
            beat["start"], abs=0.01
        )
        time.sleep(0.3)  # the caption of that moment is drawn
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "review-page.png")
    finally:
        _stop(server)


def _clips(out: Path) -> dict[str, int]:
    """'act/folder' -> inode of its clip.mp4 (a beat served from an earlier drawing shares its inode)."""
    return {
        f"{p.parent.parent.name}/{p.parent.name}": p.stat().st_ino
        for p in (out / "cache" / "beats").glob("*/*/clip.mp4")
    }


def test_watch_rerenders_the_edited_beat_and_the_page_reloads(tmp_path: Path, browser: Browser) -> None:
    shutil.copy(DATA / "tiny.yaml", tmp_path / "tiny.yaml")
    server, url = _serve(tmp_path, "--watch", "--draft")
    out = tmp_path / "output" / "tiny"
    try:
        deadline = time.monotonic() + 300
        while not (out / "review.json").is_file():
            assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        browser.goto(url)
        browser.evaluate("window.notReloaded = true")
        before = _clips(out)
        story = tmp_path / "tiny.yaml"
        story.write_text(story.read_text(encoding="utf-8").replace("Ann and Coffee.", "Ann meets Coffee."), "utf-8")
        browser.wait_for("!window.notReloaded && document.body.innerText.includes('Ann meets Coffee.')", timeout=300)
        after = _clips(out)
        new = {name: inode for name, inode in after.items() if name not in before}
        drawn = [name for name, inode in new.items() if inode not in before.values()]
        assert [name.split("-")[0] for name in drawn] == ["answer/00"], (new, (tmp_path / "serve.log").read_text())
        assert all(name.startswith("answer/") for name in new)
        assert "changed: rendering the changed beats" in (tmp_path / "serve.log").read_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "review-page-after-watch.png")
        # A broken save: the error is printed at its line, the last good video stays served.
        published = (out / "review.json").read_text(encoding="utf-8")
        story.write_text(story.read_text(encoding="utf-8").replace("user: Ann,", "user: Anne,"), "utf-8")
        log = tmp_path / "serve.log"
        deadline = time.monotonic() + 60
        while "the render failed" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert re.search(r"tiny\.yaml:\d+:\d+: error: .*'Anne' is not a user", log.read_text()), log.read_text()
        assert (out / "review.json").read_text(encoding="utf-8") == published and server.poll() is None
        assert browser.evaluate("document.body.innerText.includes('Ann meets Coffee.')")
    finally:
        _stop(server)


def test_each_language_has_its_own_tagged_track_page_and_handout(tmp_path: Path) -> None:
    for name in ("tiny.yaml", "tiny.de.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    ncfvid("render", "tiny.yaml", "-q", "l", "--draft", cwd=tmp_path)
    ncfvid("render", "tiny.yaml", "-q", "l", "--draft", "--lang", "de", cwd=tmp_path)
    out = tmp_path / "output" / "tiny"
    for video, language, page in (("tiny.mp4", "eng", "index.html"), ("tiny.de.mp4", "deu", "index.de.html")):
        streams = ffprobe(out / video, "-show_streams")["streams"]
        assert [s["tags"]["language"] for s in streams if s["codec_type"] == "subtitle"] == [language]
        data = json.loads((out / page.replace("index", "review").replace(".html", ".json")).read_text("utf-8"))
        assert data["video"] == video and data["page"] == page
        assert all((out / beat["still"]).is_file() for beat in data["beats"])  # neither render pruned the other's
        assert f'src="{video}?v={data["version"]}"' in (out / page).read_text(encoding="utf-8")
    assert "Einleitung" in (out / "tiny.de.chapters.txt").read_text(encoding="utf-8")
    result = ncfvid("handout", "tiny.yaml", "--draft", "--lang", "de", cwd=tmp_path)
    assert "tiny.de.pdf  (4 pages)" in result.stdout
    text = subprocess.run(["pdftotext", str(out / "tiny.de.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Drei Leute, drei Getränke." in text and "Winzig" in text
