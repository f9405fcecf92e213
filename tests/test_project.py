"""The application layer: a storyboard opened once for a command (ncfvid.project)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ncfvid.diagnostics import UserError
from ncfvid.project import Project

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def test_a_project_holds_the_chosen_acts_with_their_scene_classes(tmp_path: Path) -> None:
    everything = Project.open(TINY, out=tmp_path)
    assert [a.id for a in everything.acts] == [act.id for act in everything.story.acts]
    assert not everything.named
    last = everything.story.acts[-1]
    one = Project.open(TINY, acts=[last.id], out=tmp_path)
    assert one.named and [a.id for a in one.acts] == [last.id]
    (act,) = one.acts
    assert act.index == len(everything.story.acts) - 1
    assert f"class {act.scene}(Story):" in one.module
    assert act.beat_ids == [beat.id for beat in last.beats]


def test_an_unknown_act_is_refused_before_anything_is_trained(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        Project.open(TINY, acts=["nope"], out=tmp_path)
    (diag,) = caught.value.diagnostics
    assert diag.message.startswith("no act 'nope'; the acts are: ")
    assert not (tmp_path / "cache").exists()  # nothing prepared


def test_the_module_is_compiled_once_and_shared_by_a_narrowed_project(tmp_path: Path, monkeypatch) -> None:
    import ncfvid.project as project_module

    calls = []
    real = project_module.compile_prepared

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(project_module, "compile_prepared", counting)
    project = Project.open(TINY, out=tmp_path)
    module = project.module
    narrowed = project.only([project.acts[0].id])
    assert narrowed.module is module and project.module is module
    assert len(calls) == 1
    assert [a.id for a in narrowed.acts] == [project.acts[0].id]
    path = project.write_module()
    assert path == tmp_path / "scenes.py" and path.read_text(encoding="utf-8") == module


def test_warnings_are_handed_to_the_command(tmp_path: Path) -> None:
    long_title = "A title far too long to read at any size on a screen of any width at all, really"
    story = tmp_path / "tiny.yaml"
    story.write_text(TINY.read_text(encoding="utf-8").replace("title: Tiny\n", f"title: {long_title}\n", 2))
    warned = []
    project = Project.open(story, out=tmp_path / "out", warn=warned.append)
    assert warned and warned == project.loaded.warnings
    assert "shrinks below a readable size" in warned[0].message
