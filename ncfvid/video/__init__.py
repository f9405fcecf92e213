"""Video helpers: cheap holds inside Manim renders, probing, and joining act videos (PyAV only).

``ncfvid.video.holds`` imports Manim (slow, noisy); it is loaded only when one of its names is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .join import JoinResult, join_videos
from .probe import VideoError, VideoInfo, probe

if TYPE_CHECKING:
    from .holds import FastHoldSceneFileWriter, HoldStats

__all__ = [
    "FastHoldSceneFileWriter",
    "HoldStats",
    "JoinResult",
    "VideoError",
    "VideoInfo",
    "join_videos",
    "probe",
]

_HOLDS_NAMES = {"FastHoldSceneFileWriter", "HoldStats"}


def __getattr__(name: str) -> Any:
    if name in _HOLDS_NAMES:
        from . import holds

        return getattr(holds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
