"""End-to-end renders through the CLI (slow: run with `-m render`, or deselect with `-m "not render"`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from ncfvid.render import library_hash
from ncfvid.video.probe import probe

pytestmark = pytest.mark.render

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
BOOKCLUB = ROOT / "storyboards" / "bookclub.yaml"
SRT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)")


def render(storyboard: Path, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(NCFVID), "render", storyboard.name, "-q", "l", "--draft", "-o", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=storyboard.parent,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result, time.perf_counter() - started


def act_states(output: str) -> dict[str, str]:
    """{act: 'cached' | 'done'} from the render's progress lines."""
    states = {}
    for line in output.splitlines():
        match = re.match(r"^\s+(\w+)\s+(cached|done in)", line)
        if match:
            states[match.group(1)] = match.group(2).split()[0]
    return states


def cue_times(path: Path) -> list[tuple[float, float]]:
    cues = []
    for match in SRT_TIME.finditer(path.read_text(encoding="utf-8")):
        h1, m1, s1, f1, h2, m2, s2, f2 = map(int, match.groups())
        cues.append((h1 * 3600 + m1 * 60 + s1 + f1 / 1000, h2 * 3600 + m2 * 60 + s2 + f2 / 1000))
    return cues


def check_video(video: Path) -> float:
    info = probe(video)
    assert info.video_codec == "h264"
    assert (info.width, info.height) == (854, 480)
    assert info.fps == Fraction(15)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.audio_duration is not None
    assert abs(info.audio_duration - info.video_duration) <= 0.2, info
    assert abs(info.frame_count - info.video_duration * 15) <= 1, info
    for suffix in (".srt", ".vtt"):
        captions = video.with_suffix(suffix)
        assert captions.is_file(), captions
        cues = cue_times(captions)
        assert cues, f"no cues in {captions}"
        for start, end in cues:
            assert 0 <= start < end <= info.video_duration + 0.05, (start, end, info.video_duration)
    return info.video_duration


@pytest.fixture(scope="module")
def tiny_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """tiny.yaml copied to its own folder and rendered once: (storyboard, output folder, CLI output, library hash)."""
    folder = tmp_path_factory.mktemp("tiny")
    storyboard = folder / "tiny.yaml"
    shutil.copy(TINY, storyboard)
    out = folder / "out"
    lib = library_hash()
    result, _ = render(storyboard, out)
    if library_hash() != lib:
        pytest.skip("ncfvid's scene library changed during the render (someone is editing it)")
    return storyboard, out, result.stdout, lib


def test_tiny_video_and_captions(tiny_render: tuple[Path, Path, str, str]) -> None:
    _, out, output, _ = tiny_render
    assert act_states(output) == {"intro": "done", "answer": "done"}
    length = check_video(out / "tiny.mp4")
    assert 2 < length < 60
    srt = (out / "tiny.srt").read_text(encoding="utf-8")
    assert "A tiny test." in srt
    assert "{{" not in srt and re.search(r"About \d+(\.\d+)? stars\.", srt)
    assert (out / "tiny.vtt").read_text(encoding="utf-8").startswith("WEBVTT")


def test_tiny_second_render_is_cached(tiny_render: tuple[Path, Path, str, str]) -> None:
    storyboard, out, _, _ = tiny_render
    before = (out / "tiny.mp4").stat().st_size
    result, seconds = render(storyboard, out)
    if library_hash() != tiny_render[3]:
        pytest.skip("ncfvid's scene library changed since the first render, so its act cache is rightly stale")
    assert act_states(result.stdout) == {"intro": "cached", "answer": "cached"}
    assert seconds < 15, f"a fully cached render took {seconds:.1f} s"
    check_video(out / "tiny.mp4")
    assert (out / "tiny.mp4").stat().st_size == before


@pytest.mark.parametrize("package", ["manim", "av", "manim-voiceover", "numpy"])
def test_another_installed_version_draws_every_beat_again(
    tiny_render: tuple[Path, Path, str, str], package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cache key names the versions of what made the artifact: with another Manim (or PyAV...)
    installed, no clip drawn by the old one is served."""
    import importlib.metadata

    from click.testing import CliRunner

    from ncfvid.cli import cli

    storyboard, out, _, _ = tiny_render
    monkeypatch.chdir(storyboard.parent)
    arguments = ["render", storyboard.name, "-q", "l", "--draft", "-o", str(out), "--dry-run"]
    unchanged = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    if library_hash() != tiny_render[3]:
        pytest.skip("ncfvid's scene library changed since the first render, so its act cache is rightly stale")
    assert unchanged.output.split() == ["intro", "cached", "answer", "cached"], unchanged.output
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "99.0.0" if name == package else real(name))
    upgraded = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    assert upgraded.output.split() == ["intro", "would", "render", "answer", "would", "render"], upgraded.output


def test_tiny_edit_rerenders_one_act(tiny_render: tuple[Path, Path, str, str]) -> None:
    storyboard, out, _, _ = tiny_render
    text = storyboard.read_text(encoding="utf-8")
    assert "narration: Ann and Coffee." in text
    storyboard.write_text(text.replace("narration: Ann and Coffee.", "narration: Ann meets Coffee."), encoding="utf-8")
    result, _ = render(storyboard, out)
    if library_hash() != tiny_render[3]:
        pytest.skip("ncfvid's scene library changed since the first render, so its act cache is rightly stale")
    assert act_states(result.stdout) == {"intro": "cached", "answer": "done"}
    check_video(out / "tiny.mp4")
    assert "Ann meets Coffee." in (out / "tiny.srt").read_text(encoding="utf-8")


def test_bookclub_render(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result, _ = render(BOOKCLUB, out)
    assert set(act_states(result.stdout)) == {"shelf", "reader_dna", "model", "practice"}
    length = check_video(out / "bookclub.mp4")
    assert length > 10
    srt = (out / "bookclub.srt").read_text(encoding="utf-8")
    assert "Frankenstein" in srt and "{{" not in srt
