"""The Manim process of `ncfvid check` and `ncfvid preview`: runs acts of a generated module with
animations settled at their end (`ncfvid.scenelib.fastplay`), no file written, and the layout probe
recording each beat (`ncfvid.scenelib.probe`).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ncfvid.scenejob import ENV, SceneJob

MANIM_QUALITIES = {
    "l": "low_quality",
    "m": "medium_quality",
    "h": "high_quality",
    "p": "production_quality",
    "k": "fourk_quality",
}


def _own_media_dir(shared: Path, fallback: Path) -> str:
    """`shared` (which keeps Manim's text cache between checks) when no other process uses it, else a
    folder of this run: Manim writes its cached SVG files in place, so two writers can corrupt them."""
    import fcntl

    shared.mkdir(parents=True, exist_ok=True)
    lock = (shared / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return str(fallback / f"media-{os.getpid()}")
    _held_locks.append(lock)  # released when the process exits
    return str(shared)


_held_locks: list[Any] = []


def worker_main(argv: Sequence[str] | None = None) -> None:
    """Run acts of a generated module for a check: `MODULE OUT_DIR QUALITY MEDIA_DIR SCENE...`, as the
    SceneJob in the environment says (`settle`: animations settled at their end, else played with
    Manim's own skipping, exact and slower).

    Writes `<Scene>.beats.json` (see BeatInspector) for each scene and, when a scene fails,
    `<Scene>.error.json`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    module_path, out_dir, quality, media_dir, *scenes = args
    from manim import config

    config.quality = MANIM_QUALITIES[quality]
    config.dry_run = True
    config.disable_caching = True
    config.progress_bar = "none"
    config.verbosity = "ERROR"
    config.media_dir = _own_media_dir(Path(media_dir), Path(out_dir))
    from ncfvid.scenelib import patches
    from ncfvid.scenelib.scene import StoryScene

    job = SceneJob.from_env()
    if job.settle:
        patches.install_fast_play(StoryScene)
    module = _load_module(Path(module_path))
    out = Path(out_dir)
    audio_root = job.audio_cache or str(out / "audio")
    for name in scenes:
        os.environ[ENV] = job.but(audio_cache=str(Path(audio_root) / name)).to_json()
        started = time.perf_counter()
        try:
            scene = getattr(module, name)(skip_animations=True)
            scene.render()
        except Exception as err:  # noqa: BLE001 - reported to the user as a finding
            error = {
                "error": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc(),
            }
            (out / f"{name}.error.json").write_text(json.dumps(error), encoding="utf-8")
        (out / f"{name}.seconds").write_text(f"{time.perf_counter() - started:.3f}", encoding="utf-8")


def _load_module(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("ncfvid_checked_scenes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
