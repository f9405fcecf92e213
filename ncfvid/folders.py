"""The output folder: checked before anything is written to it, one render at a time in it, and
what a killed render left there swept away by the next one.

- A folder that cannot be written (read-only, below a regular file) is a one-line error naming it
  before any work starts; a write that fails later (a full disk) is one line naming the folder, and
  the last good video stays where it was (every output is written beside it, then renamed).
- A render holds an exclusive `flock` on `<folder>/.ncfvid.lock` while it works; a second render
  into the same folder waits for it and then finds its work cached. The kernel releases the lock
  when its holder exits however it exits (SIGKILL included), so a dead render never keeps it.
- Holding the lock, a render removes the half-joined videos (`.<stem>.<random>.joining.mp4`) and
  half-written files (`.<name>.<pid>.tmp`) that a killed render left in the folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ncfvid.children import alive
from ncfvid.diagnostics import UserError

LOCK_FILE = ".ncfvid.lock"
CACHE_ENV = "NCFVID_CACHE"  # a cache folder shared by several storyboards (`--cache` says it too)
# Errors that mean "this folder cannot take what is written to it", not a bug.
FOLDER_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this file system or limit allows",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
}


def cache_folder(folder: Path, override: Path | None = None) -> Path:
    """Where a storyboard's content-addressed cache lives (beat clips, speech, parsed texts, drawn
    animations): `override` (`--cache`), else $NCFVID_CACHE, else `<folder>/cache`. UserError naming
    it when it cannot be written."""
    chosen = override if override is not None else os.environ.get(CACHE_ENV) or None
    if chosen is None:
        return folder / "cache"
    check_output_folder(Path(chosen), "the cache folder", "--cache")
    return Path(chosen)


def check_output_folder(folder: Path, what: str = "the output folder", option: str = "-o") -> None:
    """Raise UserError (naming `folder`) unless `folder` is, or can be made as, a writable folder."""
    path = Path(folder)
    while not path.exists() and not path.is_symlink() and path != path.parent:
        path = path.parent
    if path.exists() and not path.is_dir():
        message = f"cannot use {folder} as {what}: {path} is a file, not a folder; choose another with {option}"
        raise UserError.single(str(folder), message)
    if not os.access(path, os.W_OK | os.X_OK):
        why = "it is read-only" if path == Path(folder) else f"{path} is read-only"
        message = f"cannot write to {what} {folder}: {why}; make it writable or choose another with {option}"
        raise UserError.single(str(folder), message)


def folder_error(err: OSError) -> UserError | None:
    """A one-line error naming the folder of the file an OSError is about, when the error says the
    folder cannot take what is written to it (a full disk, read-only, no permission); else None."""
    number = err.errno
    filename = getattr(err, "filename", None)
    if number not in FOLDER_ERRNOS or not filename:
        return None
    folder = Path(os.fsdecode(filename)).parent
    if number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "free some space, then run again; what was there before is untouched"
    else:
        hint = "make it writable or choose another output folder with -o"
    return UserError.single(str(folder), f"cannot write to {folder}: {FOLDER_ERRNOS[number]}; {hint}")


@contextmanager
def render_lock(folder: Path, notice: bool = True) -> Iterator[None]:
    """Hold `folder`'s render lock (waiting for another render that holds it), then sweep what
    killed renders left in the folder."""
    key = folder.resolve()
    if key in _held:  # this process holds it already (`--lang all` renders each language in turn)
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if notice:
                print(f"ncfvid: waiting for another render into {folder} to finish…", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        _held.add(key)
        try:
            sweep(folder)
            yield
        finally:
            _held.discard(key)
            fcntl.flock(lock, fcntl.LOCK_UN)


_held: set[Path] = set()  # the folders whose lock this process holds


@contextmanager
def cache_lock(cache: Path, *, exclusive: bool = False, notice: bool = True) -> Iterator[None]:
    """Hold a cache folder shared by several storyboards: renders share it (each writes whole entries
    by atomic renames, so any number may write at once, also from other machines over NFS, where
    Linux maps `flock` to a lock of the server's); `ncfvid clean` holds it alone, so it never removes
    entries under a render's feet."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / LOCK_FILE, "a+") as lock:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(lock, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if notice:
                what = "renders using" if exclusive else "`ncfvid clean` of"
                print(f"ncfvid: waiting for the {what} the cache {cache} to finish…", file=sys.stderr, flush=True)
            fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_ATOMIC_TMP = re.compile(r"^\..+\.(\d+)\.tmp$")  # ncfvid.files.write_atomic's temporary files


def sweep(folder: Path) -> list[Path]:
    """Remove the half-joined videos in `folder` (only the lock's holder joins, so any there is a
    killed render's) and the temporary files of writers that are no longer alive; what was removed."""
    removed = []
    for path in folder.glob(".*.joining.mp4"):
        removed.append(path)
    for path in folder.glob(".*.tmp"):
        match = _ATOMIC_TMP.match(path.name)
        if match and not alive(int(match.group(1))):
            removed.append(path)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def remove(paths: list[Path], what: str) -> tuple[int, int]:
    """Remove `paths` (folders or files) whole: (files removed, bytes freed). UserError naming the
    first thing that stayed, and why, if any did."""
    files = size = 0
    failed: list[tuple[str, OSError]] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for file in path.rglob("*"):
                if file.is_file():
                    files, size = files + 1, size + _size(file)
            shutil.rmtree(path, onerror=lambda _f, p, info: failed.append((p, info[1])))
        elif path.exists() or path.is_symlink():
            files, size = files + 1, size + _size(path)
            try:
                path.unlink()
            except OSError as err:
                failed.append((str(path), err))
    if failed:
        place, err = failed[0]
        reason = FOLDER_ERRNOS.get(err.errno or 0, err.strerror or str(err))
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise UserError.single(place, f"cannot remove {what}: {place}{more}: {reason}")
    return files, size


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def act_cache(cache: Path, act_ids: list[str]) -> list[Path]:
    """What the cache holds for these acts alone: their beat clips (with sound, captions and the
    states index) and their synthesised speech."""
    paths = [cache / "beats" / act_id for act_id in act_ids]
    for act_id in act_ids:
        paths += [cache / "audio" / act_id, *(cache / "audio").glob(f"{act_id}.from-*")]
    return [path for path in paths if path.exists()]
