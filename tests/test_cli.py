"""The command line, run as a user would: the installed `ncfvid` in a subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
NCF = ROOT / "storyboards" / "ncf.yaml"
BOOKCLUB = ROOT / "storyboards" / "bookclub.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NCFVID), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False, timeout=120
    )


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """tiny.yaml with an unknown target user ('Anne' for 'Ann')."""
    text = TINY.read_text(encoding="utf-8")
    assert "target: {user: Ann," in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace("target: {user: Ann,", "target: {user: Anne,"), encoding="utf-8")
    return path


def test_validate_repo_storyboards() -> None:
    result = run("validate", "storyboards/ncf.yaml", "storyboards/bookclub.yaml", "tests/data/tiny.yaml")
    assert result.returncode == 0, result.stderr
    assert "3 storyboards valid" in result.stdout


def test_validate_broken_text(broken: Path) -> None:
    result = run("validate", broken.name, cwd=broken.parent)
    assert result.returncode == 1
    assert re.search(r"^broken\.yaml:\d+:\d+: error: .*did you mean 'Ann'", result.stderr, re.M), result.stderr


def test_validate_broken_json(broken: Path) -> None:
    result = run("validate", broken.name, "--format", "json", cwd=broken.parent)
    assert result.returncode == 1
    diagnostics = json.loads(result.stdout)
    assert len(diagnostics) == 1
    diag = diagnostics[0]
    assert set(diag) == {"file", "line", "column", "path", "message", "severity"}
    assert diag["file"] == "broken.yaml"
    assert diag["path"] == "data.target.user"
    assert diag["severity"] == "error"
    line = broken.read_text(encoding="utf-8").splitlines()[diag["line"] - 1]
    assert line[diag["column"] - 1 :].startswith("Anne")


def test_validate_valid_json_is_empty_list() -> None:
    result = run("validate", "tests/data/tiny.yaml", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_validate_broken_github(broken: Path) -> None:
    result = run("validate", broken.name, "--format", "github", cwd=broken.parent)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines
    assert all(line.startswith("::error file=") for line in lines)


@pytest.mark.parametrize(
    "args",
    [("validate",), ("validate", "tests/data/tiny.yaml", "--format", "xml"), ("no-such-command",), ("render",)],
    ids=["missing-argument", "bad-choice", "unknown-command", "render-without-storyboard"],
)
def test_usage_error_exits_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and ": error: " in result.stderr, result.stderr


def test_an_unknown_output_format_is_one_line() -> None:
    result = run("render", "tests/data/tiny.yaml", "--format", "avi")
    assert result.returncode == 2
    assert result.stderr.startswith("ncfvid render: error: Invalid value for '--format': 'avi' is not one of")
    assert result.stderr.count("\n") == 1, result.stderr


def test_schema_has_descriptions() -> None:
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "ncfvid storyboard"
    assert schema["properties"]["data"]["description"]
    defs = schema["$defs"]
    assert defs["ModelSettings"]["properties"]["embedding_size"]["description"]
    assert all(prop.get("description") for prop in defs["Beat"]["properties"].values())


def test_compile_is_deterministic(tmp_path: Path) -> None:
    first = run("compile", "tests/data/tiny.yaml", "-o", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    module = Path(first.stdout.strip())
    assert module == tmp_path / "a" / "scenes.py"
    once = module.read_bytes()
    again = run("compile", "tests/data/tiny.yaml", "-o", tmp_path / "a")
    assert again.returncode == 0, again.stderr
    other = run("compile", "tests/data/tiny.yaml", "-o", tmp_path / "b")
    assert other.returncode == 0, other.stderr
    assert module.read_bytes() == once == (tmp_path / "b" / "scenes.py").read_bytes()
    assert b"class Act1Intro(" in once and b"class Act2Answer(" in once


def test_compile_broken_exits_1(broken: Path, tmp_path: Path) -> None:
    result = run("compile", broken.name, "-o", tmp_path / "out", cwd=broken.parent)
    assert result.returncode == 1
    assert "did you mean 'Ann'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "scenes.py").exists()


def test_model_prints_table_and_target() -> None:
    result = run("model", "storyboards/ncf.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "User" and "Shrek" in lines[0]
    for user in ("Alice", "Bob", "Charlie", "David"):
        assert any(line.startswith(user) for line in lines)
    assert re.search(r"^target: Alice x Shrek = \d+\.\d{3}$", result.stdout, re.M), result.stdout


def test_python_dash_m_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ncfvid", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0
    assert "validate" in result.stdout and "render" in result.stdout


def test_render_dry_run_lists_acts(tmp_path: Path) -> None:
    result = run("render", "storyboards/bookclub.yaml", "--draft", "--dry-run", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == ["shelf", "reader_dna", "model", "practice"]
    assert all(line.rstrip().endswith("would render") for line in result.stdout.splitlines() if line.strip())
    assert not list(tmp_path.glob("*.mp4"))


def test_render_unknown_act(tmp_path: Path) -> None:
    result = run("render", "tests/data/tiny.yaml", "--draft", "--dry-run", "--act", "nope", "-o", tmp_path)
    assert result.returncode == 1
    assert "no act 'nope'" in result.stderr


def test_render_dry_run_with_espeak(tmp_path: Path) -> None:
    result = run("render", "storyboards/bookclub.yaml", "--dry-run", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_model_without_hidden_layer_is_a_user_error(tmp_path: Path) -> None:
    text = TINY.read_text(encoding="utf-8").replace("layers: [4, 4, 1]", "layers: [4, 1]")
    path = tmp_path / "flat.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("model", path.name, cwd=tmp_path)
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr
