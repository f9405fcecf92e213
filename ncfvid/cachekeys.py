"""What the cache keys of renders and checks are made of: the generated module cut into its shared
head, its acts and each act's beats (whole-line comments left out), and the code the scenes run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
from pathlib import Path

import ncfvid

# Where the code that runs inside Manim starts: the scene library, speech services and video code,
# and every ncfvid module they import (found by `library_files`).
LIBRARY_PARTS = ("scenelib", "speech", "video", "storydata.py")

# Installed packages whose version can change a clip, a parsed text or a trained model.
PACKAGES = ("manim", "manim-voiceover", "av", "numpy", "manimpango", "pycairo", "pillow", "svgelements")


def library_files() -> list[Path]:
    """The ncfvid source files the scenes run: LIBRARY_PARTS and, transitively, what they import."""
    root = Path(ncfvid.__file__).parent
    todo = [
        f for part in LIBRARY_PARTS for f in ((root / part).rglob("*.py") if (root / part).is_dir() else [root / part])
    ]
    found: set[Path] = set()
    while todo:
        file = todo.pop()
        if file in found or not file.is_file():
            continue
        found.add(file)
        stat = file.stat()
        todo.extend(_imported_files(file, root, stat.st_mtime_ns, stat.st_size))
    return sorted(found)


_IMPORT = re.compile(r"^\s*(?:from\s+(ncfvid[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)|import\s+(ncfvid[\w.]*))", re.M)


@functools.lru_cache(maxsize=512)
def _imported_files(file: Path, root: Path, mtime_ns: int, size: int) -> tuple[Path, ...]:
    """The ncfvid modules `file` imports (anywhere in it), as files (cached while the file is unchanged).
    A scan of its import lines: parsing every file would cost each render most of a second."""
    names: list[str] = []
    for module, imported, plain in _IMPORT.findall(file.read_text(encoding="utf-8")):
        if plain:
            names.append(plain)
            continue
        names.append(module)
        for name in re.findall(r"\w+", imported.split("#")[0] if "(" not in imported else imported):
            names.append(f"{module}.{name}")
    files = []
    for name in names:
        path = root.parent.joinpath(*name.split("."))
        files += [path.with_suffix(".py"), path / "__init__.py"]
    return tuple(files)


def versions() -> dict[str, str]:
    """The versions of the packages in PACKAGES and of the speech engine's library ("" if absent)."""
    found = {name: _package_version(name) for name in PACKAGES}
    found["espeak-ng"] = _espeak_version()
    return found


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ""


@functools.cache
def _espeak_version() -> str:
    """The espeak-ng library's file name (it carries the version) and size; "" where it is absent.
    Asking the library itself (espeak_Info) would first load its voices: a third of a second."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("espeak-ng")
    if name is None:
        return ""
    try:
        ctypes.CDLL(name)
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = [line.split()[-1] for line in maps if "libespeak-ng" in line and "/" in line]
    except OSError:
        return name
    if not paths:
        return name
    path = Path(os.path.realpath(paths[0]))
    return f"{path.name}:{path.stat().st_size}"


def library_hash() -> str:
    """A hash of the code the scenes run (see `library_files`) and the versions of what it runs on."""
    digest = hashlib.sha256(ncfvid.__version__.encode())
    digest.update(json.dumps(versions(), sort_keys=True).encode())
    root = Path(ncfvid.__file__).parent
    for file in library_files():
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def split_module(module: str) -> tuple[str, dict[str, str]]:
    """The module's shared head (imports, data, settings) and the source of each act class."""
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^class (Act\w+)\(Story\):", module, re.M)]
    if not starts:
        return module, {}
    head = module[: starts[0][0]]
    acts = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(module)
        acts[name] = module[start:end]
    return head, acts


BEAT_MARK = re.compile(r"^[ \t]+# Beat '", re.M)  # how act.py.j2 opens each beat's code


def split_beats(act_source: str, beats: int) -> list[str]:
    """Each beat's share of an act class's code: the class up to the beat, then each beat's block.

    Found from the act template's `# Beat '...'` comments; a template without them (a user override)
    gives the whole act to every beat, so that any change re-renders the whole act.
    """
    marks = [m.start() for m in BEAT_MARK.finditer(act_source)]
    if beats < 1 or len(marks) != beats:
        return [act_source] * max(beats, 1)
    bounds = [0, *marks[1:], len(act_source)]
    return [act_source[bounds[i] : bounds[i + 1]] for i in range(beats)]


def code_only(source: str) -> str:
    """`source` without its whole-line comments: they name storyboard lines, which move when an
    earlier part of the storyboard grows, and never change a pixel."""
    return re.sub(r"^[ \t]*#.*(?:\n|$)", "", source, flags=re.M)


_IMPORTS = re.compile(r"^(?:from [\w.]+ import (?:\([^)]*\)|[^\n]*)|import [^\n]*)\n", re.M)


def shared_head(head: str) -> str:
    """The module's shared head for the keys of beat clips: without comments and without its
    imports. The compiler imports the names the whole module uses, so the imports change with the
    other acts; each name is bound the same way whatever else is imported, and the library hash
    holds what they are."""
    return _IMPORTS.sub("", code_only(head))


_ACT_HEAD = re.compile(r'^class Act\w*\(Story\):\n(?:[ \t]+""".*?"""\n)?', re.M | re.S)


def act_neutral(code: str) -> str:
    """An act's code without its class name and docstring (its place, id and title: they name the
    scene and the chapter, never change a pixel), so that an act keeps its clips when it moves in its
    storyboard, and two storyboards that share an act's code share its clips."""
    return _ACT_HEAD.sub("class Act(Story):\n", code, count=1)


def file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_VOICEOVER = re.compile(r"with self\.voiceover\(\n.*?\n[ \t]*\):\n", re.S)
_BOOKMARK = re.compile(r"^[ \t]*self\.wait_until_bookmark\(.*\)\n", re.M)
_SAID = re.compile(r'^[ \t]*(?:""".*?"""|recordings = (?:\{.*?^    \}|[^\n]*))\n', re.M | re.S)  # docstring, audio
_VOICE = re.compile(r"^VOICE = (?:\{.*?^\}|[^\n]*)\n", re.M | re.S)
# What a translation changes in the head; where it shows, the stage's fingerprint holds it.
_LANGUAGE = re.compile(r"^(?:    corner=.*|    decimal_mark = .*|    words = (?:\{.*?^    \}|[^\n]*))\n", re.M | re.S)


def picture_only(code: str) -> str:
    """A beat's code without what is said over it: the narration, captions and length it is
    spoken with, the word its animation waits for, the act's recordings and docstring (they change
    when and how long, not what, it draws); for the keys of ncfvid.scenelib.segments."""
    return _SAID.sub("", _BOOKMARK.sub("", _VOICEOVER.sub("with self.voiceover():\n", code)))


def head_picture(head: str) -> str:
    """The module's shared head without the voice settings and what a translation changes in it
    (the table's corner, the decimal mark, the library's words: where they show, they are in the stage
    whose fingerprint is part of an animation's key; see `picture_only`)."""
    return _LANGUAGE.sub("", _VOICE.sub("", head))
