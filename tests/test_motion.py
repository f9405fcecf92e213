"""The motion check: the stage sampled during animations finds lone points, stray ink, text over text
in motion and shapes leaving the frame (ncfvid.scenelib.motion), worded at the beat's line
(ncfvid.motion); and the repository's components no longer flash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ncfvid.records import LayoutRecord, MotionRecord

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"


def sampled(*animations: Any, stage: list[Any] | None = None) -> list[MotionRecord]:
    """Begin `animations` as Manim does and sample them with a MotionSampler on a bare stage."""
    from ncfvid.scenelib.motion import MotionSampler

    scene = SimpleNamespace(mobjects=[], foreground_mobjects=[], renderer=SimpleNamespace(time=0.0))
    for animation in animations:
        animation.begin()
        scene.mobjects.append(animation.mobject)
    scene.mobjects.extend(stage or [])
    sampler = MotionSampler(scene)
    sampler.sample(list(animations), 0.0)
    return sampler.take()


def test_a_transform_into_an_empty_group_grows_from_a_lone_point() -> None:
    from manim import LEFT, RIGHT, Square, TransformFromCopy, VGroup

    row = VGroup(*[Square(0.3) for _ in range(3)]).arrange(RIGHT).shift(LEFT * 4 + [0, 2, 0])
    vector = VGroup(VGroup(), VGroup(*[Square(0.3) for _ in range(3)]).arrange(RIGHT).shift(LEFT * 4))
    found = sampled(TransformFromCopy(row, vector))
    points = [f for f in found if f.kind == "point"]
    assert points, found
    assert all(f.box == [0.0, 0.0, 0.0, 0.0] for f in points)  # Manim's point for an empty group


def test_the_same_transform_without_the_empty_group_is_clean() -> None:
    from manim import LEFT, RIGHT, Square, TransformFromCopy, VGroup

    row = VGroup(*[Square(0.3) for _ in range(3)]).arrange(RIGHT).shift(LEFT * 4 + [0, 2, 0])
    vector = VGroup(VGroup(*[Square(0.3) for _ in range(3)]).arrange(RIGHT).shift(LEFT * 4))
    assert sampled(TransformFromCopy(row, vector)) == []


def test_growing_an_arrow_and_writing_text_are_not_flashes() -> None:
    from manim import Arrow, Circle, Create, GrowArrow, Text, Write

    assert sampled(GrowArrow(Arrow([-3, 0, 0], [3, 0, 0])), Write(Text("Hello. World")), Create(Circle())) == []


def test_text_over_text_while_it_moves() -> None:
    from manim import Text

    still = Text("Still", font_size=30)
    moving = Text("Moving", font_size=30).shift([-4.5, 0, 0])
    found = sampled(moving.animate.shift([9, 0, 0]).build(), stage=[still])
    assert [f.kind for f in found] == ["overlap"]
    assert found[0].what == "text 'Moving' over text 'Still'"
    # Texts that end on each other are the end-of-beat rule's: not reported twice.
    assert sampled(moving.animate.shift([4.5, 0, 0]).build(), stage=[still]) == []


def test_leaving_the_frame_mid_motion() -> None:
    from manim import TAU, Rotate, Square

    square = Square(1)  # swings round a point 4 units right of it: out past the right edge and back
    found = sampled(Rotate(square, angle=TAU, about_point=[4, 0, 0]))
    assert [f.kind for f in found] == ["outside"]
    assert found[0].box[2] > 7.2


def test_findings_name_the_place_in_pixels_and_the_time_in_the_video() -> None:
    from ncfvid.motion import act_starts, motion_findings

    motion = MotionRecord("point", 1.25, "a Rectangle of VectorColumn grows from a lone point", [0.0, 0.0, 0.0, 0.0])
    beats = [
        LayoutRecord(index=0, frame=[14.2222, 8.0], time=4.0),
        LayoutRecord(index=1, frame=[14.2222, 8.0], time=9.0, start=4.0, motion=(motion,)),
    ]
    assert act_starts([[LayoutRecord(index=0, frame=[14.2222, 8.0], time=90.0)], beats]) == [0.0, 90.0]
    (finding,) = motion_findings(beats, "l", act_start=90.0)
    assert finding.beat == 1
    assert finding.message == (
        "during the animation, 1.2 s into the beat, 95.2 s into the video: "
        "a Rectangle of VectorColumn grows from a lone point at x 427 px, y 240 px"
    )


def run(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.render
def test_check_and_render_find_the_flash_at_the_beats_line(tmp_path: Path) -> None:
    board, templates = "tests/motion/flash.yaml", "tests/motion/templates"
    checked = run("check", board, "--templates", templates, "-o", tmp_path / "check")
    assert checked.returncode == 1
    lines = [line for line in checked.stderr.splitlines() if line.startswith(f"{board}:")]
    assert lines and all(line.startswith(f"{board}:39:9: error: act 'lookup' beat 'row': during") for line in lines)
    assert any("a lone point at x 427 px, y 240 px" in line for line in lines), lines
    rendered = run("render", board, "--templates", templates, "--draft", "-o", tmp_path / "render")
    assert rendered.returncode == 1
    assert "a lone point at x 427 px, y 240 px" in rendered.stderr
    assert "s into the video" in rendered.stderr
