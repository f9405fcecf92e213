"""SIGKILL during a render (issue 15): of the command itself, of a Manim job, of the fork server.
Nothing is left running, the last good video is untouched, and the next render gives the frames,
sound and captions of a render that was never interrupted (slow: `-m render`). SIGINT and SIGTERM:
tests/test_cache.py::test_interrupted_render_breaks_nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_cache import NCFVID, TINY, assert_same_video, ncfvid

pytestmark = pytest.mark.render


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    shutil.copy(TINY, folder / "tiny.yaml")
    ncfvid(folder, "--jobs", "1")
    return folder / "out"


def group(pgid: int) -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of each process left in process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[2]) == pgid and stat[0] != "Z":
            found.append((int(entry.name), int(stat[1]), cmdline))
    return found


def victim(main: int, which: str) -> int | None:
    """The process to kill: the command, its fork server, or a Manim job forked from the server."""
    if which == "command":
        return main
    server = next((pid for pid, parent, cmd in group(main) if parent == main and "forkserver" in cmd), None)
    if which == "fork-server" or server is None:
        return server
    return next((pid for pid, parent, _ in group(main) if parent == server), None)


@pytest.mark.parametrize("which", ["command", "manim-job", "fork-server"])
def test_sigkill_leaves_nothing_broken(reference: Path, tmp_path: Path, which: str) -> None:
    shutil.copytree(reference.parent, tmp_path / "tiny", ignore=shutil.ignore_patterns("out"))
    folder = tmp_path / "tiny"
    (folder / "out").mkdir()
    (folder / "out" / "tiny.mp4").write_bytes(b"the last good video")
    command = [str(NCFVID), "render", "tiny.yaml", "--draft", "-q", "l", "-o", "out", "--jobs", "1"]
    process = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "rendering" in line:
            break
    deadline = time.monotonic() + 60
    killed = None
    while killed is None and time.monotonic() < deadline and process.poll() is None:
        target = victim(process.pid, which)
        try:
            if target is not None:
                os.kill(target, signal.SIGKILL)
                killed = target
        except ProcessLookupError:  # it ended between the look and the kill (a job's run is short): look again
            pass
        time.sleep(0.05)
    assert killed is not None, f"no {which} to kill"
    rest = process.communicate(timeout=120)[0]
    assert "Traceback" not in rest, rest
    # Without its command a render stops. Without its fork server it goes on in new processes; a job
    # killed once its clip was complete (a short job's end can meet the signal) leaves nothing to redo.
    assert process.returncode != 0 or which != "command", rest
    deadline = time.monotonic() + 30  # the fork server sees its client gone and ends its jobs
    while group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group(process.pid) == [], "processes left running"
    out = folder / "out"
    if process.returncode != 0:
        assert (out / "tiny.mp4").read_bytes() == b"the last good video"
    else:
        assert_same_video(out / "tiny.mp4", reference / "tiny.mp4")
    result = ncfvid(folder, "--jobs", "1")
    assert "Traceback" not in result.stderr
    assert_same_video(out / "tiny.mp4", reference / "tiny.mp4")
    assert (out / "tiny.srt").read_bytes() == (reference / "tiny.srt").read_bytes()
    assert not list(out.glob(".*.joining.mp4")) and not list((out / "cache" / "beats").glob("*/.tmp-*"))
