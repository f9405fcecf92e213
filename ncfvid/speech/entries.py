"""ncfvid's own cache of voiceover data: one small JSON file per entry, found by its content hash.

manim-voiceover keeps every entry of a cache folder in one `cache.json` that each lookup parses in
full and each voiceover appends to, also when it was served from the cache: the file grows with
every render (120 entries after a few days of edits to one act, 1-1.5 s of JSON and pydantic per
render of that act). ncfvid's own services (`OwnCacheService`) look up and store their entries
here instead, so a lookup reads one small file and a render adds nothing it already has.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ncfvid.cacheguard import seal, sealed
from ncfvid.children import owner_alive, owner_tag
from ncfvid.files import write_atomic
from ncfvid.speech import cached_audio_ok

FOLDER = "entries"


def entry_path(folder: Path, input_data: Mapping[str, Any]) -> Path:
    """Where the entry for `input_data` (what was synthesised, and how) lives in a cache folder."""
    key = json.dumps(input_data, sort_keys=True, ensure_ascii=False)
    return folder / FOLDER / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}.json"


def load_entry(folder: Path, input_data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The stored voiceover data for `input_data` whose audio file is still there, else None."""
    try:
        data = json.loads(entry_path(folder, input_data).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, or left broken by a crash: synthesise again
        return None
    if not isinstance(data, dict) or data.get("input_data") != input_data or not cached_audio_ok(data, folder):
        return None
    audio = folder / data["original_audio"]
    if not sealed(audio):  # changed since it was stored (or stored before seals): synthesised again
        if audio.with_name(f"{audio.name}.sum").is_file():
            print(f"ncfvid: damaged speech {audio} in the cache: synthesised again", file=sys.stderr, flush=True)
            entry_path(folder, input_data).unlink(missing_ok=True)  # dropped: the line is free to speak
        return None
    return data


def save_entry(folder: Path, data: Mapping[str, Any]) -> None:
    """Store voiceover data under its `input_data`, atomically (readers see all of it or nothing),
    and seal its audio file (see ncfvid.cacheguard.sealed), written before it."""
    audio = data.get("original_audio")
    if isinstance(audio, str) and (folder / audio).is_file():
        seal(folder / audio)
    write_atomic(entry_path(folder, data["input_data"]), json.dumps(data, ensure_ascii=False))


LOG = "synthesised.log"
CLAIM_WAIT = 300.0  # the longest a process waits for another one to synthesise a line


@contextmanager
def claim_entry(folder: Path, input_data: Mapping[str, Any]) -> Iterator[bool]:
    """Claim the right to synthesise the entry for `input_data`: True while this process holds it
    (a lock file beside the entry, made with O_EXCL). Two render jobs that need the same line at
    once (two halves of one act) would otherwise both speak it; the second waits for the first and
    gets False when the entry is there (or the first died, or CLAIM_WAIT passed: then it may speak
    the line itself)."""
    entry = entry_path(folder, input_data)
    lock = entry.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + CLAIM_WAIT
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if entry.is_file() or time.monotonic() > deadline:
                yield False
                return
            try:
                owner = lock.read_text(encoding="utf-8")
            except OSError:
                owner = ""
            if owner and not owner_alive(owner):
                lock.unlink(missing_ok=True)  # left by a process that died while speaking
            time.sleep(0.02)
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(owner_tag())
        break
    try:
        yield not entry.is_file()
    finally:
        lock.unlink(missing_ok=True)


def note_synthesis(folder: Path, audio: str) -> None:
    """Append the audio file of a line just synthesised to the folder's log: one line per synthesis,
    from every process that speaks into the folder (an append of one short line is atomic), so a
    render's syntheses can be counted (`synthesis_count`)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOG, "a", encoding="utf-8") as log:
        log.write(f"{audio}\n")


def synthesis_count(folder: Path) -> int:
    """How many lines were ever synthesised into `folder` (see `note_synthesis`)."""
    try:
        return len((folder / LOG).read_text(encoding="utf-8").splitlines())
    except OSError:
        return 0
