"""The command line: a thin click layer over ncfvid.pipeline. Each command adds one stage:
validate ⊂ compile ⊂ render. Exit codes come from one place (`main`): 0 success, 1 a problem in the
user's input (or a failed render), 2 a usage error.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ncfvid.diagnostics import Diagnostic, UserError, finalize, format_github, format_json, format_text

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

STORYBOARD = click.argument("storyboard", type=click.Path(path_type=Path, dir_okay=False))
OUTPUT = click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output/STEM).",
)
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How to print problems: for people, for tools, or as GitHub Actions annotations.",
)
STRICT = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
TEMPLATES = click.option(
    "--templates",
    "template_dirs",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of templates that override the built-in ones (repeatable; searched first).",
)


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a UserError into its diagnostics on stderr and exit code 1 (no traceback)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserError as err:
            _echo_err(format_text(err.diagnostics, _sources(err.diagnostics)).rstrip())
            sys.exit(EXIT_INVALID)

    return wrapper


def _sources(diagnostics: list[Diagnostic]) -> dict[str, list[str]]:
    """The lines of each file named, to quote them under their errors. At most the loader's size limit
    is read: a file refused as too big is quoted only at its start, where its error points."""
    from ncfvid.yamlsource import DEFAULT_LIMITS

    sources: dict[str, list[str]] = {}
    for diag in diagnostics:
        if diag.file not in sources:
            try:
                with Path(diag.file).open("rb") as handle:
                    head = handle.read(DEFAULT_LIMITS.max_bytes)
                sources[diag.file] = head.decode("utf-8", errors="replace").splitlines()
            except (OSError, UnicodeDecodeError):
                sources[diag.file] = []
    return sources


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ncfvid")
def cli() -> None:
    """ncfvid: explainer videos from a YAML storyboard.

    \b
    ncfvid validate storyboards/ncf.yaml     check a storyboard
    ncfvid check storyboards/ncf.yaml        check every beat's layout (no video)
    ncfvid preview storyboards/ncf.yaml      a sheet of every beat's last frame
    ncfvid compile storyboards/ncf.yaml      write output/ncf/scenes.py
    ncfvid render storyboards/ncf.yaml       render output/ncf/ncf.mp4 (+ .srt, .vtt)
    """


@cli.command()
@click.argument("storyboards", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@FORMAT
@STRICT
def validate(storyboards: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check storyboards without rendering anything.

    Every problem is reported at once, at its file:line:column. Exit 0 when valid, 1 when not.
    A translation (`ncf.de.yaml` beside `ncf.yaml`) is validated as that storyboard told in its language.

    \b
    Example:
      ncfvid validate storyboards/*.yaml --format github
    """
    from ncfvid.pipeline import load
    from ncfvid.translation import load_translation, translated_storyboard

    diagnostics: list[Diagnostic] = []
    for path in storyboards:
        translation = translated_storyboard(path)  # storyboards/ncf.de.yaml beside storyboards/ncf.yaml
        try:
            loaded = load_translation(*translation) if translation else load(path)
            diagnostics.extend(loaded.warnings)
        except UserError as err:
            diagnostics.extend(err.diagnostics)
    failed = _emit(diagnostics, fmt, strict)
    if not failed and fmt == "text":
        click.echo(f"{len(storyboards)} storyboard{'s' if len(storyboards) != 1 else ''} valid")
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


def _emit(diagnostics: list[Diagnostic], fmt: str, strict: bool) -> bool:
    """Print diagnostics as `validate` does; True when they fail the command."""
    diagnostics = finalize(diagnostics)
    if fmt == "json":
        click.echo(format_json(diagnostics))
    elif fmt == "github":
        if diagnostics:
            click.echo(format_github(diagnostics))
    elif diagnostics:
        _echo_err(format_text(diagnostics, _sources(diagnostics)).rstrip())
    return any(d.severity == "error" or strict for d in diagnostics)


@cli.command(name="check")
@STORYBOARD
@click.option("--act", "acts", multiple=True, help="Check only this act (repeatable).")
@FORMAT
@STRICT
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "k"]),
    default=None,
    help="The quality whose resolution decides how small text may be (default: the storyboard's).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Acts run at once (default: cores).")
