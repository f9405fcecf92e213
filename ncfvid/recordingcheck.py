"""`validate`'s look at recorded narration: every recording a render would play (a beat's `audio:`
or a file in voiceover/<stem>/) must decode to sound, and should last about as long as the line it
replaces. Found here, a broken file is an error at the beat's line naming the file, not a decoder's
traceback in the middle of a render.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ncfvid.files import display_name

if TYPE_CHECKING:
    from ncfvid.pipeline import Loaded

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str, str]  # (path, message, severity), as ncfvid.rules

# A recording shorter than this share of the line's time at the voice's rate squeezes its captions.
SHORT_SHARE = 0.5
MIN_SECONDS = 0.05  # less than this holds no word


class RecordingError(Exception):
    """A recording that cannot be played; the message says why."""


def recording_seconds(path: Path) -> float:
    """How long the first audio stream of `path` plays, decoded to the last sample; RecordingError
    if the file is empty, cannot be read or holds no sound."""
    import av

    try:
        if path.stat().st_size == 0:
            raise RecordingError("the file is empty")
        samples = 0
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RecordingError("the file has no sound in it")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or 0
            for frame in container.decode(stream):
                samples += frame.samples
    except RecordingError:
        raise
    except (OSError, ValueError, IndexError, av.FFmpegError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise RecordingError(f"it cannot be decoded as audio ({reason})") from None
    if rate <= 0 or samples == 0:
        raise RecordingError("the file holds no sound (no audio samples after its header)")
    return samples / rate


def _beat_locations(loaded: Loaded) -> dict[str, tuple[Loc, str, bool]]:
    """'act.beat' -> (where to report, the words spoken, whether the beat names its file in `audio:`)."""
    found = {}
    for a, act in enumerate(loaded.story.acts):
        for b, beat in enumerate(act.beats):
            here: Loc = ("acts", a, "beats", b)
            named = beat.audio is not None
            spoken = beat.spoken or beat.narration or ""
            found[f"{act.id}.{beat.id}"] = ((*here, "audio") if named else here, spoken, named)
    return found


def check_recordings(loaded: Loaded, recordings: dict[str, str]) -> Iterator[Finding]:
    """Errors for `recordings` ('act.beat' -> file, see ncfvid.pipeline.find_recordings) that cannot
    play, warnings for ones much shorter than their line."""
    beats = _beat_locations(loaded)
    rate = float(loaded.story.voice.rate)
    for key, file in recordings.items():
        loc, spoken, named = beats[key]
        path = Path(file)
        if named and not path.is_file():
            continue  # ncfvid.rules reports it missing
        shown = display_name(path)
        act, _, beat = key.partition(".")
        what = f"beat '{beat}' of act '{act}': recording {shown}"
        try:
            seconds = recording_seconds(path)
        except RecordingError as err:
            yield loc, f"{what} cannot be played: {err}; record it again or remove it", "error"
            continue
        if seconds < MIN_SECONDS:
            yield loc, f"{what} lasts {seconds:.3f} s, too short to hold a word; record it again", "error"
            continue
        words = len(re.findall(r"\w+", spoken))
        expected = words / rate * 60 if rate > 0 else 0.0
        if seconds < SHORT_SHARE * expected:
            yield (
                loc,
                f"{what} lasts {seconds:.1f} s, but its narration ({words} words) takes about {expected:.1f} s "
                f"at {rate:g} words per minute; its captions will be squeezed into the recording: check the "
                "file is the whole line",
                "warning",
            )
