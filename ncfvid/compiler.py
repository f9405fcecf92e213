"""Compile: a pure function from a validated storyboard (and the values the story computes) to the
text of a Python module with one Manim scene per act. Writing the file is `write_module`'s job.

The output is deterministic (same input, same bytes), formatted like hand-written code, and clean
under ruff: imports are derived from the names the generated code actually uses.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import io
import keyword
import re
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ncfvid
from ncfvid.components import component, registry
from ncfvid.files import write_atomic
from ncfvid.narration import render_narration
from ncfvid.schema import DEFAULT_FONT, Act, Beat, Storyboard
from ncfvid.speech.lexicon import apply_lexicon
from ncfvid.storydata import StoryData, Theme
from ncfvid.templating import make_environment, py_literal

WIDTH = 110
# Manim names the act and module templates (and templates that override them) may use, beside those
# each component's registry entry names; each is imported only when the generated code uses it.
MANIM_NAMES = frozenset(
    "DOWN LEFT RIGHT UP Circumscribe Create FadeIn FadeOut GrowArrow Indicate LaggedStart Succession "
    "ReplacementTransform ShowPassingFlash Transform TransformFromCopy VGroup Write linear".split()
)
SCENELIB = "ncfvid.scenelib"


@functools.cache
def library_names() -> frozenset[str]:
    """ncfvid.scenelib's public names (its `__all__`), read from its source: importing it would load
    Manim just to compile."""
    source = Path(ncfvid.__file__).parent / "scenelib" / "__init__.py"
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return frozenset(ast.literal_eval(node.value))
    raise RuntimeError(f"{source} has no __all__")


def importable_names() -> dict[str, frozenset[str]]:
    """module -> the names the generated code may import from it: Manim's, the scene library's, and
    each component's own piece module's (see ncfvid.components)."""
    found: dict[str, set[str]] = {"manim": set(MANIM_NAMES), SCENELIB: set(library_names())}
    for entry in registry().values():
        found["manim"].update(entry.manim)
        found.setdefault(entry.piece, set()).update(entry.library)
    return {module: frozenset(names) for module, names in found.items()}


Where = Callable[[tuple[str | int, ...]], str]


@dataclass(frozen=True)
class CompiledBeat:
    id: str
    where: str
    component: str
    caption: str
    spoken: str
    seconds: float | None
    at: str | None
    nudge: str | None
    p: dict[str, Any]


@dataclass(frozen=True)
class CompiledAct:
    id: str
    class_name: str
    where: str
    docstring: str
    recordings: str | None
    beats: list[CompiledBeat]


def scene_class_name(index: int, act_id: str) -> str:
    """`Act2TasteTwins` for the second act, id `taste_twins`."""
    return f"Act{index + 1}" + "".join(part.capitalize() for part in act_id.split("_"))


def bookmark_name(word: str) -> str:
    """manim-voiceover bookmark names may hold only letters, digits and underscores."""
    return re.sub(r"\W", "_", word)


def insert_bookmark(text: str, word: str, mark: str) -> str:
    """Put a manim-voiceover bookmark right before the first whole-word `word` in `text`."""
    match = re.search(rf"(?<![\w'-]){re.escape(word)}(?![\w'-])", text, flags=re.IGNORECASE)
    if match is None:
        return text
    return f'{text[: match.start()]}<bookmark mark="{mark}"/>{text[match.start() :]}'


def _nudge_args(beat: Beat) -> str | None:
    if beat.nudge is None:
        return None
    shift = tuple(float(v) for v in beat.nudge.shift)
    return f"shift={py_literal(shift)}, scale={py_literal(float(beat.nudge.scale))}"


def spoken_text(story: Storyboard, beat: Beat, context: dict[str, Any]) -> str:
    """What the voice says for `beat`: its `spoken:` form or narration with quotes filled in, a
    bookmark before its `at:` word, and the lexicon applied (the text the scene passes to voiceover)."""
    spoken = render_narration(beat.spoken or beat.narration, context, story.video.decimal)
    if beat.at:
        spoken = insert_bookmark(spoken, beat.at, bookmark_name(beat.at))
    return apply_lexicon(spoken, dict(story.voice.lexicon))


def compile_act(
    story: Storyboard,
    index: int,
    act: Act,
    context: dict[str, Any],
    where: Where,
    recordings: dict[str, str],
) -> CompiledAct:
    beats = []
    for b_index, beat in enumerate(act.beats):
        caption = render_narration(beat.narration, context, story.video.decimal)
        spoken = spoken_text(story, beat, context)
        beats.append(
            CompiledBeat(
                id=beat.id,
                where=where(("acts", index, "beats", b_index)),
                component=beat.show.component,
                caption=caption,
                spoken=spoken,
                seconds=beat.seconds,
                at=bookmark_name(beat.at) if beat.at else None,
                nudge=_nudge_args(beat),
                p=component(beat.show.component).params(story, beat.show),
            )
        )
    act_recordings = {b.id: recordings[f"{act.id}.{b.id}"] for b in act.beats if f"{act.id}.{b.id}" in recordings}
    return CompiledAct(
        id=act.id,
        class_name=scene_class_name(index, act.id),
        where=where(("acts", index)),
        docstring=f"Act '{act.id}': {' '.join(act.title.split())}.",
        recordings=_block(act_recordings, 4) if act_recordings else None,
        beats=beats,
    )


def _block(value: Any, indent: int) -> str:
    """A literal laid out over several lines when it does not fit on one, like a formatter would."""
    one = _inline(value)
    if indent + len(one) <= WIDTH - 10:
        return one
    pad = " " * (indent + 4)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f"{pad}{f.name}={_block(getattr(value, f.name), indent + 4)}," for f in dataclasses.fields(value)]
        return f"{type(value).__name__}(\n" + "\n".join(fields) + "\n" + " " * indent + ")"
    if isinstance(value, dict):
        rows = [f"{pad}{py_literal(k)}: {_block(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(rows) + "\n" + " " * indent + "}"
    if isinstance(value, (tuple, list)):
        open_, close = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        if all(isinstance(v, (int, float)) or v is None for v in value):
            # Pack numbers several to a line.
            lines, current = [], ""
            for text in (_inline(v) for v in value):
                if current and len(pad) + len(current) + len(text) + 2 > WIDTH - 10:
                    lines.append(current)
                    current = ""
                current += f"{text}, "
            lines.append(current)
            return open_ + "\n" + "\n".join(pad + line.rstrip() for line in lines) + "\n" + " " * indent + close
        rows = [f"{pad}{_block(v, indent + 4)}," for v in value]
        return open_ + "\n" + "\n".join(rows) + "\n" + " " * indent + close
    return one


def _inline(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        args = ", ".join(f"{f.name}={_inline(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__name__}({args})"
    return py_literal(value)


def _sort_key(name: str) -> tuple[int, str]:
    # isort's order-by-type: CONSTANTS, then Classes, then functions and variables.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def _used_names(code: str) -> set[str]:
    """Names the code reads: NAME tokens that are not attributes (`x.name`) or keywords (`name=`)."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type != tokenize.NL]
    names = set()
    for index, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or keyword.iskeyword(tok.string):
            continue
        before = tokens[index - 1].string if index else ""
        after = tokens[index + 1].string if index + 1 < len(tokens) else ""
        if before == "." or after == "=":
            continue
        names.add(tok.string)
    return names


