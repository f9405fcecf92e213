"""Issue 3, narration: each acceptance point proved on real renders (and a few checks without one).

The render tests share one module fixture, `renders`, that starts every render they need at once (they
share the CPU better together than one after another) and hands each test the ones it asks for:

- ``espeak``/``espeak_again``: tiny.yaml spoken by espeak-ng, in two fresh output folders;
- ``recorded``: the same storyboard with a recording for beat ``hello`` in voiceover/<stem>/ and one
  for beat ``ids`` through its ``audio:`` key;
- ``draft``/``burned``: a variant with a lexicon, a separate spoken form, a long narration and an
  explicit ``seconds:``, rendered with ``--draft``, without and with ``--burn-captions``;
- ``ncf``: ``ncfvid render storyboards/ncf.yaml -q l`` in the repository, as the issue says (its act
  cache makes this quick when output/ncf is fresh; about 70 s otherwise).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import yaml
from srt import read_srt  # tests/srt.py

from ncfvid.narration import render_narration
from ncfvid.speech.draft import draft_seconds
from ncfvid.speech.lexicon import apply_lexicon
from ncfvid.storydata import Theme
from ncfvid.subtitles import Cue
from ncfvid.video.probe import probe

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SEED_NARRATIVE = [ROOT.parent / "shared" / "seed" / "narrative.md", Path("/work/shared/seed/narrative.md")]
FPS = 15  # -q l
FRAME = 1 / FPS
RATE, PAUSE = 200, 0.2  # tiny.yaml's voice
HELLO_SECONDS, IDS_SECONDS = 4.0, 3.0  # the recordings
LONG_NARRATION = (
    "Three people, three drinks, and one missing rating that the model will fill in for Ann and her coffee today."
)


# --- storyboards and helpers -------------------------------------------------------------------------


def tiny(edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    story = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    story["voice"]["engine"] = "espeak"
    if edit is not None:
        edit(story)
    return story


def beat(story: dict[str, Any], beat_id: str) -> dict[str, Any]:
    return next(b for act in story["acts"] for b in act["beats"] if b["id"] == beat_id)


def write_story(folder: Path, stem: str, story: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(story, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def tone(path: Path, seconds: float, rate: int = 22050) -> Path:
    """A 16-bit mono WAV of a 220 Hz tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def draft_story(story: dict[str, Any]) -> None:
    story["voice"]["lexicon"] = {"NCF": "N C F"}
    hello = beat(story, "hello")
    hello["narration"] = "A tiny NCF test."
    hello["seconds"] = 5.0  # much longer than its narration
    beat(story, "table")["narration"] = LONG_NARRATION
    beat(story, "ids")["spoken"] = "Anne and coffee, please."


def recorded_story(story: dict[str, Any]) -> None:
    beat(story, "ids")["audio"] = "takes/ids.wav"


@dataclass
class Render:
    """One `ncfvid render` run in a subprocess (started early, waited for when a test needs it)."""

    name: str
    args: list[str]
    cwd: Path
    out: Path
    video: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    done: bool = False

    def start(self, logs: Path) -> None:
        self.log = logs / f"{self.name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT)

    def wait(self) -> Render:
        assert self.process is not None and self.log is not None
        if not self.done:
            code = self.process.wait(timeout=900)
            assert code == 0, self.log.read_text(encoding="utf-8", errors="replace")
            self.done = True
        return self

    @property
    def keys(self) -> list[str]:
        """The beat cache keys the video was joined from, in order."""
        manifest = self.video.with_name(f".{self.video.name}.clips.json")
        return json.loads(manifest.read_text(encoding="utf-8"))

    def beat_dirs(self, act: str) -> list[Path]:
        """The act's beat clip folders the video was joined from, in order."""
        folder = self.out / "cache" / "beats" / act
        return [found for key in self.keys for found in folder.glob(f"*-{key}")]

    def act_length(self, act: str) -> float:
        return sum(probe(folder / "clip.mp4").video_duration for folder in self.beat_dirs(act))

    def cues(self, act: str) -> list[dict[str, Any]]:
        """The act's captions, one per beat (beat, start, end of speech, text), on the act's clock."""
        cues, offset = [], 0.0
        for folder in self.beat_dirs(act):
            for cue in json.loads((folder / "cues.json").read_text(encoding="utf-8")):
                cues.append({**cue, "start": cue["start"] + offset, "end": cue["end"] + offset})
            offset += probe(folder / "clip.mp4").video_duration
        return cues

    def srt(self) -> list[Cue]:
        return read_srt(self.video.with_suffix(".srt").read_text(encoding="utf-8"))


