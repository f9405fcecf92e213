"""Every change ncfvid makes to Manim's own code, in one place to review, each behind a guard.

ncfvid's renders replace a few of Manim's functions (and read some of its internals):

- `Mobject.__deepcopy__`: a faster copy with the same result (`ncfvid.scenelib.fastcopy`);
- `SVGMobject.init_svg_mobject`: parsed texts shared on disk between runs (`ncfvid.scenelib.glyphcache`);
- a scene's file writer and encoder spec: holds encoded once (`ncfvid.video.holds`);
- a renderer's `update_frame`: no pixels drawn for skipped animations (`draw_no_skipped_frames`);
- `StoryScene.play`: animations settled at their end for `ncfvid check` (`ncfvid.scenelib.fastplay`);
- a scene's `compile_animation_data` and its renderer's `play`: animations drawn before with the same
  picture reused (`ncfvid.scenelib.segments`).

They were written against the Manim series in `TESTED_MANIM` (pinned in pyproject.toml), and rely on
the internal names in `RELIED_ON`. `check_manim` refuses another Manim, or one where a name is
gone, with an error that says so, instead of rendering with a patch that may no longer fit.
Tests compare every frame with and without the patches.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from pathlib import Path
from typing import Any

from ncfvid.scenejob import SceneJob

TESTED_MANIM = "0.22"  # the Manim series (major.minor) the patches were made and tested with

# (module, attribute path) of every Manim name the patches replace, call or read.
RELIED_ON: tuple[tuple[str, str], ...] = (
    ("manim.mobject.mobject", "Mobject.__deepcopy__"),
    ("manim.mobject.svg.svg_mobject", "SVGMobject.init_svg_mobject"),
    ("manim.mobject.svg.svg_mobject", "SVGMobject.generate_mobject"),
    ("manim.mobject.svg.svg_mobject", "SVGMobject.get_file_path"),
    ("manim.mobject.svg.svg_mobject", "SVG_HASH_TO_MOB_MAP"),
    ("manim.mobject.svg.svg_mobject", "VMobjectFromSVGPath"),
    ("manim.utils.iterables", "hash_obj"),
    ("manim.scene.scene_file_writer", "SceneFileWriter.write_frame"),
    ("manim.scene.scene_file_writer", "_SceneFileWriterSettings"),
    ("manim.scene.video_segment_encoder", "VideoSegmentEncoder"),
    ("manim._config.video_encoder", "VideoEncoderSpec"),
    ("manim.renderer.cairo_renderer", "CairoRenderer.update_frame"),
    ("manim.scene.scene", "Scene.compile_animations"),
    ("manim.scene.scene", "Scene.add_mobjects_from_animations"),
    ("manim.scene.scene", "Scene.get_run_time"),
    ("manim.scene.scene", "Scene.update_mobjects"),
    ("manim.scene.scene", "Scene.next_section"),
    ("manim.animation.animation", "Animation._setup_scene"),
    ("manim.animation.animation", "Animation.clean_up_from_scene"),
    ("manim.animation.animation", "Animation.is_introducer"),
    ("manim.animation.animation", "Animation.is_remover"),
    ("manim.utils.exceptions", "EndSceneEarlyException"),
    ("manim.scene.scene", "Scene.compile_animation_data"),
    ("manim.scene.scene", "Scene.begin_animations"),
    ("manim.renderer.cairo_renderer", "CairoRenderer.play"),
)


class PatchError(RuntimeError):
    """The installed Manim is not one ncfvid's patches fit."""


def manim_version() -> str:
    return importlib.metadata.version("manim")


def check_manim() -> None:
    """Raise PatchError unless the installed Manim is of the tested series and has every name relied on."""
    version = manim_version()
    if version != TESTED_MANIM and not version.startswith(TESTED_MANIM + "."):
        raise PatchError(
            f"ncfvid's patches to Manim were made for Manim {TESTED_MANIM}.x, but Manim {version} is "
            f"installed: install the version pyproject.toml pins (pip install -e .)"
        )
    missing = [f"{module}.{path}" for module, path in RELIED_ON if not _exists(module, path)]
    if missing:
        raise PatchError(f"Manim {version} lacks what ncfvid's patches rely on: {', '.join(missing)}")


def _exists(module: str, path: str) -> bool:
    try:
        found: Any = importlib.import_module(module)
    except ImportError:
        return False
    for name in path.split("."):
        if not hasattr(found, name):
            return False
        found = getattr(found, name)
    return True


@functools.cache
def _checked() -> None:
    check_manim()  # once per process


def install(scene: Any, job: SceneJob) -> None:
    """The patches `job` asks for, on `scene` (from `StoryScene.setup`, before the first play)."""
    _checked()
    if job.fast_holds:
        install_fast_holds(scene)
    if job.fast_copy:
        install_fast_copy()
    if job.glyphs:
        install_glyph_cache(Path(job.glyphs))
    if job.beats is not None:
        draw_no_skipped_frames(scene.renderer)


