"""Translations (issue 13): a storyboard told in another language from a file beside it.

The render test renders tests/data/tiny.yaml in English and then every translation (`--lang all`:
tiny.de.yaml), and checks the German video, its captions and sound, and that the beats whose
pictures are the same in both languages were not drawn again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ncfvid.diagnostics import UserError
from ncfvid.pipeline import load
from ncfvid.translation import languages, load_translation, translated_storyboard

ROOT = Path(__file__).resolve().parent.parent
NCF = ROOT / "storyboards" / "ncf.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
NCFVID = Path(sys.executable).parent / "ncfvid"


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False, timeout=300
    )


def test_the_german_ncf_is_the_storyboard_in_german() -> None:
    english, german = load(NCF).story, load_translation(NCF, "de").story
    assert languages(NCF) == ["de"] and translated_storyboard(NCF.with_name("ncf.de.yaml")) == (NCF, "de")
    beats = [(x.beats, y.beats) for x, y in zip(english.acts, german.acts, strict=True)]
    pairs = [pair for x, y in beats for pair in zip(x, y, strict=True)]
    assert all(a.narration != b.narration for a, b in pairs), "every beat is narrated in German"
    assert german.voice.engine == "espeak" and german.voice.voice == "de"
    assert "IDs" not in german.voice.lexicon and german.voice.lexicon["Shrek"] == "Schreck"  # its own lexicon
    assert german.video.decimal == "," and german.video.words["epoch"] == "Epoche"
    assert german.data.items == english.data.items and german.data.corner == "Nutzer"
    # the visual's other keys stay: a translated table still highlights Alice x Shrek
    assert german.acts[0].beats[1].show == english.acts[0].beats[1].show.model_copy(
        update={"caption": "Wie würde Alice Shrek bewerten?"}
    )


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    shutil.copy(TINY, path)
    return path


def write(story: Path, text: str, language: str = "de") -> Path:
    path = story.with_name(f"{story.stem}.{language}.yaml")
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = """\
language: de
voice: {engine: espeak, voice: klingonisch}
acts:
  intro:
    beats:
      hello: {narration: Ein Test.}
      tabel: {narration: Drei Leute.}
  answr:
    beats: {}
  answer:
    beats:
      ids: {narration: Ann und Kaffee.}
      fill: {narration: "Etwa {{ predicton }} Sterne."}
"""


def lines_of(text: str, *needles: str) -> list[int]:
    lines = text.splitlines()
    return [next(i for i, line in enumerate(lines, 1) if needle in line) for needle in needles]


def test_every_problem_of_a_translation_at_its_line_at_once(story: Path) -> None:
    path = write(story, BROKEN)
    result = run("validate", path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    voice, unknown_beat, unknown_act, missing = lines_of(BROKEN, "klingonisch", "tabel", "answr", "  intro:")
    expected = [
        rf"tiny\.de\.yaml:{voice}:\d+: error: voice\.voice: no installed espeak-ng voice 'klingonisch' speaks German",
        rf"tiny\.de\.yaml:{unknown_beat}:\d+: error: .*no beat 'tabel'; did you mean 'table'\?",
        rf"tiny\.de\.yaml:{unknown_act}:\d+: error: .*no act 'answr'; did you mean 'answer'\?",
        rf"tiny\.de\.yaml:{missing}:\d+: error: .*beat 'table' of act 'intro' has no German narration",
    ]
    for pattern in expected:
        assert re.search(pattern, result.stderr), (pattern, result.stderr)


def test_a_quote_the_story_does_not_compute_is_found_in_the_translation(story: Path) -> None:
    text = (
        BROKEN.replace("{engine: espeak, voice: klingonisch}", "{}")
        .replace("tabel", "table")
        .replace("answr", "answer_gone")
    )
    text = text.replace("  answer_gone:\n    beats: {}\n", "")
    write(story, text)
    with pytest.raises(UserError) as caught:
        load_translation(story, "de")
    (problem,) = caught.value.diagnostics
    assert problem.file.endswith("tiny.de.yaml") and problem.line == lines_of(text, "predicton")[0]
    assert "{{ predicton }} is not a value the story computes; did you mean 'prediction'?" in problem.message


def test_fallback_turns_a_missing_beat_into_a_warning(story: Path) -> None:
    write(story, "language: de\nfallback: en\nacts:\n  intro:\n    beats:\n      hello: {narration: Hallo.}\n")
    loaded = load_translation(story, "de")
    warned = sorted(d.message.split(" of act")[0] for d in loaded.warnings if d.severity == "warning")
    assert warned == ["beat 'fill'", "beat 'ids'", "beat 'table'"]
    assert loaded.story.acts[0].beats[0].narration == "Hallo."
    assert loaded.story.acts[0].beats[1].narration == "Three people, three drinks."


def test_a_translation_changes_texts_only_and_must_be_yaml(story: Path) -> None:
    beats = "acts:\n  intro:\n    beats:\n      table: {show: {highlight: [{row: Ann}]}}\n"
    write(story, "language: de\nfallback: en\n" + beats)
    with pytest.raises(UserError) as caught:
        load_translation(story, "de")
    errors = [d.message for d in caught.value.diagnostics if d.severity == "error"]
    assert len(errors) == 1 and "changes the visual's texts only; 'highlight' must stay" in errors[0]
    write(story, "language: de\nacts: {intro: [\n")
    result = run("render", story, "--lang", "de")
    assert result.returncode == 1 and re.search(r"tiny\.de\.yaml:2:\d+: error: invalid YAML", result.stderr)
    assert not (story.parent / "output").exists()  # nothing rendered


def test_a_language_without_a_translation_names_the_file_to_write(story: Path) -> None:
    result = run("render", story, "--lang", "fr", "--dry-run")
    assert result.returncode == 1 and "no French translation: write" in result.stderr
    assert "tiny.fr.yaml" in result.stderr


def frames(path: Path) -> list[object]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny.yaml rendered in English, then in every language it is translated into (German)."""
    folder = tmp_path_factory.mktemp("translated")
    for name in ("tiny.yaml", "tiny.de.yaml"):
        shutil.copy(TINY.with_name(name), folder / name)
    for extra in ([], ["--lang", "all"]):
        result = run("render", folder / "tiny.yaml", "-o", folder / "out", "--quiet", *extra, cwd=folder)
        assert result.returncode == 0, result.stderr
    return folder / "out"


