"""Festival as a manim-voiceover speech service: the default voice (cmu_us_slt_arctic_hts).

Each line is synthesised once per text, voice, rate and version (`festivallines.line_data`): `ncfvid
render` synthesises the lines ahead, in parallel (`ncfvid.speech.ahead`), into the same cache, so
its Manim jobs find them there. A line that is not there is spoken by one Festival process that the
service starts on first use and keeps for the rest of the run (plain `manim` on a generated module).

Word boundaries carry each word's start and end (Festival's segments); a bookmark takes the time of
the word after it.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import PathLike, SpeechService

from ncfvid.speech.festivalengine import NATURAL_RATE, FestivalProcess, Synthesis, check_available
from ncfvid.speech.festivallines import line_data, voice_and_rate
from ncfvid.speech.service import OwnCacheService


class FestivalService(OwnCacheService):
    """Speech from Festival: offline, clear, about 20-40 times faster than real time.

    Options: `voice` (a Festival voice; default cmu_us_slt_arctic_hts), `rate` (words per minute;
    the voice speaks about 163 on its own). manim-voiceover's `global_speed` is folded into the
    rate. Both can be given per voiceover too; `beat_id` is accepted and ignored.
    """

    def __init__(
        self,
        voice: str | None = None,
        rate: float = NATURAL_RATE,
        *,
        global_speed: float = 1.0,
        cache_dir: PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        if rate <= 0 or global_speed <= 0:
            raise ValueError(f"rate and global_speed must be positive, not {rate} and {global_speed}")
        # As `ncfvid.speech.ahead` works them out, so the lines it synthesised are found.
        self.voice, self.rate = voice_and_rate({"voice": voice, "rate": rate, "global_speed": global_speed})
        check_available(self.voice)  # fail early, with the Debian package to install
        SpeechService.__init__(self, global_speed=1.0, cache_dir=cache_dir, **kwargs)
        self.synth_count = 0  # lines synthesised by this service (cache misses)
        self._processes: dict[str, FestivalProcess] = {}  # one per voice, started on first use

    def _speak(self, voice: str, text: str, speed: float) -> Synthesis:
        process = self._processes.get(voice)
        if process is None:
            process = self._processes[voice] = FestivalProcess(voice)
            atexit.register(process.close)
        return process.speak(text, speed)

    def generate_from_text(
        self,
        text: str,
        cache_dir: PathLike | None = None,
        path: PathLike | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        folder = Path(cache_dir if cache_dir is not None else self.cache_dir)
        kwargs.pop("beat_id", None)  # used by RecordedService; harmless here
        voice = str(kwargs.pop("voice", None) or self.voice)
        rate = float(kwargs.pop("rate", self.rate))
        if kwargs:
            raise TypeError(f"FestivalService got unexpected options: {', '.join(sorted(kwargs))}")
        data, made = line_data(
            text,
            folder,
            lambda spoken, speed: self._speak(voice, spoken, speed),
            voice=voice,
            rate=rate,
            path=None if path is None else os.fspath(path),
        )
        self.synth_count += made
        return data