def tiny_render(name: str, storyboard: Path, *extra: str) -> Render:
    """`ncfvid render <stem>.yaml -q l [extra] -o <name>` in the storyboard's folder (so voiceover/<stem>/ is
    found under the working directory)."""
    out = storyboard.parent / name
    args = [str(NCFVID), "render", storyboard.name, "-q", "l", *extra, "-o", name]
    acts = [extra[i + 1] for i, arg in enumerate(extra) if arg == "--act"]
    video = out / ("-".join([storyboard.stem, *acts]) + ".mp4")
    return Render(name, args, storyboard.parent, out, video)


def make_renders(root: Path) -> dict[str, Render]:
    espeak = [write_story(root / name, "t", tiny()) for name in ("espeak", "espeak_again")]
    rec = write_story(root / "recorded", "t", tiny(recorded_story))
    tone(rec.parent / "voiceover" / "t" / "hello.wav", HELLO_SECONDS)  # found by the beat's id
    tone(rec.parent / "takes" / "ids.wav", IDS_SECONDS)  # named by the beat's `audio:` key
    draft = write_story(root / "draft", "d", tiny(draft_story))
    ncf_out = ROOT / "output" / "ncf"
    return {
        "espeak": tiny_render("espeak", espeak[0]),
        "espeak_again": tiny_render("espeak_again", espeak[1]),
        "recorded": tiny_render("recorded", rec),
        "draft": tiny_render("plain", draft, "--draft"),
        "burned": tiny_render("burned", draft, "--draft", "--burn-captions", "--act", "intro"),
        # Exactly the command, in the repository: output/ncf/, whose act cache is reused when fresh.
        "ncf": Render(
            "ncf",
            [str(NCFVID), "render", "storyboards/ncf.yaml", "-q", "l"],
            ROOT,
            ncf_out,
            ncf_out / "ncf.mp4",
        ),
    }


#: The renders each test uses; the fixture starts those of the selected tests all at once.
NEEDS = {
    "test_recording_sets_the_beat_length": ("espeak", "recorded"),
    "test_two_espeak_renders_give_the_same_audio_bytes": ("espeak", "espeak_again"),
    "test_ncf_render_video_audio_and_captions": ("ncf",),
    "test_ncf_captions_cover_the_seed_narration_in_order": ("ncf",),
    "test_draft_durations_lexicon_captions_and_offsets": ("draft",),
    "test_burned_captions_sit_in_their_own_band": ("draft", "burned"),
}


@dataclass
class Renders:
    jobs: dict[str, Render]
    logs: Path

    def __getitem__(self, name: str) -> Render:
        job = self.jobs[name]
        if job.process is None:
            job.start(self.logs)
        return job.wait()


@pytest.fixture(scope="module")
def renders(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Renders]:
    root = tmp_path_factory.mktemp("narration")
    (root / "logs").mkdir()
    r = Renders(make_renders(root), root / "logs")
    selected = {item.name.split("[")[0] for item in request.session.items if item.module is request.module}
    for name in sorted({job for test in selected for job in NEEDS.get(test, ())}):
        r.jobs[name].start(r.logs)
    yield r
    for job in r.jobs.values():
        if job.process is not None and job.process.poll() is None:
            job.process.kill()
            job.process.wait()


