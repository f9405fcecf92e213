"""SceneJob: what the process driving Manim asks of one Manim run of a generated scenes module.

The driver (`ncfvid render`, `check`, `preview`) builds a SceneJob and hands it over in one
environment variable (`to_env`); StoryScene, inside Manim, reads it back (`from_env`). Without the
variable (plain `manim scenes.py`) the defaults apply: every beat drawn, the storyboard's voice.
This module imports nothing of Manim, so the driver need not load Manim to build a job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ENV = "NCFVID_JOB"


@dataclass(frozen=True)
class SceneJob:
    """One Manim run's settings; see the field comments."""

    voice: dict[str, Any] = field(default_factory=dict)  # overrides the storyboard's voice settings
    audio_cache: str | None = None  # folder for synthesised audio (default: Manim's media folder)
    speech: str | None = None  # folder where ncfvid's own voices keep every line, shared by all jobs
    beats: tuple[int, int] | None = None  # [first, stop): draw only these beats, each a Manim section
    parts_dir: str | None = None  # with `beats`: where <Scene>.beats.json and each beat's WAV go
    states_dir: str | None = None  # with `beats`: state key -> clip folder of beats drawn before
    state_keys: dict[int, str] = field(default_factory=dict)  # beat -> its own code's key (serve by state)
    segments_dir: str | None = None  # with `beats`: animation segments kept between runs (scenelib.segments)
    picture_keys: dict[int, str] = field(default_factory=dict)  # beat -> key of what it shows (no narration)
    burn_captions: bool = False  # draw the captions into the picture
    fast_holds: bool = True  # encode a hold once and repeat it (ncfvid.video.holds)
    fast_copy: bool = True  # ncfvid's faster copy of mobjects (ncfvid.scenelib.fastcopy)
    glyphs: str | None = None  # folder of parsed SVGs shared between runs (ncfvid.scenelib.glyphcache)
    inspect: str | None = None  # folder: record what is on screen after every beat (ncfvid check)
    stills: bool = False  # with `inspect`: also save each beat's last frame as PNG (ncfvid preview)
    settle: bool = False  # settle animations at their end instead of playing them (ncfvid check)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SceneJob:
        data = json.loads(text)
        beats = data.get("beats")
        return cls(
            **{
                **data,
                "beats": tuple(beats) if beats is not None else None,
                "state_keys": {int(k): v for k, v in data.get("state_keys", {}).items()},
                "picture_keys": {int(k): v for k, v in data.get("picture_keys", {}).items()},
            }
        )

    def to_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) with this job in it, and this ncfvid first on
        PYTHONPATH: the scenes module imports ncfvid, and a source checkout must work uninstalled."""
        env = dict(os.environ if base is None else base)
        env[ENV] = self.to_json()
        return importable(env)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SceneJob:
        """The job in `environ` (default: this process's environment); the defaults without one."""
        text = (os.environ if environ is None else environ).get(ENV)
        return cls.from_json(text) if text else cls()

    def but(self, **changes: Any) -> SceneJob:
        """A copy with `changes`."""
        return replace(self, **changes)


def importable(env: dict[str, str]) -> dict[str, str]:
    """`env` with this ncfvid first on PYTHONPATH."""
    import ncfvid

    root = str(Path(ncfvid.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
