"""The beat cache through the CLI: served when unchanged; only the edited beat and the later beats
of its act re-rendered (or served, when drawn before from the same stage), with the same frames as a
full render; parallel equal to serial, interrupts leave nothing broken, --dry-run and --force (slow:
`-m render`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from ncfvid.render import library_hash

pytestmark = pytest.mark.render

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
INTRO_LINE = "narration: A tiny test."
ANSWER_LINE = "narration: Ann and Coffee."


def ncfvid(folder: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(NCFVID), "render", "tiny.yaml", "--draft", "-q", "l", "-o", "out", *extra],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def act_states(output: str) -> dict[str, str]:
    """{act: 'cached' | 'done' | 'would'} from the render's plain progress lines (or --dry-run's)."""
    states = {}
    for line in output.splitlines():
        match = re.match(r"^\s*(\w+)\s+(cached|done in|would render)", line)
        if match:
            states[match.group(1)] = match.group(2).split()[0]
    return states


def beat_folders(out: Path) -> list[Path]:
    """Every complete beat clip folder in the cache (`NN-<key>`; work folders start with a dot)."""
    return sorted(p for p in (out / "cache" / "beats").glob("*/*") if re.match(r"\d\d-", p.name))


def clip_dirs(out: Path) -> dict[tuple[str, int], Path]:
    """{(act id, beat index): its cached clip folder}; a fresh output folder has one per beat."""
    found: dict[tuple[str, int], Path] = {}
    for folder in beat_folders(out):
        where = (folder.parent.name, int(folder.name.split("-")[0]))
        assert where not in found, f"two cached clips of {where} in a fresh output folder"
        found[where] = folder
    return found


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def edit(folder: Path, old: str, new: str) -> None:
    storyboard = folder / "tiny.yaml"
    text = storyboard.read_text(encoding="utf-8")
    assert old in text
    storyboard.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """tiny.yaml rendered once, serially: (its folder, the library hash the cache was built with)."""
    folder = tmp_path_factory.mktemp("cache")
    shutil.copy(TINY, folder / "tiny.yaml")
    lib = library_hash()
    result = ncfvid(folder, "--jobs", "1")
    assert act_states(result.stdout) == {"intro": "done", "answer": "done"}
    return folder, lib


@pytest.fixture
def copy(rendered: tuple[Path, str], tmp_path: Path) -> Path:
    """A private copy of the rendered folder (storyboard, cache and video) for a test that changes it."""
    folder, lib = rendered
    if library_hash() != lib:
        pytest.skip("ncfvid's scene library changed since the first render (someone is editing it)")
    shutil.copytree(folder, tmp_path / "tiny")
    return tmp_path / "tiny"


def test_unchanged_acts_come_from_the_cache(copy: Path) -> None:
    out = copy / "out"
    video = (out / "tiny.mp4").read_bytes()
    logs = {log.name: log.stat().st_mtime_ns for log in (out / "logs").iterdir()}
    before = clip_dirs(out)
    result = ncfvid(copy)
    assert act_states(result.stdout) == {"intro": "cached", "answer": "cached"}
    assert clip_dirs(out) == before
    assert {log.name: log.stat().st_mtime_ns for log in (out / "logs").iterdir()} == logs  # Manim never ran
    assert (out / "tiny.mp4").read_bytes() == video
    quiet = ncfvid(copy, "--quiet")
    assert (quiet.stdout, quiet.stderr) == ("out/tiny.mp4\n", "")


def test_an_edited_beat_renders_again_with_its_acts_later_beats_only(copy: Path, tmp_path: Path) -> None:
    out = copy / "out"
    before = clip_dirs(out)
    assert sorted(before) == [("answer", 0), ("answer", 1), ("intro", 0), ("intro", 1)]
    kept = {where: (folder / "clip.mp4").read_bytes() for where, folder in before.items()}
    # The first beat of 'answer': both its beats render again (the second one's stage may have changed).
    edit(copy, ANSWER_LINE, "narration: Ann meets Coffee.")
    assert re.search(r"^answer +would render$", ncfvid(copy, "--dry-run").stdout, re.M)
    result = ncfvid(copy)
    assert act_states(result.stdout) == {"intro": "cached", "answer": "done"}
    new = set(beat_folders(out)) - set(before.values())
    assert sorted((p.parent.name, p.name[:2]) for p in new) == [("answer", "00"), ("answer", "01")]
    # The edit only made the first beat longer: the second starts from the same stage, with the same
    # code, so its clip is the one drawn before (served from the cache, not drawn again).
    second = next(p for p in new if p.name.startswith("01"))
    for name in ("clip.mp4", "sound.wav", "cues.json"):
        assert os.path.samefile(second / name, before[("answer", 1)] / name)
    assert not os.path.samefile(
        next(p for p in new if p.name.startswith("00")) / "clip.mp4", before[("answer", 0)] / "clip.mp4"
    )
    assert set(before.values()) <= set(beat_folders(out))  # an undo is free
    for where in [("intro", 0), ("intro", 1)]:
        assert (before[where] / "clip.mp4").read_bytes() == kept[where]
    assert "Ann meets Coffee." in (out / "tiny.srt").read_text(encoding="utf-8")

    # The last beat of 'intro': that beat alone, drawn after the first beat set the stage unseen.
    edit(copy, "narration: Three people, three drinks.", "narration: Three people and their drinks.")
    dry = ncfvid(copy, "--dry-run").stdout
    assert re.search(r"^intro +would render beat\(s\) 2 of 2 \(the rest is cached\)$", dry, re.M), dry
    present = set(beat_folders(out))
    result = ncfvid(copy)
    assert act_states(result.stdout) == {"intro": "done", "answer": "cached"}
    new = set(beat_folders(out)) - present
    assert sorted((p.parent.name, p.name[:2]) for p in new) == [("intro", "01")]

    # The same frames, captions and sound as a full render of the edited storyboard.
    shutil.copy(copy / "tiny.yaml", tmp_path / "tiny.yaml")
    ncfvid(tmp_path)
    assert_same_video(out / "tiny.mp4", tmp_path / "out" / "tiny.mp4")
    assert (out / "tiny.srt").read_bytes() == (tmp_path / "out" / "tiny.srt").read_bytes()


def test_one_acts_beats_split_over_two_jobs_equal_a_full_render(copy: Path, tmp_path: Path) -> None:
    # Only 'answer' renders, and with two jobs its two beats go to two Manim processes at once.
    edit(copy, ANSWER_LINE, "narration: Ann, Coffee, and two processes.")
    result = ncfvid(copy, "--jobs", "2")
    assert act_states(result.stdout) == {"intro": "cached", "answer": "done"}
    logs = sorted(log.name for log in (copy / "out" / "logs").iterdir() if log.name.startswith("answer"))
    assert logs == ["answer.beats-0-0.log", "answer.beats-1-1.log", "answer.log"]  # answer.log: the first render
    shutil.copy(copy / "tiny.yaml", tmp_path / "tiny.yaml")
    ncfvid(tmp_path, "--jobs", "1")
    assert_same_video(copy / "out" / "tiny.mp4", tmp_path / "out" / "tiny.mp4")
    assert (copy / "out" / "tiny.srt").read_bytes() == (tmp_path / "out" / "tiny.srt").read_bytes()


def assert_same_video(a: Path, b: Path) -> None:
    """Equal frames, one by one, and equal decoded sound."""
    first, second = frames(a), frames(b)
    assert len(first) == len(second) > 0
    for index, (x, y) in enumerate(zip(first, second, strict=True)):
        assert np.array_equal(x, y), f"frame {index} differs (max {np.abs(x.astype(int) - y.astype(int)).max()})"
    sound = []
    for path in (a, b):
        with av.open(str(path)) as container:
            sound.append(np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1))
    assert sound[0].shape == sound[1].shape and np.array_equal(sound[0], sound[1])


def test_parallel_render_equals_serial(rendered: tuple[Path, str], tmp_path: Path) -> None:
    folder, lib = rendered
    shutil.copy(folder / "tiny.yaml", tmp_path / "tiny.yaml")
    result = ncfvid(tmp_path, "--jobs", "2")
    if library_hash() != lib:
        pytest.skip("ncfvid's scene library changed between the serial and the parallel render")
    assert act_states(result.stdout) == {"intro": "done", "answer": "done"}
    serial, parallel = frames(folder / "out" / "tiny.mp4"), frames(tmp_path / "out" / "tiny.mp4")
    assert len(parallel) == len(serial) > 0
    for index, (a, b) in enumerate(zip(serial, parallel, strict=True)):
        assert np.array_equal(a, b), f"frame {index} differs (max {np.abs(a.astype(int) - b.astype(int)).max()})"
    assert (tmp_path / "out" / "tiny.srt").read_bytes() == (folder / "out" / "tiny.srt").read_bytes()


@pytest.mark.parametrize(
    ("sig", "jobs", "after"),
    [(signal.SIGINT, "1", "intro"), (signal.SIGTERM, "1", "answer"), (signal.SIGTERM, "2", "intro")],
    ids=["sigint-first-act", "sigterm-second-act", "sigterm-parallel"],
)
def test_interrupted_render_breaks_nothing(copy: Path, sig: signal.Signals, jobs: str, after: str) -> None:
    """Kill the whole process group (as Ctrl-C or a CI timeout does) once `after` starts rendering."""
    out = copy / "out"
    video = (out / "tiny.mp4").read_bytes()
    captions = (out / "tiny.srt").read_text(encoding="utf-8")
    edit(copy, INTRO_LINE, "narration: A tiny test, interrupted.")
    edit(copy, ANSWER_LINE, "narration: Ann and Coffee, interrupted.")
    # New pictures too: a narration-only edit reuses the kept animations and ends before the signal.
    edit(copy, "          title: Tiny\n", "          title: Tiny, interrupted\n")
    edit(copy, "only_target: true", "only_target: false")
    process = subprocess.Popen(
        [str(NCFVID), "render", "tiny.yaml", "--draft", "-q", "l", "-o", "out", "--jobs", jobs],
        cwd=copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if re.match(rf"^\s+{after}\s+rendering", line):
                time.sleep(0.2)  # let Manim get going (an act of the tiny storyboard draws in ~0.5 s)
                os.killpg(process.pid, sig)
                break
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = "".join(seen) + rest
    assert any(re.match(rf"^\s+{after}\s+rendering", line) for line in seen), output
    assert process.returncode != 0, output
    assert not re.search(r"^out/tiny\.mp4 ", output, re.M), "the render finished before it was interrupted"
    # The last good video and its captions are untouched and no half-joined file is left beside them;
    # or, when the signal came as the last act ended, the new ones went out together (the publish
    # replaces the video, captions and chapters at one point, which an interrupt does not split).
    if (out / "tiny.mp4").read_bytes() == video:
        assert (out / "tiny.srt").read_text(encoding="utf-8") == captions
    else:
        assert "A tiny test, interrupted." in (out / "tiny.srt").read_text(encoding="utf-8")
    assert not list(out.glob(".tiny.*.joining.mp4"))
    # Every cached clip is complete and decodes; no work folder is left behind.
    assert not [p for p in (out / "cache" / "beats").glob("*/.tmp-*")]
    for folder in beat_folders(out):
        files = {"clip.mp4", "cues.json", "sound.wav", "layout.json", "drawn.json", "sums.json"}
        assert {p.name for p in folder.iterdir()} == files, folder
        assert len(frames(folder / "clip.mp4")) > 0
        json.loads((folder / "cues.json").read_text(encoding="utf-8"))
    # And the next render finishes the job from whatever was cached.
    result = ncfvid(copy)
    assert set(act_states(result.stdout)) == {"intro", "answer"}
    assert "Ann and Coffee, interrupted." in (out / "tiny.srt").read_text(encoding="utf-8")


def test_dry_run_lists_acts_and_renders_nothing(copy: Path) -> None:
    out = copy / "out"
    assert act_states(ncfvid(copy, "--dry-run").stdout) == {"intro": "cached", "answer": "cached"}
    edit(copy, INTRO_LINE, "narration: A tiny dry run.")
    before = sorted(p.name for p in (out / "cache" / "beats").glob("*/*"))
    logs = {log.name: log.stat().st_mtime_ns for log in (out / "logs").iterdir()}
    result = ncfvid(copy, "--dry-run")
    assert act_states(result.stdout) == {"intro": "would", "answer": "cached"}
    assert sorted(p.name for p in (out / "cache" / "beats").glob("*/*")) == before
    assert {log.name: log.stat().st_mtime_ns for log in (out / "logs").iterdir()} == logs
    assert "A tiny dry run." not in (out / "tiny.srt").read_text(encoding="utf-8")
    # With --force a dry run says everything would render, and still empties nothing.
    result = ncfvid(copy, "--dry-run", "--force")
    assert act_states(result.stdout) == {"intro": "would", "answer": "would"}
    assert sorted(p.name for p in (out / "cache" / "beats").glob("*/*")) == before


def test_force_renders_everything_again(copy: Path) -> None:
    out = copy / "out"
    before = clip_dirs(out)
    result = ncfvid(copy, "--force")
    assert act_states(result.stdout) == {"intro": "done", "answer": "done"}
    assert clip_dirs(out).keys() == before.keys()
    assert frames(out / "tiny.mp4")


def test_reused_animation_segments_keep_the_frame_clock(copy: Path, tmp_path: Path) -> None:
    """Narration edits that keep a beat's pictures reuse its kept animation segments; the frames after
    them fall where a full render puts them (a skipped play must advance Manim's clock by whole frames)."""
    edit(copy, INTRO_LINE, "narration: A tiny test, with a longer line.")
    edit(copy, ANSWER_LINE, "narration: Ann and Coffee, once more and slower.")
    before = set(beat_folders(copy / "out"))
    ncfvid(copy)
    made = [json.loads((f / "drawn.json").read_text()) for f in set(beat_folders(copy / "out")) - before]
    assert sum(m["animations_reused"] for m in made) >= 2, made  # the edited beats' pictures were kept
    shutil.copy(copy / "tiny.yaml", tmp_path / "tiny.yaml")
    ncfvid(tmp_path)
    assert_same_video(copy / "out" / "tiny.mp4", tmp_path / "out" / "tiny.mp4")
    assert (copy / "out" / "tiny.srt").read_bytes() == (tmp_path / "out" / "tiny.srt").read_bytes()
