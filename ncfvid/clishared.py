"""What every command shares: the exit codes, the common options, and printing problems (a
UserError as its diagnostics on stderr with source excerpts, never a traceback)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from ncfvid.diagnostics import Diagnostic, UserError, finalize, format_github, format_json, format_text

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

STORYBOARD = click.argument("storyboard", type=click.Path(path_type=Path, dir_okay=False))
STORYBOARDS = click.argument("storyboards", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
OUTPUT = click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output/STEM).",
)
CACHE = click.option(
    "--cache",
    "cache",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A cache folder of beat clips, speech and parsed texts shared by several storyboards "
    "(default: $NCFVID_CACHE, else OUTPUT/cache).",
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


def _use_aspect(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from ncfvid import pipeline

    pipeline.ASPECT_OVERRIDE[0] = value  # every storyboard this command loads (see pipeline.with_aspect)


SCHEDULER = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Render on a Dask cluster: its scheduler's address (tcp://HOST:8786), or 'local' for a LocalCluster "
    "here (default: $NCFVID_SCHEDULER, else this machine's fork server).",
)
JOBS = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=None,
    help="Manim processes at once, sharing the acts (default: cores).",
)

ASPECT = click.option(
    "--aspect",
    type=click.Choice(["16:9", "9:16", "1:1"]),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_use_aspect,
    help="Lay out for this frame instead of the storyboard's video.aspect (the video is named STEM-9x16.mp4...).",
)
TEMPLATES = click.option(
    "--templates",
    "template_dirs",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of templates that override the built-in ones (repeatable; searched first).",
)


def echo_err(text: str) -> None:
    click.echo(text, err=True)


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a UserError into its diagnostics on stderr and exit code 1 (no traceback)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UserError as err:
            echo_err(format_text(err.diagnostics, sources(err.diagnostics)).rstrip())
            sys.exit(EXIT_INVALID)
        except OSError as err:  # a full disk, a read-only folder: one line naming the folder
            from ncfvid.folders import folder_error

            user = folder_error(err)
            if user is None:
                raise
            echo_err(format_text(user.diagnostics, {}).rstrip())
            sys.exit(EXIT_INVALID)

    return wrapper


def sources(diagnostics: list[Diagnostic]) -> dict[str, list[str]]:
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


def emit(diagnostics: list[Diagnostic], fmt: str, strict: bool) -> bool:
    """Print diagnostics as `validate` does; True when they fail the command."""
    diagnostics = finalize(diagnostics)
    if fmt == "json":
        click.echo(format_json(diagnostics))
    elif fmt == "github":
        if diagnostics:
            click.echo(format_github(diagnostics))
    elif diagnostics:
        echo_err(format_text(diagnostics, sources(diagnostics)).rstrip())
    return any(d.severity == "error" or strict for d in diagnostics)


def warn(warning: Diagnostic) -> None:
    echo_err(format_text([warning], sources([warning])).splitlines()[0])
