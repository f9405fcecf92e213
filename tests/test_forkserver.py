"""ncfvid.forkserver: runs forked from one preloaded process behave like new processes."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import pytest

import ncfvid
from ncfvid.forkserver import MANIM, ForkServer, ForkServerError

ENTRIES = """
import os, sys, time
from pathlib import Path

def report():
    print("argv", sys.argv[1:], "cwd", os.getcwd(), "env", os.environ.get("JOB"))
    sys.exit(int(os.environ.get("CODE", "0")))

def hang():
    Path(sys.argv[1]).write_text("started")
    time.sleep(60)

def crash():
    raise RuntimeError("boom")
"""


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "entries.py").write_text(textwrap.dedent(ENTRIES), encoding="utf-8")
    root = str(Path(ncfvid.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), root]))
    with ForkServer(env, preload=("entries",), cwd=tmp_path) as running:
        yield running


def wait_for(path: Path) -> None:
    import time

    for _ in range(500):
        if path.exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


def test_a_run_gets_its_argv_environment_folder_log_and_exit_code(server: ForkServer, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    runs = []
    for job, code in (("one", 0), ("two", 3)):
        env = dict(os.environ, JOB=job, CODE=str(code))
        runs.append(server.spawn("entries:report", ["prog", job], env, work, tmp_path / f"{job}.log"))
    assert [run.wait(timeout=30) for run in runs] == [0, 3]
    assert (tmp_path / "one.log").read_text() == f"argv ['one'] cwd {work} env one\n"
    assert (tmp_path / "two.log").read_text().endswith("env two\n")


def test_a_crash_is_logged_and_fails(server: ForkServer, tmp_path: Path) -> None:
    run = server.spawn("entries:crash", ["prog"], dict(os.environ), tmp_path, tmp_path / "crash.log")
    assert run.wait(timeout=30) == 1
    assert "RuntimeError: boom" in (tmp_path / "crash.log").read_text()


def test_kill_and_close_stop_runs(tmp_path: Path) -> None:
    (tmp_path / "entries.py").write_text(textwrap.dedent(ENTRIES), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    server = ForkServer(env, preload=("entries",), cwd=tmp_path)
    killed = server.spawn("entries:hang", ["prog", str(tmp_path / "a")], env, tmp_path, tmp_path / "a.log")
    left = server.spawn("entries:hang", ["prog", str(tmp_path / "b")], env, tmp_path, tmp_path / "b.log")
    wait_for(tmp_path / "a")
    wait_for(tmp_path / "b")
    killed.kill()
    assert killed.wait(timeout=30) == -signal.SIGKILL
    server.close()  # kills the run still going, then the server ends
    assert left.wait(timeout=5) != 0
    with pytest.raises(ProcessLookupError):
        os.kill(left.pid, 0)
    with pytest.raises(ForkServerError):
        server.spawn("entries:report", ["prog"], env, tmp_path, tmp_path / "c.log")


def test_manim_runs_forked(server: ForkServer, tmp_path: Path) -> None:
    run = server.spawn(MANIM, ["manim", "--version"], dict(os.environ), tmp_path, tmp_path / "manim.log")
    assert run.wait(timeout=60) == 0
    assert "Manim Community v" in (tmp_path / "manim.log").read_text()
