"""The seam between the code that drives Manim and the code that runs inside it: the SceneJob that
crosses the process boundary, the typed records that come back, and the guard on Manim's patches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ncfvid.records import (
    LAYOUT_FORMAT,
    Cue,
    DrawnBeat,
    LayoutRecord,
    RecordFormatError,
    TextRecord,
    drawn_beats_from_json,
    drawn_beats_to_json,
)
from ncfvid.scenejob import ENV, SceneJob


def test_a_scene_job_crosses_the_environment_unchanged() -> None:
    job = SceneJob(
        voice={"engine": "draft", "rate": 180},
        audio_cache="/tmp/a",
        beats=(2, 5),
        parts_dir="/tmp/p",
        state_keys={2: "k2", 3: "k3"},
        burn_captions=True,
        fast_copy=False,
        settle=True,
    )
    env = job.to_env({"PYTHONPATH": "/elsewhere"})
    assert set(env) == {ENV, "PYTHONPATH"}
    assert env["PYTHONPATH"].endswith("/elsewhere") and env["PYTHONPATH"] != "/elsewhere"
    assert SceneJob.from_env(env) == job


def test_without_a_job_a_scene_runs_as_plain_manim_would() -> None:
    job = SceneJob.from_env({})
    assert job.beats is None and job.inspect is None and job.voice == {}
    assert job.fast_holds and job.fast_copy and not job.burn_captions and not job.settle


def _layout() -> LayoutRecord:
    text = TextRecord(7, "Shrek", None, [0.0, 0.0, 1.0, 0.3], 0.2, 24.0, 12.5, True, False)
    return LayoutRecord(index=3, frame=[14.2222, 8.0], texts=(text,), beat="predict", caption="Shrek", time=2.5)


def test_layout_records_read_back_what_was_written() -> None:
    record = _layout()
    assert LayoutRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


@pytest.mark.parametrize(
    "data",
    [
        {**_layout().to_json(), "format": LAYOUT_FORMAT - 1},  # an older ncfvid's record
        {k: v for k, v in _layout().to_json().items() if k != "format"},
        {**_layout().to_json(), "texts": [{"id": 1, "text": "x"}]},  # fields missing
        ["not", "a", "record"],
    ],
)
def test_a_layout_record_of_another_format_is_refused(data: object) -> None:
    with pytest.raises(RecordFormatError):
        LayoutRecord.from_json(data)


def test_a_cached_clip_with_an_older_layout_record_has_none(tmp_path: Path) -> None:
    from ncfvid.render import LAYOUT_FILE, BeatClip

    clip = BeatClip("act", 0, "key", tmp_path)
    (tmp_path / LAYOUT_FILE).write_text(json.dumps({**_layout().to_json(), "format": 1}), encoding="utf-8")
    assert clip.layout() is None
    (tmp_path / LAYOUT_FILE).write_text(json.dumps(_layout().to_json()), encoding="utf-8")
    assert clip.layout() == _layout()


def test_drawn_beats_read_back_what_was_written() -> None:
    beats = [
        DrawnBeat(0, (Cue("intro", 0.0, 1.5, "Hello"),), "Act.beat-0.wav", 1.2, "state0"),
        DrawnBeat(2, (Cue("end", 0.0, 1.5, "Bye now", ((0.1, 0.5, "Bye"), (0.6, 1.0, "now"))),), "b.wav", 0.5),
        DrawnBeat(1, served="/cache/act/01-abc"),
    ]
    assert drawn_beats_from_json(json.loads(json.dumps(drawn_beats_to_json(beats)))) == beats
    with pytest.raises(RecordFormatError):
        drawn_beats_from_json([beat.to_json() for beat in beats])


def test_the_installed_manim_fits_the_patches() -> None:
    from ncfvid.scenelib import patches

    patches.check_manim()


def test_another_manim_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from ncfvid.scenelib import patches

    monkeypatch.setattr(patches, "manim_version", lambda: "0.23.0")
    with pytest.raises(patches.PatchError, match=r"made for Manim 0\.22\.x, but Manim 0\.23\.0 is installed"):
        patches.check_manim()


def test_a_manim_without_a_patched_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from manim.mobject.svg.svg_mobject import SVGMobject

    from ncfvid.scenelib import patches

    monkeypatch.delattr(SVGMobject, "init_svg_mobject")
    with pytest.raises(patches.PatchError, match=r"manim\.mobject\.svg\.svg_mobject\.SVGMobject\.init_svg_mobject"):
        patches.check_manim()
