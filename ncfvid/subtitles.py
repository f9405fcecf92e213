"""Captions: split narration into readable cues and write SRT and WebVTT for the whole video.

Pure Python (no manim). Times are seconds. A cue has at most `max_lines` lines of about `max_chars`
characters (lines joined with "\\n"); a single word longer than that stays whole on its own line.
Cues prefer to end at the end of a sentence (then of a clause), lines within a cue are balanced and
prefer to break after punctuation.

Acts are rendered separately; each act's cues are relative to the act's start, and `join_act_cues`
places them in the joined video.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ncfvid.files import write_atomic

MAX_CHARS = 42
MAX_LINES = 2
# A pause between two cues of one line shorter than 2 * CLOSE_SHIFT (a phrase break) is closed, each
# side moving at most CLOSE_SHIFT: no flicker, and every edge stays within 0.15 s of its word's sound.
CLOSE_SHIFT = 0.14

# Words a line should not end with when it can be helped.
_WEAK_ENDS = frozenset("a an the of to in on at by for with and or but from into as is are".split())
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–][\"'”’)\]]*$")


@dataclass(frozen=True)
class Cue:
    """One caption on screen from `start` to `end` seconds; lines separated by newlines."""

    start: float
    end: float
    text: str


# --- splitting ---------------------------------------------------------------------------------


def _break_kind(word: str, next_word: str | None) -> int:
    """2 after the end of a sentence, 1 after a clause (or before a dash), else 0."""
    if _SENTENCE_END.search(word):
        return 2
    if _CLAUSE_END.search(word) or next_word in ("—", "–", "-"):
        return 1
    return 0


def _line_count(words: Sequence[str], max_chars: int) -> int:
    """Lines needed to wrap `words` greedily (the fewest possible)."""
    lines, current = 0, -1
    for word in words:
        if current >= 0 and current + 1 + len(word) <= max_chars:
            current += 1 + len(word)
        else:
            lines += 1
            current = len(word)
    return lines


def _wrap(words: Sequence[str], max_chars: int) -> str:
    """`words` on as few lines as possible, as balanced as possible, preferring breaks after punctuation."""
    joined = " ".join(words)
    if len(joined) <= max_chars:
        return joined
    n = len(words)
    m = _line_count(words, max_chars)
    lengths = [len(w) for w in words]

    def line_len(i: int, j: int) -> int:
        return sum(lengths[i:j]) + (j - i - 1)

    target = (len(joined) - (m - 1)) / m
    # best[k][j]: (cost, previous cut) for words[:j] on k lines
    inf = (math.inf, -1)
    best = [[inf] * (n + 1) for _ in range(m + 1)]
    best[0][0] = (0.0, -1)
    for k in range(1, m + 1):
        for j in range(1, n + 1):
            for i in range(j - 1, -1, -1):
                length = line_len(i, j)
                if length > max_chars and j - i > 1:
                    break
                previous = best[k - 1][i][0]
                if previous == math.inf:
                    continue
                cost = previous + abs(length - target)
                if j < n:
                    # Lines may be less balanced to break after punctuation, but not after "the", "of", ...
                    cost -= (0, max_chars / 4, max_chars / 2)[_break_kind(words[j - 1], words[j])]
                    if words[j - 1].lower() in _WEAK_ENDS:
                        cost += 3
                    if k == 1 and length > target:  # slightly prefer the longer line at the bottom
                        cost += 0.5
                if cost < best[k][j][0]:
                    best[k][j] = (cost, i)
    if best[m][n][0] == math.inf:  # cannot happen, but never lose words
        return joined
    cuts = []
    j, k = n, m
    while k > 0:
        i = best[k][j][1]
        cuts.append((i, j))
        j, k = i, k - 1
    return "\n".join(" ".join(words[i:j]) for i, j in reversed(cuts))


def _chunk(words: Sequence[str], max_chars: int, max_lines: int) -> list[tuple[int, int]]:
    """Word ranges, one per cue: as few cues as possible, ending at sentence (or clause) ends where
    that costs little, avoiding very short cues."""
    n = len(words)
    capacity = max_chars * max_lines
    best: list[tuple[float, int]] = [(0.0, -1)] + [(math.inf, -1)] * n
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            if _line_count(words[i:j], max_chars) > max_lines and j - i > 1:
                break
            if best[i][0] == math.inf:
                continue
            chars = sum(len(w) for w in words[i:j]) + (j - i - 1)
            cost = 1.0 + 0.2 * (chars / capacity) ** 2
            if j < n:
                cost += (0.8, 0.35, 0.0)[_break_kind(words[j - 1], words[j])]
            if chars < 0.4 * max_chars and not (i == 0 and j == n):
                cost += 0.4
            total = best[i][0] + cost
            if total < best[j][0]:
                best[j] = (total, i)
    ranges = []
    j = n
    while j > 0:
        i = best[j][1]
        ranges.append((i, j))
        j = i
    return list(reversed(ranges))


def _normal(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


def _word_sounds(
    words: Sequence[str], offsets: Sequence[int], sounds: Sequence[tuple[float, float, str]]
) -> list[tuple[float, float]]:
    """(start, end) of each caption word's sound, from the spoken words' `sounds`.

    The caption and what is spoken may differ (a lexicon says "NCF" as "N C F", `spoken:` rewords a
    line): the two are aligned word by word (difflib, on letters and digits); a run of caption words
    that matches no spoken word one to one gets the sound of the spoken words in its place, shared
    by characters."""
    heard = [_normal(w) for _, _, w in sounds]
    matcher = difflib.SequenceMatcher(None, [_normal(w) for w in words], heard, autojunk=False)
    spans: list[tuple[float, float] | None] = [None] * len(words)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(a1 - a0):
                spans[a0 + k] = (sounds[b0 + k][0], sounds[b0 + k][1])
        elif tag == "replace":
            t0, t1 = sounds[b0][0], max(sound[1] for sound in sounds[b0:b1])
            first, last = offsets[a0], offsets[a1 - 1] + len(words[a1 - 1])
            for i in range(a0, a1):
                share = (t1 - t0) / max(last - first, 1)
                spans[i] = (t0 + share * (offsets[i] - first), t0 + share * (offsets[i] + len(words[i]) - first))
    # Caption words with nothing spoken for them: a moment where the sound before them ended.
    latest = sounds[0][0] if sounds else 0.0
    result = []
    for span in spans:
        if span is None:
            span = (latest, latest)
        latest = max(latest, span[1])
        result.append(span)
    return result


def split_caption(
    text: str,
    start: float,
    end: float,
    max_chars: int = MAX_CHARS,
    max_lines: int = MAX_LINES,
    word_sounds: Sequence[tuple[float, float, str]] | None = None,
) -> list[Cue]:
    """Cues for one narration shown over [start, end].

    Each cue has at most `max_lines` lines of at most `max_chars` characters (a longer single word
    stays whole). Without `word_sounds` cues are timed by their share of the characters (a recording,
    the draft voice). With `word_sounds` ((start, end, word) of each spoken word's sound, on the same
    clock as `start` and `end`, e.g. ``[(tracker.start_t + s, tracker.start_t + e, w) for s, e, w in
    ncfvid.speech.word_sounds(tracker.data)]``) a cue starts when its first word's sound starts and
    ends when its last word's sound ends; a pause shorter than 2 * `CLOSE_SHIFT` between two cues is
    closed halfway from each side, so captions do not flicker. Times stay within [start, end] and
    never go backwards.
    """
    words = text.split()
    if not words:
        return []
    if max_chars < 1 or max_lines < 1:
        raise ValueError("max_chars and max_lines must be at least 1")
    end = max(end, start)
    offsets = []
    position = 0
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    total = position - 1
    ranges = _chunk(words, max_chars, max_lines)
    if word_sounds:
        spans = _word_sounds(words, offsets, word_sounds)
        bounds = [(spans[i][0], max(span[1] for span in spans[i:j])) for i, j in ranges]
        for index in range(len(bounds) - 1):
            (cue_start, cue_end), (next_start, next_end) = bounds[index], bounds[index + 1]
            if 0 < next_start - cue_end < 2 * CLOSE_SHIFT:
                middle = (cue_end + next_start) / 2
                bounds[index], bounds[index + 1] = (cue_start, middle), (middle, next_end)
    else:
        starts = [start + (end - start) * offsets[i] / total for i, _ in ranges]
        bounds = [(s, starts[k + 1] if k + 1 < len(starts) else end) for k, s in enumerate(starts)]
    cues = []
    latest = start
    for (i, j), (cue_start, cue_end) in zip(ranges, bounds, strict=True):
        cue_start = min(max(cue_start, latest), end)
        cue_end = min(max(cue_end, cue_start), end)
        cues.append(Cue(cue_start, cue_end, _wrap(words[i:j], max_chars)))
        latest = cue_end
    return cues


# --- moving and joining ------------------------------------------------------------------------


def join_act_cues(
    acts: Sequence[tuple[Sequence[Cue], float]],
    lengths: Sequence[float] | None = None,
) -> list[Cue]:
    """All acts' cues on the joined video's clock.

    `acts` holds (cues relative to the act's start, the act's start in the joined video). Each cue is
    kept inside its act: not before its start, not after its end (its start plus `lengths[i]` when
    given, else the next act's start; the last act is open-ended without `lengths`). Cues left empty
    are dropped.
    """
    if lengths is not None and len(lengths) != len(acts):
        raise ValueError("lengths must have one entry per act")
    joined: list[Cue] = []
    for index, (cues, act_start) in enumerate(acts):
        if lengths is not None:
            limit = act_start + lengths[index]
        elif index + 1 < len(acts):
            limit = acts[index + 1][1]
        else:
            limit = math.inf
        for cue in cues:
            begin = min(act_start + max(cue.start, 0.0), limit)
            finish = min(act_start + cue.end, limit)
            if finish > begin:
                joined.append(Cue(begin, finish, cue.text))
    return joined


# --- files -------------------------------------------------------------------------------------


def _stamp(seconds: float, separator: str) -> str:
    ms = max(int(round(seconds * 1000)), 0)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _clean(text: str) -> list[str]:
    """Cue lines: no blank lines (they would end the cue) and no '-->' (it marks timings)."""
    return [line.strip().replace("-->", "->") for line in text.splitlines() if line.strip()]


def to_srt(cues: Iterable[Cue]) -> str:
    """SubRip: numbered blocks, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, the text, a blank line between."""
    blocks = []
    for index, cue in enumerate(cues, start=1):
        lines = _clean(cue.text) or [" "]
        blocks.append("\n".join([str(index), f"{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}", *lines]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT: a `WEBVTT` header, then `HH:MM:SS.mmm --> HH:MM:SS.mmm` and the (escaped) text per cue."""
    blocks = ["WEBVTT"]
    for cue in cues:
        lines = [_vtt_escape(line) for line in _clean(cue.text)] or [" "]
        blocks.append("\n".join([f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}", *lines]))
    return "\n\n".join(blocks) + "\n"


_TIMING = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def write_subtitles(cues: Sequence[Cue], srt_path: Path | None, vtt_path: Path | None) -> None:
    """Write SRT and WebVTT (either may be None), each atomically: a temporary file in the same
    folder, then os.replace."""
    if srt_path is not None:
        write_atomic(Path(srt_path), to_srt(cues))
    if vtt_path is not None:
        write_atomic(Path(vtt_path), to_vtt(cues))