@OUTPUT
@TEMPLATES
def check_(
    storyboard: Path,
    acts: tuple[str, ...],
    fmt: str,
    strict: bool,
    quality: str | None,
    jobs: int | None,
    out: Path | None,
    template_dirs: tuple[Path, ...],
) -> None:
    """Check the layout of every beat without rendering: text inside the safe area, no text over
    text, no text too small to read, nothing invisible.

    Each act's scene runs with a silent draft voice and without drawing frames; at the end of every
    beat what is on screen is measured. Problems are reported at the beat in the storyboard.
    Exit 0 when there are none, 1 when there are (or the storyboard is invalid).

    \b
    Examples:
      ncfvid check storyboards/ncf.yaml
      ncfvid check storyboards/ncf.yaml --act architecture --format github
    """
    from ncfvid.check import check as run_check

    result = None
    try:
        result = run_check(storyboard, acts, quality=quality, out=out, template_dirs=template_dirs, jobs=jobs)
        diagnostics = result.diagnostics
    except UserError as err:
        diagnostics = err.diagnostics
    failed = _emit(diagnostics, fmt, strict)
    if not failed and fmt == "text" and result is not None:
        loaded = result.prepared.loaded if result.prepared else None
        name = loaded.yaml.filename if loaded else str(storyboard)
        click.echo(
            f"{name}: {result.beats} beats in {len(result.runs)} acts, no layout problems ({result.seconds:.1f} s)"
        )
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


class _LayoutCheck(threading.Thread):
    """`render`'s layout check, run beside the act renders (it needs one core for a few seconds, which a
    render of one act leaves idle); on errors it calls `on_errors`, which stops the renders."""

    def __init__(self, on_errors: Callable[[], None], **options: Any) -> None:
        super().__init__(name="ncfvid-layout-check", daemon=True)
        self.on_errors = on_errors
        self.options = options
        self.result: Any = None
        self.error: BaseException | None = None
        self.failed = threading.Event()

    def run(self) -> None:
        from ncfvid.check import check as run_check

        try:
            self.result = run_check(**self.options)
        except BaseException as err:  # handed to the main thread by outcome()
            self.error = err
        if self.error is not None or any(d.severity == "error" for d in self.result.diagnostics):
            self.failed.set()
            self.on_errors()

    def outcome(self) -> int:
        """Wait for the check; raise what it found wrong, else return how many beats it checked."""
        self.join()
        if self.error is not None:
            raise self.error
        errors = [d for d in self.result.diagnostics if d.severity == "error"]
        if errors:
            _echo_err("The layout check found problems (render anyway with --no-check):")
            raise UserError(errors)
        return int(self.result.beats)


def _check_recorded(
    prepared: Any,
    acts: list[tuple[int, Any]],
    render_plan: Any,
    quality: str,
    storyboard: Path,
    out: Path | None,
    template_dirs: tuple[Path, ...],
) -> int:
    """The layout check on the records the render jobs took of `acts`' beats; raises its errors,
    else returns how many beats it checked."""
    from ncfvid.check import check as run_check
    from ncfvid.check import recorded_diagnostics

    records = {act.id: _layouts(render_plan, act.id) for _, act in acts}
    found = recorded_diagnostics(prepared, acts, {k: v for k, v in records.items() if v}, quality)
    unrecorded = tuple(act_id for act_id, beats in records.items() if beats is None)
    if unrecorded:  # a job that left no record (it should not happen): check those acts the slow way
        found += run_check(storyboard, unrecorded, quality=quality, out=out, template_dirs=template_dirs).diagnostics
    errors = [d for d in found if d.severity == "error"]
    if errors:
        _echo_err("The layout check found problems (render anyway with --no-check):")
        raise UserError(errors)
    return sum(len(render_plan.act_clips(act.id)) for _, act in acts)


def _recorded(render_plan: Any, act_id: str) -> bool:
    """Whether the act's beats that will not render (cached) have their layout records."""
    return all(clip.layout() is not None for clip in render_plan.act_clips(act_id) if clip.cached)


def _layouts(render_plan: Any, act_id: str) -> list[Any] | None:
    """The layout records of an act's beats, taken as they were rendered; None if one has none."""
    layouts = [clip.layout() for clip in render_plan.act_clips(act_id)]
    return None if any(layout is None for layout in layouts) else layouts


