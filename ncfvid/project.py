"""The application layer: a storyboard loaded once for a command.

A `Project` is what every command past `validate` starts from: the validated storyboard, its output
folder, its prepared values (the trained model, the narration quotes, the recordings), the acts the
command was asked for, and the compiled scenes module (compiled on first use). `ncfvid compile`,
`check`, `preview` and `render` open one, and `render` hands its own to the layout check it runs
beside the renders, so a storyboard is loaded, trained and compiled once per command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ncfvid.diagnostics import Diagnostic, UserError
from ncfvid.pipeline import Loaded, Prepared, compile_prepared, load, output_dir, prepare


@dataclass(frozen=True)
class ActScene:
    """One chosen act as the scenes module names it."""

    index: int  # the act's place in the storyboard
    act: Any  # ncfvid.schema.Act
    scene: str  # its Scene class in the module

    @property
    def id(self) -> str:
        return str(self.act.id)

    @property
    def beat_ids(self) -> list[str]:
        return [beat.id for beat in self.act.beats]


@dataclass(frozen=True)
class Project:
    """A storyboard loaded, prepared and (on first use) compiled, with the acts a command works on."""

    loaded: Loaded
    folder: Path  # output/<stem> unless the command said otherwise
    prepared: Prepared
    acts: tuple[ActScene, ...]
    template_dirs: tuple[Path, ...] = ()
    named: bool = False  # the command named its acts (else: all of them)
    shared_cache: Path | None = None  # a cache folder shared with other storyboards (`--cache`)
    _module: list[str] = field(default_factory=list, repr=False, compare=False)  # the compiled module, once

    @classmethod
    def open(
        cls,
        storyboard: Path,
        *,
        acts: Sequence[str] = (),
        out: Path | None = None,
        template_dirs: tuple[Path, ...] = (),
        warn: Callable[[Diagnostic], None] | None = None,
        language: str | None = None,
        cache: Path | None = None,
    ) -> Project:
        """Validate and prepare `storyboard` (its translation into `language`, if given); UserError for
        an invalid one or an unknown act id. `warn` is given each of the storyboard's warnings.
        `cache`: the content-addressed cache folder (default: $NCFVID_CACHE, else <folder>/cache)."""
        from ncfvid.folders import cache_folder

        if language is not None:
            from ncfvid.translation import load_translation

            loaded = load_translation(storyboard, language)
        else:
            loaded = load(storyboard)
        for warning in loaded.warnings if warn is not None else ():
            warn(warning)
        chosen = select_acts(loaded, acts)
        folder = output_dir(loaded, out)
        named = bool(list(acts))
        shared = cache_folder(folder, cache)
        shared_cache = None if shared == folder / "cache" else shared
        return cls(loaded, folder, prepare(loaded, folder / "cache"), chosen, template_dirs, named, shared_cache)

    @property
    def cache(self) -> Path:
        """The content-addressed cache: beat clips, speech, parsed texts, drawn animations. What is
        the storyboard's alone (the model, the check's records, manim-voiceover's audio folders)
        stays in <folder>/cache."""
        return self.shared_cache if self.shared_cache is not None else self.folder / "cache"

    @property
    def story(self) -> Any:
        return self.loaded.story

    @property
    def filename(self) -> str:
        """The storyboard as diagnostics name it."""
        return self.loaded.yaml.filename

    @property
    def module(self) -> str:
        """The generated scenes module (compiled once)."""
        if not self._module:
            self._module.append(compile_prepared(self.prepared, self.template_dirs))
        return self._module[0]

    @property
    def language(self) -> str | None:
        """A translation's language; None for the storyboard's own."""
        return self.loaded.language

    @property
    def module_name(self) -> str:
        """The generated module's file: scenes.py, scenes_de.py for a translation."""
        from ncfvid.translation import module_name

        return module_name(self.language)

    def write_module(self, path: Path | None = None) -> Path:
        """Write the module (default: <folder>/<module_name>) atomically; its path."""
        from ncfvid.compiler import write_module

        return write_module(self.module, path if path is not None else self.folder / self.module_name)

    def only(self, act_ids: Sequence[str]) -> Project:
        """The same project with only the acts `act_ids` chosen (the compiled module shared)."""
        return replace(self, acts=tuple(a for a in self.acts if a.id in act_ids), _module=self._module)

    def recordings_by_act(self) -> dict[str, dict[str, str]]:
        """act id -> beat id -> recorded narration file."""
        found: dict[str, dict[str, str]] = {}
        for key, path in sorted(self.prepared.recordings.items()):
            act_id, _, beat_id = key.partition(".")
            found.setdefault(act_id, {})[beat_id] = path
        return found


def select_acts(loaded: Loaded, acts: Iterable[str]) -> tuple[ActScene, ...]:
    """The chosen acts in storyboard order (all when none is named); UserError for an unknown id."""
    from ncfvid.compiler import scene_class_name

    story = loaded.story
    known = [act.id for act in story.acts]
    wanted = list(acts)
    for act_id in wanted:
        if act_id not in known:
            raise UserError.single(loaded.yaml.filename, f"no act {act_id!r}; the acts are: {', '.join(known)}")
    return tuple(
        ActScene(i, a, scene_class_name(i, a.id)) for i, a in enumerate(story.acts) if not wanted or a.id in wanted
    )
