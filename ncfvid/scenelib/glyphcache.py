"""A cache of parsed SVGs (every `Text` is one) shared by the Manim runs of a render, on disk.

Manim turns each `Text` into an SVG with Pango and parses that SVG into glyph outlines with
svgelements and Python loops: ~50 ms per label, 3 s of the `architecture` act at 480p. Manim keeps
the parsed result in a dictionary (`SVG_HASH_TO_MOB_MAP`), but only for the one process; every job of
a render, and every render after an edit, parses the same labels again. Here a parsed result is also
pickled to a folder, under a hash of everything it is made from (the SVG's bytes, the style
defaults, the path options, the renderer), and a later run loads it into Manim's dictionary, so Manim
takes the path it takes for a label it has already parsed: it copies the cached outlines.

Entries are written atomically (temporary file, then rename): two runs may store the same entry at
once, and a reader sees a whole entry or none. An entry whose bytes do not match the SHA-256 they
start with (truncated, emptied, overwritten) is parsed again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import pickle
import sys
from pathlib import Path
from typing import Any

from manim import config
from manim.mobject.svg import svg_mobject
from manim.mobject.svg.svg_mobject import SVGMobject, VMobjectFromSVGPath
from manim.utils.iterables import hash_obj

from ncfvid.files import write_atomic

FORMAT = 2  # bump when what is pickled changes (2: entries carry their SHA-256)
# What parses and pickles the outlines: a new Manim, ManimPango or svgelements may parse them otherwise.
_VERSIONS = {name: importlib.metadata.version(name) for name in ("manim", "manimpango", "svgelements")}
MANIM_INIT_SVG = SVGMobject.init_svg_mobject
_folder: Path | None = None


def use_folder(folder: Path | None) -> None:
    """Keep parsed SVGs in `folder` (None: in memory only); installed by ncfvid.scenelib.patches."""
    global _folder
    _folder = folder


def entry_key(mobject: SVGMobject) -> str | None:
    """What the parsed SVG is made of, hashed; None when the SVG file cannot be read."""
    try:
        svg = Path(mobject.get_file_path()).read_bytes()
    except (OSError, ValueError):
        return None
    made_of = [
        FORMAT,
        _VERSIONS,
        type(mobject).__name__,
        hashlib.sha256(svg).hexdigest(),
        mobject.svg_default,
        mobject.path_string_config,
        str(config.renderer),
    ]
    return hashlib.sha256(json.dumps(made_of, sort_keys=True, default=str).encode()).hexdigest()[:32]


def init_svg_mobject(self: SVGMobject, use_svg_cache: bool) -> Any:
    """`SVGMobject.init_svg_mobject`, with the parsed outlines also looked up in, and stored to, disk."""
    memory = svg_mobject.SVG_HASH_TO_MOB_MAP
    memory_key = hash_obj(self.hash_seed) if use_svg_cache else None
    key = entry_key(self) if _folder is not None else None
    if key is None or memory_key in memory:
        return MANIM_INIT_SVG(self, use_svg_cache)
    path = _folder / f"{key}.pickle"  # type: ignore[operator]
    parsed = _load(path)
    if parsed is None:
        self.generate_mobject()
        parsed = _parts(self)
        _store(path, parsed)
    else:  # what Manim does with an SVG it parsed before: add its outlines (fresh from the pickle)
        self.add(*parsed[0])
        self.id_to_vgroup_dict = parsed[1]
    if memory_key is not None:
        memory[memory_key] = self.copy()
    return self


Parsed = tuple[list[Any], dict[str, Any]]  # the outlines and Manim's id -> group map of the SVG


def _parts(mobject: SVGMobject) -> Parsed:
    return list(mobject.submobjects), mobject.id_to_vgroup_dict


def _load(path: Path) -> Parsed | None:
    """The entry at `path` if it is whole: its bytes carry their own SHA-256, so a truncated, emptied
    or overwritten entry is parsed again (and replaced), never drawn as text without glyphs."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    digest, payload = data[:32], data[32:]
    if hashlib.sha256(payload).digest() != digest:
        if data:
            print(f"ncfvid: damaged parsed text {path} in the cache: parsed again", file=sys.stderr)
        return None
    try:
        parsed = pickle.loads(payload)
    except Exception:  # not an entry of this version: parse the SVG again
        return None
    ok = isinstance(parsed, tuple) and len(parsed) == 2 and isinstance(parsed[0], list) and isinstance(parsed[1], dict)
    return parsed if ok else None


def _store(path: Path, parsed: Parsed) -> None:
    """Pickle the outlines, without their parse trees: nothing reads a `path_obj` after the outline's
    points are built, so it is dropped from the live outlines too (which also makes copies cheaper)."""
    for outline in parsed[0]:
        for part in outline.get_family():
            if isinstance(part, VMobjectFromSVGPath):
                part.path_obj = None
    try:
        payload = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(path, hashlib.sha256(payload).digest() + payload)
    except OSError:  # a full disk or a read-only cache: the render goes on, only slower next time
        pass
