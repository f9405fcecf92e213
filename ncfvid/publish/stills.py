"""Stills: each beat's last frame as a PNG (for the review page, the handout and the poster).

A still is named by its beat clip's cache key, so an unchanged beat's still is never decoded again.
"""

from __future__ import annotations

import io
from pathlib import Path

from ncfvid.files import write_atomic

__all__ = ["last_frame_png", "still"]


def last_frame_png(clip: Path) -> bytes:
    """The last frame of the video `clip`, as PNG bytes (decoding only its last second or so)."""
    import av

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        duration = stream.duration or 0
        if duration and stream.time_base is not None:
            # Seek to a key frame a second before the end; decoding from there reaches the last frame.
            container.seek(max(0, duration - round(1 / stream.time_base)), stream=stream, backward=True)
        frame = None
        for decoded in container.decode(stream):
            frame = decoded
        if frame is None:
            raise ValueError(f"no frame in {clip}")
        buffer = io.BytesIO()
        frame.to_image().save(buffer, format="PNG", optimize=False, compress_level=3)
        return buffer.getvalue()


def still(clip_folder: Path, key: str, folder: Path) -> Path:
    """`folder`/<key>.png: the last frame of the beat clip in `clip_folder`, made once per key."""
    path = folder / f"{key}.png"
    if not path.is_file():
        write_atomic(path, last_frame_png(clip_folder / "clip.mp4"))
    return path
