"""`ncfvid validate` as CI and people use it: the three output formats, --strict, exit codes, several
files at once, and how light and quick validation is. Runs the installed `ncfvid` in a subprocess from
the repository root, on files of the broken-storyboard corpus (tests/corpus/)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
ANNE = "tests/corpus/unknown_user_in_target.yaml"  # one error: 'Anne' is not a user
LONG_TITLE = "tests/corpus/title_too_long.yaml"  # one warning: a title too long to read
LAYERS = "tests/corpus/last_layer_not_one.yaml"  # one error: the last layer has 2 units
TINY = "tests/data/tiny.yaml"  # valid
NCF = "storyboards/ncf.yaml"  # valid

ANNE_MESSAGE = "'Anne' is not a user of the table; did you mean 'Ann'?"
LONG_MESSAGE = "title is 88 characters long; beyond 70 it shrinks below a readable size: shorten it"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NCFVID), "validate", *args], capture_output=True, text=True, cwd=ROOT, check=False, timeout=60
    )


def position_of(file: str, text: str) -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of ``text`` in a repository file, comments aside."""
    for number, line in enumerate((ROOT / file).read_text(encoding="utf-8").splitlines(), start=1):
        if text in line and not line.startswith("#"):
            return number, line.index(text) + 1
    raise AssertionError(f"{text!r} not in {file}")


# --------------------------------------------------------------------------------------------------
# --format json


def test_json_lists_every_problem_with_its_position() -> None:
    result = run(ANNE, LONG_TITLE, "--format", "json")
    assert result.returncode == 1
    assert result.stderr == ""
    diagnostics = json.loads(result.stdout)
    assert isinstance(diagnostics, list)
    for diag in diagnostics:
        assert set(diag) == {"file", "line", "column", "path", "message", "severity"}
    anne_line, anne_col = position_of(ANNE, "Anne,")
    long_line, long_col = position_of(LONG_TITLE, "A tiny storyboard whose")
    assert diagnostics == [  # sorted by file, then position
        {
            "file": LONG_TITLE,
            "line": long_line,
            "column": long_col,
            "path": "acts[0].beats[0].show.title",
            "message": LONG_MESSAGE,
            "severity": "warning",
        },
        {
            "file": ANNE,
            "line": anne_line,
            "column": anne_col,
            "path": "data.target.user",
            "message": ANNE_MESSAGE,
            "severity": "error",
        },
    ]


def test_json_of_a_valid_storyboard_is_an_empty_list() -> None:
    result = run(TINY, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_json_reports_a_yaml_syntax_error() -> None:
    result = run("tests/corpus/yaml_unclosed_bracket.yaml", "--format", "json")
    assert result.returncode == 1
    [diag] = json.loads(result.stdout)
    assert diag["path"] == ""
    assert diag["severity"] == "error"
    assert diag["line"] > 0 and diag["column"] > 0
    assert diag["message"].startswith("invalid YAML: the list opened with '['")


# --------------------------------------------------------------------------------------------------
# --format github


def test_github_annotations() -> None:
    result = run(ANNE, LONG_TITLE, "--format", "github")
    assert result.returncode == 1
    assert result.stderr == ""
    anne_line, anne_col = position_of(ANNE, "Anne,")
    long_line, long_col = position_of(LONG_TITLE, "A tiny storyboard whose")
    assert result.stdout.splitlines() == [
        f"::warning file={LONG_TITLE},line={long_line},col={long_col}::acts[0].beats[0].show.title: {LONG_MESSAGE}",
        f"::error file={ANNE},line={anne_line},col={anne_col}::data.target.user: {ANNE_MESSAGE}",
    ]


def test_github_prints_nothing_for_a_valid_storyboard() -> None:
    result = run(TINY, NCF, "--format", "github")
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_github_annotation_for_a_whole_file_problem() -> None:
    result = run("tests/corpus/does_not_exist.yaml", "--format", "github")
    assert result.returncode == 1
    assert result.stdout == "::error file=tests/corpus/does_not_exist.yaml::file not found\n"


# --------------------------------------------------------------------------------------------------
# --format text, warnings and --strict


def test_text_warning_passes_without_strict() -> None:
    result = run(LONG_TITLE)
    assert result.returncode == 0
    assert result.stdout == "1 storyboard valid\n"
    line, col = position_of(LONG_TITLE, "A tiny storyboard whose")
    assert result.stderr.startswith(f"{LONG_TITLE}:{line}:{col}: warning: acts[0].beats[0].show.title: ")
    assert result.stderr.rstrip().endswith("0 errors, 1 warning")


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_strict_turns_a_warning_into_failure(fmt: str) -> None:
    relaxed = run(LONG_TITLE, "--format", fmt)
    strict = run(LONG_TITLE, "--format", fmt, "--strict")
    assert relaxed.returncode == 0
    assert strict.returncode == 1
    assert "storyboard valid" not in strict.stdout
    assert LONG_MESSAGE in strict.stdout + strict.stderr


def test_strict_on_a_clean_storyboard_still_passes() -> None:
    result = run(TINY, "--strict")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 storyboard valid\n"


# --------------------------------------------------------------------------------------------------
# Exit codes and several files


@pytest.mark.parametrize(
    "args",
    [
        (),  # no storyboard
        (TINY, "--format", "xml"),  # unknown format
        (TINY, "--no-such-option"),
    ],
    ids=["no-storyboard", "bad-format", "unknown-option"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr  # one line: what is wrong, the usage, where help is
    assert "usage: ncfvid validate [OPTIONS] STORYBOARDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_files_report_errors_from_each() -> None:
    result = run(ANNE, TINY, LAYERS)
    assert result.returncode == 1
    # one summary line per storyboard, in the order named, then how many failed
    assert result.stdout.splitlines() == [
        f"{ANNE}: 1 error, 0 warnings",
        f"{TINY}: valid",
        f"{LAYERS}: 1 error, 0 warnings",
        "2 of 3 storyboards failed",
    ]
    heads = re.findall(r"^(\S+?):(\d+):(\d+): (error|warning): ", result.stderr, re.M)
    assert [(file, severity) for file, _, _, severity in heads] == [(LAYERS, "error"), (ANNE, "error")]
    assert result.stderr.rstrip().endswith("2 errors, 0 warnings")


def test_several_valid_files() -> None:
    result = run(NCF, TINY, "storyboards/bookclub.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{NCF}: valid", f"{TINY}: valid", "storyboards/bookclub.yaml: valid"] + [
        "3 storyboards valid"
    ]
    assert result.stderr == ""


def test_missing_file_is_an_error_not_a_usage_error() -> None:
    result = run(TINY, "tests/corpus/does_not_exist.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith("tests/corpus/does_not_exist.yaml: error: file not found")


# --------------------------------------------------------------------------------------------------
# Light and quick


def test_validate_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Measured, not asserted (machines differ): the issue asks for well under half a second."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = run(NCF)
        times.append(time.perf_counter() - start)
        assert result.returncode == 0, result.stderr
    with capsys.disabled():
        print(f"\n`ncfvid validate {NCF}` wall time: best {min(times):.3f}s of {len(times)} runs")


HEAVY = ("manim", "numpy", "scipy", "PIL", "cairo", "torch")


def test_validation_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from ncfvid.cli import main\n"
        f"sys.argv = ['ncfvid', 'validate', {NCF!r}, {ANNE!r}, {LONG_TITLE!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"heavy = sorted({{name.split('.')[0] for name in sys.modules}} & {set(HEAVY)!r})\n"
        "print('RESULT', code, ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.splitlines()[-1] == "RESULT 1 ", result.stdout  # invalid, and no heavy module loaded
