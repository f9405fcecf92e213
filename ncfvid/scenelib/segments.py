"""Animations drawn once, whatever is said over them: a beat's moving parts reused between renders.

A beat's frames are its animations (plays) and its holds (still frames while the voice finishes).
Translating a beat's narration, or editing it, changes how long it lasts, and so its holds, but not
what its animations draw, when its visual is the same. Each animation a render job draws is kept
as its encoded segment (one Manim partial movie file) under a key of everything its frames depend
on: the beat's code without its narration (`picture` keys, from the planner: what the beat shows,
the module's data and theme, the quality and encoder settings, the drawing library), the place of
the animation among the beat's animations, its length, and the fingerprint of the stage when it
starts (`ncfvid.scenelib.fingerprint`: every mobject's outline, paint, order and updaters, the
camera). A later run that meets the same key plays that animation with its frames skipped (the
stage ends as it would; no pixel is drawn, nothing is encoded) and puts the kept segment in its
place in the beat's section; the holds around it are drawn for the new timing, cheaply (fast holds).

Still frames (a `wait` without updaters) are never kept: they are the holds, and cost next to nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from manim import config

from ncfvid.cacheguard import sealed
from ncfvid.scenelib.fingerprint import stage_fingerprint
from ncfvid.segmentstore import LISTING


class SegmentReuse:
    """One scene's look-ups and records; see the module docstring."""

    def __init__(self, scene: Any, folder: Path, keys: dict[int, str]) -> None:
        self.scene, self.folder, self.keys = scene, folder, keys
        self.plays: Counter[int] = Counter()  # animations met per beat
        self.pending: tuple[str, Any] | None = None
        self.clock = 0.0  # the renderer's time when the pending play began
        self.drawn: list[dict[str, Any]] = []  # {beat, key, file}: to keep once Manim wrote them
        self.reused: Counter[int] = Counter()

    def before_play(self) -> None:
        """After Manim compiled a play's animations, before it draws: look the segment up."""
        scene = self.scene
        self.pending = None
        beat = scene.beat_index
        picture = self.keys.get(beat)
        if picture is None or scene.renderer.skip_animations or scene.is_current_animation_frozen_frame():
            return
        number = self.plays[beat]
        self.plays[beat] += 1
        stage = stage_fingerprint(scene, animations=scene.animations)  # with what the animations hold
        made_of = f"{picture}:{number}:{float(scene.duration):.6f}:{stage}"
        key = hashlib.sha256(made_of.encode()).hexdigest()[:32]
        kept = self.folder / f"{key}.mp4"
        if sealed(kept):  # whole, as kept (a damaged segment is drawn again, and replaced)
            self.clock = scene.renderer.time
            scene.renderer.skip_animations = True  # the stage plays to its end; no frame is drawn
            self.pending = ("reuse", kept)
        else:
            self.pending = ("draw", key)

    def after_play(self) -> None:
        """After the play: put the kept segment in the skipped one's place, or note the drawn one."""
        if self.pending is None:
            return
        kind, value = self.pending
        self.pending = None
        writer = self.scene.renderer.file_writer
        if kind == "reuse":
            self.advance_clock_as_drawn()
            writer.partial_movie_files[-1] = str(value)
            writer.sections[-1].partial_movie_files[-1] = str(value)
            self.reused[self.scene.beat_index] += 1
        elif writer.partial_movie_files and writer.partial_movie_files[-1]:
            self.drawn.append({"beat": self.scene.beat_index, "key": value, "file": writer.partial_movie_files[-1]})

    def advance_clock_as_drawn(self) -> None:
        """A skipped play moves Manim's clock by its exact length; a drawn one by whole frames, one
        `dt` at a time. Later holds are timed from the clock, so it must read as if drawn."""
        renderer = self.scene.renderer
        dt = 1 / renderer.camera.frame_rate
        clock = self.clock
        for _ in range(len(np.arange(0, self.scene.duration, 1 / config["frame_rate"]))):
            clock += dt
        renderer.time = clock

    def write(self, folder: Path, scene_name: str) -> None:
        """The listing the render job reads once Manim has finished writing every segment."""
        listing = {"drawn": self.drawn, "reused": {str(k): v for k, v in self.reused.items()}}
        (folder / LISTING.format(scene=scene_name)).write_text(json.dumps(listing, indent=1), encoding="utf-8")


def install_segment_reuse(scene: Any, folder: Path, keys: dict[int, str]) -> SegmentReuse:
    """Reuse kept animation segments in `scene` (a StoryScene drawing a span of beats)."""
    reuse = SegmentReuse(scene, folder, keys)
    compile_data = scene.compile_animation_data
    play = scene.renderer.play

    def compile_animation_data(*args: Any, **kwargs: Any) -> Any:
        result = compile_data(*args, **kwargs)
        reuse.before_play()
        return result

    def renderer_play(play_scene: Any, *args: Any, **kwargs: Any) -> None:
        play(play_scene, *args, **kwargs)
        reuse.after_play()

    scene.compile_animation_data = compile_animation_data
    scene.renderer.play = renderer_play
    return reuse