@cli.command()
@STORYBOARD
@click.option("--act", "acts", multiple=True, help="Only this act (repeatable).")
@click.option(
    "-o",
    "--output",
    "sheet",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The sheet to write (default: output/STEM/STEM-storyboard.png).",
)
@click.option("--columns", type=click.IntRange(1, 12), default=4, show_default=True, help="Panels per row.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Acts run at once (default: cores).")
@TEMPLATES
@user_errors
def preview(
    storyboard: Path,
    acts: tuple[str, ...],
    sheet: Path | None,
    columns: int,
    jobs: int | None,
    template_dirs: tuple[Path, ...],
) -> None:
    """Write a storyboard sheet: the last frame of every beat in a grid, captioned with the act, the
    beat and the first words of its narration. Beats with layout problems are framed in red.

    \b
    Example:
      ncfvid preview storyboards/ncf.yaml -o sheet.png
    """
    from ncfvid.preview import preview as make_sheet

    result = make_sheet(storyboard, acts, sheet=sheet, columns=columns, template_dirs=template_dirs, jobs=jobs)
    problems = sum(p.problems for p in result.panels)
    note = f", {problems} layout problem{'s' if problems != 1 else ''}" if problems else ""
    click.echo(f"{result.path}  ({len(result.panels)} beats{note}; {result.seconds:.1f} s)")


def _prepare(storyboard: Path, out: Path | None, language: str | None = None):  # noqa: ANN202
    from ncfvid.pipeline import load, output_dir, prepare

    if language is not None:
        from ncfvid.translation import load_translation

        loaded = load_translation(storyboard, language)
    else:
        loaded = load(storyboard)
    for warning in loaded.warnings:
        _echo_err(format_text([warning], _sources([warning])).splitlines()[0])
    folder = output_dir(loaded, out)
    return prepare(loaded, folder / "cache"), folder


@cli.command(name="compile")
@STORYBOARD
@OUTPUT
@click.option("--lang", "language", default=None, help="Compile a translation (storyboards/STEM.LANG.yaml).")
@TEMPLATES
@user_errors
def compile_(storyboard: Path, out: Path | None, language: str | None, template_dirs: tuple[Path, ...]) -> None:
    """Compile a storyboard into Manim scene code (output/<stem>/scenes.py).

    The module has one Scene per act and is deterministic: the same storyboard gives the same bytes.

    \b
    Example:
      ncfvid compile storyboards/ncf.yaml && manim -ql output/ncf/scenes.py Act1Problem
    """
    from ncfvid.compiler import write_module
    from ncfvid.pipeline import compile_prepared
    from ncfvid.translation import module_name

    prepared, folder = _prepare(storyboard, out, language)
    path = write_module(compile_prepared(prepared, template_dirs), folder / module_name(language))
    click.echo(str(path))


