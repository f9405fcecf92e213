"""The render plan: every beat clip of the chosen acts under its cache key, and the Manim jobs that
draw the missing ones, split over the cores.

A beat's key is everything that can change its pixels or sound: the module's shared head, the act's
code up to and including that beat (a beat's picture depends on the stage the earlier beats set), the
render settings, the recordings it may play and the library the scenes run (`ncfvid.cachekeys`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ncfvid.cacheguard import verified
from ncfvid.cachekeys import (
    act_neutral,
    code_only,
    file_hash,
    head_picture,
    library_hash,
    picture_only,
    shared_head,
    split_beats,
    split_module,
)
from ncfvid.records import CLIP_FILES, LayoutRecord, RecordFormatError

LAYOUT_FILE = "layout.json"  # and, beside them, its layout record for the check (see BeatClip.layout)
DRAWN_FILE = "drawn.json"  # and how long drawing it took (to weigh the beat when planning jobs)
# Beside the acts' folders: state key (a beat's own code + the stage it starts from) -> `<act>/<clip
# folder>`, for every act of every storyboard that renders into the cache (not an act id: one starts
# with a letter).
STATES_FOLDER = ".states"


@dataclass(frozen=True)
class BeatClip:
    """One beat's entry in the cache: its picture, captions and sound, under its key."""

    act_id: str
    index: int  # the beat's place in its act, from 0
    key: str
    folder: Path
    own: str = ""  # the key of the beat's own code alone (with the stage it starts from: its state)
    picture: str = ""  # the key of what the beat shows, without what is said over it (scenelib.segments)

    @property
    def cached(self) -> bool:
        return all((self.folder / name).is_file() for name in CLIP_FILES)

    def layout(self) -> LayoutRecord | None:
        """What was on screen at the end of the beat (the layout probe's record, taken while the
        beat was drawn), if the clip has a record of the current format."""
        try:
            return LayoutRecord.from_json(json.loads((self.folder / LAYOUT_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, RecordFormatError):
            return None


@dataclass(frozen=True)
class ActJob:
    """One Manim run: draws `clips` (consecutive beats of one act); the act's earlier beats run skipped."""

    act_id: str
    scene: str
    clips: tuple[BeatClip, ...]
    act_beats: int  # how many beats the act has
    weight: float  # a guess at the work in seconds (see `_job_cost`), to start the biggest jobs first
    log_name: str = ""

    @property
    def cache(self) -> Path:
        """The cache folder it draws into (its clips are `<cache>/beats/<act>/<clip>`): the home of
        the speech, parsed texts and drawn animations it shares with other acts and storyboards."""
        return self.clips[0].folder.parents[2]

    @property
    def whole(self) -> bool:
        return len(self.clips) == self.act_beats

    @property
    def first(self) -> int:
        return self.clips[0].index

    @property
    def stop(self) -> int:
        return self.clips[-1].index + 1


@dataclass(frozen=True)
class RenderPlan:
    """Every beat clip of the chosen acts in video order, and the jobs that draw the missing ones."""

    clips: list[BeatClip]
    jobs: list[ActJob]

    def act_clips(self, act_id: str) -> list[BeatClip]:
        return [clip for clip in self.clips if clip.act_id == act_id]


# x264 preset for beat clips. Manim's default ("medium") spends most of a -q h render waiting for the
# encoder; on these flat-coloured pictures "veryfast" keeps the quality (same crf) for a somewhat
# larger file. Measured in bench/results.md.
X264_PRESET = "veryfast"
# At -q l, the draft of the edit loop, "ultrafast" encodes a clip in ~40 % of veryfast's CPU (the
# whole NCF video: 1.9 s against 4.4 s on one core) for files ~4x larger and no worse a picture
# (SSIM to the drawn frames 0.9997, veryfast 0.9982); bench/results.md.
X264_PRESETS = {"l": "ultrafast"}


def x264_preset(quality: str) -> str:
    """The x264 preset of beat clips at `quality`."""
    return X264_PRESETS.get(quality, X264_PRESET)


@dataclass(frozen=True)
class RenderSettings:
    quality: str = "l"
    voice_overrides: tuple[tuple[str, object], ...] = ()
    burn_captions: bool = False
    fast_holds: bool = True
    jobs: int = 1

    @property
    def preset(self) -> str:
        """x264's preset for the beat clips: it follows the quality (see X264_PRESETS)."""
        return x264_preset(self.quality)


def beat_key(head: str, act_prefix: str, settings: RenderSettings, recordings: Sequence[str], lib: str) -> str:
    """Everything that can change a beat's pixels or sound: `act_prefix` is the act's code up to and
    including the beat, `recordings` the audio files of the act's beats up to it."""
    payload = {
        "head": head,
        "act": act_prefix,
        "quality": settings.quality,
        "voice": list(settings.voice_overrides),
        "burn": settings.burn_captions,
        "holds": settings.fast_holds,
        "preset": settings.preset,
        "recordings": [file_hash(path) for path in recordings],
        "library": lib,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def plan(
    module: str,
    acts: Sequence[tuple[str, str, Sequence[str]]],
    recordings: dict[str, dict[str, str]],
    settings: RenderSettings,
    cache_root: Path,
) -> RenderPlan:
    """The beat clips of `acts` ((act id, scene class, beat ids) in order) and the jobs for the missing
    ones: one per run of consecutive missing beats, runs split further while there are fewer jobs
    than `settings.jobs` (so that an edit in one long act still uses every core)."""
    head, sources = split_module(module)
    head = shared_head(head)
    lib = library_hash()
    unspoken = replace(settings, voice_overrides=())  # pictures do not depend on the voice
    clips: list[BeatClip] = []
    jobs: list[ActJob] = []
    weight: dict[BeatClip, float] = {}  # a beat's work
    for act_id, scene, beat_ids in acts:
        # without the blank lines after it (the last act has none): its last beat's key is its own
        shares = split_beats(sources[scene].rstrip() + "\n", len(beat_ids))
        # shares start at line starts: same as on the whole; the first (or, with a template that does
        # not mark beats, each) opens with the class
        codes = [act_neutral(code_only(share)) for share in shares]
        act_recordings = recordings.get(act_id, {})
        run: list[BeatClip] = []
        for index in range(len(beat_ids)):
            played = [act_recordings[b] for b in beat_ids[: index + 1] if b in act_recordings]
            key = beat_key(head, "".join(codes[: index + 1]), settings, played, lib)
            mine = [act_recordings[beat_ids[index]]] if beat_ids[index] in act_recordings else []
            own = beat_key(head, codes[index], settings, mine, lib)
            picture = beat_key(head_picture(head), picture_only(codes[index]), unspoken, [], lib)
            clip = BeatClip(act_id, index, key, cache_root / act_id / f"{index:02d}-{key}", own, picture)
            clips.append(clip)
            weight[clip] = first_draw_guess(shares[index])  # refined by _weigh_by_last_draw
            if not verified(clip.folder):  # absent, or damaged and now removed
                run.append(clip)
            if run and (clip.cached or index == len(beat_ids) - 1):
                jobs.append(ActJob(act_id, scene, tuple(run), len(beat_ids), sum(weight[c] for c in run)))
                run = []
    if jobs:
        _weigh_by_last_draw(weight, {job.act_id for job in jobs})
    jobs = _split_for_cores(jobs, settings.jobs, weight, SKIP_COST.get(settings.quality, 0.3))
    named = []
    for job in jobs:  # one log per job; an act drawn by one job keeps the plain <act>.log
        alone = sum(1 for other in jobs if other.act_id == job.act_id) == 1
        name = f"{job.act_id}.log" if alone else f"{job.act_id}.beats-{job.first}-{job.stop - 1}.log"
        named.append(replace(job, log_name=name))
    named.sort(key=lambda job: -job.weight)  # the biggest first: the cores finish closer together
    return RenderPlan(clips, named)


_COMPONENT = re.compile(r"^\s*# Beat '[^']*' \(.*\): (\w+)\s*$", re.M)  # the act template's beat comment


def first_draw_guess(share: str) -> float:
    """A beat's weight before it was ever drawn: its component's measured cost (`draw_seconds` of its
    registry entry). The length of a beat's code says little: most of it is narration, and the
    training chart is 600 characters and the costliest beat of the NCF video."""
    from ncfvid.components import UNMEASURED_SECONDS, registry

    named = _COMPONENT.search(share)
    entry = registry().get(named.group(1)) if named else None
    return entry.draw_seconds if entry is not None else UNMEASURED_SECONDS


def _weigh_by_last_draw(weight: dict[BeatClip, float], acts: set[str]) -> None:
    """Weigh the beats of `acts` by how long drawing them took last time (any cached version of the
    same beat, the newest; an edit seldom changes that much), in place of the guess by component.
    A beat never drawn keeps its guess, scaled by how the act's measured beats compare with theirs."""
    for act_id in acts:
        beats = {clip: w for clip, w in weight.items() if clip.act_id == act_id}
        measured: dict[BeatClip, float] = {}
        for clip in beats:
            versions = sorted(clip.folder.parent.glob(f"{clip.index:02d}-*/{DRAWN_FILE}"), key=_mtime)
            for record in reversed(versions):
                try:
                    measured[clip] = float(json.loads(record.read_text(encoding="utf-8"))["seconds"])
                    break
                except (OSError, ValueError, KeyError, TypeError):
                    continue
        if not measured:
            continue
        scale = sum(measured.values()) / max(1e-6, sum(beats[clip] for clip in measured))
        for clip, guess in beats.items():
            weight[clip] = measured.get(clip, guess * scale)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# What running a beat with animations skipped costs, against drawing it (mobjects are still built,
# copied and interpolated; no pixel is drawn, parsed texts come from the glyph cache): measured on
# the NCF architecture act, all 8 beats skipped 1.1 s against 9 s drawn at -q l, and ~55 s drawn at
# -q h (bench/results.md). Other qualities lie between.
SKIP_COST = {"l": 0.12, "m": 0.05, "h": 0.02, "p": 0.02, "k": 0.01}


def _job_cost(clips: Sequence[BeatClip], weight: dict[BeatClip, float], skip: float) -> float:
    """A job's work: drawing its beats, and first running the act's earlier beats skipped."""
    earlier = sum(w for c, w in weight.items() if c.act_id == clips[0].act_id and c.index < clips[0].index)
    return sum(weight[c] for c in clips) + skip * earlier


def _split_for_cores(jobs: list[ActJob], cores: int, weight: dict[BeatClip, float], skip: float) -> list[ActJob]:
    """Split the costliest multi-beat job in two until there is a job per core, where the two halves
    cost the most alike (the second half also runs the first one's beats skipped)."""
    jobs = [replace(job, weight=_job_cost(job.clips, weight, skip)) for job in jobs]
    while len(jobs) < cores:
        splittable = [job for job in jobs if len(job.clips) > 1]
        if not splittable:
            break
        job = max(splittable, key=lambda j: j.weight)
        cut = min(
            range(1, len(job.clips)),
            key=lambda k: max(_job_cost(job.clips[:k], weight, skip), _job_cost(job.clips[k:], weight, skip)),
        )
        jobs.remove(job)
        for part in (job.clips[:cut], job.clips[cut:]):
            jobs.append(replace(job, clips=part, weight=_job_cost(part, weight, skip)))
    return jobs
