"""Output folders (issue 15): an unwritable folder or a full disk is one line naming the folder, never a
traceback, and the last good video stays; a killed join's temporary files are swept by the next
render; a second render into a folder waits for the first (a lock no dead process keeps); `clean`
removes what it reports or says why not (slow: `-m render`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cache import NCFVID, TINY, act_states, beat_folders, ncfvid

pytestmark = pytest.mark.render


def run(folder: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, str(NCFVID), *args], capture_output=True, text=True, cwd=folder, check=False, timeout=300
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The error line of a failed command that printed nothing but one error (and the summary)."""
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and all(word in errors[0] for word in words), output
    return errors[0]


def private_mount(script: str) -> tuple[str, ...]:
    """A command running `script` (sh) in a mount namespace of its own, where it may mount a small
    or read-only file system that vanishes with it; skips the test where that is not allowed."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if os.geteuid() != 0 or probe.returncode != 0:
        pytest.skip("needs root and unshare -m to mount a file system for the test")
    return ("unshare", "-m", "sh", "-c", script, "sh")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("folders")
    shutil.copy(TINY, folder / "tiny.yaml")
    ncfvid(folder, "--jobs", "1")
    return folder


@pytest.fixture
def copy(rendered: Path, tmp_path: Path) -> Path:
    shutil.copytree(rendered, tmp_path / "tiny")
    return tmp_path / "tiny"


def test_output_below_a_regular_file_is_one_line(tmp_path: Path) -> None:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    (tmp_path / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    for args in (("render", "--dry-run"), ("compile",), ("clean",)):
        result = run(tmp_path, *args, "tiny.yaml", "-o", "afile/out")
        one_line_error(result, "afile/out", "is a file, not a folder")


def test_read_only_output_folder_is_one_line(copy: Path) -> None:
    """Read-only: a dry run, a fully cached render and `clean` (which said "emptied" and removed nothing)."""
    video = (copy / "out" / "tiny.mp4").read_bytes()
    cached = len(beat_folders(copy / "out"))
    read_only = 'mount --bind out out && mount -o remount,bind,ro out && exec "$@"'
    for args in (("render", "--dry-run", "--draft"), ("render", "--draft"), ("clean",)):
        result = run(copy, *args, "tiny.yaml", "-o", "out", prefix=private_mount(read_only))
        one_line_error(result, "out", "read-only")
    assert (copy / "out" / "tiny.mp4").read_bytes() == video
    assert len(beat_folders(copy / "out")) == cached


def test_full_disk_during_the_join_keeps_the_last_good_video(tmp_path: Path) -> None:
    """A full disk during the join was a `VideoError … No space left on device` traceback."""
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    script = """
    mount -t tmpfs -o size=8m tmpfs out || exit 99
    "$@" || exit 98
    cp out/tiny.mp4 good.mp4
    rm out/.tiny.mp4.clips.json  # every clip is cached: the next render only joins them
    free=$(df -k --output=avail out | tail -1)
    dd if=/dev/zero of=out/filler bs=1k count=$((free - 24)) 2>/dev/null
    "$@" 2>&1; echo "rc=$?"
    cmp -s out/tiny.mp4 good.mp4 && echo "last good video kept"
    ls -a out | grep -c joining
    true
    """
    (tmp_path / "out").mkdir()
    command = ("render", "tiny.yaml", "--draft", "-q", "l", "-o", "out", "--jobs", "1")
    result = run(tmp_path, *command, prefix=private_mount(script))
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "disk is full" in errors[0] and "/out" in errors[0], output
    assert "rc=1" in output and "last good video kept" in output, output
    assert output.rstrip().endswith("0"), output  # no .joining.mp4 left


def test_stale_join_files_are_swept(copy: Path) -> None:
    """A SIGKILL during the join left `.tiny.<random>.joining.mp4` files that nothing removed."""
    out = copy / "out"
    stale = [out / ".tiny.k1llzed.joining.mp4", out / ".tiny.srt.2147483646.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    result = ncfvid(copy)
    assert act_states(result.stdout) == {"intro": "cached", "answer": "cached"}
    assert not any(path.exists() for path in stale)


def test_second_render_into_a_folder_waits_for_the_first(tmp_path: Path) -> None:
    """Two renders into one folder at once: the second waits, then finds every beat cached (it did
    all the work twice before)."""
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    command = [str(NCFVID), "render", "tiny.yaml", "--draft", "-q", "l", "-o", "out", "--jobs", "1"]
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert first.stdout is not None
    for line in first.stdout:
        if "rendering" in line:
            break
    second = run(tmp_path, *command[1:])
    rest = first.communicate(timeout=300)[0]
    assert first.returncode == 0, rest
    assert second.returncode == 0, second.stdout + second.stderr
    assert "waiting for another render into out" in second.stderr
    assert act_states(second.stdout) == {"intro": "cached", "answer": "cached"}
    assert len(beat_folders(tmp_path / "out")) == 4


def test_a_killed_render_keeps_no_lock(copy: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(600)", str(copy / "out" / ".ncfvid.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    result = ncfvid(copy)
    assert "waiting" not in result.stderr and time.monotonic() - started < 60
    assert act_states(result.stdout) == {"intro": "cached", "answer": "cached"}


def test_clean_removes_what_it_reports(copy: Path) -> None:
    files = sum(1 for path in (copy / "out" / "cache").rglob("*") if path.is_file())
    result = run(copy, "clean", "tiny.yaml", "-o", "out")
    assert result.returncode == 0 and result.stdout.startswith(f"removed out/cache: {files} files, ")
    assert not (copy / "out" / "cache").exists() and (copy / "out" / "tiny.mp4").is_file()
    assert run(copy, "clean", "tiny.yaml", "-o", "out").stdout == "out/cache: nothing to remove (no cache)\n"


def test_force_starts_clean_for_the_chosen_acts(copy: Path) -> None:
    out = copy / "out"
    kept = sorted(p.name for p in (out / "cache" / "beats" / "intro").iterdir())
    stale = out / "cache" / "beats" / "answer" / "99-stale"
    stale.mkdir()
    (out / "cache" / "audio" / "answer").mkdir(parents=True, exist_ok=True)
    (out / "cache" / "audio" / "answer" / "stale.wav").write_bytes(b"old speech")
    result = ncfvid(copy, "--force", "--act", "answer")
    assert act_states(result.stdout) == {"answer": "done"}
    assert not stale.exists() and not (out / "cache" / "audio" / "answer" / "stale.wav").exists()
    assert sorted(p.name for p in (out / "cache" / "beats" / "intro").iterdir()) == kept


def test_an_interrupt_waits_for_the_renames_that_go_together(tmp_path: Path) -> None:
    """Ctrl-C (or SIGTERM) inside `interrupts_deferred` lets the block finish, then interrupts."""
    from ncfvid.files import interrupts_deferred, temp_beside, write_atomic

    video = tmp_path / "v.mp4"
    video.write_text("old video")
    (tmp_path / "v.srt").write_text("old captions")
    for sig in (signal.SIGINT, signal.SIGTERM):
        new = temp_beside(video, ".joining.mp4")
        assert new.name.startswith(".v.") and new.name.endswith(".joining.mp4")
        new.write_text(f"new video {sig.name}")
        with pytest.raises(KeyboardInterrupt):
            with interrupts_deferred():
                os.kill(os.getpid(), sig)
                os.replace(new, video)  # still done: the signal waits
                write_atomic(tmp_path / "v.srt", "new captions")
        assert video.read_text() == f"new video {sig.name}"
        assert (tmp_path / "v.srt").read_text() == "new captions"
    # Outside the block the handlers are the ones from before: Ctrl-C interrupts at once.
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
