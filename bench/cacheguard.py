"""What the cache's checks (ncfvid.cacheguard) cost a render that serves every beat: the NCF video's
40 beat clips (clip, sound, captions at the sizes of a -q l and a -q h render), checked as `plan`
checks them. The usual case is a `stat` per file; after the clips' time stamps moved (a copy without
them, a `touch`) each file is hashed once and its new time stamp recorded.

    .venv/bin/python bench/cacheguard.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from ncfvid.cacheguard import check_clip, write_sums

BEATS = 40
SIZES = {"l": (250_000, 180_000), "h": (2_500_000, 180_000)}  # clip.mp4, sound.wav bytes per beat


def folders(root: Path, clip: int, sound: int) -> list[Path]:
    made = []
    for index in range(BEATS):
        folder = root / f"{index:02d}-key"
        folder.mkdir()
        (folder / "clip.mp4").write_bytes(os.urandom(clip))
        (folder / "sound.wav").write_bytes(os.urandom(sound))
        (folder / "cues.json").write_text('[{"text": "a line", "start": 0, "end": 2}]', encoding="utf-8")
        write_sums(folder)
        made.append(folder)
    return made


def timed(clips: list[Path], touch: bool) -> float:
    if touch:
        for folder in clips:
            for name in ("clip.mp4", "sound.wav", "cues.json"):
                os.utime(folder / name)
    started = time.perf_counter()
    for folder in clips:
        check_clip(folder)
    return time.perf_counter() - started


def main() -> None:
    for quality, (clip, sound) in SIZES.items():
        with tempfile.TemporaryDirectory() as root:
            clips = folders(Path(root), clip, sound)
            usual = statistics.median(timed(clips, False) for _ in range(5))
            moved = statistics.median(timed(clips, True) for _ in range(3))
            print(f"-q {quality}: {BEATS} clips checked in {usual * 1000:.1f} ms; after a touch {moved * 1000:.0f} ms")


if __name__ == "__main__":
    main()
