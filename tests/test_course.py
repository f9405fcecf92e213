"""A course: several storyboards in one `check` (and `validate`, see test_validate_formats.py) command,
each with its findings at its file:line and a summary line of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from test_cache import act_states, assert_same_video

from ncfvid.course import targets
from ncfvid.courserender import render_targets
from ncfvid.diagnostics import UserError
from ncfvid.executors.local import LocalExecutor
from ncfvid.renderapp import RenderOptions
from ncfvid.rendertask import RenderTask

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
TINY = "tests/data/tiny.yaml"
TINY_DE = "tests/data/tiny.de.yaml"


def run(*args: str, cwd: Path = ROOT, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NCFVID_CACHE"}
    if cache is not None:
        env["NCFVID_CACHE"] = str(cache)
    command = [str(NCFVID), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False)


OUTRO = """  - id: outro
    title: Outro
    beats:
      - id: bye
        narration: That was all.
        show:
          component: title_card
          title: Bye

"""


def pair(folder: Path) -> tuple[Path, Path]:
    """a.yaml (tiny.yaml) and b.yaml: a new first act, then tiny's `intro` act, unchanged but second."""
    text = (ROOT / TINY).read_text(encoding="utf-8")
    head, acts = text.split("acts:\n")
    intro = acts[: acts.index("  - id: answer")].rstrip() + "\n"
    (folder / "a.yaml").write_text(text, encoding="utf-8")
    (folder / "b.yaml").write_text(f"{head}acts:\n{OUTRO}{intro}", encoding="utf-8")
    return folder / "a.yaml", folder / "b.yaml"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """tiny.yaml with an unknown target user (an error at line 20)."""
    text = (ROOT / TINY).read_text(encoding="utf-8")
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace("target: {user: Ann,", "target: {user: Anne,"), encoding="utf-8")
    return path


def test_targets_treat_a_translation_as_its_storyboard_in_that_language(tmp_path: Path) -> None:
    found = targets([ROOT / TINY, ROOT / TINY_DE, ROOT / "storyboards/ncf.yaml"], None, tmp_path)
    assert [(t.storyboard.name, t.language, t.out) for t in found] == [
        ("tiny.yaml", None, tmp_path / "tiny"),  # several storyboards: -o DIR holds DIR/<stem>
        ("tiny.yaml", "de", tmp_path / "tiny"),
        ("ncf.yaml", None, tmp_path / "ncf"),
    ]
    # one storyboard (and its translation): -o is its folder, as always; --lang de names it once
    alone = targets([ROOT / TINY, ROOT / TINY_DE], "de", tmp_path)
    assert [(t.language, t.out) for t in alone] == [("de", tmp_path)]


def test_storyboards_that_would_share_a_folder_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "tiny.yaml"
    twin.write_text((ROOT / TINY).read_text(encoding="utf-8"), encoding="utf-8")
    result = run("check", TINY, str(twin))
    assert result.returncode == 2
    assert "would both render into the folder tiny" in result.stderr
    assert result.stderr.count("\n") == 1


def test_check_several_storyboards(tmp_path: Path, broken: Path) -> None:
    result = run("check", TINY, str(broken), TINY_DE, "-o", str(tmp_path / "course"))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{TINY}: 4 beats in 2 acts, no layout problems")
    assert lines[1] == f"{broken}: 1 error, 0 warnings"
    assert lines[2].startswith(f"{TINY_DE}: 4 beats in 2 acts, no layout problems")  # as `--lang de`
    assert lines[3] == "1 of 3 storyboards failed"
    assert f"{broken}:20:18: error: data.target.user: 'Anne' is not a user" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "course" / "tiny" / "cache" / "check").is_dir()  # each in its own folder


