"""ncfvid.cacheguard without rendering (issue 15): a clip folder is served only while its files are
what was stored; the trained model is served only when whole and trained on this table."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest

from ncfvid.cacheguard import Damaged, check_clip, read_summed, verified, write_sums
from ncfvid.pipeline import load
from ncfvid.story import model_key, train_story

ROOT = Path(__file__).resolve().parent.parent


def clip_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "clip.mp4").write_bytes(b"\x00" * 1000)
    (folder / "cues.json").write_text('[{"text": "Hi", "start": 0, "end": 1}]', encoding="utf-8")
    with wave.open(str(folder / "sound.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x01\x00" * 800)
    write_sums(folder)
    return folder


def test_a_stored_clip_is_served(tmp_path: Path) -> None:
    folder = clip_folder(tmp_path / "00-key")
    check_clip(folder)
    os.utime(folder / "sound.wav", ns=(1, 1))  # touched, not changed: served, and the new time recorded
    check_clip(folder)
    assert json.loads((folder / "sums.json").read_text(encoding="utf-8"))["sound.wav"]["mtime_ns"] == 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / "sound.wav").write_bytes((f / "sound.wav").read_bytes()[:500]), "sound.wav is 500 bytes"),
        (lambda f: (f / "cues.json").write_text('[{"text": "Ho", "start": 0, "end": 1}]'), "cues.json changed"),
        (lambda f: (f / "clip.mp4").unlink(), "clip.mp4 missing"),
    ],
    ids=["truncated", "same-size-overwritten", "missing"],
)
def test_a_changed_clip_is_damaged_and_dropped(tmp_path: Path, damage, reason: str, capsys) -> None:
    folder = clip_folder(tmp_path / "00-key")
    damage(folder)
    with pytest.raises(Damaged, match=reason):
        check_clip(folder)
    assert not verified(folder) and not folder.exists()
    [notice] = capsys.readouterr().err.splitlines()
    assert notice.startswith("ncfvid: damaged beat clip") and "00-key" in notice


def test_a_clip_from_before_sums_is_decoded_once(tmp_path: Path) -> None:
    folder = clip_folder(tmp_path / "00-key")
    (folder / "sums.json").unlink()
    with pytest.raises(Damaged, match="clip.mp4 does not open"):  # 1000 zero bytes are no video
        check_clip(folder)
    with wave.open(str(folder / "sound.wav"), "rb") as wav:
        assert wav.getnframes() == 800
    (folder / "sound.wav").write_bytes((folder / "sound.wav").read_bytes()[:900])
    with pytest.raises(Damaged, match="sound.wav is cut short"):
        check_clip(folder)


@pytest.fixture
def story():
    return load(ROOT / "tests" / "data" / "tiny.yaml").story


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"data"', '"dat"'),
        lambda text: text.replace("0.", "1.", 1),  # a number changed: the checksum does not match
    ],
    ids=["truncated", "broken", "changed"],
)
def test_a_damaged_model_is_trained_again(tmp_path: Path, story, damage, capsys) -> None:
    fresh, cached = train_story(story, tmp_path)
    assert not cached
    path = tmp_path / f"model-{model_key(story)}.json"
    assert read_summed(path)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    again, cached = train_story(story, tmp_path)
    assert not cached and np.array_equal(again.predictions, fresh.predictions)
    assert "damaged trained model" in capsys.readouterr().err
    assert train_story(story, tmp_path)[1]  # repaired: served from the cache again


def test_a_sealed_file_is_served_until_it_changes(tmp_path: Path) -> None:
    from ncfvid.cacheguard import seal, sealed

    segment = tmp_path / "key.mp4"
    assert not sealed(segment)
    segment.write_bytes(b"frames" * 100)
    assert not sealed(segment)  # not sealed: not vouched for
    seal(segment)
    assert sealed(segment)
    segment.write_bytes(b"framez" * 100)  # same size, other bytes
    assert not sealed(segment)


def test_damaged_speech_is_synthesised_again(tmp_path: Path, capsys) -> None:
    """A line's cached audio cut short was played as it was (the beat's sound ended early)."""
    from ncfvid.speech.espeak import EspeakService

    line = "One line of narration, cached once and cut short later."
    first = EspeakService(cache_dir=tmp_path)._wrap_generate_from_text(line)
    audio = tmp_path / first["original_audio"]
    whole = audio.read_bytes()
    audio.write_bytes(whole[: len(whole) // 3])
    service = EspeakService(cache_dir=tmp_path)
    again = service._wrap_generate_from_text(line)
    assert service.synth_count == 1 and audio.read_bytes() == whole
    assert again["original_audio"] == first["original_audio"]
    assert capsys.readouterr().err.count("damaged speech") == 1
    served = EspeakService(cache_dir=tmp_path)
    served._wrap_generate_from_text(line)
    assert served.synth_count == 0  # repaired: served again