def skip_if_library_changed(first: Render, second: Render) -> None:
    """The same storyboard gives the same act keys unless ncfvid's library changed in between."""
    if first.keys != second.keys:
        pytest.skip("ncfvid's scene library changed between the renders (someone is editing it)")


def beat_spans(cues: list[dict[str, Any]], act_length: float) -> dict[str, tuple[float, float, float]]:
    """beat -> (start, end of speech, start of the next beat or the act's end)."""
    ends = [c["start"] for c in cues[1:]] + [act_length]
    return {c["beat"]: (c["start"], c["end"], nxt) for c, nxt in zip(cues, ends, strict=True)}


def decoded_audio(video: Path) -> np.ndarray:
    with av.open(str(video)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])


def aac_packets(video: Path) -> bytes:
    with av.open(str(video)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        return b"".join(bytes(p) for p in container.demux(stream) if p.size)


def frame_at(video: Path, seconds: float) -> np.ndarray:
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds - 1e-6:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {seconds} s in {video}")


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def check_cue_lines(cues: list[Cue]) -> None:
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2, cue.text
        assert all(len(line) <= 42 or " " not in line for line in lines), cue.text


# --- recorded narration --------------------------------------------------------------------------


@pytest.mark.render
def test_recording_sets_the_beat_length(renders: Renders) -> None:
    synth, rec = renders["espeak"], renders["recorded"]
    for act, beat_id, seconds in (("intro", "hello", HELLO_SECONDS), ("answer", "ids", IDS_SECONDS)):
        before = beat_spans(synth.cues(act), synth.act_length(act))[beat_id]
        after = beat_spans(rec.cues(act), rec.act_length(act))[beat_id]
        # The speech is the recording, and the beat is the recording plus the storyboard's pause.
        assert after[1] - after[0] == pytest.approx(seconds, abs=1e-3), (beat_id, after)
        assert after[2] - after[0] == pytest.approx(seconds + PAUSE, abs=FRAME), (beat_id, after)
        assert abs((before[2] - before[0]) - (after[2] - after[0])) > 1.0, (beat_id, before, after)
    # The SRT follows: the recorded beat's caption lasts the recording.
    hello = next(c for c in rec.srt() if c.text == "A tiny test.")
    assert hello.end - hello.start == pytest.approx(HELLO_SECONDS, abs=1e-3)
    # The recorded tone is what the video plays at the start.
    audio = decoded_audio(rec.video)
    assert np.abs(audio[: 48000 * 2]).max() > 0.2


def test_find_recordings_by_beat_id_and_audio_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ncfvid.pipeline import find_recordings, load

    storyboard = write_story(tmp_path / "story", "t", tiny(recorded_story))
    hello = tone(storyboard.parent / "voiceover" / "t" / "hello.wav", 0.5)
    ids = tone(storyboard.parent / "takes" / "ids.wav", 0.5)
    expected = {"intro.hello": str(hello.resolve()), "answer.ids": str(ids.resolve())}
    monkeypatch.chdir(storyboard.parent)  # voiceover/<stem>/ under the working directory
    assert find_recordings(load(Path("t.yaml"))) == expected
    monkeypatch.chdir(tmp_path)  # ... or beside the storyboard
    assert find_recordings(load(storyboard)) == expected
    elsewhere = tone(tmp_path / "voiceover" / "t" / "intro" / "hello.wav", 0.5)  # <act>/<beat> wins
    assert find_recordings(load(storyboard))["intro.hello"] == str(elsewhere.resolve())


# --- determinism -----------------------------------------------------------------------------------


@pytest.mark.render
def test_two_espeak_renders_give_the_same_audio_bytes(renders: Renders) -> None:
    first, second = renders["espeak"], renders["espeak_again"]
    skip_if_library_changed(first, second)
    assert first.out != second.out
    # Stronger than the decoded samples: the AAC packets in the two mp4s are byte-identical...
    packets = aac_packets(first.video)
    assert len(packets) > 10_000 and packets == aac_packets(second.video)
    samples = decoded_audio(first.video)
    assert np.array_equal(samples, decoded_audio(second.video))
    assert np.abs(samples).max() > 0.1  # and it is speech, not silence
    # ... and so are the synthesised WAVs in the two audio caches.
    wavs = [sorted((r.out / "cache" / "speech").rglob("*.wav")) for r in (first, second)]
    assert [p.relative_to(first.out) for p in wavs[0]] == [p.relative_to(second.out) for p in wavs[1]]
    assert len(wavs[0]) == 4
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(*wavs, strict=True))


