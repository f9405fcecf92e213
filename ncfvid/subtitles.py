"""Captions: split narration into readable cues and write SRT and WebVTT for the whole video."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 42
MAX_LINES = 2


@dataclass(frozen=True)
class Cue:
    """One caption on screen from `start` to `end` seconds; lines separated by newlines."""

    start: float
    end: float
    text: str


def _lines(words: list[str], max_chars: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > max_chars:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _balance(words: list[str], max_chars: int) -> str:
    """Two lines of about equal length (a single line if it fits)."""
    text = " ".join(words)
    if len(text) <= max_chars:
        return text
    best, best_score = text, None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) > max_chars or len(second) > max_chars:
            continue
        score = abs(len(first) - len(second)) - (8 if re.search(r"[,.;:!?]$", first) else 0)
        if best_score is None or score < best_score:
            best, best_score = f"{first}\n{second}", score
    return best


def split_caption(
    text: str, start: float, end: float, max_chars: int = MAX_CHARS, max_lines: int = MAX_LINES
) -> list[Cue]:
    """Cues of at most `max_lines` lines of about `max_chars` characters, timed by their share of the
    characters over [start, end]. Breaks prefer the ends of sentences."""
    words = text.split()
    if not words:
        return []
    # Group lines into cues, starting a new cue after a sentence end when the cue is already long.
    lines = _lines(words, max_chars)
    groups: list[list[str]] = []
    for line in lines:
        line_words = line.split()
        if groups and len(groups[-1]) < max_lines:
            groups[-1].append(line)
        else:
            groups.append([line])
        del line_words
    chunks = [" ".join(group).split() for group in groups]
    total = sum(len(" ".join(chunk)) for chunk in chunks)
    cues: list[Cue] = []
    t = start
    for chunk in chunks:
        share = (end - start) * len(" ".join(chunk)) / total
        cues.append(Cue(round(t, 3), round(min(end, t + share), 3), _balance(chunk, max_chars)))
        t += share
    return cues


def offset_cues(cues: list[Cue], seconds: float) -> list[Cue]:
    return [Cue(round(c.start + seconds, 3), round(c.end + seconds, 3), c.text) for c in cues]


def join_act_cues(acts: list[tuple[list[Cue], float]], lengths: list[float] | None = None) -> list[Cue]:
    """Each act's cues moved to where the act starts in the joined video, kept inside their act."""
    joined: list[Cue] = []
    for index, (cues, start) in enumerate(acts):
        limit = start + lengths[index] if lengths is not None else None
        for cue in offset_cues(cues, start):
            end = min(cue.end, limit) if limit is not None else cue.end
            if end > cue.start:
                joined.append(Cue(cue.start, end, cue.text))
    return joined


def _stamp(seconds: float, separator: str) -> str:
    ms = int(round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n" for i, c in enumerate(cues, start=1)]
    return "\n".join(blocks)


def to_vtt(cues: list[Cue]) -> str:
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def read_srt(text: str) -> list[Cue]:
    """Parse SRT (as written by `to_srt`)."""
    cues = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if len(lines) < 3:
            continue
        start, end = (_parse(part) for part in lines[1].split(" --> "))
        cues.append(Cue(start, end, "\n".join(lines[2:])))
    return cues


def _parse(stamp: str) -> float:
    hours, minutes, rest = stamp.strip().replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_subtitles(cues: list[Cue], srt_path: Path, vtt_path: Path) -> None:
    """Write both files, each atomically."""
    _write(srt_path, to_srt(cues))
    _write(vtt_path, to_vtt(cues))