@cli.command()
@STORYBOARD
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "k"]),
    default=None,
    help="l=480p15, m=720p30, h=1080p60, k=2160p60 (default: the storyboard's).",
)
@click.option("--act", "acts", multiple=True, help="Render only this act (repeatable).")
@OUTPUT
@click.option("--draft", is_flag=True, help="Silent narration timed from the words-per-minute rate (fast).")
@click.option("--voice", default=None, help="Voice name for the speech engine (e.g. en-gb).")
@click.option(
    "--engine", default=None, help="Speech engine (festival, espeak, draft, gtts, azure, openai, elevenlabs)."
)
@click.option("--burn-captions", is_flag=True, help="Draw the captions into the picture too.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Acts rendered at once (default: cores).")
@click.option("--force", is_flag=True, help="Ignore cached beat clips of the chosen acts and render them again.")
@click.option("--dry-run", is_flag=True, help="List which acts (and beats) would render and which come from the cache.")
@click.option("--quiet", is_flag=True, help="Print only errors and the final path.")
@click.option("--no-check", is_flag=True, help="Render even when `ncfvid check` finds layout errors.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["mp4", "webm", "gif"]),
    help="Also write this format beside the MP4 (repeatable): webm = VP9 + Opus, gif = a short loop.",
)
@click.option("--range", "span", default=None, help="The time range of the GIF, START-END (e.g. 12-20 or 1:05-1:20).")
@click.option(
    "--lang",
    "language",
    default=None,
    help="Render a translation (storyboards/STEM.LANG.yaml) to output/STEM/STEM.LANG.mp4; 'all': every one.",
)
@TEMPLATES
@user_errors
def render(
    storyboard: Path,
    language: str | None,
    quality: str | None,
    acts: tuple[str, ...],
    out: Path | None,
    draft: bool,
    voice: str | None,
    engine: str | None,
    burn_captions: bool,
    jobs: int | None,
    force: bool,
    dry_run: bool,
    quiet: bool,
    no_check: bool,
    formats: tuple[str, ...],
    span: str | None,
    template_dirs: tuple[Path, ...],
) -> None:
    """Render a storyboard to output/<stem>/<stem>.mp4 with narration and subtitles (.srt, .vtt).

    The MP4 carries the chapters (one per act, also listed in .chapters.txt), the captions as a
    subtitle track and the storyboard's music; beside it go a poster (.png) and the review page
    (index.html, see `ncfvid serve`).

    Each act is its own Manim scene, rendered in subprocesses and cached beat by beat: an unchanged
    beat is never rendered again, and an edited beat re-renders with the later beats of its act only.
    The final video is joined from the beat clips without re-encoding the picture.

    \b
    Examples:
      ncfvid render storyboards/ncf.yaml -q l
      ncfvid render storyboards/ncf.yaml --act architecture --draft
      ncfvid render storyboards/ncf.yaml --act architecture --format gif
      ncfvid render storyboards/ncf.yaml --lang de
    """
    from ncfvid.render import start_fork_server

    gif_range = _time_range(span, formats)
    # Manim runs fork from a server that imports Manim while the storyboard is prepared (see
    # ncfvid.forkserver); it stops with the command, however that ends. A dry run needs none.
    server = None if dry_run else start_fork_server()
    if server is not None:
        click.get_current_context().call_on_close(server.close)
    options = dict(quality=quality, acts=acts, out=out, draft=draft, voice=voice, engine=engine)
    options.update(burn_captions=burn_captions, jobs=jobs, force=force, dry_run=dry_run, quiet=quiet)
    options.update(formats=formats, gif_range=gif_range)
    from ncfvid.translation import requested_languages

    for each in requested_languages(storyboard, language):
        _render_one(storyboard, each, server, no_check=no_check, template_dirs=template_dirs, **options)