def test_render_lang_makes_a_german_video_with_captions_and_sound(rendered: Path) -> None:
    from srt import read_srt  # tests/srt.py

    from ncfvid.narration import render_narration
    from ncfvid.video.probe import probe

    video = rendered / "tiny.de.mp4"
    assert {p.name for p in rendered.glob("tiny*")} >= {"tiny.mp4", "tiny.de.mp4", "tiny.de.srt", "tiny.de.vtt"}
    info = probe(video)
    assert info.audio_duration is not None and abs(info.audio_duration - info.video_duration) < 0.05
    german = load_translation(TINY, "de").story
    said = " ".join(
        render_narration(beat.narration, {"prediction": 2.7}, ",") for act in german.acts for beat in act.beats
    )
    cues = read_srt((rendered / "tiny.de.srt").read_text(encoding="utf-8"))
    captions = " ".join(cue.text.replace("\n", " ") for cue in cues)
    assert captions == said and "2,7" in captions


def test_a_beat_whose_pictures_are_the_same_is_not_drawn_again(rendered: Path) -> None:
    def clips(act: str, index: int) -> dict[str, Path]:
        """The beat's clip folders (one per language), by how they were made."""
        found = {}
        for folder in (rendered / "cache" / "beats" / act).glob(f"{index:02d}-*"):
            made = json.loads((folder / "drawn.json").read_text())
            found["reused" if made["animations_reused"] else "drawn"] = folder
            assert made["animations_drawn"] + made["animations_reused"] >= 1
        return found

    hello = clips("intro", 0)  # the title card: the same picture, a longer German narration
    assert json.loads((hello["reused"] / "drawn.json").read_text())["animations_drawn"] == 0
    english, german = frames(hello["drawn"] / "clip.mp4"), frames(hello["reused"] / "clip.mp4")
    assert len(german) > len(english)  # re-timed: its hold follows the German voice
    animation = 22  # Write(title), 1.5 s at 15 fps
    assert all((a == b).all() for a, b in zip(english[:animation], german[:animation], strict=True))
    assert (english[-1] == german[-1]).all()
    table = clips("intro", 1)  # a German caption: another picture, drawn
    assert set(table) == {"drawn"} or json.loads((table["drawn"] / "drawn.json").read_text())["animations_drawn"]


def test_the_layout_check_of_a_translation_points_into_it(tmp_path: Path) -> None:
    """tests/layout/tiny_text.yaml's table is too small to read; told in German, the check says so at
    the beat's id in the German file."""
    shutil.copy(ROOT / "tests" / "layout" / "tiny_text.yaml", tmp_path / "tiny_text.yaml")
    text = "language: de\nfallback: en\nacts:\n  intro:\n    beats:\n      table:\n        narration: Zwölf Tees.\n"
    write(tmp_path / "tiny_text.yaml", text)
    result = run("check", tmp_path / "tiny_text.yaml", "--lang", "de")
    assert result.returncode == 1, result.stderr
    assert re.search(r"tiny_text\.de\.yaml:6:7: error: act 'intro' beat 'table': text .* too small", result.stderr)


def test_the_translation_schema_file_is_current() -> None:
    """schema/translation.schema.json (editors check ncf.de.yaml with it) is `ncfvid schema --translation`."""
    from ncfvid.translation import Translation

    written = json.loads((ROOT / "schema" / "translation.schema.json").read_text(encoding="utf-8"))
    assert written == Translation.model_json_schema()
    assert "translation.schema.json" in NCF.with_name("ncf.de.yaml").read_text(encoding="utf-8").splitlines()[0]
