"""The broken-storyboard corpus: every file in tests/corpus/ has exactly one fault, and `ncfvid validate`
must report it at the right place, in plain words, without a traceback.

Each case is compared with tests/golden/errors/<name>.txt (exit code, stdout and stderr); run
`pytest tests/test_corpus.py --update-golden` to rewrite the goldens after a deliberate change, then
read the diff. Independently of the goldens, each corpus file says in its second line where the
caret must point: `# expect: error at "Anne"` means the first diagnostic is an error whose
line:column in the file starts with the text `Anne`.

The over-size case is generated here (a 1 MiB file does not belong in the repository).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"
CORPUS = ROOT / "tests" / "corpus"
GOLDEN = ROOT / "tests" / "golden" / "errors"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
CASES = sorted(path.stem for path in CORPUS.glob("*.yaml"))
GENERATED = ("oversize",)  # goldens whose storyboard the tests write themselves

EXPECT = re.compile(r'^# expect: (error|warning) at (".*")$', re.M)
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings?$")


def run_validate(name: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NCFVID), "validate", name], capture_output=True, text=True, cwd=cwd, check=False, timeout=60
    )


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess[str]]:
    """`ncfvid validate tests/corpus/<name>.yaml` for every case, run side by side (one process each)."""
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        runs = pool.map(lambda name: run_validate(f"tests/corpus/{name}.yaml"), CASES)
        return dict(zip(CASES, runs, strict=True))


def transcript(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit: {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def compare_golden(name: str, actual: str, update: bool) -> None:
    golden = GOLDEN / f"{name}.txt"
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden for {name}; run pytest {Path(__file__).name} --update-golden"
    assert actual == golden.read_text(encoding="utf-8"), f"output of {name} differs from {golden.name}"


def headlines(stderr: str, shown_name: str) -> list[tuple[int, int, str, str]]:
    """(line, column, severity, message) of each diagnostic; fails on any line that is not a headline,
    a source excerpt with its caret, or the summary."""
    found = []
    lines = stderr.splitlines()
    head = re.compile(rf"^{re.escape(shown_name)}:(\d+):(\d+): (error|warning): (.+)$")
    i = 0
    while i < len(lines):
        match = head.match(lines[i])
        if match:
            found.append((int(match[1]), int(match[2]), match[3], match[4]))
            # the excerpt: the source line, then a caret alone on its line
            assert i + 2 < len(lines), stderr
            assert lines[i + 1].startswith("    "), stderr
            assert re.fullmatch(r"    *\^", lines[i + 2]), stderr
            i += 3
            continue
        assert SUMMARY.match(lines[i]) and i == len(lines) - 1, f"unexpected line {lines[i]!r} in:\n{stderr}"
        i += 1
    return found


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30


def test_no_stale_goldens() -> None:
    stale = {p.stem for p in GOLDEN.glob("*.txt")} - set(CASES) - set(GENERATED)
    assert not stale, f"goldens without a corpus case: {sorted(stale)}"


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name: str, results: dict[str, subprocess.CompletedProcess[str]], update_golden: bool) -> None:
    result = results[name]
    output = transcript(result)
    assert "Traceback" not in output, output
    compare_golden(name, output, update_golden)

    source = (CORPUS / f"{name}.yaml").read_text(encoding="utf-8")
    expect = EXPECT.search(source)
    assert expect, f"{name}.yaml has no '# expect: error|warning at \"...\"' line"
    severity, snippet = expect[1], json.loads(expect[2])

    diags = headlines(result.stderr, f"tests/corpus/{name}.yaml")
    assert diags, f"no diagnostic for {name}:\n{output}"
    assert len(diags) == len(set(diags)), f"a diagnostic is reported twice:\n{output}"
    assert diags == sorted(diags), f"diagnostics are not sorted by position:\n{output}"
    line, column, got_severity, message = diags[0]
    assert got_severity == severity, output
    lines = source.splitlines()
    assert 1 <= line <= len(lines), output
    assert lines[line - 1][column - 1 :].startswith(snippet), (
        f"{name}: caret at {line}:{column} ({lines[line - 1][column - 1 :]!r}) should be at {snippet!r}"
    )
    assert message[:1].islower() or message[:1] in "'{", f"message should read as a sentence: {message!r}"
    assert "Value error" not in message and "Input should" not in message, f"pydantic's wording: {message!r}"

    errors = [d for d in diags if d[2] == "error"]
    assert result.returncode == (1 if errors else 0), output
    if result.returncode == 0:
        assert result.stdout == "1 storyboard valid\n"
    else:
        assert result.stdout == ""


def test_oversize_file_is_refused(tmp_path: Path, update_golden: bool) -> None:
    """A storyboard over the 1 MiB limit is refused before it is parsed (generated, not committed)."""
    text = TINY.read_text(encoding="utf-8")
    padding = "# " + "x" * 1022 + "\n"  # 1 KiB of comment per line
    text += padding * (1024 - len(text) // len(padding))
    assert len(text.encode("utf-8")) > 1024 * 1024
    (tmp_path / "oversize.yaml").write_text(text, encoding="utf-8")

    result = run_validate("oversize.yaml", cwd=tmp_path)
    output = transcript(result)
    assert "Traceback" not in output, output
    assert result.returncode == 1
    assert re.match(r"^oversize\.yaml:1:1: error: the file is too large \(\d+ bytes", result.stderr), output
    compare_golden("oversize", output, update_golden)