# --- the NCF storyboard ----------------------------------------------------------------------------


def seed_lines() -> list[str]:
    path = next((p for p in SEED_NARRATIVE if p.is_file()), None)
    if path is None:
        pytest.skip("the seed's narrative.md is not here")
    return [line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.render
def test_ncf_render_video_audio_and_captions(renders: Renders) -> None:
    ncf = renders["ncf"]
    info = probe(ncf.video)
    assert info.has_audio and info.audio_codec == "aac" and info.audio_duration is not None
    assert abs(info.audio_duration - info.video_duration) <= 0.2, info
    assert np.abs(decoded_audio(ncf.video)).max() > 0.1  # espeak-ng speaks
    srt = ncf.srt()
    vtt = read_srt(ncf.video.with_suffix(".vtt").read_text(encoding="utf-8"))  # same timing syntax
    assert srt and [(c.start, c.end) for c in srt] == [(c.start, c.end) for c in vtt]
    times = [t for c in srt for t in (c.start, c.end)]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= info.video_duration + 0.001
    check_cue_lines(srt)
    # The concatenation beat starts its animation when "concatenate" is spoken.
    assert 'self.wait_until_bookmark("concatenate")' in (ncf.out / "scenes.py").read_text(encoding="utf-8")
    # Every beat lasts at least its speech plus the pause (0.4 s in ncf.yaml), and the act as long as its beats.
    acts = [
        act["id"] for act in yaml.safe_load((ROOT / "storyboards" / "ncf.yaml").read_text(encoding="utf-8"))["acts"]
    ]
    for act in acts:
        length = ncf.act_length(act)
        for start, end, nxt in beat_spans(ncf.cues(act), length).values():
            assert nxt - start >= end - start + 0.4 - FRAME, (act, start, end, nxt)


@pytest.mark.render
def test_ncf_captions_cover_the_seed_narration_in_order(renders: Renders) -> None:
    from ncfvid.pipeline import load, prepare

    lines = seed_lines()
    ncf = renders["ncf"]
    context = prepare(load(ROOT / "storyboards" / "ncf.yaml"), ncf.out / "cache").context
    prediction = render_narration("{{ prediction }}", context)
    quoted = [i for i, line in enumerate(lines) if "1.2 out of 5" in line]
    assert len(quoted) == 1
    lines[quoted[0]] = lines[quoted[0]].replace("1.2 out of 5", f"{prediction} out of 5")
    for path in (ncf.video.with_suffix(".srt"), ncf.video.with_suffix(".vtt")):
        text = words(" ".join(c.text for c in read_srt(path.read_text(encoding="utf-8"))))
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        position = 0
        for line in lines:
            found = text.find(words(line), position)
            assert found >= 0, f"{path.name}: not found after {position}: {line!r}"
            position = found + len(words(line))
        assert position == len(text)  # nothing but the seed's narration


# --- draft voice, lexicon, caption splitting and timing, act offsets ----------------------------------


@pytest.mark.render
def test_draft_durations_lexicon_captions_and_offsets(renders: Renders) -> None:
    draft = renders["draft"]
    story = tiny(draft_story)
    lexicon = story["voice"]["lexicon"]
    intro, answer = draft.cues("intro"), draft.cues("answer")
    intro_length = draft.act_length("intro")
    spans = beat_spans(intro, intro_length) | beat_spans(answer, draft.act_length("answer"))
    # Draft: each beat's speech lasts its spoken words at the storyboard's rate (lexicon and `spoken:` applied).
    for act in story["acts"]:
        for b in act["beats"]:
            caption = render_narration(b["narration"], {"prediction": 0})  # word count only
            spoken = apply_lexicon(b.get("spoken") or caption, lexicon)
            start, end, _ = spans[b["id"]]
            assert end - start == pytest.approx(draft_seconds(spoken, RATE), abs=1e-3), b["id"]
    assert spans["hello"][1] - spans["hello"][0] == pytest.approx(6 * 60 / RATE)  # "A tiny N C F test."
    assert np.abs(decoded_audio(draft.video)).max() < 1e-3  # silent
    # The caption ends when the speech ends; the explicit `seconds:` holds the beat on.
    start, end, nxt = spans["hello"]
    assert nxt - start == pytest.approx(5.0, abs=FRAME) and end - start < 2.0
    srt = draft.srt()
    hello = next(c for c in srt if "tiny" in c.text)
    assert hello.end == pytest.approx(end, abs=1e-3) and hello.end < nxt - 3
    # The lexicon and the spoken form change only what is spoken: captions show the narration.
    text = " ".join(c.text.replace("\n", " ") for c in srt)
    assert "A tiny NCF test." in text and "N C F" not in text
    assert "Ann and Coffee." in text and "Anne" not in text
    # Long narration is split into cues of at most two lines of at most 42 characters.
    check_cue_lines(srt)
    long_cues = [c for c in srt if c.start >= spans["table"][0] - 1e-3 and c.end <= spans["table"][1] + 1e-3]
    assert len(long_cues) >= 2 and any("\n" in c.text for c in long_cues)
    assert words(" ".join(c.text for c in long_cues)) == LONG_NARRATION
    assert long_cues[-1].end == pytest.approx(spans["table"][1], abs=1e-3)
    # Acts are offset: the second act's first cue starts where the first act's video ends.
    first_of_answer = next(c for c in srt if c.text == "Ann and Coffee.")
    assert answer[0]["start"] == 0.0
    assert first_of_answer.start == pytest.approx(intro_length, abs=1e-3)
    assert intro_length == pytest.approx(spans["table"][1] + PAUSE, abs=FRAME)


def test_lexicon_and_spoken_form_change_only_the_spoken_text(tmp_path: Path) -> None:
    storyboard = write_story(tmp_path, "d", tiny(draft_story))
    result = subprocess.run(
        [str(NCFVID), "compile", storyboard.name, "-o", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    module = (tmp_path / "out" / "scenes.py").read_text(encoding="utf-8")
    assert re.search(r'text="A tiny N C F test\.",\n\s+subcaption="A tiny NCF test\.",', module)
    assert re.search(r'text="Anne and coffee, please\.",\n\s+subcaption="Ann and Coffee\.",', module)
    # The quoted number is the same in what is said and what is captioned.
    said = re.search(r'text="About ([\d.]+) stars\.",', module)
    assert said is not None and 'subcaption="About' not in module


# --- burned-in captions --------------------------------------------------------------------------


@pytest.mark.render
def test_burned_captions_sit_in_their_own_band(renders: Renders) -> None:
    plain, burned = renders["draft"], renders["burned"]
    cue = next(c for c in burned.srt() if "\n" in c.text)  # a two-line cue
    when = (cue.start + cue.end) / 2
    theme = Theme()
    pictures = {}
    for name, job in (("plain", plain), ("burned", burned)):
        picture = frame_at(job.video, when)
        pictures[name] = picture
        height = picture.shape[0]
        band = picture[int(height * 0.8) :]
        captionish = np.abs(band.astype(int) - rgb(theme.text)).sum(axis=2) < 60
        if name == "plain":
            assert captionish.sum() == 0
        else:
            assert captionish.sum() > 300
    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(pictures["burned"]).save("/tmp/burn.png")
    # The caption does not touch the content: the lowest block of non-background rows (after a gap of
    # at least 10 background rows) is the caption, in the bottom fifth, with content above the gap.
    picture = pictures["burned"].astype(int)
    height, width = picture.shape[:2]
    busy_pixels = np.abs(picture - rgb(theme.background)).sum(axis=2) > 40
    rows = np.flatnonzero(busy_pixels.any(axis=1))
    gaps = [i for i in range(1, len(rows)) if rows[i] - rows[i - 1] > 10]
    assert gaps, "no gap between content and caption"
    caption_top, content_bottom = rows[gaps[-1]], rows[gaps[-1] - 1]
    assert caption_top >= 0.8 * height and content_bottom < caption_top - 10
    caption_rows = busy_pixels[caption_top:]
    assert (np.abs(picture[caption_top:] - rgb(theme.text)).sum(axis=2) < 60).sum() > 300
    assert not caption_rows[-3:].any()  # inside the frame
    columns = np.flatnonzero(caption_rows.any(axis=0))
    assert columns[0] > 5 and columns[-1] < width - 5
    assert abs((columns[0] + columns[-1]) / 2 - width / 2) < 10  # centred


# --- a missing engine --------------------------------------------------------------------------------


def one_error_line(output: str) -> str:
    """The one line that says what is wrong.

    The CLI's diagnostics may add only an indented excerpt of the storyboard (the line and a caret)
    and their count line; anything else (a traceback, a second error) fails.
    """
    lines = [line for line in output.splitlines() if line.strip()]
    assert ": error: " in lines[0], output
    rest = lines[1:]
    excerpt = [line for line in rest if line.startswith(" ")]
    assert len(excerpt) in (0, 2), output
    if excerpt:
        assert set(excerpt[1].strip()) <= {"^", "~"}, output
    others = [line for line in rest if not line.startswith(" ")]
    assert len(others) <= 1, output
    assert all(re.fullmatch(r"\d+ errors?, \d+ warnings?", line) for line in others), output
    return lines[0]


def cli_render(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    storyboard = write_story(tmp_path, "t", tiny())
    return subprocess.run(
        [str(NCFVID), "render", storyboard.name, "-q", "l", "-o", "out", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_missing_engine_package_is_one_clear_line(tmp_path: Path) -> None:
    if importlib.util.find_spec("gtts") is not None:
        pytest.skip("gtts is installed here")
    result = cli_render(tmp_path, "--engine", "gtts")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    error = one_error_line(result.stderr)
    assert "pip install" in error and "--draft" in error and "gtts" in error
    assert not (tmp_path / "out" / "t.mp4").exists()


def test_missing_espeak_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ncfvid.cli import cli
    from ncfvid.speech import EngineUnavailable, espeakng

    def missing() -> None:
        raise EngineUnavailable(espeakng.INSTALL_HINT)

    monkeypatch.setattr(espeakng, "check_available", missing)
    storyboard = write_story(tmp_path, "t", tiny())
    result = CliRunner().invoke(cli, ["render", str(storyboard), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    error = one_error_line(result.stderr)
    assert "apt-get install espeak-ng" in error and "--draft" in error
    assert error.startswith(f"{storyboard}:"), error  # points at the storyboard's voice.engine line


def test_numbers_follow_the_language_decimal_separator() -> None:
    context = {"prediction": 1.6, "epochs": 400, "rmse": 0.25}
    text = "{{ prediction }} nach {{ epochs }} Epochen, Fehler {{ rmse }}"
    assert render_narration(text, context, decimal=",") == "1,6 nach 400 Epochen, Fehler 0,25"
    assert render_narration(text, context) == "1.6 nach 400 Epochen, Fehler 0.25"
