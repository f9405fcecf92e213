"""The component registry: one entry per visual step a beat can `show`.

An entry (`Component`) holds everything ncfvid knows about a component: its storyboard model (a
strict pydantic model whose `component` literal names it), the rules `validate` applies to it beyond
the model, the parameters its template receives, and the scene library names its template uses.
Its template is `templates/components/<name>.py.j2`; its drawing code lives in `ncfvid/scenelib/`.

Entries are found in the modules of this package (every module's `COMPONENTS` list), so adding a
component adds a module here, a template and a scene library piece, and edits nothing else (see
docs/adding-a-component.md). The built-in components keep the order of `BUILT_IN` (the order the
schema and the error messages list them in); others follow in module order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ncfvid.schema import Storyboard

Loc = tuple[str | int, ...]
UNMEASURED_SECONDS = 1.3  # a component's drawing cost until measured (about the mean of the built-in ones)
Finding = tuple[Loc, str, str]  # (path below the beat's `show`, message, severity)

BUILT_IN = (
    "title_card",
    "text_card",
    "bullets",
    "ratings_table",
    "taste_twins",
    "dna_vectors",
    "ids",
    "embedding_lookup",
    "concatenate",
    "mlp",
    "forward_pass",
    "prediction",
    "training_loop",
    "fill_table",
)


def _no_rules(story: Storyboard, show: Any) -> Iterator[Finding]:
    return iter(())


def plain_params(story: Storyboard, show: Any) -> dict[str, Any]:
    """The template's `p`: the component's fields as the storyboard gives them."""
    return show.model_dump(mode="python")


@dataclass(frozen=True)
class Component:
    """Everything ncfvid knows about one component (see the module docstring)."""

    model: type[BaseModel]  # its storyboard model; `component: Literal["<name>"]` names it
    rules: Callable[[Storyboard, Any], Iterator[Finding]] = _no_rules  # beyond the model's own
    params: Callable[[Storyboard, Any], dict[str, Any]] = plain_params  # the template's `p`
    after: tuple[str, ...] = ()  # components one of which must come earlier in the same act ...
    after_message: str = ""  # ... the error when none does (default: "needs a 'x' beat earlier ...")
    manim: tuple[str, ...] = ()  # Manim names its template uses (imported by the generated module)
    library: tuple[str, ...] = ()  # scene library names its template uses ...
    piece: str = "ncfvid.scenelib"  # ... and the module they come from
    # What drawing one beat of it takes at -q l, in seconds (cold: texts parsed, the speech spoken
    # beside it), measured on the NCF video: the render plan starts a storyboard's costliest acts
    # first on its first render, before any beat has a drawing time of its own (ncfvid.renderplan).
    draw_seconds: float = UNMEASURED_SECONDS

    @property
    def name(self) -> str:
        return str(self.model.model_fields["component"].annotation.__args__[0])  # type: ignore[union-attr]

    @property
    def template(self) -> str:
        return f"components/{self.name}.py.j2"


@cache
def registry() -> dict[str, Component]:
    """Every component by name, in the order the schema lists them."""
    found: list[Component] = []
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        found.extend(importlib.import_module(f"{__name__}.{module}").COMPONENTS)
    by_name = {entry.name: entry for entry in found}
    if len(by_name) != len(found):
        raise RuntimeError("two components have the same name")
    ordered = [name for name in BUILT_IN if name in by_name]
    ordered += [entry.name for entry in found if entry.name not in BUILT_IN]
    return {name: by_name[name] for name in ordered}


def component(name: str) -> Component:
    return registry()[name]
