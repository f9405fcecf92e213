"""Planning a render: beat keys (what an edit invalidates) and the jobs that draw the missing beats.
Fast: compiles storyboards, renders nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncfvid.cacheguard import write_sums
from ncfvid.compiler import scene_class_name
from ncfvid.components import component
from ncfvid.pipeline import compile_prepared, load, prepare
from ncfvid.render import RenderPlan, RenderSettings, plan, split_beats, split_module
from ncfvid.renderplan import first_draw_guess

ROOT = Path(__file__).resolve().parent.parent
NCF = ROOT / "storyboards" / "ncf.yaml"


def compiled(text: str, folder: Path) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """(the generated module, the acts as `plan` takes them) of storyboard `text`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ncf.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load(path)
    module = compile_prepared(prepare(loaded, folder / "cache"))
    acts = [(a.id, scene_class_name(i, a.id), [b.id for b in a.beats]) for i, a in enumerate(loaded.story.acts)]
    return module, acts


def make_plan(text: str, folder: Path, jobs: int = 1) -> RenderPlan:
    module, acts = compiled(text, folder)
    return plan(module, acts, {}, RenderSettings(jobs=jobs), folder / "beats")


def keys(render_plan: RenderPlan) -> dict[tuple[str, int], str]:
    return {(clip.act_id, clip.index): clip.key for clip in render_plan.clips}


def fill_cache(render_plan: RenderPlan) -> None:
    for clip in render_plan.clips:
        clip.folder.mkdir(parents=True)
        for name in ("clip.mp4", "cues.json", "sound.wav"):
            (clip.folder / name).write_bytes(b"")
        write_sums(clip.folder)  # as the renderer stores a clip: the cache serves only what it vouches for


@pytest.fixture(scope="module")
def ncf_text() -> str:
    return NCF.read_text(encoding="utf-8")


def test_each_beat_gets_its_own_share_of_the_act(ncf_text: str, tmp_path: Path) -> None:
    module, acts = compiled(ncf_text, tmp_path)
    _, sources = split_module(module)
    for _, scene, beats in acts:
        shares = split_beats(sources[scene], len(beats))
        assert len(shares) == len(beats) and "".join(shares) == sources[scene]
        for share, beat in zip(shares[1:], beats[1:], strict=True):
            assert share.lstrip().startswith(f"# Beat '{beat}'")
    # A template without the beat comments (a user override) gives every beat the whole act.
    assert split_beats("class A(Story):\n    pass\n", 3) == ["class A(Story):\n    pass\n"] * 3


def test_an_edit_invalidates_its_beat_and_the_acts_later_beats(ncf_text: str, tmp_path: Path) -> None:
    before = keys(make_plan(ncf_text, tmp_path / "a"))
    line = "Now we have two dense vectors."  # beat 'concat', the 5th of 8 in 'architecture'
    assert ncf_text.count(line) == 1
    after = keys(make_plan(ncf_text.replace(line, "Now we hold two dense vectors."), tmp_path / "b"))
    changed = sorted(where for where in before if before[where] != after[where])
    assert changed == [("architecture", 4), ("architecture", 5), ("architecture", 6), ("architecture", 7)]


def test_moving_lines_changes_no_key(ncf_text: str, tmp_path: Path) -> None:
    # Lines added early in the storyboard move every later beat's file:line, which the generated
    # code names in comments: no pixel changes, so no beat renders again.
    before = keys(make_plan(ncf_text, tmp_path / "a"))
    moved = ncf_text.replace("\nacts:\n", "\n# a note for the authors\n\n\nacts:\n", 1)
    assert moved != ncf_text
    assert keys(make_plan(moved, tmp_path / "b")) == before


def test_jobs_draw_runs_of_missing_beats(ncf_text: str, tmp_path: Path) -> None:
    cold = make_plan(ncf_text, tmp_path, jobs=2)
    # Cold: one job per act (six jobs keep two cores busy), the biggest first, each with <act>.log.
    assert sorted(job.act_id for job in cold.jobs) == sorted({clip.act_id for clip in cold.clips})
    assert all(job.whole and job.log_name == f"{job.act_id}.log" for job in cold.jobs)
    assert [job.weight for job in cold.jobs] == sorted((job.weight for job in cold.jobs), reverse=True)
    fill_cache(cold)
    assert make_plan(ncf_text, tmp_path, jobs=2).jobs == []

    # One edited beat in the middle of 'architecture': its last four beats are missing; with two
    # cores they split into two jobs, contiguous, covering them once.
    edited = make_plan(ncf_text.replace("Now we have two dense vectors.", "Two dense vectors."), tmp_path, jobs=2)
    spans = sorted((job.first, job.stop) for job in edited.jobs)
    assert {job.act_id for job in edited.jobs} == {"architecture"}
    assert spans[0][0] == 4 and spans[-1][1] == 8 and len(spans) == 2 and spans[0][1] == spans[1][0]
    assert sorted(job.log_name for job in edited.jobs) == [
        f"architecture.beats-{first}-{stop - 1}.log" for first, stop in spans
    ]
    # With one core, one job.
    serial = make_plan(ncf_text.replace("Now we have two dense vectors.", "Two dense vectors."), tmp_path, jobs=1)
    assert [(job.act_id, job.first, job.stop) for job in serial.jobs] == [("architecture", 4, 8)]


def test_the_split_follows_how_long_each_beat_took_to_draw(ncf_text: str, tmp_path: Path) -> None:
    cold = make_plan(ncf_text, tmp_path, jobs=2)
    fill_cache(cold)
    architecture = [clip for clip in cold.clips if clip.act_id == "architecture"]
    edit = ("So how does it work?", "So, how does it work?")  # beat 1 of 8: the whole act renders
    assert ncf_text.count(edit[0]) == 1

    def split(seconds: list[float]) -> list[tuple[int, int]]:
        for clip, took in zip(architecture, seconds, strict=True):  # as the last render recorded them
            (clip.folder / "drawn.json").write_text(f'{{"seconds": {took}}}', encoding="utf-8")
        edited = make_plan(ncf_text.replace(*edit), tmp_path, jobs=2)
        return sorted((job.first, job.stop) for job in edited.jobs)

    # The first beat took as long as the other seven together: it is a job of its own.
    assert split([7.0, 1, 1, 1, 1, 1, 1, 1]) == [(0, 1), (1, 8)]
    # The last one did: the other seven are the first job.
    assert split([1, 1, 1, 1, 1, 1, 1, 7.0]) == [(0, 7), (7, 8)]


def test_a_beat_never_drawn_is_weighed_by_its_component(ncf_text: str, tmp_path: Path) -> None:
    # Cold, the training chart (one short beat of code, the costliest to draw) starts third, before
    # the acts of more code: the last job to start is a short one, so the cores finish together.
    cold = make_plan(ncf_text, tmp_path, jobs=2)
    assert [job.act_id for job in cold.jobs] == [
        "architecture",
        "dna",
        "training",
        "taste_twins",
        "problem",
        "conclusion",
    ]
    training = first_draw_guess("        # Beat 'x' (a.yaml:3:9): training_loop\n")
    mlp = first_draw_guess("        # Beat 'y' (a.yaml:9:9): mlp\n")
    assert training == component("training_loop").draw_seconds > mlp == component("mlp").draw_seconds
    assert first_draw_guess("        # Beat 'x' (a.yaml:3:9): my_own_component\n") == first_draw_guess("pass\n") > 0