def _render_one(  # noqa: PLR0913
    storyboard: Path,
    language: str | None,
    server: Any,
    quality: str | None,
    acts: tuple[str, ...],
    out: Path | None,
    draft: bool,
    voice: str | None,
    engine: str | None,
    burn_captions: bool,
    jobs: int | None,
    force: bool,
    dry_run: bool,
    quiet: bool,
    no_check: bool,
    template_dirs: tuple[Path, ...],
    formats: tuple[str, ...],
    gif_range: Any,
) -> None:
    """`render` of one language."""
    import os
    import shutil

    from ncfvid.compiler import scene_class_name, write_module
    from ncfvid.pipeline import compile_prepared
    from ncfvid.render import RenderSettings, plan, render_jobs
    from ncfvid.translation import module_name

    started = time.perf_counter()
    prepared, folder = _prepare(storyboard, out, language)
    story = prepared.loaded.story
    known = [act.id for act in story.acts]
    for act_id in acts:
        if act_id not in known:
            raise UserError.single(
                prepared.loaded.yaml.filename, f"no act {act_id!r}; the acts are: {', '.join(known)}"
            )
    overrides: dict[str, object] = {}
    if draft:
        overrides["engine"] = "draft"
    elif engine:
        overrides["engine"] = engine
    if voice:
        overrides["voice"] = voice
    settings = RenderSettings(
        quality=quality or story.video.quality,
        voice_overrides=tuple(sorted(overrides.items())),
        burn_captions=burn_captions,
        jobs=jobs or os.cpu_count() or 1,
    )
    module = compile_prepared(prepared, template_dirs)
    module_path = write_module(module, folder / module_name(language))
    chosen = [(i, a) for i, a in enumerate(story.acts) if not acts or a.id in acts]
    recordings: dict[str, dict[str, str]] = {}
    for key, path in sorted(prepared.recordings.items()):
        act_id, _, beat_id = key.partition(".")
        recordings.setdefault(act_id, {})[beat_id] = path
    act_specs = [(a.id, scene_class_name(i, a.id), [beat.id for beat in a.beats]) for i, a in chosen]
    cache = folder / "cache" / "beats"
    render_plan = plan(module, act_specs, recordings, settings, cache)
    if force and not dry_run:  # a dry run changes nothing, the cache included
        for act_id, _, _ in act_specs:
            shutil.rmtree(cache / act_id, ignore_errors=True)
        render_plan = plan(module, act_specs, recordings, settings, cache)
    voice_settings = {**story.voice.model_dump(), **overrides}
    if render_plan.jobs:  # a fully cached render needs no speech engine (nor Manim)
        _check_engine(voice_settings, prepared.loaded, "engine" in overrides)
    if dry_run:  # no layout check, no rendering: only what would render
        for act_id, _, beat_ids in act_specs:
            missing = [c.index + 1 for c in render_plan.act_clips(act_id) if force or not c.cached]
            if not missing:
                click.echo(f"{act_id:<20} cached")
            elif len(missing) == len(beat_ids):
                click.echo(f"{act_id:<20} would render")
            else:
                beats = ", ".join(map(str, missing))
                click.echo(f"{act_id:<20} would render beat(s) {beats} of {len(beat_ids)} (the rest is cached)")
        return

    from ncfvid.check import stop_workers
    from ncfvid.progress import RenderProgress
    from ncfvid.render import stop_renders

    abort = threading.Event()  # set when the layout check finds errors: stop rendering
    # The check reads the layout each render job records as it draws a beat; an act with cached beats
    # that have no record (older caches, or burnt-in captions, which would be in the record) is checked
    # by `ncfvid check`'s own run beside the renders.
    # (A translation is checked on its recorded layouts alone: `ncfvid check` runs a storyboard's own text.)
    unchecked = no_check or language is not None
    separate = [] if unchecked else [a.id for _, a in chosen if burn_captions or not _recorded(render_plan, a.id)]
    checker = None
    if separate:
        checker = _LayoutCheck(
            lambda: (abort.set(), stop_renders()),
            storyboard=storyboard,
            acts=tuple(separate),
            quality=quality,
            out=out,
            template_dirs=template_dirs,
            jobs=jobs,
            server=server,
        )
        checker.start()
    progress = RenderProgress([act_id for act_id, _, _ in act_specs], folder / "logs", quiet=quiet)
    progress.header(f"Rendering {len(act_specs)} act(s) of {prepared.loaded.yaml.filename} at -q{settings.quality}")
    ahead = _speak_ahead(prepared, render_plan, voice_settings, folder, settings.jobs) if render_plan.jobs else None
    try:
        with progress:
            render_jobs(render_plan, module_path, settings, folder, progress.report, abort, server)
        if ahead is not None:
            _finish_ahead(ahead, voice_settings["engine"], prepared.loaded, progress)
    except BaseException as err:
        if ahead is not None:
            ahead.stop()
        if checker is not None:
            if isinstance(err, UserError) and checker.failed.is_set():
                checker.outcome()  # the check stopped the renders: its errors are the story
            stop_workers()
        raise
    checked = checker.outcome() if checker is not None else 0
    if not no_check:
        recorded = [(i, a) for i, a in chosen if a.id not in separate]
        checked += _check_recorded(prepared, recorded, render_plan, settings.quality, storyboard, out, template_dirs)
        if not quiet:
            click.echo(f"Checked {checked} beats: no layout problems")
    name = prepared.loaded.name if not acts else f"{prepared.loaded.name}-" + "-".join(a.id for _, a in chosen)
    video = folder / f"{name}.mp4"
    length = _publish(prepared.loaded, render_plan.clips, video, formats, gif_range)
    progress.finish(video, length, time.perf_counter() - started)


def _time_range(span: str | None, formats: tuple[str, ...]) -> tuple[float, float] | None:
    """--range as (start, end) seconds; a usage error when it is malformed or there is no GIF to cut."""
    if span is None:
        return None
    if "gif" not in formats:
        raise click.UsageError("--range chooses the span of the GIF: add --format gif")
    from ncfvid.publish.formats import parse_range

    try:
        return parse_range(span)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--range") from None


