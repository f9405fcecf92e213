"""The compiler: golden output, determinism, lint-clean code, and user text kept as inert literals."""

from __future__ import annotations

import ast
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ncfvid.scenelib
from ncfvid.compiler import importable_names, library_names
from ncfvid.components import registry
from ncfvid.pipeline import compile_prepared, load, prepare

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
RUFF = Path(sys.executable).parent / "ruff"
STORYBOARDS = {
    "ncf": ROOT / "storyboards" / "ncf.yaml",
    "tiny": ROOT / "tests" / "data" / "tiny.yaml",
}


def compile_file(path: Path, cache: Path) -> tuple[str, object]:
    prepared = prepare(load(path), cache)
    return compile_prepared(prepared), prepared


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    # Source paths in the generated comments are relative to the working directory.
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.mark.parametrize("name", sorted(STORYBOARDS))
def test_golden(name: str, tmp_path: Path, in_root: Path, update_golden: bool) -> None:
    text, _ = compile_file(STORYBOARDS[name], tmp_path / "cache")
    golden = GOLDEN / f"{name}.py.txt"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        pytest.skip(f"rewrote {golden.name}")
    assert golden.is_file(), f"no golden file {golden}; run pytest --update-golden"
    assert text == golden.read_text(encoding="utf-8"), f"compiled {name} differs from {golden.name}"


@pytest.mark.parametrize("name", sorted(STORYBOARDS))
def test_deterministic(name: str, tmp_path: Path, in_root: Path) -> None:
    first, _ = compile_file(STORYBOARDS[name], tmp_path / "a")
    second, _ = compile_file(STORYBOARDS[name], tmp_path / "b")  # trains again in a fresh cache
    third, _ = compile_file(STORYBOARDS[name], tmp_path / "a")  # model from the cache
    assert first == second == third


@pytest.mark.parametrize(
    "path",
    [
        STORYBOARDS["ncf"],
        ROOT / "storyboards" / "bookclub.yaml",
        STORYBOARDS["tiny"],
    ],
    ids=["ncf", "bookclub", "tiny"],
)
def test_generated_code_is_clean(path: Path, tmp_path: Path, in_root: Path) -> None:
    text, _ = compile_file(path, tmp_path / "cache")
    module = tmp_path / "scenes.py"
    module.write_text(text, encoding="utf-8")
    py_compile.compile(str(module), doraise=True)
    result = subprocess.run(
        [str(RUFF), "check", "--isolated", "--line-length", "110", str(module)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


TRICKY = [
    "He said \"hi\" and 'bye'",
    "back\\slash \\n \\x00 C:\\temp\\",
    "line one\nline two",
    "braces {{ }} and {x} and {{ 1 + 1 }}",
    "triple \"\"\" quotes ''' here",
    "__import__('os').system('touch PWNED')",
    '"); import os; os.system("touch PWNED2"); print("',
]


def tricky_storyboard(folder: Path) -> Path:
    acts = []
    for index, text in enumerate(TRICKY):
        acts.append(
            {
                "id": f"act{index}",
                "title": text,
                "beats": [
                    {
                        "id": "card",
                        "narration": text,
                        "show": {"component": "title_card", "title": text, "subtitle": text},
                    },
                    {
                        "id": "bullets",
                        "narration": "Bullet: " + text,
                        "show": {"component": "bullets", "title": "T", "items": [text]},
                    },
                ],
            }
        )
    story = {
        "title": TRICKY[0],
        "voice": {"engine": "draft"},
        "data": {
            "items": ["A", "B"],
            "ratings": {"U1": [5, None], "U2": [4, 2]},
            "target": {"user": "U1", "item": "B"},
        },
        "model": {"embedding_size": 2, "layers": [4, 4, 1], "epochs": 5},
        "acts": acts,
    }
    path = folder / "tricky.yaml"
    path.write_text(yaml.safe_dump(story, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def string_constants(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(ast.literal_eval(ast.unparse(node)))
    return found


def test_user_text_stays_literal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text, _ = compile_file(tricky_storyboard(tmp_path), tmp_path / "cache")
    tree = ast.parse(text)
    constants = string_constants(tree)
    for value in TRICKY:
        assert value in constants, f"{value!r} is not a string constant of the module"
        assert "Bullet: " + value in constants
    # Nothing the user wrote became a call: the only calls are to known names.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"__import__", "eval", "exec", "print", "open"}
    # Compiling (and importing the module's syntax) executes nothing.
    module = tmp_path / "scenes.py"
    module.write_text(text, encoding="utf-8")
    py_compile.compile(str(module), doraise=True)
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "PWNED2").exists()


def test_prediction_is_quoted(tmp_path: Path, in_root: Path) -> None:
    text, prepared = compile_file(STORYBOARDS["tiny"], tmp_path / "cache")
    prediction = prepared.context["prediction"]
    assert isinstance(prediction, float)
    assert prediction == round(prediction, 1)
    assert prediction == pytest.approx(prepared.data.prediction)
    assert "{{" not in "".join(c for c in string_constants(ast.parse(text)) if "stars" in c)
    assert f"About {prediction} stars." in string_constants(ast.parse(text))


def test_library_names_match_scenelib() -> None:
    """The compiler reads scenelib's __all__ from its source (importing it would load Manim)."""
    assert library_names() == set(ncfvid.scenelib.__all__)


def test_every_component_names_what_its_template_may_import() -> None:
    """Each registry entry's names exist where it says (Manim, or its scene library module)."""
    import importlib

    for module, names in importable_names().items():
        found = importlib.import_module(module)
        assert not [name for name in names if not hasattr(found, name)], module
    for name, entry in registry().items():
        assert entry.name == name and entry.template == f"components/{name}.py.j2"
        assert set(entry.library) <= importable_names()[entry.piece]
