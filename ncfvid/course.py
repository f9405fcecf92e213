"""A course: several storyboards named on one command line (`ncfvid render storyboards/*.yaml`).

What the command line names becomes a list of `Target`s, one per storyboard and language: a
translation file (`ncf.de.yaml` beside `ncf.yaml`) is that translation of its storyboard, as
`--lang de` would ask; `--lang` applies to every storyboard named (`all`: each one's translations).
Each storyboard keeps its own output folder: `output/<stem>` as for one storyboard, or, with
`-o DIR` and several storyboards, `DIR/<stem>`. Two storyboards that would write into one folder
(`a/ncf.yaml` and `b/ncf.yaml`) are a usage error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ncfvid.diagnostics import Diagnostic, plural


@dataclass(frozen=True)
class Target:
    """One storyboard (in one language) of a command."""

    storyboard: Path  # the storyboard itself (a translation's base)
    language: str | None  # None: the storyboard's own language
    out: Path | None  # its output folder as -o gives it (None: output/<stem>)

    @property
    def name(self) -> str:
        """How summaries name it: the storyboard, or its translation file."""
        from ncfvid.files import display_name
        from ncfvid.translation import translation_path

        return display_name(translation_path(self.storyboard, self.language) if self.language else self.storyboard)

    @property
    def stem(self) -> str:
        return self.storyboard.stem


def targets(paths: Sequence[Path], language: str | None, out: Path | None) -> list[Target]:
    """The targets `paths` name (see the module's docstring), in the order named, each once. A
    language the storyboard has no translation for is left to the target's own loading (an error at
    its file, which fails that target alone). UsageError for storyboards that share an output folder."""
    from ncfvid.translation import requested_languages, translated_storyboard

    found: list[Target] = []
    seen: set[tuple[Path, str | None]] = set()
    bases: dict[str, Path] = {}
    for path in paths:
        translation = translated_storyboard(path)
        if translation is not None:
            base, wanted = translation[0], [translation[1]]
        else:  # `all` without a translation: UserError at the storyboard
            base, wanted = path, requested_languages(path, language)
        other = bases.setdefault(base.stem, base)
        if other.resolve() != base.resolve():
            raise click.UsageError(
                f"{other} and {base} would both render into the folder {base.stem}: name them in separate commands"
            )
        for each in wanted:
            if (base.resolve(), each) not in seen:
                seen.add((base.resolve(), each))
                found.append(Target(base, each, out))
    if out is not None and len(bases) > 1:  # several storyboards: -o is the course's folder
        found = [Target(t.storyboard, t.language, out / t.stem) for t in found]
    return found


@dataclass(frozen=True)
class Outcome:
    """How one target of `validate` or `check` went, for its summary line."""

    name: str
    diagnostics: list[Diagnostic]
    passed: bool
    line: str  # after `name: `: what it found (`valid`, `4 beats in 2 acts, ...`) or its problems


def summary_lines(outcomes: Sequence[Outcome], done: str) -> list[str]:
    """With several storyboards: one line each, then `N storyboards <done>` or how many failed."""
    bad = sum(1 for outcome in outcomes if not outcome.passed)
    lines = [f"{outcome.name}: {outcome.line}" for outcome in outcomes]
    total = f"{len(outcomes)} storyboards"
    return [*lines, f"{bad} of {total} failed" if bad else f"{total} {done}"]


def validate_storyboards(paths: Sequence[Path], strict: bool) -> list[Outcome]:
    """`ncfvid validate`: each storyboard (a translation: that storyboard in its language) loaded."""
    from ncfvid.diagnostics import UserError
    from ncfvid.files import display_name
    from ncfvid.pipeline import load
    from ncfvid.translation import load_translation, translated_storyboard

    outcomes = []
    for path in paths:
        translation = translated_storyboard(path)  # storyboards/ncf.de.yaml beside storyboards/ncf.yaml
        try:
            loaded = load_translation(*translation) if translation else load(path)
            found = list(loaded.warnings)
        except UserError as err:
            found = list(err.diagnostics)
        failed = counts(found, strict)[0] > 0
        outcomes.append(Outcome(display_name(path), found, not failed, problems(found, strict) if failed else "valid"))
    return outcomes


def check_targets(targets: Sequence[Target], acts: Sequence[str], strict: bool, **options: Any) -> list[Outcome]:
    """`ncfvid check` on each target in turn (`options`: of `ncfvid.check.check`)."""
    from ncfvid.check import check
    from ncfvid.diagnostics import UserError

    outcomes = []
    for target in targets:
        try:
            result = check(target.storyboard, acts, language=target.language, out=target.out, **options)
            found = result.diagnostics
            name = result.prepared.loaded.yaml.filename if result.prepared else target.name
            ok = f"{result.beats} beats in {len(result.runs)} acts, no layout problems ({result.seconds:.1f} s)"
        except UserError as err:
            found, ok, name = err.diagnostics, "", target.name
        passed = bool(ok) and counts(found, strict)[0] == 0
        outcomes.append(Outcome(name, found, passed, ok if passed else problems(found, strict)))
    return outcomes


def counts(diagnostics: Sequence[Diagnostic], strict: bool = False) -> tuple[int, int]:
    """(errors, warnings); with `strict` warnings count as errors."""
    errors = sum(1 for d in diagnostics if d.severity == "error" or strict)
    return errors, len(diagnostics) - errors


def problems(diagnostics: Sequence[Diagnostic], strict: bool = False) -> str:
    """`2 errors, 1 warning` for a summary line."""
    errors, warnings = counts(diagnostics, strict)
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
