"""What `ncfvid validate` checks of the publishing settings: music files that cannot be read, a
`thumbnail:` that names no beat. Light imports only (validation loads no numpy, no Manim); PyAV is
imported only when there is music to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import get_close_matches
from pathlib import Path

from ncfvid.schema import Music, Storyboard

__all__ = ["check_music", "check_thumbnail", "thumbnail_beat"]


def check_music(story: Storyboard, base_dir: Path) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Findings for music files that are missing or cannot be read as audio, at their `file:` line."""
    places: list[tuple[tuple[str | int, ...], Music]] = []
    if story.music is not None:
        places.append((("music", "file"), story.music))
    for index, act in enumerate(story.acts):
        if act.music:
            places.append((("acts", index, "music", "file"), act.music))
    for loc, music in places:
        problem = _unreadable(base_dir / music.file)
        if problem:
            yield loc, f"music file {music.file!r} {problem}", "error"


def _unreadable(path: Path) -> str | None:
    """Why `path` cannot serve as music, or None when it has at least one decodable audio frame."""
    if not path.is_file():
        return "not found (relative to the storyboard's folder); fix the path or remove 'music'"
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "has no audio stream; use a WAV, MP3, OGG or FLAC file"
            for _ in container.decode(container.streams.audio[0]):
                return None
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"cannot be read as audio ({reason}); use a WAV, MP3, OGG or FLAC file"
    return "holds no sound; use a WAV, MP3, OGG or FLAC file"


def thumbnail_beat(story: Storyboard) -> tuple[str, str] | str:
    """(act id, beat id) of the poster's beat: the storyboard's `thumbnail:` or the first beat; or a
    message saying why `thumbnail:` names no beat."""
    if story.thumbnail is None:
        return story.acts[0].id, story.acts[0].beats[0].id
    names = [(act.id, beat.id) for act in story.acts for beat in act.beats]
    act_id, dot, beat_id = story.thumbnail.partition(".")
    if dot:
        if (act_id, beat_id) in names:
            return act_id, beat_id
    else:
        owners = [name for name in names if name[1] == story.thumbnail]
        if len(owners) == 1:
            return owners[0]
        if owners:
            acts = ", ".join(f"'{a}.{b}'" for a, b in owners)
            return f"beat id {story.thumbnail!r} is used in several acts; name one as 'act.beat': {acts}"
    choices = [f"{a}.{b}" for a, b in names]
    close = get_close_matches(story.thumbnail, choices + [b for _, b in names], n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "name a beat as 'act.beat', e.g. " + repr(choices[0])
    return f"thumbnail {story.thumbnail!r} is not a beat of this storyboard; {hint}"


def check_thumbnail(story: Storyboard) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """A finding at `thumbnail:` when it names no beat."""
    found = thumbnail_beat(story)
    if isinstance(found, str):
        yield ("thumbnail",), found, "error"