def _publish(loaded: Any, clips: Any, video: Path, formats: tuple[str, ...], gif_range: Any) -> float:
    """Join and publish (see ncfvid.publish.assemble); returns the video's length."""
    from ncfvid.publish.assemble import publish
    from ncfvid.publish.formats import FormatError
    from ncfvid.video.probe import VideoError

    try:
        language = loaded.language  # a translation's; None: the storyboard's voice says it
        return publish(loaded, clips, video, language=language, formats=formats or ("mp4",), gif_range=gif_range).length
    except (FormatError, VideoError) as err:
        raise UserError.single(loaded.yaml.filename, str(err)) from None


def _speak_ahead(prepared: Any, render_plan: Any, voice: dict[str, Any], folder: Path, workers: int) -> Any:
    """Start synthesising the lines the render's jobs will speak, in parallel and beside them, in the
    order the jobs ask for them (`ncfvid.speech.ahead`); None when the engine needs no help or every
    line is cached. Beats with a recording are left out."""
    from ncfvid.compiler import spoken_text
    from ncfvid.render import speech_store
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.ahead import start_ahead

    story = prepared.loaded.story
    acts = {act.id: act for act in story.acts}
    # Each job speaks its act's lines from the first (earlier beats run skipped) to its last beat;
    # the biggest jobs start first. Take the jobs' lines in turn: first lines first.
    needs = [
        [
            spoken_text(story, beat, prepared.context)
            for beat in acts[job.act_id].beats[: job.stop]
            if f"{job.act_id}.{beat.id}" not in prepared.recordings
        ]
        for job in render_plan.jobs
    ]
    lines = [need[i] for i in range(max(map(len, needs), default=0)) for need in needs if i < len(need)]
    options = {"voice": voice.get("voice"), "rate": voice.get("rate"), **(voice.get("options") or {})}
    try:
        return start_ahead(voice["engine"], options, lines, speech_store(folder), workers)
    except (EngineUnavailable, OSError) as err:
        raise UserError.single(prepared.loaded.yaml.filename, f"{voice['engine']}: {err}") from None


def _finish_ahead(ahead: Any, engine: str, loaded: Any, progress: Any) -> None:
    """Wait for the synthesis ahead; report it, or what went wrong as one line."""
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.festivalengine import SynthesisError

    try:
        done = ahead.finish()
    except (EngineUnavailable, SynthesisError, OSError) as err:
        raise UserError.single(loaded.yaml.filename, f"{engine}: {err}") from None
    progress.header(f"Spoke {done.synthesised} of {done.lines} line(s) with {engine} in {done.seconds:.1f} s")


def _check_engine(settings: dict[str, Any], loaded: Any, from_command_line: bool) -> None:
    """Fail before rendering when the speech engine cannot run here: at the storyboard's
    `voice.engine` line, or naming the command-line option that chose the engine."""
    from ncfvid.speech import EngineUnavailable
    from ncfvid.speech.registry import check_engine

    try:
        check_engine(settings["engine"], {"voice": settings.get("voice")})
    except EngineUnavailable as err:
        if from_command_line:
            raise UserError.single(loaded.yaml.filename, f"--engine {settings['engine']}: {err}") from None
        line, column = loaded.yaml.positions.locate(("voice", "engine"))
        raise UserError.single(loaded.yaml.filename, str(err), line=line, column=column, path="voice.engine") from None


