"""StoryScene: the base of every generated act.

A manim-voiceover `VoiceoverScene` that also
- sets the theme's background and the speech service chosen in the storyboard (or on the command line),
- keeps named mobjects on a stage so one beat can build on what the previous beat drew,
- records one caption cue per beat (start, end of speech, text) and writes them beside the video,
- pads each beat with the storyboard's pause, or to its explicit length,
- under `ncfvid render`, draws only a span of its beats (`SceneJob.beats`), each beat a Manim section of
  its own (the earlier beats run with animations skipped, to set the stage), and keeps each beat's
  sounds out of Manim: every drawn beat's captions and sound mix (`ncfvid.video.soundtrack`) are
  written beside the clips, timed from the beat's first frame, so each beat can be cached and joined
  on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from manim import (
    DOWN,
    UP,
    FadeIn,
    FadeOut,
    Mobject,
    Text,
    VGroup,
    config,
)
from manim.utils.exceptions import EndSceneEarlyException
from manim_voiceover import VoiceoverScene
from manim_voiceover.tracker import VoiceoverTracker

from ncfvid.files import write_atomic
from ncfvid.records import Cue, DrawnBeat, drawn_beats_to_json
from ncfvid.scenejob import SceneJob
from ncfvid.scenelib import patches
from ncfvid.scenelib.layout import SafeArea, fit, heading, label, use_aspect, use_decimal, use_font, use_words
from ncfvid.scenelib.mobjects import RatingsGrid
from ncfvid.scenelib.motion import MotionSampler
from ncfvid.scenelib.pieces import PiecesMixin
from ncfvid.storydata import StoryData, Theme
from ncfvid.video.soundtrack import Sound, mix, write_wav

BADGE_ROOM = 1.6  # right of the table for the twins' badges (taste_twins.py.j2: right_margin=1.6)
TABLE_HIGHLIGHT_ROOM = 0.08  # a row or column box (buff 0.04, stroke 4) reaches this far past the table


class StoryScene(PiecesMixin, VoiceoverScene):
    """Base class of generated act scenes; subclasses set `theme`, `data`, `voice` and `safe_margin` (and
    `decimals`, `decimal_mark`, `font` and `words` where the storyboard or its translation sets them)."""

    theme: Theme = Theme()
    data: StoryData
    voice: dict[str, Any] = {}
    recordings: dict[str, str] = {}
    safe_margin: float = 0.05
    decimals: int | None = None  # the storyboard's `video.decimals`
    decimal_mark: str = "."
    font: str = "DejaVu Sans"  # the storyboard's video.font
    words: dict[str, str] = {}  # the library's own words on screen, translated (see layout.word)

    aspect: str = "16:9"  # the storyboard's video.aspect

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        use_aspect(self.aspect)  # before Manim builds the camera and the file writer from the config
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.camera.background_color = self.theme.background
        use_font(self.font)
        use_decimal(self.decimal_mark)
        use_words(self.words)
        self.area = SafeArea(self.safe_margin)
        self.stage: dict[str, Mobject] = {}
        self.job = job = SceneJob.from_env()
        settings = {**self.voice, **job.voice}
        self.pause = float(settings.get("pause", 0.4))
        self.burn_captions = job.burn_captions
        self.set_speech_service(_make_speech_service(settings, self.recordings, job), create_subcaption=False)
        patches.install(self, job)
        # Beats drawn: all (plain Manim), or the span [first, stop) that `ncfvid render` asks for.
        self.beat_span: tuple[int, int] | None = job.beats
        self.beat_index = -1  # the beat being played (-1: before the first)
        self.beat_origin = 0.0  # scene time of the current beat's first frame
        self.beat_parts: list[dict[str, Any]] = []  # each drawn beat: captions and sounds
        # Beats drawn before from the same stage with the same code are served, not drawn (see render).
        self.state_dir = Path(job.states_dir) if job.states_dir else None
        self.state_keys: dict[int, str] = job.state_keys
        self.segments = None  # animations drawn before with the same picture are reused (scenelib.segments)
        if self.beat_span is not None and job.segments_dir:
            self.segments = patches.install_segment_reuse(self, Path(job.segments_dir), job.picture_keys)
        if self.beat_span is not None:
            self._begin_beat_part(0)  # whatever plays before the first beat belongs to it
        self.inspector = None  # `ncfvid check`: records the screen at the end of every beat
        if job.inspect:
            from ncfvid.scenelib.probe import BeatInspector

            self.inspector = BeatInspector(self, Path(job.inspect), stills=job.stills)
        self.motion = MotionSampler(self) if self.inspector is not None else None

    def begin_animations(self) -> None:
        super().begin_animations()
        if self.motion is not None and not self.renderer.skip_animations:  # a beat being drawn
            self.motion.sample(self.animations or [], float(self.renderer.time))

    # --- narration -----------------------------------------------------------------------------

    @contextmanager
    def voiceover(  # type: ignore[override]
        self,
        text: str,
        subcaption: str | None = None,
        beat: str | None = None,
        seconds: float | None = None,
        **kwargs: Any,
    ) -> Iterator[VoiceoverTracker]:
        """Speak `text` while the block's animations play; caption it with `subcaption` (or `text`).

        The beat lasts until the speech ends (manim-voiceover waits for it), then the storyboard's
        pause; with `seconds` it lasts at least that long.
        """
        self.beat_index += 1
        if self.beat_span is not None:
            if self.beat_index >= self.beat_span[1]:
                raise EndSceneEarlyException()  # the span is drawn; Manim ends the scene normally
            if self.beat_index > 0:
                self._begin_beat_part(self.beat_index)
        start = self.renderer.time
        if beat is not None:
            kwargs["beat_id"] = beat
        caption = subcaption if subcaption is not None else text
        with super().voiceover(text=text, **kwargs) as tracker:
            overlay = self._caption_overlay(caption, tracker) if self.burn_captions else None
            yield tracker
        part = self._drawn_part()
        if part is not None:
            spoken = round(tracker.start_t - self.beat_origin, 4), round(tracker.end_t - self.beat_origin, 4)
            # the engine's word times, where it has them: captions follow the words' sound
            words = tuple((round(a, 4), round(b, 4), w) for a, b, w in _word_sounds(tracker, self.beat_origin))
            part["cues"].append(Cue(beat, *spoken, caption, words))
        elapsed = self.renderer.time - start
        self.safe_wait(max(self.pause, (seconds or 0.0) - elapsed))
        if self.inspector is not None:
            self.inspector.after_beat(beat, caption)
        if overlay is not None:
            self.remove(overlay)

    def add_sound(self, sound_file: str, time_offset: float = 0, gain: float | None = None, **kwargs: Any) -> None:
        """Play a sound from now (+ `time_offset`); under `ncfvid render` it goes to the beat's own mix."""
        if self.beat_span is None:
            super().add_sound(sound_file, time_offset, gain, **kwargs)
            return
        part = self._drawn_part()
        if part is not None:  # as Manim: no sound in beats whose animations are skipped
            part["sounds"].append(Sound(str(sound_file), self.renderer.time + time_offset - self.beat_origin, gain))

    def _begin_beat_part(self, index: int) -> None:
        """Start beat `index` in a Manim section of its own, drawn or skipped as the span says."""
        assert self.beat_span is not None
        first, stop = self.beat_span
        drawn = first <= index < stop
        state, served = self._drawn_before(index) if drawn else (None, None)
        self.next_section(f"beat-{index}", skip_animations=not drawn or served is not None)
        self.beat_origin = self.renderer.time
        if drawn:
            part = {"index": index, "cues": [], "sounds": [], "started": time.perf_counter(), "state": state}
            self.beat_parts.append({**part, "served": served} if served else part)

    def _drawn_before(self, index: int) -> tuple[str | None, str | None]:
        """(this beat's state key, the cached clip folder drawn from the same state, if any).

        The state key is the beat's own code (its key from the renderer) and the stage it starts
        from (`stage_fingerprint`); a clip drawn from the same state key has the same frames, sound
        and captions, whatever came before (an edited narration line before it changes how long
        that beat lasts, not what it leaves on the stage)."""
        own = self.state_keys.get(index)
        if own is None or self.state_dir is None:
            return None, None
        from ncfvid.scenelib.fingerprint import stage_fingerprint

        state = hashlib.sha256(f"{own}:{stage_fingerprint(self)}".encode()).hexdigest()[:24]
        try:
            folder = (self.state_dir / state).read_text(encoding="utf-8").strip()
        except OSError:
            return state, None
        clip = self.state_dir.parent / folder
        return state, (str(clip) if _drawn_from(clip, state) else None)

    def _drawn_part(self) -> dict[str, Any] | None:
        """The current beat's record if this beat is drawn."""
        if self.beat_parts and self.beat_parts[-1]["index"] == max(self.beat_index, 0):
            return self.beat_parts[-1]
        return None

    def wait_until_bookmark(self, mark: str) -> None:
        """Wait until the bookmarked word is spoken; for audio without word timings (a recording),
        estimate the moment from the word's position in the text."""
        tracker = self.current_tracker
        if tracker is not None and not hasattr(tracker, "bookmark_times"):
            text = tracker.data["input_text"]
            at = text.find(f'<bookmark mark="{mark}"/>')
            plain = len(re.sub(r"<bookmark[^>]*/>", "", text)) or 1
            fraction = max(at, 0) / plain
            self.safe_wait(tracker.start_t + fraction * tracker.duration - self.renderer.time)
            return
        super().wait_until_bookmark(mark)

    def _caption_overlay(self, caption: str, tracker: VoiceoverTracker) -> Mobject:
        """Burned-in captions: the beat's cues as in the SRT (same split, lines and times), shown in a
        band below the picture so that they never cover the content.

        The band: on the first call (before the first frame) the camera's frame grows downwards by
        `band` units, and sideways in proportion so the aspect ratio stays; what the scene lays out in
        its safe area keeps its place and is drawn 8/(8 + band) as large.
        """
        import numpy as np

        from ncfvid.subtitles import split_caption

        band = 1.0
        camera = self.camera
        if not getattr(self, "_caption_band", False):
            camera.frame_height = config.frame_height + band
            camera.frame_width = config.frame_width * camera.frame_height / config.frame_height
            camera.frame_center = np.array([0.0, -band / 2, 0.0])
            camera.pixel_array_to_cairo_context = {}  # cached cairo transforms of the old frame
            self._caption_band = True
        room_bottom = -config.frame_height / 2 - band + 0.12
        room_top = self.area.bottom - 0.08  # content stays above the safe area's bottom
        max_width = camera.frame_width * (1 - 2 * self.safe_margin)
        cues = split_caption(caption, tracker.start_t, tracker.end_t, word_sounds=_word_sounds(tracker, 0.0))
        texts = [label(cue.text, size=24, color=self.theme.text, max_width=max_width) for cue in cues]
        for text in texts:
            if text.height > room_top - room_bottom:
                text.scale((room_top - room_bottom) / text.height)
            text.move_to([0, (room_top + room_bottom) / 2, 0]).set_z_index(100).set_opacity(0)
        # Every cue stays a part of the holder (the current one opaque, the others transparent): an
        # animation that takes the holder along (a template fading out all of self.mobjects) copies and
        # interpolates its family, which must not change shape from frame to frame.
        holder = VGroup(*texts)
        shown: list[int | None] = [None]

        def show_current(mob: Mobject, dt: float) -> None:  # time-based: no wait is a frozen frame
            now = self.renderer.time + 0.5 / config.frame_rate  # the middle of the frame being drawn
            current = next((i for i, cue in enumerate(cues) if cue.start <= now < cue.end), None)
            if current != shown[0]:
                for i, text in enumerate(texts):
                    text.set_opacity(1 if i == current else 0)
                shown[0] = current

        holder.add_updater(show_current)
        self.add(holder)
        return holder

    def tear_down(self) -> None:
        super().tear_down()
        folder = self.job.parts_dir
        if self.beat_span is None or not folder:
            return
        # <Scene>.beats.json lists the drawn beats; each has <Scene>.beat-<index>.wav beside it.
        name = type(self).__name__
        Path(folder).mkdir(parents=True, exist_ok=True)
        listing = []
        ends = [part["started"] for part in self.beat_parts[1:]] + [time.perf_counter()]
        for part, end in zip(self.beat_parts, ends, strict=False):  # no part drawn: no end either
            if part.get("served"):  # its clip folder holds its sound and captions already
                listing.append(DrawnBeat(part["index"], served=part["served"]))
                continue
            sound = f"{name}.beat-{part['index']}.wav"
            write_wav(Path(folder) / sound, mix(part["sounds"]))
            seconds = round(end - part["started"], 3)  # what drawing it took: weighs it in later plans
            listing.append(DrawnBeat(part["index"], tuple(part["cues"]), sound, seconds, part["state"]))
        write_atomic(Path(folder) / f"{name}.beats.json", json.dumps(drawn_beats_to_json(listing), indent=1))
        if self.segments is not None:
            self.segments.write(Path(folder), name)

    # --- stage: named mobjects that live across beats -----------------------------------------

    def keep(self, name: str, mob: Mobject) -> Mobject:
        """Remember `mob` under `name` so a later beat can build on it."""
        self.stage[name] = mob
        return mob

    def adopt(self, group: Mobject) -> Mobject:
        """Make `group` the one owner on screen of its parts (so moving the group moves them all)."""
        members = set(map(id, group.get_family()))
        self.mobjects = [mob for mob in self.mobjects if id(mob) not in members]
        self.add(group)
        return group

    def kept(self, name: str) -> Mobject | None:
        """The mobject kept under `name`, if it is still on screen."""
        mob = self.stage.get(name)
        return mob if mob is not None and mob in self.mobjects else None

    def clear_stage(self, *keep: str, run_time: float = 0.6) -> None:
        """Fade out everything on screen except the named stage entries."""
        kept = {id(self.stage[name]) for name in keep if name in self.stage}
        leaving = [mob for mob in self.mobjects if id(mob) not in kept and not mob.updaters]
        if leaving:
            self.play(*[FadeOut(mob) for mob in leaving], run_time=run_time)
        self.stage = {name: mob for name, mob in self.stage.items() if id(mob) in kept}

    # --- pieces several components share -------------------------------------------------------

    def caption_text(self, text: str | None) -> Text | None:
        """A caption line at the top of the safe area."""
        if not text:
            return None
        caption = label(text, size=34, color=self.theme.text, max_width=self.area.width)
        caption.move_to([0, self.area.top - caption.height / 2, 0])
        return caption

    def ratings_grid(self) -> RatingsGrid:
        """A new ratings table built from the storyboard's data."""
        d = self.data
        return RatingsGrid(
            d.corner,
            d.users,
            d.items,
            d.ratings,
            text_color=self.theme.text,
            line_color=self.theme.muted,
            user_color=self.theme.user,
            item_color=self.theme.item,
            accent=self.theme.accent,
            places=self.decimals,
            decimal=self.decimal_mark,
            # A narrow frame keeps the room of the twins' badges from the start (no shrinking later).
            max_width=self.area.width - 2 * TABLE_HIGHLIGHT_ROOM - (BADGE_ROOM if self.area.narrow else 0.0),
        )

    def show_table(self, caption: str | None, right_margin: float = 0.0) -> RatingsGrid:
        """The ratings table under an optional caption: reused when on screen, else drawn anew."""
        if self.area.narrow:  # the twins' badges have their room from the start: the table never shrinks
            right_margin = BADGE_ROOM
        grid = self.kept("table")
        old_caption = self.kept("table_caption")
        new_caption = self.caption_text(caption)
        if grid is None:
            self.clear_stage()
            grid = self.ratings_grid()
            self._place_table(grid, new_caption, right_margin)
            self.play(FadeIn(grid, shift=UP * 0.2), *([FadeIn(new_caption)] if new_caption else []))
        else:
            animations = []
            if old_caption is not None:
                animations.append(FadeOut(old_caption))
            if new_caption is not None:
                animations.append(FadeIn(new_caption, shift=DOWN * 0.1))
            if grid.get_right()[0] > self.area.right - right_margin + 1e-6:
                # Make room at the right (for badges): shrink the table into the narrower space.
                self.clear_marks()
                target = grid.copy()
                self._place_table(target, new_caption or old_caption, right_margin)
                animations.append(grid.animate.scale(target.width / grid.width).move_to(target))
            if animations:
                self.play(*animations, run_time=0.6)
        self.keep("table", grid)
        if new_caption is not None:
            self.keep("table_caption", new_caption)
        return grid  # type: ignore[return-value]

    def _place_table(self, grid: Mobject, caption: Mobject | None, right_margin: float) -> None:
        top = (caption.get_bottom()[1] - 0.45) if caption is not None else self.area.top
        height = top - self.area.bottom
        width = self.area.width - right_margin - 2 * TABLE_HIGHLIGHT_ROOM
        fit(grid, width, height)
        grid.move_to([-right_margin / 2, (top + self.area.bottom) / 2, 0])

    def mark(self, mob: Mobject) -> Mobject:
        """Add `mob` to the current beat's highlights (boxes, badges), cleared by `clear_marks`."""
        self.stage.setdefault("marks", VGroup()).add(mob)
        return mob

    def clear_marks(self) -> None:
        """Fade out the highlights earlier beats left on the table."""
        marks = self.stage.pop("marks", None)
        if marks is not None and len(marks) > 0:
            self.play(FadeOut(marks), run_time=0.5)

    def show_heading(self, text: str | None) -> Text | None:
        """A heading at the top: kept if the same text is already shown, otherwise the screen is cleared."""
        current = self.kept("heading")
        if current is not None and getattr(current, "original_text", None) == text:
            self.clear_stage("heading")
            return current  # type: ignore[return-value]
        self.clear_stage()
        if not text:
            return None
        title = heading(text, self.theme.accent, self.area)
        self.play(FadeIn(title, shift=DOWN * 0.2))
        self.keep("heading", title)
        return title

    def nudge(self, mob: Mobject, shift: tuple[float, float] = (0.0, 0.0), scale: float = 1.0) -> Mobject:
        """Apply an author's hand correction from the storyboard."""
        if scale != 1.0:
            mob.scale(scale)
        if shift != (0.0, 0.0):
            mob.shift([shift[0], shift[1], 0])
        for part in mob.get_family():
            part.ncfvid_nudge = (shift, scale)  # lets `ncfvid check` point at the nudge
        return mob


