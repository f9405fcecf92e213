"""A damaged cache is repaired, never served (issue 15): each kind of damage found by hand is done to
a rendered tiny storyboard's cache, and the next render must say what it dropped in one line, exit 0
without a traceback, and give the same frames, sound and captions as a clean render (slow: `-m
render`)."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_cache import INTRO_LINE, TINY, act_states, assert_same_video, clip_dirs, edit, ncfvid

from ncfvid.render import library_hash

pytestmark = pytest.mark.render


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """tiny.yaml rendered once into a fresh folder: (the folder, the library hash it was built with)."""
    folder = tmp_path_factory.mktemp("clean")
    shutil.copy(TINY, folder / "tiny.yaml")
    lib = library_hash()
    ncfvid(folder, "--jobs", "1")
    return folder, lib


@pytest.fixture
def damaged(clean: tuple[Path, str], tmp_path: Path) -> Path:
    folder, lib = clean
    if library_hash() != lib:
        pytest.skip("ncfvid's scene library changed since the first render (someone is editing it)")
    shutil.copytree(folder, tmp_path / "tiny")
    return tmp_path / "tiny"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage\xff" * 40)


DAMAGE: dict[str, tuple[tuple[str, int], Callable[[Path], None]]] = {
    # joined as silence, and later runs accepted it
    "truncated-sound": (("intro", 1), lambda clip: truncate(clip / "sound.wav")),
    # a VideoError traceback at the join, on every run
    "garbage-sound": (("answer", 0), lambda clip: garbage(clip / "sound.wav")),
    "truncated-clip": (("intro", 0), lambda clip: truncate(clip / "clip.mp4")),
    # OSError [Errno 39] Directory not empty, on every run
    "folder-without-clip": (("answer", 1), lambda clip: (clip / "clip.mp4").unlink()),
    # JSONDecodeError after the video was replaced, leaving the .srt/.vtt stale
    "garbage-cues": (("intro", 1), lambda clip: (clip / "cues.json").write_text("{not json", encoding="utf-8")),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_beat_is_dropped_and_drawn_again(clean: tuple[Path, str], damaged: Path, case: str) -> None:
    where, damage = DAMAGE[case]
    clip = clip_dirs(damaged / "out")[where]
    damage(clip)
    result = ncfvid(damaged, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in output, output
    notices = [line for line in result.stderr.splitlines() if "damaged beat clip" in line]
    assert len(notices) == 1 and clip.name in notices[0], output
    assert act_states(result.stdout)[where[0]] == "done"
    out, reference = damaged / "out", clean[0] / "out"
    assert_same_video(out / "tiny.mp4", reference / "tiny.mp4")
    for suffix in (".srt", ".vtt"):
        assert (out / f"tiny{suffix}").read_bytes() == (reference / f"tiny{suffix}").read_bytes()
    again = ncfvid(damaged)  # repaired for good: the next run serves everything
    assert act_states(again.stdout) == {"intro": "cached", "answer": "cached"} and "damaged" not in again.stderr


def test_states_entry_naming_another_beats_clip_is_not_served(
    clean: tuple[Path, str], damaged: Path, tmp_path: Path
) -> None:
    """A `states/*` entry naming another beat's clip served that clip (a video of the wrong length)."""
    out = damaged / "out"
    states = out / "cache" / "beats" / ".states"  # state -> <act>/<clip folder>, for every act
    other = "intro/" + clip_dirs(out)[("intro", 0)].name
    entries = list(states.iterdir())
    assert entries
    for entry in entries:
        entry.write_text(other, encoding="utf-8")
    # Editing the first beat's line makes the second beat start from a state drawn before: served.
    edit(damaged, INTRO_LINE, "narration: A tiny test, once more.")
    result = ncfvid(damaged, check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    shutil.copy(damaged / "tiny.yaml", tmp_path / "tiny.yaml")
    ncfvid(tmp_path)
    assert_same_video(out / "tiny.mp4", tmp_path / "out" / "tiny.mp4")
    assert (out / "tiny.srt").read_bytes() == (tmp_path / "out" / "tiny.srt").read_bytes()


def test_empty_glyph_entries_are_parsed_again(clean: tuple[Path, str], damaged: Path) -> None:
    """A glyph pickle that loads as empty drew beats without text."""
    out = damaged / "out"
    entries = list((out / "cache" / "glyphs").glob("*.pickle"))
    assert entries
    for entry in entries:
        entry.write_bytes(pickle.dumps(([], {})))
    for folder in clip_dirs(out).values():
        shutil.rmtree(folder)  # every beat is drawn again, with whatever the glyph cache holds
    result = ncfvid(damaged, "--jobs", "1", check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert_same_video(out / "tiny.mp4", clean[0] / "out" / "tiny.mp4")
    assert texts(out) == texts(clean[0] / "out")  # and the layout check sees the same texts


def texts(out: Path) -> list[list[tuple[str, list[float]]]]:
    """Each beat's texts and their boxes, from the layout records taken as the beats were drawn."""
    records = [json.loads((f / "layout.json").read_text(encoding="utf-8")) for f in clip_dirs(out).values()]
    return [[(text["text"], text["box"]) for text in record["texts"]] for record in records]


def test_damaged_animation_segments_are_drawn_again(clean: tuple[Path, str], damaged: Path, tmp_path: Path) -> None:
    """A kept animation segment (reused when only the narration changes) that was cut short."""
    segments = list((damaged / "out" / "cache" / "segments").glob("*.mp4"))
    assert segments
    for segment in segments:
        truncate(segment)
    edit(damaged, INTRO_LINE, "narration: A tiny test, said again.")  # the same animations, new timing
    result = ncfvid(damaged, check=False)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    shutil.copy(damaged / "tiny.yaml", tmp_path / "tiny.yaml")
    ncfvid(tmp_path)
    assert_same_video(damaged / "out" / "tiny.mp4", tmp_path / "out" / "tiny.mp4")
