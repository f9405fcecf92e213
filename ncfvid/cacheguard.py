"""A cache that checks what it serves: every beat clip folder carries the size and SHA-256 of each of
its files (`sums.json`, written when the clip is stored), and is verified before a render trusts
it. A folder whose files changed, went missing or do not decode is dropped with a one-line notice
and drawn again; it is never served and never stops a render with a traceback.

Verifying is a `stat` per file while a file's size and modification time are those recorded (a
file rewritten in place gets a new modification time, and is then hashed again); a clip stored
before sums were kept is decoded once (the picture's container, the sound's header against its
size, the captions as JSON) and adopted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import wave
from pathlib import Path

from ncfvid.files import write_atomic

SUMS_FILE = "sums.json"
CLIP_FILES = ("clip.mp4", "cues.json", "sound.wav")  # as ncfvid.records.CLIP_FILES (no import: no cycle)
# Only what is played is summed: a damaged drawing time (drawn.json) or layout record (layout.json)
# is read as absent where it is read (it weighs a job; the layout is checked by a run of its own).
SUMMED = CLIP_FILES


class Damaged(Exception):
    """A cache entry that must not be served; the message says what is wrong with it."""


def file_sum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(folder: Path) -> None:
    """Record size, modification time and SHA-256 of the clip files in `folder` (call before the
    folder is published by its atomic rename)."""
    sums = {}
    for name in SUMMED:
        path = folder / name
        if path.is_file():
            stat = path.stat()
            sums[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sum(path)}
    write_atomic(folder / SUMS_FILE, json.dumps(sums, indent=1))


def seal(path: Path) -> None:
    """Record `path`'s size, time stamp and SHA-256 beside it (`<name>.sum`), for `sealed`."""
    stat = path.stat()
    entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sum(path)}
    write_atomic(path.with_name(f"{path.name}.sum"), json.dumps(entry))


def sealed(path: Path) -> bool:
    """Whether `path` is what `seal` recorded (a `stat` while its size and time stamp match)."""
    try:
        entry = json.loads(path.with_name(f"{path.name}.sum").read_text(encoding="utf-8"))
        _check_file(path, entry)
        return True
    except (OSError, ValueError, Damaged):
        return False


def summed(data: object) -> str:
    """`data` as JSON that carries its own SHA-256 (see `read_summed`)."""
    body = json.dumps(data, sort_keys=True)
    return json.dumps({"sha256": hashlib.sha256(body.encode()).hexdigest(), "data": json.loads(body)})


def read_summed(path: Path) -> object:
    """What `summed` wrote to `path`; Damaged if the file is not whole or not what was written."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        data = stored["data"]
        body = json.dumps(data, sort_keys=True)
    except (OSError, ValueError, KeyError, TypeError):
        raise Damaged("not a whole entry") from None
    if hashlib.sha256(body.encode()).hexdigest() != stored.get("sha256"):
        raise Damaged("its checksum does not match")
    return data


def check_clip(folder: Path) -> None:
    """Raise Damaged if the beat clip in `folder` is incomplete or not what was stored."""
    missing = [name for name in CLIP_FILES if not (folder / name).is_file()]
    if missing:
        raise Damaged(f"{', '.join(missing)} missing")
    try:
        sums = json.loads((folder / SUMS_FILE).read_text(encoding="utf-8"))
        if not isinstance(sums, dict) or not all(name in sums for name in CLIP_FILES):
            raise ValueError(SUMS_FILE)
    except (OSError, ValueError):
        _check_decodes(folder)  # stored before sums were kept (or they were lost): look inside
        _adopt(folder)
        return
    touched = False
    for name, entry in sums.items():
        touched |= _check_file(folder / name, entry)
    if touched:  # same bytes under a new time stamp (copied, touched): no need to hash again
        _adopt(folder)


def _check_file(path: Path, entry: object) -> bool:
    """Raise Damaged unless `path` matches its recorded `entry`; True if only its time stamp moved."""
    if not isinstance(entry, dict):
        raise Damaged(f"{SUMS_FILE} is damaged")
    try:
        stat = path.stat()
    except OSError:
        raise Damaged(f"{path.name} missing") from None
    if stat.st_size != entry.get("size"):
        raise Damaged(f"{path.name} is {stat.st_size:,} bytes, {entry.get('size')!r} were stored")
    if stat.st_mtime_ns == entry.get("mtime_ns"):
        return False
    if file_sum(path) != entry.get("sha256"):
        raise Damaged(f"{path.name} changed since it was stored")
    return True


def _check_decodes(folder: Path) -> None:
    """Raise Damaged unless the clip's files look whole: the video's container opens and has frames,
    the WAV's header matches its size, the captions parse."""
    import av

    try:
        cues = json.loads((folder / "cues.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Damaged("cues.json is not JSON") from None
    if not isinstance(cues, list) or not all(isinstance(c, dict) and {"text", "start", "end"} <= set(c) for c in cues):
        raise Damaged("cues.json holds no captions")
    _check_wav(folder / "sound.wav")
    try:
        with av.open(str(folder / "clip.mp4")) as container:
            stream = container.streams.video[0]
            packets = sum(1 for packet in container.demux(stream) if packet.size)
    except (OSError, ValueError, IndexError, av.FFmpegError) as err:
        raise Damaged(f"clip.mp4 does not open ({err})") from None
    if packets == 0:
        raise Damaged("clip.mp4 holds no frames")


def _check_wav(path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as wav:
            expected = wav.getnframes() * wav.getnchannels() * wav.getsampwidth()
            data = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as err:
        raise Damaged(f"sound.wav is not a WAV file ({err})") from None
    if len(data) != expected:
        raise Damaged(f"sound.wav is cut short ({len(data):,} of {expected:,} bytes of sound)")


def _adopt(folder: Path) -> None:
    try:
        write_sums(folder)
    except OSError:  # a read-only cache: verified again next time
        pass


def verified(folder: Path, what: str = "beat clip") -> bool:
    """Whether `folder` holds a whole clip; a damaged one is removed (with a notice on stderr), so
    that it is drawn again. False for an absent folder."""
    if not folder.exists():
        return False
    try:
        check_clip(folder)
        return True
    except Damaged as err:
        drop(folder, f"damaged {what} {folder} ({err}): removed; it is drawn again")
        return False


def drop(folder: Path, notice: str) -> None:
    """Remove `folder` from the cache: renamed aside first, so no reader sees half of it."""
    aside = folder.with_name(f".drop-{folder.name}-{os.getpid()}")
    try:
        folder.rename(aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)
    print(f"ncfvid: {notice}", file=sys.stderr, flush=True)
