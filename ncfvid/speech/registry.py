"""Choose a speech service by name: espeak (default), draft, or any manim-voiceover service."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import SpeechService

from ncfvid.speech import EngineUnavailable

# manim-voiceover's services: module, class, and the pip extra that brings its dependencies.
THIRD_PARTY = {
    "gtts": ("gtts", "GTTSService", "manim-voiceover[gtts]"),
    "azure": ("azure", "AzureService", "manim-voiceover[azure]"),
    "openai": ("openai", "OpenAIService", "manim-voiceover[openai]"),
    "elevenlabs": ("elevenlabs", "ElevenLabsService", "manim-voiceover[elevenlabs]"),
    "pyttsx3": ("pyttsx3", "PyTTSX3Service", "manim-voiceover[pyttsx3]"),
}
ENGINES = ("espeak", "draft", *THIRD_PARTY)


def check_engine(engine: str) -> None:
    """Raise EngineUnavailable (one line, with the fix) if `engine` cannot run on this machine."""
    if engine == "draft":
        return
    if engine == "espeak":
        from ncfvid.speech.espeak import _Espeak

        _Espeak.get()
        return
    if engine not in THIRD_PARTY:
        raise EngineUnavailable(f"unknown speech engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    module, _, extra = THIRD_PARTY[engine]
    try:
        importlib.import_module(f"manim_voiceover.services.{module}")
    except ImportError as err:
        raise EngineUnavailable(
            f"the {engine} engine needs packages that are missing ({err.name}): run `pip install '{extra}'`, "
            "or render with --draft"
        ) from None


def make_service(
    engine: str, *, cache_dir: Path, options: dict[str, Any], recordings: dict[str, str] | None = None
) -> SpeechService:
    """A ready speech service; with `recordings` (beat id -> file) those beats use the recording."""
    check_engine(engine)
    cache_dir.mkdir(parents=True, exist_ok=True)
    opts = dict(options)
    if engine == "espeak":
        from ncfvid.speech.espeak import EspeakService

        service: SpeechService = EspeakService(cache_dir=cache_dir, **opts)
    elif engine == "draft":
        from ncfvid.speech.draft import DraftService

        service = DraftService(cache_dir=cache_dir, rate=opts.get("rate", 165))
    else:
        module, cls, _ = THIRD_PARTY[engine]
        service_class = getattr(importlib.import_module(f"manim_voiceover.services.{module}"), cls)
        opts.pop("rate", None)
        service = service_class(cache_dir=cache_dir, **opts)
    if recordings:
        from ncfvid.speech.recorded import RecordedService

        return RecordedService(recordings, service, cache_dir=cache_dir)
    return service