@cli.command()
@STORYBOARD
@OUTPUT
@click.option("-q", "--quality", type=click.Choice(["l", "m", "h", "k"]), default=None, help="Render quality.")
@click.option("--draft", is_flag=True, help="Silent narration timed from the words-per-minute rate (fast).")
@click.option("--pdf", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Where to write it.")
@click.pass_context
@user_errors
def handout(
    ctx: click.Context, storyboard: Path, out: Path | None, quality: str | None, draft: bool, pdf: Path | None
) -> None:
    """Write a PDF handout: one page per beat with its last frame, its narration and its time.

    Renders first (only what is not cached), then writes output/<stem>/<stem>.pdf.

    \b
    Example:
      ncfvid handout storyboards/ncf.yaml && pdftoppm -png -r 40 output/ncf/ncf.pdf /tmp/page
    """
    from ncfvid.pipeline import load, output_dir
    from ncfvid.publish.assemble import read_published, write_page
    from ncfvid.publish.handout import write_handout

    ctx.invoke(render, storyboard=storyboard, out=out, quality=quality, draft=draft, quiet=True)
    loaded = load(storyboard)
    folder = output_dir(loaded, out)
    published = read_published(folder / f"{loaded.stem}.mp4")
    path = write_handout(pdf or folder / f"{loaded.stem}.pdf", loaded.story.title, published.beats, folder)
    write_page(published)  # the page links the handout
    click.echo(f"{path}  ({len(published.beats)} pages)")


@cli.command()
@STORYBOARD
@OUTPUT
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--watch", is_flag=True, help="Render now and on every save of the storyboard; the page reloads.")
@click.option("-q", "--quality", type=click.Choice(["l", "m", "h", "k"]), default=None, help="Render quality.")
@click.option("--draft", is_flag=True, help="Silent narration timed from the words-per-minute rate (fast).")
@user_errors
def serve(
    storyboard: Path, out: Path | None, port: int, host: str, watch: bool, quality: str | None, draft: bool
) -> None:
    """Serve the review page (output/<stem>/index.html) on this machine.

    With --watch, every save of the storyboard renders again (only the changed beats) and the open
    page reloads itself, at the same place in the video, once the new video is ready.

    \b
    Example:
      ncfvid serve storyboards/ncf.yaml --watch --draft
    """
    from ncfvid.pipeline import load, output_dir
    from ncfvid.publish.serve import serve_review

    loaded = load(storyboard)
    args = [*(["-q", quality] if quality else []), *(["--draft"] if draft else [])]
    serve_review(loaded, output_dir(loaded, out), host, port, args if watch else None, click.echo)


@cli.command()
def schema() -> None:
    """Print the storyboard's JSON Schema (for editors with the YAML language server).

    \b
    Example:
      ncfvid schema > schema/storyboard.schema.json
    """
    from ncfvid.schema import Storyboard

    click.echo(json.dumps(Storyboard.model_json_schema(), indent=2, ensure_ascii=False))


@cli.command()
@STORYBOARD
@user_errors
def model(storyboard: Path) -> None:
    """Train the storyboard's NCF model and print the completed ratings table.

    \b
    Example:
      ncfvid model storyboards/ncf.yaml
    """
    from ncfvid.pipeline import load
    from ncfvid.story import train_story

    story = load(storyboard).story
    result, _ = train_story(story)  # no cache: this command reports a fresh training's time
    seconds = result.seconds
    items = list(story.data.items)
    width = max(8, *(len(i) for i in items))
    name_width = max(len(story.data.corner), *(len(u) for u in story.users))
    click.echo(f"{story.data.corner:<{name_width}}  " + "  ".join(f"{i:>{width}}" for i in items))
    for u, (user, row) in enumerate(story.data.ratings.items()):
        cells = []
        for i, value in enumerate(row):
            text = f"{value:g}" if value is not None else f"({result.predictions[u, i]:.2f})"
            cells.append(f"{text:>{width}}")
        click.echo(f"{user:<{name_width}}  " + "  ".join(cells))
    t = story.data.target
    u, i = story.users.index(t.user), items.index(t.item)
    click.echo("(predicted values in parentheses)")
    click.echo(f"training RMSE: {result.rmse:.4f} over {story.model.epochs} epochs")
    click.echo(f"target: {t.user} x {t.item} = {result.predictions[u, i]:.3f}")
    click.echo(f"trained in {seconds:.2f} s")


@cli.command()
@STORYBOARD
@OUTPUT
@user_errors
def clean(storyboard: Path, out: Path | None) -> None:
    """Empty a storyboard's render cache (beat clips, audio, trained model); keeps the final video.

    \b
    Example:
      ncfvid clean storyboards/ncf.yaml
    """
    import shutil

    from ncfvid.pipeline import load, output_dir

    folder = output_dir(load(storyboard), out)
    shutil.rmtree(folder / "cache", ignore_errors=True)
    click.echo(f"emptied {folder / 'cache'}")


def main() -> None:
    """Entry point of the `ncfvid` command."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _echo_err("aborted")
        sys.exit(130)
    except click.exceptions.UsageError as err:
        err.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.ClickException as err:
        err.show()
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt:
        _echo_err("interrupted; nothing already rendered was changed")
        sys.exit(130)
    sys.exit(EXIT_OK)
