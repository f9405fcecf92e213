"""What the cache keys of renders and checks are made of: the generated module cut into its shared
head, its acts and each act's beats (whole-line comments left out), and the code the scenes run.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import ncfvid

LIBRARY_PARTS = (
    "scenelib",
    "speech",
    "video",
    "storydata.py",
    "records.py",
    "scenejob.py",
    "layoutrules.py",
    "files.py",
)


def library_hash() -> str:
    """A hash of the drawing library, speech services and video code the scenes run."""
    digest = hashlib.sha256(ncfvid.__version__.encode())
    root = Path(ncfvid.__file__).parent
    for part in LIBRARY_PARTS:
        path = root / part
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
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
