"""`validate` checks every recording a render would play (issue 15): a file that cannot play is an
error at its beat's line naming beat and file (it used to pass, then fail the render with a decoder
traceback naming neither, or silently drop the beat's narration and captions); one much shorter than
its line is a warning (its captions would be squeezed into it)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from ncfvid.diagnostics import UserError
from ncfvid.pipeline import load

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "tests" / "corpus" / "audio_file_missing.yaml").read_text(encoding="utf-8")
TWO_SENTENCES = "A tiny test of a recorded line. It says two whole sentences, slowly and clearly."


def write_wav(path: Path, seconds: float, rate: int = 22050) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        count = int(seconds * rate)
        wav.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(count)))
    return path


def storyboard(tmp_path: Path, narration: str = "A tiny test.") -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(BASE.replace("narration: A tiny test.", f"narration: {narration}"), encoding="utf-8")
    return path


def findings(path: Path) -> list:
    try:
        return load(path).warnings
    except UserError as err:
        return err.diagnostics


AUDIO_LINE = BASE.splitlines().index("        audio: recordings/hello.wav") + 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("hello.wav", b"", "the file is empty"),
        ("hello.wav", b"RIFF\x00\x00 this is not a wave file at all" * 20, "cannot be decoded as audio"),
        ("hello.mp3", b"Just some text someone saved with the wrong name.\n" * 10, "cannot be decoded as audio"),
        ("hello.wav", None, "holds no sound"),  # a header-only WAV (it silently dropped the narration)
    ],
)
def test_unplayable_recording_is_an_error_at_its_line(tmp_path: Path, name: str, content: bytes | None, reason: str):
    path = storyboard(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("hello.wav", name), encoding="utf-8")
    file = tmp_path / "recordings" / name
    if content is None:
        write_wav(file, 0)
    else:
        file.parent.mkdir(parents=True)
        file.write_bytes(content)
    [found] = findings(path)
    assert found.severity == "error"
    assert (found.line, found.column) == (AUDIO_LINE, 16)
    assert "beat 'hello' of act 'intro'" in found.message and f"recordings/{name}" in found.message
    assert reason in found.message


def test_recording_cut_short_is_a_warning(tmp_path: Path) -> None:
    """A WAV cut to 1 s against a two-sentence line (it squeezed the captions into 1 s)."""
    path = storyboard(tmp_path, TWO_SENTENCES)
    write_wav(tmp_path / "recordings" / "hello.wav", 1.0)
    [found] = findings(path)
    assert found.severity == "warning" and found.line == AUDIO_LINE
    assert "lasts 1.0 s" in found.message and "15 words" in found.message


def test_whole_recording_passes(tmp_path: Path) -> None:
    path = storyboard(tmp_path, TWO_SENTENCES)
    write_wav(tmp_path / "recordings" / "hello.wav", 4.0)
    assert findings(path) == []


def test_recording_found_in_voiceover_folder_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file in voiceover/<stem>/ named after a beat plays in place of its voice: checked too, at the
    beat's line."""
    path = storyboard(tmp_path)
    write_wav(tmp_path / "recordings" / "hello.wav", 2.0)
    (tmp_path / "voiceover" / "story").mkdir(parents=True)
    (tmp_path / "voiceover" / "story" / "table.mp3").write_text("not audio", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [found] = findings(path)
    assert found.severity == "error" and "beat 'table' of act 'intro'" in found.message
    assert "voiceover/story/table.mp3" in found.message
    assert BASE.splitlines()[found.line - 1].strip() == "- id: table"
