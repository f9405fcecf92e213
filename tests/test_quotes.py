"""One rule set for narration quotes: `validate` checks them against the values' shape (known without
training) at their line, `compile` against the values; what validates compiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ncfvid.narration import NarrationError, context_shape, quote_problem, render_narration
from ncfvid.pipeline import load, prepare

ROOT = Path(__file__).resolve().parent.parent
NCFVID = Path(sys.executable).parent / "ncfvid"


@pytest.fixture(scope="module")
def prepared() -> Any:
    return prepare(load(ROOT / "storyboards" / "ncf.yaml"), None)


def test_the_shape_validate_knows_is_the_context_compile_fills(prepared: Any) -> None:
    """Same names, same nesting, same list lengths: only the values differ."""
    assert _same_names(context_shape(prepared.loaded.story), prepared.context)


def _same_names(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_names(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same_names(x, y) for x, y in zip(a, b, strict=True))
    return not isinstance(b, dict | list)


NAMES = [
    "prediction",
    "predicton",
    "prediction.__class__",
    "prediction.real",
    "target",
    "target.user",
    "target.users",
    "twins.0.similarity",
    "twins.99.user",
    "predictions",
    "predictions.Alice x Shrek",
    "rmse",
    "title",
    "title.upper",
    "__class__",
]


@pytest.mark.parametrize("name", NAMES)
def test_validate_and_compile_judge_a_quote_alike(prepared: Any, name: str) -> None:
    shape = context_shape(prepared.loaded.story)
    by_validate = quote_problem(name, shape)
    by_compile = quote_problem(name, prepared.context)
    assert by_validate == by_compile
    if by_compile is None:
        render_narration(f"{{{{ {name} }}}}", prepared.context)
    else:
        with pytest.raises(NarrationError, match="is not a value the story computes|is a collection"):
            render_narration(f"{{{{ {name} }}}}", prepared.context)


def test_validate_reports_a_dunder_quote_at_its_line(tmp_path: Path) -> None:
    source = (ROOT / "storyboards" / "ncf.yaml").read_text(encoding="utf-8")
    assert "{{ prediction }}" in source
    broken = tmp_path / "ncf.yaml"
    broken.write_text(source.replace("{{ prediction }}", "{{ prediction.__class__ }}", 1), encoding="utf-8")
    lines = broken.read_text(encoding="utf-8").splitlines()
    quoted = next(i for i, text in enumerate(lines) if "__class__" in text)
    line = max(i for i in range(quoted + 1) if "narration:" in lines[i]) + 1  # the narration it is in
    result = subprocess.run([str(NCFVID), "validate", str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"ncf.yaml:{line}:" in result.stderr
    assert "{{ prediction.__class__ }} is not a value the story computes" in result.stderr
    assert "Traceback" not in result.stderr