# --- mobject copies ----------------------------------------------------------------------------


def install_fast_copy() -> None:
    """Make every mobject copy use `fastcopy.fast_deepcopy` in this process (idempotent)."""
    from manim.mobject.mobject import Mobject

    from ncfvid.scenelib.fastcopy import fast_deepcopy

    Mobject.__deepcopy__ = fast_deepcopy  # type: ignore[method-assign,assignment]


def uninstall_fast_copy() -> None:
    """Back to Manim's own copy (for tests that compare the two)."""
    from manim.mobject.mobject import Mobject

    from ncfvid.scenelib.fastcopy import MANIM_DEEPCOPY

    Mobject.__deepcopy__ = MANIM_DEEPCOPY  # type: ignore[method-assign]


# --- parsed texts --------------------------------------------------------------------------------


def install_glyph_cache(folder: Path) -> None:
    """Look up and store parsed SVGs in `folder` in this process."""
    from manim.mobject.svg.svg_mobject import SVGMobject

    from ncfvid.scenelib import glyphcache

    glyphcache.use_folder(folder)
    SVGMobject.init_svg_mobject = glyphcache.init_svg_mobject  # type: ignore[method-assign]


def uninstall_glyph_cache() -> None:
    from manim.mobject.svg.svg_mobject import SVGMobject

    from ncfvid.scenelib import glyphcache

    glyphcache.use_folder(None)
    SVGMobject.init_svg_mobject = glyphcache.MANIM_INIT_SVG  # type: ignore[method-assign]


# --- holds -----------------------------------------------------------------------------------------


def install_fast_holds(scene: Any, *, gop_seconds: float = 1.0) -> None:
    """Make this scene's static waits cost ~``gop_seconds`` of encoding each.

    Call it from ``Scene.setup()`` (or ``__init__`` after ``super().__init__()``), before the first
    ``play``/``wait``. ``Scene.__init__`` has already created the renderer's file writer via
    ``renderer.init_scene``, so this replaces that writer and the scene's resolved encoder spec (whose
    fingerprint is part of Manim's cache hashes). Idempotent; a no-op for non-H.264 output
    (transparent ``.mov``, ``.webm``, images) and when nothing is written.
    """
    from dataclasses import replace

    from manim import logger

    from ncfvid.video.holds import FastHoldSceneFileWriter, fast_hold_encoder_spec

    renderer: Any = scene.renderer
    old = renderer.file_writer
    if isinstance(old, FastHoldSceneFileWriter):
        return
    if renderer.num_plays or old.partial_movie_files or old._current_encode_job is not None:
        raise RuntimeError("install_fast_holds() must be called before the first play()/wait().")
    spec = fast_hold_encoder_spec(scene.session_spec.video_encoder)
    if spec is None:
        logger.debug("Fast holds not installed: output is not libx264 video.")
        return
    scene.session_spec = replace(scene.session_spec, video_encoder=spec)
    scene.file_writer_settings = replace(scene.file_writer_settings, video_encoder=spec)
    new = FastHoldSceneFileWriter(scene.file_writer_settings, gop_seconds=gop_seconds)
    # Keep whatever setup() already recorded on the stock writer.
    new.sections = old.sections
    new.subcaptions = old.subcaptions
    new.includes_sound = old.includes_sound
    if hasattr(old, "audio_segment"):
        new.audio_segment = old.audio_segment
    renderer.file_writer = new
    # A renderer that rebuilds its writer (init_scene again) keeps fast holds, with default GOP length.
    renderer._file_writer_class = FastHoldSceneFileWriter


# --- skipped beats ---------------------------------------------------------------------------------


def draw_no_skipped_frames(renderer: Any) -> None:
    """Let the renderer leave the pixels alone while it skips animations (the earlier beats of a span).

    Manim's Cairo renderer draws the static background and a last frame of every play even when it
    skips the play, and throws both away. Every play starts its pixels from scratch (the static
    image is reset, then the camera), so frames drawn later are the same without them; the mobjects
    still play (begin, interpolate to the end, finish), so the stage is the same too.
    """
    draw = renderer.update_frame

    def update_frame(scene: Any, *args: Any, **kwargs: Any) -> None:
        if not renderer.skip_animations:
            draw(scene, *args, **kwargs)

    renderer.update_frame = update_frame


# --- the check's fast play ---------------------------------------------------------------------


def install_fast_play(scene_class: type) -> None:
    """`scene_class.play` settles each animation at its end instead of playing it (ncfvid check)."""
    _checked()
    from ncfvid.scenelib.fastplay import fast_play

    scene_class.play = fast_play  # type: ignore[attr-defined]


# --- animations drawn before --------------------------------------------------------------------


def install_segment_reuse(scene: Any, folder: Path, keys: dict[int, str]) -> Any:
    """Reuse kept animation segments in `scene` (see `ncfvid.scenelib.segments.SegmentReuse`)."""
    _checked()
    from ncfvid.scenelib.segments import install_segment_reuse as install

    return install(scene, folder, keys)