@pytest.mark.render
def test_storyboards_sharing_an_act_share_its_clips(tmp_path: Path) -> None:
    """b.yaml has a.yaml's first act as its second: with one cache folder (`--cache`, or
    $NCFVID_CACHE) b's render draws nothing of it, and its video equals b rendered on its own."""
    a, b = pair(tmp_path)
    shared = tmp_path / "shared"
    first = run("render", a.name, "--draft", "-o", "outA", "--cache", str(shared), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run("render", b.name, "--draft", "-o", "outB", cwd=tmp_path, cache=shared)
    assert second.returncode == 0, second.stderr
    assert act_states(second.stdout) == {"intro": "cached", "outro": "done"}  # intro: a's clips
    assert len(list((shared / "beats" / "intro").glob("0?-*"))) == 2  # one clip per beat, shared
    assert not (tmp_path / "outB" / "cache" / "beats").exists()  # b's own cache holds none
    alone = run("render", b.name, "--draft", "-o", "alone", cwd=tmp_path)
    assert alone.returncode == 0 and act_states(alone.stdout) == {"intro": "done", "outro": "done"}
    assert_same_video(tmp_path / "outB" / "b.mp4", tmp_path / "alone" / "b.mp4")
    # clean with the shared cache: b's own cache and the shared folder's contents (its lock stays)
    cleaned = run("clean", b.name, "-o", "outB", "--cache", str(shared), cwd=tmp_path)
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed the contents of {shared}" in cleaned.stdout
    assert [p.name for p in shared.iterdir()] == [".ncfvid.lock"] and (tmp_path / "outB" / "b.mp4").is_file()


@pytest.mark.render
def test_render_several_storyboards_equals_separate_renders(tmp_path: Path, broken: Path) -> None:
    """One command renders a.yaml and b.yaml into their folders under -o, with frames, sound and
    captions equal to separate renders; broken.yaml (invalid) reports its error at its line, fails
    alone, and the exit code says so. The act a and b share is drawn once, into their one cache."""
    a, b = pair(tmp_path)
    render = ("render", a.name, broken.name, b.name, "--draft", "-o", "course", "--cache", "course/cache")
    result = run(*render, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "broken.yaml:20:18: error: data.target.user: 'Anne' is not a user" in result.stderr
    assert "Traceback" not in result.stderr
    rows = act_states(result.stdout.replace("/", "_"))  # one display, rows <storyboard>/<act>
    assert rows == {"a_intro": "done", "a_answer": "done", "b_outro": "done", "b_intro": "cached"}
    summary = result.stdout.splitlines()[-4:]
    assert summary[0].startswith("course/a/a.mp4  (") and summary[2].startswith("course/b/b.mp4  (")
    assert summary[1] == "broken.yaml: failed (1 error, 0 warnings)"
    assert summary[3].startswith("2 of 3 storyboards rendered in ")
    for board in (a, b):
        alone = run("render", board.name, "--draft", "-o", f"alone-{board.stem}", cwd=tmp_path)
        assert alone.returncode == 0, alone.stderr
        together, apart = tmp_path / "course" / board.stem, tmp_path / f"alone-{board.stem}"
        assert_same_video(together / f"{board.stem}.mp4", apart / f"{board.stem}.mp4")
        for suffix in (".srt", ".vtt", ".chapters.txt"):
            name = f"{board.stem}{suffix}"
            assert (together / name).read_bytes() == (apart / name).read_bytes()


class FailingFor(LocalExecutor):
    """This machine's executor, whose every task of one storyboard fails as a Manim run would."""

    def __init__(self, group: str) -> None:
        super().__init__(2)
        self.group = group

    def run(self, task: RenderTask) -> float:
        if task.group == self.group:
            raise UserError.single(str(task.module_path), f"act '{task.job.act_id}' failed to render (a test)")
        return super().run(task)


@pytest.mark.render
def test_a_failing_job_or_a_layout_error_fails_only_its_storyboard(tmp_path: Path) -> None:
    a, b = pair(tmp_path)
    off_edge = Path(shutil.copy(ROOT / "tests" / "layout" / "off_edge.yaml", tmp_path / "off_edge.yaml"))
    out: list[str] = []
    err: list[str] = []
    with ExitStack() as stack:
        passed = render_targets(
            targets([a, b, off_edge], None, tmp_path / "course"),
            RenderOptions(quality="l", draft=True),
            stack=stack,
            executor=FailingFor("b"),
            warn=lambda diagnostic: None,
            echo=out.append,
            echo_err=err.append,
        )
    assert not passed
    assert out[-4:-1] == [
        f"{tmp_path / 'course' / 'a' / 'a.mp4'}  (9.5 s of video)",
        f"{b}: failed (2 errors, 0 warnings)",  # its two acts' jobs
        f"{off_edge}: failed (1 error, 0 warnings)",
    ]
    assert out[-1].startswith("1 of 3 storyboards rendered")
    errors = "\n".join(err)
    assert "act 'outro' failed to render (a test)" in errors and "act 'intro' failed to render (a test)" in errors
    assert f"{off_edge}:" in errors and "safe area" in errors  # the layout error, at its line
    assert not (tmp_path / "course" / "off_edge" / "off_edge.mp4").exists()