def _imports(code: str) -> str:
    used = _used_names(code)
    blocks = []
    for module, available in importable_names().items():
        names = sorted(used & available, key=_sort_key)
        if not names:
            continue
        one = f"from {module} import {', '.join(names)}"
        if len(one) <= WIDTH:
            blocks.append(one)
        else:
            blocks.append(f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")")
    return "\n" + "\n\n".join(blocks) + "\n"


def compile_storyboard(
    story: Storyboard,
    data: StoryData,
    context: dict[str, Any],
    *,
    source: str,
    where: Where | None = None,
    recordings: dict[str, str] | None = None,
    template_overrides: Sequence[Path] = (),
) -> str:
    """The generated module's text. `where` names a storyboard path's position (for comments);
    `recordings` maps 'act.beat' to a recorded narration file."""
    where = where or (lambda path: source)
    env = make_environment(template_overrides)
    acts = [compile_act(story, i, act, context, where, recordings or {}) for i, act in enumerate(story.acts)]
    theme = Theme(**story.video.theme.model_dump())
    voice = story.voice.model_dump(mode="json", exclude={"lexicon"})
    fields = {
        "banner": " ".join(story.title.split()),
        "version": ncfvid.__version__,
        "source": source,
        "acts": acts,
        "theme": _block(theme, 0),
        "data": _block(data, 0),
        "voice": _block(voice, 0),
        "safe_margin": story.video.safe_margin,
        "decimals": story.video.decimals,
        "aspect": story.video.aspect if story.video.aspect != "16:9" else None,
        "font": story.video.font if story.video.font != DEFAULT_FONT else None,
        "decimal_mark": story.video.decimal if story.video.decimal != "." else None,
        "words": _block(dict(story.video.words), 4).strip() if story.video.words else None,
    }
    template = env.get_template("module.py.j2")
    body = template.render(imports="", **fields)
    return template.render(imports=_imports(body), **fields)


def write_module(text: str, path: Path) -> Path:
    """Write the module atomically: readers see the old file or the new one, never half of one."""
    return write_atomic(path, text)
