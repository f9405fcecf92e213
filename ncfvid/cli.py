"""The command line: a thin click layer over ncfvid.pipeline. Each command adds one stage:
validate ⊂ compile ⊂ render. Exit codes come from one place (`main`): 0 success, 1 a problem in the
user's input (or a failed render), 2 a usage error.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path

import click

from ncfvid.clishared import (
    ASPECT,
    CACHE,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    FORMAT,
    JOBS,
    OUTPUT,
    SCHEDULER,
    STORYBOARD,
    STORYBOARDS,
    STRICT,
    TEMPLATES,
    echo_err,
    emit,
    user_errors,
    warn,
)
from ncfvid.diagnostics import UserError


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
    from ncfvid.course import summary_lines, validate_storyboards

    outcomes = validate_storyboards(storyboards, strict)
    failed = emit([d for outcome in outcomes for d in outcome.diagnostics], fmt, strict)
    if fmt == "text" and len(outcomes) > 1:
        click.echo("\n".join(summary_lines(outcomes, "valid")))
    elif fmt == "text" and not failed:
        click.echo("1 storyboard valid")
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@cli.command(name="check")
@STORYBOARDS
@click.option("--act", "acts", multiple=True, help="Check only this act (repeatable; of each storyboard).")
@FORMAT
@STRICT
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "k"]),
    default=None,
    help="The quality whose resolution decides how small text may be (default: the storyboard's).",
)
@JOBS
@click.option(
    "--lang", "language", default=None, help="Check a translation (storyboards/STEM.LANG.yaml); 'all': every one."
)
@OUTPUT
@TEMPLATES
@ASPECT
def check_(
    storyboards: tuple[Path, ...],
    acts: tuple[str, ...],
    fmt: str,
    strict: bool,
    quality: str | None,
    jobs: int | None,
    language: str | None,
    out: Path | None,
    template_dirs: tuple[Path, ...],
) -> None:
    """Check the layout of every beat without rendering: text inside the safe area, no text over
    text, no text too small to read, nothing invisible.

    Each act's scene runs with a silent draft voice and without drawing frames; at the end of every
    beat what is on screen is measured. Problems are reported at the beat in the storyboard.
    Exit 0 when there are none, 1 when there are (or a storyboard is invalid). Several storyboards
    are checked in turn, each with a summary line (a translation file is checked as `--lang` does;
    `-o DIR` with several: DIR/STEM).

    \b
    Examples:
      ncfvid check storyboards/ncf.yaml
      ncfvid check storyboards/*.yaml
      ncfvid check storyboards/ncf.yaml --act architecture --format github
      ncfvid check storyboards/ncf.yaml --lang de
    """
    from ncfvid.course import check_targets, summary_lines, targets
    from ncfvid.render import start_fork_server

    try:
        chosen = targets(storyboards, language, out)
    except UserError as err:
        emit(err.diagnostics, fmt, strict)
        sys.exit(EXIT_INVALID)
    # Several storyboards: their check processes fork from one server that imported Manim once.
    server = start_fork_server() if len(chosen) > 1 else None
    if server is not None:
        click.get_current_context().call_on_close(server.close)
    options = {"quality": quality, "template_dirs": template_dirs, "jobs": jobs, "server": server}
    outcomes = check_targets(chosen, acts, strict, **options)
    failed = emit([d for outcome in outcomes for d in outcome.diagnostics], fmt, strict)
    if fmt == "text" and len(outcomes) > 1:
        click.echo("\n".join(summary_lines(outcomes, "checked")))
    elif fmt == "text" and not failed:
        click.echo(f"{outcomes[0].name}: {outcomes[0].line}")
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


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
@JOBS
@TEMPLATES
@ASPECT
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


@cli.command(name="compile")
@STORYBOARD
@OUTPUT
@click.option("--lang", "language", default=None, help="Compile a translation (storyboards/STEM.LANG.yaml).")
@TEMPLATES
@ASPECT
@user_errors
def compile_(storyboard: Path, out: Path | None, language: str | None, template_dirs: tuple[Path, ...]) -> None:
    """Compile a storyboard into Manim scene code (output/<stem>/scenes.py).

    The module has one Scene per act and is deterministic: the same storyboard gives the same bytes.

    \b
    Example:
      ncfvid compile storyboards/ncf.yaml && manim -ql output/ncf/scenes.py Act1Problem
    """
    from ncfvid.project import Project

    project = Project.open(storyboard, out=out, template_dirs=template_dirs, warn=warn, language=language)
    click.echo(str(project.write_module()))


@cli.command()
@STORYBOARDS
@click.option(
    "-q",
    "--quality",
    type=click.Choice(["l", "m", "h", "k"]),
    default=None,
    help="l=480p15, m=720p30, h=1080p60, k=2160p60 (default: the storyboard's).",
)
@click.option("--act", "acts", multiple=True, help="Render only this act (repeatable; of each storyboard).")
@OUTPUT
@click.option("--draft", is_flag=True, help="Silent narration timed from the words-per-minute rate (fast).")
@click.option("--voice", default=None, help="Voice name for the speech engine (e.g. en-gb).")
@click.option(
    "--engine", default=None, help="Speech engine (festival, espeak, draft, gtts, azure, openai, elevenlabs)."
)
@click.option("--burn-captions", is_flag=True, help="Draw the captions into the picture too.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=None,
    help="Manim jobs at once (default: cores); a job draws a run of one act's beats.",
)
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
@CACHE
@SCHEDULER
@TEMPLATES
@ASPECT
@user_errors
def render(
    storyboards: tuple[Path, ...],
    language: str | None,
    cache: Path | None,
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
    scheduler: str | None,
    template_dirs: tuple[Path, ...],
) -> None:
    """Render storyboards to output/<stem>/<stem>.mp4 with narration and subtitles (.srt, .vtt).

    The MP4 carries the chapters (one per act, also listed in .chapters.txt), the captions as a
    subtitle track and the storyboard's music; beside it go a poster (.png) and the review page
    (index.html, see `ncfvid serve`).

    Each act is its own Manim scene, rendered in subprocesses and cached beat by beat: an unchanged
    beat is never rendered again, an edited beat re-renders with the later beats of its act only.

    Several storyboards render as one set of jobs under one progress display, each into its own
    folder (with -o DIR: DIR/<stem>); one that fails stops no other, and the exit code is 1 unless all
    rendered. A translation file (STEM.LANG.yaml) renders as --lang LANG of its storyboard.

    \b
    Examples:
      ncfvid render storyboards/ncf.yaml -q l
      ncfvid render storyboards/*.yaml --cache output/cache
      ncfvid render storyboards/ncf.yaml --act architecture --draft
      ncfvid render storyboards/ncf.yaml --act architecture --format gif
      ncfvid render storyboards/ncf.yaml --lang de
      ncfvid render storyboards/*.yaml --scheduler tcp://render-1:8786
    """
    from ncfvid.course import targets
    from ncfvid.courserender import render_targets
    from ncfvid.executors import scheduler_from, start_executors
    from ncfvid.renderapp import RenderOptions

    gif_range, ctx = _time_range(span, formats), click.get_current_context()
    # a fork server started while the storyboards are prepared, or a Dask cluster (ncfvid.executors)
    server, executor, jobs = start_executors(scheduler_from(scheduler), jobs, dry_run, ctx.call_on_close)
    options = RenderOptions(
        quality, draft, voice, engine, burn_captions, jobs, force, quiet, no_check, formats or ("mp4",), gif_range
    )
    chosen = targets(storyboards, language, out)
    stack = ctx.with_resource(ExitStack())  # the folders' locks, until the end
    settings = {"acts": acts, "cache": cache, "template_dirs": template_dirs, "dry_run": dry_run, "server": server}
    settings["executor"] = executor
    if not render_targets(chosen, options, stack=stack, warn=warn, echo=click.echo, echo_err=echo_err, **settings):
        sys.exit(EXIT_INVALID)


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


@cli.command()
@STORYBOARD
@OUTPUT
@click.option("-q", "--quality", type=click.Choice(["l", "m", "h", "k"]), default=None, help="Render quality.")
@click.option("--draft", is_flag=True, help="Silent narration timed from the words-per-minute rate (fast).")
@click.option("--pdf", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Where to write it.")
@click.option("--lang", "language", default=None, help="The handout of a translation (storyboards/STEM.LANG.yaml).")
@click.pass_context
@user_errors
def handout(
    ctx: click.Context,
    storyboard: Path,
    out: Path | None,
    quality: str | None,
    draft: bool,
    pdf: Path | None,
    language: str | None,
) -> None:
    """Write a PDF handout: one page per beat with its last frame, its narration and its time.

    Renders first (only what is not cached), then writes output/<stem>/<stem>.pdf (<stem>.<lang>.pdf).

    \b
    Example:
      ncfvid handout storyboards/ncf.yaml && pdftoppm -png -r 40 output/ncf/ncf.pdf /tmp/page
    """
    from ncfvid.pipeline import load, output_dir
    from ncfvid.publish.assemble import read_published, write_page
    from ncfvid.publish.handout import write_handout

    if language == "all":
        raise click.BadParameter("one language at a time", param_hint="--lang")
    ctx.invoke(render, storyboards=(storyboard,), out=out, quality=quality, draft=draft, quiet=True, language=language)
    loaded = load(storyboard)
    folder = output_dir(loaded, out)
    name = f"{loaded.stem}.{language}" if language else loaded.stem
    published = read_published(folder / f"{name}.mp4")
    path = write_handout(pdf or folder / f"{name}.pdf", published.title, published.beats, folder)
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
@click.option("--translation", is_flag=True, help="The schema of a translation file (STEM.LANG.yaml) instead.")
def schema(translation: bool) -> None:
    """Print the storyboard's JSON Schema (for editors with the YAML language server).

    \b
    Examples:
      ncfvid schema > schema/storyboard.schema.json
      ncfvid schema --translation > schema/translation.schema.json
    """
    from ncfvid.schema import Storyboard
    from ncfvid.translation import Translation

    model = Translation if translation else Storyboard
    click.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))


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
    from ncfvid.story import completed_table, train_story

    story = load(storyboard).story
    result, _ = train_story(story)  # no cache: this command reports a fresh training's time
    click.echo("\n".join(completed_table(story, result)))


@cli.command()
@STORYBOARD
@OUTPUT
@CACHE
@user_errors
def clean(storyboard: Path, out: Path | None, cache: Path | None) -> None:
    """Remove a storyboard's render cache (beat clips with their sound and captions, synthesised
    speech, parsed texts, drawn animations, the trained model); keeps the video and what is published
    beside it. Says what it removed, or what it could not remove and why. With a shared cache folder
    (--cache, $NCFVID_CACHE) that folder is emptied too, for every storyboard that uses it, once the
    renders using it have finished.

    \b
    Example:
      ncfvid clean storyboards/ncf.yaml
    """
    from ncfvid.folders import LOCK_FILE, cache_folder, cache_lock, remove, render_lock
    from ncfvid.pipeline import load, output_dir

    folder = output_dir(load(storyboard), out)
    own, shared = folder / "cache", cache_folder(folder, cache)
    if not own.exists() and not shared.exists():
        click.echo(f"{own}: nothing to remove (no cache)")
        return
    if own.exists():
        with render_lock(folder):  # not under a render's feet
            files, size = remove([own], "the cache")
        click.echo(f"removed {own}: {files} files, {size / 1e6:.1f} MB")
    if shared != own and shared.exists():
        with cache_lock(shared, exclusive=True):  # after the renders that use it
            files, size = remove([p for p in shared.iterdir() if p.name != LOCK_FILE], "the shared cache")
        click.echo(f"removed the contents of {shared}: {files} files, {size / 1e6:.1f} MB")


def usage_line(err: click.exceptions.UsageError) -> str:
    """A bad command line as one line: what is wrong, the command's usage, where the options are listed."""
    if err.ctx is None:
        return f"ncfvid: error: {err.format_message()} (ncfvid --help lists the commands)"
    path = err.ctx.command_path
    usage = " ".join([path, *err.ctx.command.collect_usage_pieces(err.ctx)])
    return f"{path}: error: {err.format_message()} (usage: {usage}; {path} --help lists the options)"


def main() -> None:
    """Entry point of the `ncfvid` command."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        echo_err("aborted")
        sys.exit(130)
    except click.exceptions.UsageError as err:
        echo_err(usage_line(err))
        sys.exit(EXIT_USAGE)
    except click.exceptions.ClickException as err:
        err.show()
        sys.exit(EXIT_INVALID)
    except KeyboardInterrupt:
        echo_err("interrupted; nothing already rendered was changed")
        sys.exit(130)
    sys.exit(EXIT_OK)
