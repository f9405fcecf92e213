"""Festival, the default voice (issue 11): real synthesis with word times, captions on the words'
sound, the cache (a line is synthesised once), text it cannot say, and a missing Festival."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from ncfvid.speech import EngineUnavailable, festivallines, registry, word_sounds
from ncfvid.speech import festivalengine as festival
from ncfvid.speech.ahead import synthesize_ahead
from ncfvid.speech.entries import synthesis_count
from ncfvid.subtitles import split_caption

pytestmark = pytest.mark.skipif(festival.festival_program() is None, reason="Festival is not installed")

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
# Three sentences, with the lexicon's spelling of NCF and a number: cues split inside and between them.
LINE = (
    "Hi everyone. Today, we're going to dive into one of the most powerful techniques in modern "
    "recommender systems: Neural Collaborative Filtering, or N C F. It predicts that Alice would rate "
    "Shrek a 4.2 out of 5."
)
CAPTION = LINE.replace("N C F", "NCF")
TOLERANCE = 0.15  # the issue's bound on a cue edge against the words' sound


@pytest.fixture(scope="module")
def process():
    speaker = festival.FestivalProcess()
    yield speaker
    speaker.close()


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float), wav.getframerate()


def voiced(samples: np.ndarray, rate: int, hop_seconds: float = 0.005) -> tuple[np.ndarray, float]:
    """Which 5 ms frames hold speech (RMS above 2% of the loudest frame), and the frame length."""
    hop = int(rate * hop_seconds)
    frames = len(samples) // hop
    rms = np.sqrt((samples[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))
    return rms > 0.02 * rms.max(), hop / rate


def check_cues_on_sound(cues, samples: np.ndarray, rate: int) -> None:
    """Each cue starts within TOLERANCE of its first word's sound and ends within TOLERANCE of its
    last word's, judged on the audio alone: sound begins near the start (none of the cue's audio
    before it unless the previous cue is still speaking) and stops near the end."""
    loud, frame = voiced(samples, rate)
    times = np.arange(len(loud)) * frame
    heard = times[loud]
    for index, cue in enumerate(cues):
        # Sound starts within TOLERANCE after the cue starts ...
        after = heard[heard >= cue.start - TOLERANCE]
        assert len(after) and after[0] <= cue.start + TOLERANCE, (cue, after[:1])
        # ... and the TOLERANCE before it is silent, unless the cue before ends right there.
        before = heard[(heard > 0) & (heard < cue.start - TOLERANCE)]
        previous_end = cues[index - 1].end if index else 0.0
        if len(before):
            assert before[-1] <= previous_end + TOLERANCE, (cue, before[-1], previous_end)
        # Sound goes on until within TOLERANCE of the end, and is over TOLERANCE after it
        # (unless the next cue starts there).
        until = heard[heard <= cue.end + TOLERANCE]
        assert len(until) and until[-1] >= cue.end - TOLERANCE - frame, (cue, until[-1:])
        next_start = cues[index + 1].start if index + 1 < len(cues) else np.inf
        later = heard[(heard > cue.end + TOLERANCE) & (heard < next_start - TOLERANCE)]
        assert not len(later), (cue, later[:3])
    # Every moment of speech is under some cue (give or take TOLERANCE).
    for t in heard:
        assert any(c.start - TOLERANCE <= t <= c.end + TOLERANCE for c in cues), t


def test_festival_speaks_with_word_times(tmp_path: Path) -> None:
    with festival.FestivalPool() as pool:
        data, made = festivallines.line_data(LINE, tmp_path, pool.speak)
    assert made
    sounds = word_sounds(data)
    assert [w for _, _, w in sounds] == [w.strip(".,:") for w in LINE.split()]
    starts = [a for a, _, _ in sounds]
    assert starts == sorted(starts) and all(a < b for a, b, _ in sounds)
    samples, rate = read_wav(tmp_path / data["original_audio"])
    assert rate == 32000 and len(samples) / rate == pytest.approx(sounds[-1][1], abs=0.5)
    assert 8 < len(samples) / rate < 16  # 33 words at about 163 a minute


@pytest.mark.parametrize("engine", ["festival", "espeak"])
def test_caption_cues_start_and_end_on_the_words_sound(tmp_path: Path, engine: str) -> None:
    service = registry.make_service(engine, cache_dir=tmp_path)
    data = service._wrap_generate_from_text(LINE)
    samples, rate = read_wav(tmp_path / data["original_audio"])
    sounds = word_sounds(data)
    assert sounds, "the engine gave no word times"
    # Short cues, so that some start and end inside a sentence as well as between sentences.
    cues = split_caption(CAPTION, 0.0, len(samples) / rate, max_chars=24, max_lines=1, word_sounds=sounds)
    assert len(cues) >= 6
    check_cues_on_sound(cues, samples, rate)


def test_same_text_same_bytes_and_rate(tmp_path: Path, process: festival.FestivalProcess) -> None:
    text, _ = festival.speakable("To combine them, we simply concatenate them.")
    first = process.speak(text, 1.0)
    again = festival.FestivalProcess()
    try:
        assert again.speak(text, 1.0).pcm == first.pcm  # another process, the same bytes
    finally:
        again.close()
    faster = process.speak(text, 1.25)
    assert len(faster.pcm) / len(first.pcm) == pytest.approx(1 / 1.25, rel=0.1)
    assert faster.words[-1][2] / first.words[-1][2] == pytest.approx(1 / 1.25, rel=0.1)  # the times follow


def test_a_line_is_synthesised_once(tmp_path: Path) -> None:
    lines = ["One line here.", 'Another line, with a <bookmark mark="x"/>mark.', "A third line."]
    first = synthesize_ahead("festival", {"rate": 165}, lines, tmp_path, workers=2)
    assert first is not None and (first.lines, first.synthesised) == (3, 3)
    again = synthesize_ahead("festival", {"rate": 165}, lines, tmp_path, workers=2)
    assert again is not None and again.synthesised == 0
    edited = synthesize_ahead("festival", {"rate": 165}, [*lines[:2], "A third line, edited."], tmp_path, workers=2)
    assert edited is not None and edited.synthesised == 1
    assert synthesize_ahead("espeak", {}, lines, tmp_path, workers=2) is None  # fast enough in the jobs
    # The service finds what was synthesised ahead (the same key), with this call's bookmark.
    service = registry.make_service("festival", cache_dir=tmp_path, options={"rate": 165})
    data = service._wrap_generate_from_text(lines[1])
    assert service.synth_count == 0
    marks = [b for b in data["word_boundaries"] if b["boundary_type"] == "Bookmark"]
    words = {b["text"]: b["audio_offset"] for b in data["word_boundaries"] if b["boundary_type"] == "Word"}
    assert words["mark"] == (marks[0]["audio_offset"] if marks else words["mark"])
    assert len(list(tmp_path.glob("festival-*.wav"))) == 4


@pytest.mark.parametrize(
    "text",
    ["😀🎉", "中文字幕", "∑ ∫ → ≠", "Naïve café — “quoted” … résumé 😀 done", 'back\\slash "quote" (paren) ;;', ""],
)
def test_text_it_cannot_say_never_crashes_or_hangs(
    tmp_path: Path, process: festival.FestivalProcess, text: str
) -> None:
    started = time.perf_counter()
    data, _ = festivallines.line_data(" ".join(text.split()), tmp_path, process.speak)
    assert time.perf_counter() - started < 20
    samples, rate = read_wav(tmp_path / data["original_audio"])
    assert len(samples) > 0
    sounds = word_sounds(data)
    assert len(sounds) == sum(1 for w in text.split() if any(c.isalnum() for c in w))
    if "done" in text:
        assert sounds[-1][2] == "done" and sounds[-1][1] > sounds[-1][0]  # the speakable words are spoken


def test_speakable_keeps_each_token_s_place() -> None:
    text, origin = festival.speakable("Alice—her 'taste twins' 😀 café")
    assert text == "Alice, her 'taste twins' cafe"
    assert origin == [0, 0, 1, 2, 4]


def test_missing_festival_or_voice_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(festival, "festival_program", lambda: None)
    with pytest.raises(EngineUnavailable) as missing:
        registry.check_engine("festival")
    message = str(missing.value)
    assert "\n" not in message and "apt-get install festival festvox-us-slt-hts" in message
    assert "--engine espeak" in message
    monkeypatch.undo()
    with pytest.raises(EngineUnavailable, match="Festival has no voice 'no_such_voice'"):
        registry.check_engine("festival", {"voice": "no_such_voice"})


def test_render_without_festival_names_the_package_and_the_engine_line(tmp_path: Path) -> None:
    story = (
        (ROOT / "tests" / "data" / "tiny.yaml").read_text(encoding="utf-8").replace("engine: draft", "engine: festival")
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(story, encoding="utf-8")
    line = next(i for i, text in enumerate(story.splitlines(), 1) if "engine: festival" in text)
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}  # no festival on the PATH
    result = subprocess.run(
        [str(NCFVID), "render", str(path), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode != 0
    error = result.stderr.strip()
    assert error.startswith(f"{path}:{line}:"), error  # the storyboard's voice.engine line
    first = error.splitlines()[0]
    assert "apt-get install festival festvox-us-slt-hts" in first and "--engine espeak" in first
    assert "Traceback" not in error


def test_render_synthesises_each_line_once_unchanged_nothing_edited_one(tmp_path: Path) -> None:
    """tiny.yaml with Festival: the cold render speaks its 4 lines once (ahead of and beside its two
    jobs, which wait for them rather than speak them again), an unchanged render none, an edit one."""
    story = (ROOT / "tests" / "data" / "tiny.yaml").read_text(encoding="utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text(story.replace("engine: draft", "engine: festival"), encoding="utf-8")
    out = tmp_path / "out"
    store = out / "cache" / "speech"

    def render() -> str:
        command = [str(NCFVID), "render", str(path), "-o", str(out), "--no-check"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return result.stdout

    lines = len(re.findall(r"^\s+narration:", story, re.M))
    first = render()
    assert synthesis_count(store) == lines, (store / "synthesised.log").read_text()
    assert f"Spoke {lines} of {lines} line(s) with festival" in first
    assert not list((store / "pending").glob("*.txt"))  # the pending list is gone with the render
    render()
    assert synthesis_count(store) == lines  # unchanged: nothing synthesised
    path.write_text(path.read_text(encoding="utf-8").replace("A tiny test.", "A tiny test, edited."))
    render()
    assert synthesis_count(store) == lines + 1
    srt = (out / "tiny.srt").read_text(encoding="utf-8")
    assert "A tiny test, edited." in srt


def test_checking_and_speaking_ahead_import_no_manim(tmp_path: Path) -> None:
    # `ncfvid render` checks the engine and speaks ahead in its own process, which never loads Manim.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ncfvid.speech.registry import check_engine\n"
        "from ncfvid.speech.ahead import synthesize_ahead\n"
        "check_engine('festival')\n"
        f"synthesize_ahead('festival', {{}}, ['Hello.'], Path({str(tmp_path)!r}), 1)\n"
        "print(sorted(m for m in ('manim', 'manim_voiceover') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_lexicon_word_mapped_to_nothing_is_an_error_at_its_line(tmp_path: Path) -> None:
    story = (ROOT / "tests" / "data" / "tiny.yaml").read_text(encoding="utf-8")
    story = story.replace("  pause: 0.2\n", '  pause: 0.2\n  lexicon:\n    Ann: Anne\n    Coffee: " ... "\n')
    path = tmp_path / "tiny.yaml"
    path.write_text(story, encoding="utf-8")
    line = next(i for i, text in enumerate(story.splitlines(), 1) if text.strip().startswith("Coffee:"))
    result = subprocess.run([str(NCFVID), "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    first = (result.stdout + result.stderr).strip().splitlines()[0]
    assert first.startswith(f"{path}:{line}:") and "maps 'Coffee' to nothing that can be spoken" in first, first


@pytest.mark.parametrize("engine", ["festival", "espeak"])
def test_two_jobs_needing_one_line_at_once_synthesise_it_once(tmp_path: Path, engine: str) -> None:
    # Two halves of one act, drawn side by side, both speak the act's first line (one runs it skipped).
    from concurrent.futures import ThreadPoolExecutor

    services = [registry.make_service(engine, cache_dir=tmp_path) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: s._wrap_generate_from_text(LINE), services))
    assert results[0]["original_audio"] == results[1]["original_audio"]
    assert synthesis_count(tmp_path) == 1
    assert not list(tmp_path.rglob("*.lock"))
