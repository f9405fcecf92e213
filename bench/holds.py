"""Measure what a 30 s still costs with stock Manim vs ncfvid's fast holds.

Usage: .venv/bin/python bench/holds.py [--quick] [--seconds 30]

Each case renders (in-process, caching disabled, into a temp dir) a scene that draws a still picture and
then holds it with ``self.wait(seconds)``; it prints wall time, frames encoded and output size.
``--quick`` only runs 480p15 (1080p60 stock takes about a minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
from manim import BLUE, DOWN, UP, YELLOW, Circle, Scene, Square, Text, VGroup, tempconfig  # noqa: E402

from ncfvid.scenelib.patches import install_fast_holds  # noqa: E402

QUALITIES = {"480p15": (854, 480, 15), "1080p60": (1920, 1080, 60)}


def make_scene(fast: bool, seconds: float) -> type[Scene]:
    class Still(Scene):
        def setup(self) -> None:
            if fast:
                install_fast_holds(self)

        def construct(self) -> None:
            picture = VGroup(
                Circle(color=BLUE, fill_opacity=0.6),
                Square(color=YELLOW).shift(UP),
                Text("a still picture").shift(DOWN * 2),
            )
            self.add(picture)
            self.wait(seconds)

    return Still


def run(quality: str, fast: bool, seconds: float) -> tuple[float, int, int, int]:
    width, height, fps = QUALITIES[quality]
    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            "media_dir": tmp,
            "pixel_width": width,
            "pixel_height": height,
            "frame_rate": fps,
            "disable_caching": True,
            "output_file": "out",
            "verbosity": "ERROR",
            "progress_bar": "none",
        }
        with tempconfig(settings):
            scene = make_scene(fast, seconds)()
            start = time.perf_counter()
            scene.render()
            elapsed = time.perf_counter() - start
            writer = scene.renderer.file_writer
            path = Path(writer.final_file_path)
            stats = getattr(writer, "hold_stats", None)
            with av.open(str(path)) as container:
                frames = container.streams.video[0].frames
            encoded = stats.frames_encoded if stats is not None else frames
            return elapsed, frames, encoded, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 480p15")
    parser.add_argument("--seconds", type=float, default=30.0, help="hold length (default 30)")
    args = parser.parse_args()
    qualities = ["480p15"] if args.quick else ["480p15", "1080p60"]
    print(f"{args.seconds:g} s still    mode  render s  frames  encoded  size KiB")
    for quality in qualities:
        for fast in (False, True):
            elapsed, frames, encoded, size = run(quality, fast, args.seconds)
            mode = "fast" if fast else "stock"
            print(f"{quality:>13}  {mode:>5}  {elapsed:8.2f}  {frames:6d}  {encoded:7d}  {size / 1024:8.1f}")


if __name__ == "__main__":
    main()
