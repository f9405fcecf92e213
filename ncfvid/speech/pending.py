"""The lines a render is synthesising ahead of its jobs (`ncfvid.speech.ahead`): one marker file per
live render listing the speech cache entries it has still to write, so that a job wanting one of
them waits for it (`ncfvid.speech.festivalengine`) instead of speaking it a second time.
"""

from __future__ import annotations

from pathlib import Path

from ncfvid.children import alive

PENDING = "pending"  # <store>/pending/<pid>.txt: entry file names a render is still synthesising


def pending_owners(store: Path, name: str) -> list[Path]:
    """The pending lists of live renders that are synthesising the entry file `name`."""
    owners = []
    for marker in (store / PENDING).glob("*.txt"):
        try:
            if name in marker.read_text(encoding="utf-8").split() and alive(int(marker.stem)):
                owners.append(marker)
        except (OSError, ValueError):
            continue
    return owners


def remove_stale_markers(folder: Path) -> None:
    for marker in folder.glob("*.txt"):
        try:
            if not alive(int(marker.stem)):
                marker.unlink(missing_ok=True)
        except (OSError, ValueError):
            continue
