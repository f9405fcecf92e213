"""User-facing errors: one :class:`Diagnostic` type and the three output formats (plain text with a
source excerpt, JSON, GitHub Actions annotations). Pydantic errors become diagnostics at their YAML
lines in `ncfvid.validationerrors`.

A :class:`Diagnostic` with ``line == 0`` concerns the whole file (missing, unreadable...): it is
shown without line and column.

This module imports only the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    pass

__all__ = [
    "Diagnostic",
    "UserError",
    "finalize",
    "format_github",
    "format_json",
    "format_path",
    "format_text",
]

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]
TAB_SIZE = 4
MAX_EXCERPT = 100  # longer source lines are cut around the column


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a user's file.  ``line``/``column`` are 1-based; ``line == 0`` = whole file.

    ``path`` is the place in the data (``acts[3].beats[2].target``), ``""`` for the top level or
    for problems that are not about one value.  The ordering of instances is :meth:`sort_key`.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """(file, line, column, path, message, severity); ``sorted(diags, key=Diagnostic.sort_key)``."""
        return (self.file, self.line, self.column, self.path, self.message, self.severity)

    @property
    def location(self) -> str:
        """``file:line:column``, or just ``file`` for whole-file problems."""
        return f"{self.file}:{self.line}:{self.column}" if self.line > 0 else self.file


class UserError(Exception):
    """A problem in the user's input (as opposed to a bug in ncfvid), described by diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self._summary())

    @classmethod
    def single(cls, file: str, message: str, *, line: int = 0, column: int = 0, path: str = "") -> UserError:
        """A user error with one diagnostic."""
        return cls([Diagnostic(file, line, column, path, message)])

    def _summary(self) -> str:
        if not self.diagnostics:
            return "invalid input"
        first = self.diagnostics[0]
        where = f"{first.path}: " if first.path else ""
        more = len(self.diagnostics) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        return f"{first.location}: {where}{first.message}{tail}"


def finalize(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Drop duplicates (same file, line, column, message and severity) and sort by position."""
    seen: set[tuple[str, int, int, str, str]] = set()
    unique = []
    for diag in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (diag.file, diag.line, diag.column, diag.message, diag.severity)
        if key not in seen:
            seen.add(key)
            unique.append(diag)
    return unique


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def format_path(loc: Sequence[str | int]) -> str:
    """``('acts', 3, 'beats', 2, 'target', 'user')`` -> ``acts[3].beats[2].target.user``.

    Keys that are not simple names are quoted: ``scenes["my scene"].title``.
    """
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif IDENTIFIER.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += "[" + json.dumps(str(part), ensure_ascii=False) + "]"
    return out


# --------------------------------------------------------------------------------------------------
# Output formats


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_text(diags: Iterable[Diagnostic], loaded_sources: Mapping[str, Sequence[str]]) -> str:
    """Compiler-style text: ``file:line:col: error: path: message``, the source line, a caret under the
    column, and a summary line (``1 error, 0 warnings``).  No colours; no trailing newline."""
    diags = list(diags)
    out: list[str] = []
    for diag in diags:
        where = f"{diag.path}: " if diag.path else ""
        out.append(f"{diag.location}: {diag.severity}: {where}{diag.message}")
        lines = loaded_sources.get(diag.file)
        if lines is not None and 1 <= diag.line <= len(lines):
            shown, caret_at = _excerpt(lines[diag.line - 1], diag.column)
            out.append("    " + shown)
            out.append("    " + " " * caret_at + "^")
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = sum(1 for d in diags if d.severity == "warning")
    out.append(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}")
    return "\n".join(out)


def _excerpt(source: str, column: int) -> tuple[str, int]:
    """The source line with tabs expanded (cut around the column when very long), and the caret offset."""
    shown = source.expandtabs(TAB_SIZE).rstrip()
    caret = len(source[: max(column - 1, 0)].expandtabs(TAB_SIZE))
    if len(shown) <= MAX_EXCERPT:
        return shown, caret
    start = max(0, min(caret - MAX_EXCERPT // 3, len(shown) - MAX_EXCERPT))
    end = start + MAX_EXCERPT
    piece = ("..." if start > 0 else "") + shown[start:end] + ("..." if end < len(shown) else "")
    return piece, caret - start + (3 if start > 0 else 0)


def format_json(diags: Iterable[Diagnostic]) -> str:
    """A JSON list of ``{file, line, column, path, message, severity}`` objects."""
    return json.dumps([asdict(d) for d in diags], indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C::path: message``."""
    out = []
    for diag in diags:
        props = f"file={_escape_property(diag.file)}"
        if diag.line > 0:
            props += f",line={diag.line},col={max(diag.column, 1)}"
        text = f"{diag.path}: {diag.message}" if diag.path else diag.message
        out.append(f"::{diag.severity} {props}::{_escape_data(text)}")
    return "\n".join(out)
