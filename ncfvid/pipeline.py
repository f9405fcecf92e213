"""The stages, each adding one step to the one before: load+validate, prepare (train), compile, write.

`ncfvid validate` stops after `load`; the other commands open a `ncfvid.project.Project`, which
prepares and compiles, and `ncfvid render` goes on in ncfvid.renderapp. User mistakes surface as
`UserError` with positioned diagnostics; anything else is a bug in ncfvid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ncfvid.diagnostics import Diagnostic, UserError, finalize, format_path
from ncfvid.files import display_name
from ncfvid.fonts import check_controls
from ncfvid.rules import check_storyboard
from ncfvid.schema import Storyboard, validation_context
from ncfvid.validationerrors import from_validation_error
from ncfvid.yamlsource import LoadedYaml, load_yaml


@dataclass(frozen=True)
class Loaded:
    """A storyboard that passed validation, with its source positions and any warnings."""

    path: Path
    yaml: LoadedYaml
    story: Storyboard
    warnings: list[Diagnostic]
    language: str | None = None  # a translation's language (ncfvid.translation); None: the storyboard's own
    variant: str = ""  # "-9x16" when `--aspect` asks for another frame than the storyboard's

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def name(self) -> str:
        """The name of what is rendered from it: `ncf`, or `ncf.de` for the German translation."""
        name = f"{self.path.stem}.{self.language}" if self.language else self.path.stem
        return name + self.variant

    def where(self, loc: tuple[str | int, ...]) -> str:
        line, col = self.yaml.positions.locate(loc)
        return f"{self.yaml.filename}:{line}:{col}" if line else self.yaml.filename


def load(path: Path) -> Loaded:
    """Read and validate a storyboard; raise UserError listing every problem at its position."""
    loaded = load_yaml(path, filename=display_name(path))
    controls = [_at(loaded, finding) for finding in check_controls(loaded.data)]
    try:
        story = Storyboard.model_validate(loaded.data, context=validation_context(loaded.data))
    except ValidationError as err:
        raise UserError(finalize([*controls, *from_validation_error(err, loaded, Storyboard)])) from None
    from ncfvid.recordingcheck import check_recordings

    plain = Loaded(path, loaded, story, [])
    found = [*check_storyboard(story, path.parent), *check_recordings(plain, find_recordings(plain))]
    findings = finalize([*controls, *(_at(loaded, finding) for finding in found)])
    errors = [d for d in findings if d.severity == "error"]
    if errors:
        raise UserError(findings)
    return with_aspect(Loaded(path, loaded, story, findings), ASPECT_OVERRIDE[0])


# `--aspect`: the frame every storyboard this command loads is laid out for (None: its own). A
# command runs once per process; its threads (render's check beside the renders) load too.
ASPECT_OVERRIDE: list[str | None] = [None]


def with_aspect(loaded: Loaded, aspect: str | None) -> Loaded:
    """`loaded` laid out for the frame `aspect` ("9:16"...), rendered under a name of its own."""
    video = loaded.story.video
    if aspect is None or aspect == video.aspect:
        return loaded
    story = loaded.story.model_copy(update={"video": video.model_copy(update={"aspect": aspect})})
    return replace(loaded, story=story, variant="-" + aspect.replace(":", "x"))


def _at(loaded: LoadedYaml, finding: tuple[tuple[str | int, ...], str, str]) -> Diagnostic:
    """A rule's finding as a diagnostic at its place in `loaded`."""
    loc, message, severity = finding
    line, col = loaded.positions.locate(loc)
    return Diagnostic(loaded.filename, line, col, format_path(loc), message, severity)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Prepared:
    """Everything the compiler needs beyond the storyboard: the model's values, quotes, recordings."""

    loaded: Loaded
    data: Any  # ncfvid.storydata.StoryData
    context: dict[str, Any]
    recordings: dict[str, str]
    from_cache: bool
    train_seconds: float


def find_recordings(loaded: Loaded, voiceover_dir: Path | None = None) -> dict[str, str]:
    """Recorded narration per beat ('act.beat' -> file): the beat's `audio:` key, or a file named after
    the beat in voiceover/<stem>/ (`<beat>.wav|mp3` or `<act>/<beat>.wav|mp3`; voiceover/<stem>.<language>/
    for a translation), looked for under the
    working directory and then beside the storyboard (or only in `voiceover_dir` when given)."""
    if voiceover_dir is not None:
        folders = [voiceover_dir]
    else:
        folders = [Path("voiceover") / loaded.name, loaded.path.parent / "voiceover" / loaded.name]
        if folders[0].resolve() == folders[1].resolve():
            folders = folders[:1]
    found: dict[str, str] = {}
    for act in loaded.story.acts:
        for beat in act.beats:
            key = f"{act.id}.{beat.id}"
            if beat.audio:
                found[key] = str((loaded.path.parent / beat.audio).resolve())
                continue
            for candidate in [c for folder in folders for c in (folder / act.id / beat.id, folder / beat.id)]:
                for suffix in (".wav", ".mp3"):
                    file = candidate.with_suffix(suffix)
                    if file.is_file():
                        found.setdefault(key, str(file.resolve()))
    return found


def prepare(loaded: Loaded, cache_dir: Path | None, voiceover_dir: Path | None = None) -> Prepared:
    """Train (or load) the model and compute what the scenes show and the narration quotes."""
    from ncfvid.story import example_cell, narration_context, story_data, train_story

    result, cached = train_story(loaded.story, cache_dir)
    example = None
    for act in loaded.story.acts:
        for beat in act.beats:
            if beat.show.component == "training_loop" and beat.show.example is not None:
                example = (beat.show.example.user, beat.show.example.item)
    data = story_data(loaded.story, result, example or example_cell(loaded.story))
    context = narration_context(loaded.story, data, result)
    return Prepared(loaded, data, context, find_recordings(loaded, voiceover_dir), cached, result.seconds)


def compile_prepared(prepared: Prepared, template_overrides: tuple[Path, ...] = ()) -> str:
    """The generated module's text (a pure function of its inputs)."""
    from ncfvid.compiler import compile_storyboard
    from ncfvid.narration import NarrationError

    loaded = prepared.loaded
    try:
        return compile_storyboard(
            loaded.story,
            prepared.data,
            prepared.context,
            source=loaded.yaml.filename,
            where=loaded.where,
            recordings=prepared.recordings,
            template_overrides=template_overrides,
        )
    except NarrationError as err:
        raise UserError.single(loaded.yaml.filename, str(err)) from None


def output_dir(loaded: Loaded, override: Path | None) -> Path:
    """The storyboard's output folder (`output/<stem>` unless `override`); UserError naming it when it
    cannot be written (read-only, below a regular file), before any work starts."""
    from ncfvid.folders import check_output_folder

    folder = override if override is not None else Path("output") / loaded.stem
    check_output_folder(folder)
    return folder
