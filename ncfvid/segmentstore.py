"""Where the animation segments of ncfvid.scenelib.segments are kept, and how a render job keeps them.

Manim-free: the render driver keeps what a job drew once Manim has exited (and finished writing).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ncfvid.cacheguard import seal, sealed

SEGMENTS_FOLDER = "segments"  # under a storyboard's cache: <key>.mp4, one animation's encoded frames
LISTING = "{scene}.segments.json"  # in a job's parts folder: the segments drawn (to keep) and reused


def keep_segments(listing_path: Path, folder: Path) -> dict[int, tuple[int, int]]:
    """Keep the segments a job drew (hard links into `folder`); beat -> (drawn, reused) counts."""
    if not listing_path.is_file():
        return {}
    listing = json.loads(listing_path.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[int, list[int]] = {}
    for entry in listing["drawn"]:
        counts.setdefault(int(entry["beat"]), [0, 0])[0] += 1
        target = folder / f"{entry['key']}.mp4"
        source = Path(entry["file"])
        if sealed(target) or not source.is_file():  # kept whole already (a damaged one is replaced)
            continue
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            os.link(source, partial)  # the work folder goes; the segment stays, without a copy
        except OSError:
            shutil.copy2(source, partial)
        os.replace(partial, target)  # whole or absent: another job may keep the same segment
        seal(target)
    for beat, reused in listing["reused"].items():
        counts.setdefault(int(beat), [0, 0])[1] += int(reused)
    return {beat: (drawn, reused) for beat, (drawn, reused) in counts.items()}