def _word_sounds(tracker: VoiceoverTracker, origin: float) -> list[tuple[float, float, str]]:
    """(start, end, word) of each spoken word's sound in scene time less `origin`; empty when the
    engine gave no word times (a recording, the draft voice)."""
    from ncfvid.speech import word_sounds

    shift = tracker.start_t - origin
    return [(shift + a, shift + b, w) for a, b, w in word_sounds(tracker.data)]


def _drawn_from(clip: Path, state: str) -> bool:
    """Whether the cached clip folder `clip` is whole and was drawn from `state` (a states entry
    naming another beat's clip, or a damaged clip, is not served: the beat is drawn)."""
    from ncfvid.cacheguard import Damaged, check_clip

    try:
        check_clip(clip)
        return json.loads((clip / "drawn.json").read_text(encoding="utf-8")).get("state") == state
    except (Damaged, OSError, ValueError, AttributeError):
        return False


def _make_speech_service(settings: dict[str, Any], recordings: dict[str, str], job: SceneJob) -> Any:
    from ncfvid.speech.registry import DEFAULT_ENGINE, make_service

    cache_dir = Path(job.audio_cache) if job.audio_cache else Path(config.media_dir) / "voiceovers"
    store = Path(job.speech) if job.speech else None
    options = {k: v for k, v in settings.items() if k in ("voice", "rate")}
    options.update(settings.get("options", {}))
    engine = settings.get("engine") or DEFAULT_ENGINE
    return make_service(engine, cache_dir=cache_dir, options=options, recordings=recordings, store=store)
