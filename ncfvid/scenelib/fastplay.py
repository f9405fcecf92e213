"""Fast play for `ncfvid check` and `ncfvid preview`: instead of interpolating animations frame by frame,
each animation is settled at its end state (a FadeIn adds its mobject, a FadeOut removes it, a
Transform makes its mobject the target...; animations it does not know run Manim's own begin/finish).
Installed on StoryScene by `ncfvid.scenelib.patches`; a test compares the screen at the end of every
beat with Manim's own skipping.
"""

from __future__ import annotations

from typing import Any


def settle(scene: Any, animation: Any) -> None:
    """Put `scene` in the state `animation` leaves it in, without interpolating it."""
    from manim import AnimationGroup, Circumscribe, Flash, FocusOn, Indicate, Wait, Wiggle

    if isinstance(animation, Circumscribe | Flash | FocusOn | Indicate | Wiggle):
        return  # a passing mark or a there-and-back: ends where it started
    if isinstance(animation, AnimationGroup):
        for part in animation.animations:
            settle(scene, part)
        return
    if isinstance(animation, Wait):
        return
    mob = animation.mobject
    if animation.is_remover():
        scene.remove(mob)
        return
    if animation.is_introducer():
        scene.add(mob)
    if not _settled_by_kind(scene, animation, mob):
        # Anything else: Manim's own start and end (copies the mobject, but is exact).
        animation._setup_scene(scene)
        animation.begin()
        animation.finish()
        animation.clean_up_from_scene(scene)


def _settled_by_kind(scene: Any, animation: Any, mob: Any) -> bool:
    """Settle the animations whose end state is known without playing them; False for the others."""
    from manim import (
        Create,
        DrawBorderThenFill,
        FadeIn,
        GrowFromPoint,
        ReplacementTransform,
        ShowPartial,
        Transform,
        TransformFromCopy,
        UpdateFromAlphaFunc,
        UpdateFromFunc,
        Write,
    )

    ends_at_one = abs(animation.rate_func(1.0) - 1.0) < 1e-9
    if isinstance(
        animation, FadeIn | GrowFromPoint | Create | Write | DrawBorderThenFill | ShowPartial | TransformFromCopy
    ):
        if ends_at_one:
            return True  # ends at the mobject as it is
    if type(animation) in (Transform, ReplacementTransform) and ends_at_one:
        target = animation.target_mobject
        if animation.replace_mobject_with_target_in_scene:
            scene.replace(mob, target)
        else:
            mob.become(target)
        return True
    if isinstance(animation, UpdateFromAlphaFunc):
        animation.update_function(mob, animation.rate_func(1.0))
        return True
    if isinstance(animation, UpdateFromFunc):
        animation.update_function(mob)
        return True
    return False


def fast_play(scene: Any, *args: Any, **kwargs: Any) -> None:
    """`Scene.play` for a check: advance the clock by the animations' run time and settle them."""
    for key in ("subcaption", "subcaption_duration", "subcaption_offset"):
        kwargs.pop(key, None)
    animations = scene.compile_animations(*args, **kwargs)
    scene.add_mobjects_from_animations(animations)
    run_time = scene.get_run_time(animations)
    from ncfvid.scenelib.motion import play_sampled

    play_sampled(scene, animations, settle)
    scene.update_mobjects(dt=run_time)
    scene.renderer.time += run_time
