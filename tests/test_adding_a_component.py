"""docs/adding-a-component.md, followed word for word in a copy of the repository: its code blocks
written where they say, its command run; the new component then validates, compiles, passes the
layout check and renders, and no file but those the guide names has changed."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "adding-a-component.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
PATH_LINE = re.compile(r"^(?:#|\{#)\s*([\w./-]+\.(?:py|j2))\s*(?:#\})?$")

pytestmark = pytest.mark.render


def guide_files() -> dict[str, str]:
    """path -> content of the guide's code blocks that open with a comment naming their file."""
    found = {}
    for _, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        match = PATH_LINE.match(first.strip())
        if match:
            found[match.group(1)] = rest if first.startswith("{#") else body
    return found


def guide_block(marker: str) -> str:
    return next(body for _, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")) if body.startswith(marker))


def snapshot(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and "output" not in path.parts
    }


def run(copy: Path, *args: str, stdout: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    command = [sys.executable, "-m", "ncfvid", *args]
    if stdout is not None:
        with stdout.open("w", encoding="utf-8") as out:
            return subprocess.run(command, cwd=copy, env=env, stdout=out, text=True, check=True, timeout=600)
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A copy of the repository with the guide's component added: (copy, files before, files after)."""
    copy = tmp_path_factory.mktemp("repo")
    for part in ("ncfvid", "templates", "schema", "tests/data"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    before = snapshot(copy)
    files = guide_files()
    assert set(files) == {
        "ncfvid/components/quote_card.py",
        "ncfvid/scenelib/quotecard.py",
        "templates/components/quote_card.py.j2",
    }
    for name, content in files.items():
        (copy / name).write_text(content, encoding="utf-8")
    assert "ncfvid schema > schema/storyboard.schema.json" in GUIDE.read_text(encoding="utf-8")
    run(copy, "schema", stdout=copy / "schema" / "storyboard.schema.json")
    return copy, before, snapshot(copy)


def storyboard(copy: Path, beat: str) -> Path:
    """tests/data/tiny.yaml with `beat` (the guide's storyboard lines) as the intro's last beat."""
    tiny = (copy / "tests" / "data" / "tiny.yaml").read_text(encoding="utf-8")
    anchor = "          caption: Ann and Coffee?\n"
    assert anchor in tiny
    path = copy / "quote.yaml"
    path.write_text(tiny.replace(anchor, anchor + beat.split("\n", 1)[1]), encoding="utf-8")
    return path


def test_only_the_files_the_guide_names_change(added: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    _, before, after = added
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "ncfvid/components/quote_card.py",
        "ncfvid/scenelib/quotecard.py",
        "templates/components/quote_card.py.j2",
        "schema/storyboard.schema.json",
    }
    assert set(before) <= set(after)


def test_the_new_component_validates_compiles_checks_and_renders(
    added: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    copy, _, _ = added
    assert '"quote_card"' in (copy / "schema" / "storyboard.schema.json").read_text(encoding="utf-8")
    story = storyboard(copy, guide_block("# storyboard"))
    validated = run(copy, "validate", story.name)
    assert validated.returncode == 0, validated.stderr
    compiled = run(copy, "compile", story.name, "-o", "out")
    assert compiled.returncode == 0, compiled.stderr
    module = (copy / "out" / "scenes.py").read_text(encoding="utf-8")
    assert "from ncfvid.scenelib.quotecard import QuoteCard" in module
    assert '"All models are wrong, but some are useful."' in module
    checked = run(copy, "check", story.name, "--act", "intro", "-o", "out")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rendered = run(copy, "render", story.name, "--act", "intro", "--draft", "-q", "l", "-o", "out")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert (copy / "out" / "quote-intro.mp4").stat().st_size > 0


def test_the_new_components_rule_is_reported_at_its_line(added: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    copy, _, _ = added
    beat = guide_block("# storyboard").replace("quote: All models are wrong, but some are useful.", "quote: George Box")
    story = storyboard(copy, beat)
    line = next(
        i for i, text in enumerate(story.read_text(encoding="utf-8").splitlines(), 1) if "quote: George" in text
    )
    result = run(copy, "validate", story.name)
    assert result.returncode == 1
    assert f"quote.yaml:{line}:" in result.stderr
    assert "the quote only repeats who said it" in result.stderr
