"""The last step of `ncfvid render`: join the beat clips into the video with its chapters, subtitle
tracks and music, then write the captions, the chapter list, the stills, the poster, the review page
and any other format asked for.

Everything is skipped when the video on disk was published from exactly the same clips and settings
(a manifest beside it records the key), so an unchanged re-render writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ncfvid.files import interrupts_deferred, temp_beside, write_atomic
from ncfvid.pipeline import Loaded
from ncfvid.publish.names import REVIEW_DATA, data_name, iso639_1, iso639_2, page_names
from ncfvid.renderplan import BeatClip
from ncfvid.subtitles import Cue, join_act_cues, split_caption, write_subtitles

__all__ = ["BeatEntry", "Published", "iso639_1", "iso639_2", "publish", "read_published", "review_data"]


@dataclass(frozen=True)
class BeatEntry:
    """A beat as the review page and the handout show it."""

    act: str
    act_title: str
    beat: str
    start: float
    end: float
    narration: str
    still: str  # relative to the output folder


@dataclass(frozen=True)
class Published:
    video: Path
    length: float
    beats: list[BeatEntry]
    chapters: list[tuple[float, float, str]]
    version: str  # changes whenever the video does
    title: str
    language: str  # ISO 639-2 code of its captions
    page: str = "index.html"  # its review page (see names.page_names)


def _clip_cues(clip: BeatClip) -> tuple[list[Cue], str]:
    raw = json.loads((clip.folder / "cues.json").read_text(encoding="utf-8"))
    cues = [cue for c in raw for cue in split_caption(c["text"], c["start"], c["end"], word_sounds=c.get("words"))]
    return cues, " ".join(str(c["text"]) for c in raw)


def _act_spans(clips: Sequence[BeatClip], starts: Sequence[float], length: float) -> list[tuple[str, float, float]]:
    """(act id, start, end) of each act in the joined video."""
    spans: list[tuple[str, float, float]] = []
    ends = [*starts[1:], length]
    for clip, start, end in zip(clips, starts, ends, strict=True):
        if spans and spans[-1][0] == clip.act_id:
            spans[-1] = (clip.act_id, spans[-1][1], end)
        else:
            spans.append((clip.act_id, start, end))
    return spans


def publish(
    loaded: Loaded,
    clips: Sequence[BeatClip],
    video: Path,
    *,
    language: str | None = None,
    formats: Sequence[str] = ("mp4",),
    gif_range: tuple[float, float] | None = None,
) -> Published:
    """Join `clips` into `video` and write everything published beside it (see the module's notes)."""
    from ncfvid.publish.music import MusicBed, music_key, schedule
    from ncfvid.speech.registry import voice_language
    from ncfvid.video.join import Extras

    story = loaded.story
    titles = {act.id: act.title for act in story.acts}
    lang = iso639_2(language or voice_language(story.voice.engine, story.voice.voice))
    folder = video.parent
    per_clip = [_clip_cues(clip) for clip in clips]
    found: dict[str, Any] = {}

    def extras(starts: list[float], length: float) -> Extras:
        ends = [*starts[1:], length]
        cues = join_act_cues(
            [(c, s) for (c, _), s in zip(per_clip, starts, strict=True)],
            [e - s for s, e in zip(starts, ends, strict=True)],
        )
        chapters = [(s, e, titles[a]) for a, s, e in _act_spans(clips, starts, length)]
        spans = schedule(story, loaded.path.parent, _act_spans(clips, starts, length))
        found.update(cues=cues, chapters=chapters, starts=starts, length=length, music=music_key(spans))
        subtitles = [(lang, [(c.start, c.end, c.text) for c in cues])]
        return Extras(subtitles=subtitles, chapters=chapters, bed=MusicBed(spans) if spans else None)

    key = _publish_key(loaded, clips, lang)
    manifest = video.with_name(f".{video.name}.clips.json")
    own_data = video.with_name(f".{video.name}.{REVIEW_DATA}")
    keys = json.dumps([clip.key for clip in clips])  # the clips joined (tests and tools read it)
    if _up_to_date(video, (manifest, keys), (own_data, key)):
        published = _from_data(video, json.loads(own_data.read_text(encoding="utf-8")))
    else:
        _join_and_replace(clips, video, extras, found)
        beats = _beat_entries(loaded, clips, per_clip, found["starts"], found["length"], folder)
        version = hashlib.sha256((key + json.dumps(found["music"])).encode()).hexdigest()[:16]
        page = page_names(language)[0]
        published = Published(video, found["length"], beats, found["chapters"], version, story.title, lang, page)
        _poster(story, beats, folder, video)
        write_atomic(own_data, json.dumps({**review_data(published), "key": key}, indent=1, ensure_ascii=False))
        write_atomic(manifest, keys)
        _prune_stills(folder)
    _other_formats(published, formats, gif_range)
    write_page(published)
    return published


def _join_and_replace(clips: Sequence[BeatClip], video: Path, extras: Any, found: dict[str, Any]) -> None:
    """Join the clips (the beats' stills made beside it) and replace the video, its captions and
    chapters together: an interrupt before that point leaves the last published ones untouched.
    `extras` gives the join its tracks and fills `found` with the cues and chapters."""
    from ncfvid.video.join import join_videos

    joined = temp_beside(video, ".joining.mp4")  # swept by the next render if this one is killed
    try:
        # The stills (each beat's last frame decoded and made a PNG) beside the join: both spend most
        # of their time in PyAV and zlib, outside the GIL, so the second core does the stills.
        with ThreadPoolExecutor(max_workers=1) as pool:
            stills = pool.submit(_make_stills, clips, video.parent / "stills")
            sounds = [c.folder / "sound.wav" for c in clips]
            join_videos([c.folder / "clip.mp4" for c in clips], joined, sounds, extras)
            stills.result()
        with interrupts_deferred():
            os.replace(joined, video)
            write_subtitles(found["cues"], video.with_suffix(".srt"), video.with_suffix(".vtt"))
            write_atomic(video.with_suffix(".chapters.txt"), chapter_list(found["chapters"]))
    finally:
        joined.unlink(missing_ok=True)


def write_page(published: Published) -> None:
    """The review page of the video just published, and its data (last: a page polling it reloads)."""
    from ncfvid.publish.review import write_review

    folder = published.video.parent
    write_review(published)
    data = json.dumps(review_data(published), indent=1, ensure_ascii=False)
    current = folder / data_name(published.page)
    if not current.is_file() or current.read_text(encoding="utf-8") != data:
        write_atomic(current, data)


def _publish_key(loaded: Loaded, clips: Sequence[BeatClip], lang: str) -> str:
    story = loaded.story
    from ncfvid.publish.music import _file_digest

    music = [m.model_dump() for m in [story.music, *(a.music or None for a in story.acts)] if m]
    payload = {
        "clips": [clip.key for clip in clips],
        "titles": [(a.id, a.title) for a in story.acts],
        "lang": lang,
        "music": music,
        "music_files": [_file_digest(str((loaded.path.parent / m["file"]).resolve())) for m in music],
        "acts_music": [a.music is False for a in story.acts],
        "thumbnail": story.thumbnail,
        "publish": _source_digest(),
    }
    return json.dumps(payload, sort_keys=True)


def _source_digest() -> str:
    """A hash of this package, the join and the captions' code (a change to any publishes again)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    others = [root.parent / "video" / "join.py", root.parent / "video" / "texttracks.py", root.parent / "subtitles.py"]
    for file in sorted([*root.glob("*.py"), *root.glob("*.j2"), *others]):
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _up_to_date(video: Path, manifest: tuple[Path, str], data: tuple[Path, str]) -> bool:
    """Whether `video` was published from the same clips (`manifest` holds their keys) with the same
    settings (the review data holds the whole key)."""
    try:
        same_clips = manifest[0].read_text(encoding="utf-8") == manifest[1]
        return video.is_file() and same_clips and json.loads(data[0].read_text(encoding="utf-8")).get("key") == data[1]
    except (OSError, ValueError):
        return False


def chapter_list(chapters: Sequence[tuple[float, float, str]]) -> str:
    """`mm:ss Title` lines (`h:mm:ss` past an hour), the format video platforms read from a description."""
    lines = []
    for start, _, title in chapters:
        seconds = int(start)
        hours, rest = divmod(seconds, 3600)
        stamp = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
        lines.append(f"{stamp} {title}")
    return "\n".join(lines) + "\n"


def _beat_entries(
    loaded: Loaded,
    clips: Sequence[BeatClip],
    per_clip: Sequence[tuple[list[Cue], str]],
    starts: Sequence[float],
    length: float,
    folder: Path,
) -> list[BeatEntry]:
    from ncfvid.publish.stills import still

    acts = {act.id: act for act in loaded.story.acts}
    stills = folder / "stills"
    entries = []
    ends = [*starts[1:], length]
    for clip, (_, narration), start, end in zip(clips, per_clip, starts, ends, strict=True):
        act = acts[clip.act_id]
        path = still(clip.folder, clip.key, stills)
        entries.append(
            BeatEntry(act.id, act.title, act.beats[clip.index].id, start, end, narration, f"stills/{path.name}")
        )
    return entries


def _make_stills(clips: Sequence[BeatClip], stills: Path) -> None:
    from ncfvid.publish.stills import still

    for clip in clips:
        still(clip.folder, clip.key, stills)


def _prune_stills(folder: Path) -> None:
    """Remove the stills no published video of the folder shows (each language's, each act's)."""
    keep: set[str] = set()
    for record in folder.glob(f".*.{REVIEW_DATA}"):
        try:
            keep.update(Path(beat["still"]).name for beat in json.loads(record.read_text(encoding="utf-8"))["beats"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # a record being replaced: prune another time
    for old in (folder / "stills").glob("*.png"):
        if old.name not in keep:
            old.unlink(missing_ok=True)


def _poster(story: Any, beats: Sequence[BeatEntry], folder: Path, video: Path) -> None:
    """`<video>.png`: the still of the `thumbnail:` beat (the first rendered beat if it is not rendered)."""
    from ncfvid.publish.checks import thumbnail_beat

    chosen = thumbnail_beat(story)
    entry = next((b for b in beats if (b.act, b.beat) == chosen), beats[0])
    write_atomic(video.with_suffix(".png"), (folder / entry.still).read_bytes())


def _other_formats(published: Published, formats: Sequence[str], gif_range: tuple[float, float] | None) -> None:
    """Each format asked for, unless the one on disk was made from this version (and range)."""
    from ncfvid.publish import formats as convert

    video = published.video
    record_path = video.with_name(f".{video.name}.formats.json")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    for name in sorted(set(formats) - {"mp4"}):
        target = video.with_suffix(f".{name}")
        made_from = [published.version, list(gif_range) if name == "gif" and gif_range else None]
        if target.is_file() and record.get(name) == made_from:
            continue
        if name == "webm":
            convert.to_webm(video, target, published.chapters)
        else:
            start, end = gif_range or (0.0, published.length)
            convert.to_gif(video, target, start, min(end, published.length))
        record[name] = made_from
        write_atomic(record_path, json.dumps(record))


def review_data(published: Published) -> dict[str, Any]:
    return {
        "version": published.version,
        "video": published.video.name,
        "title": published.title,
        "language": published.language,
        "page": published.page,
        "length": published.length,
        "chapters": [list(c) for c in published.chapters],
        "beats": [asdict(b) for b in published.beats],
    }


def read_published(video: Path) -> Published:
    """What the last render published as `video` (from its review data); raises UserError if none."""
    from ncfvid.diagnostics import UserError

    try:
        return _from_data(video, json.loads(video.with_name(f".{video.name}.{REVIEW_DATA}").read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError.single(str(video), "no published render of this video: run `ncfvid render` first") from None


def _from_data(video: Path, data: dict[str, Any]) -> Published:
    beats = [BeatEntry(**b) for b in data["beats"]]
    chapters = [(float(s), float(e), str(t)) for s, e, t in data["chapters"]]
    length, version = float(data["length"]), str(data["version"])
    title, language, page = str(data["title"]), str(data["language"]), str(data.get("page", "index.html"))
    return Published(video, length, beats, chapters, version, title, language, page)
