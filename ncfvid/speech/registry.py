"""Choose a speech service by name: festival (default), espeak, draft, or any manim-voiceover service.

manim-voiceover's own services ask questions on standard input when something is missing (it offers
to `pip install` their extras and to write API keys into a .env file, then exits). A render must not
stop to ask, so `check_engine` looks for the packages (and the API-key variables) first and raises
EngineUnavailable with a one-line fix instead.

Every service `make_service` returns accepts ``beat_id=`` in ``self.voiceover(text, beat_id=...)``:
manim-voiceover services are wrapped in a RecordedService (which serves recordings by beat id and
otherwise passes the text on without that keyword).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ncfvid.speech import EngineUnavailable

DRAFT_HINT = "or render with --draft for a silent preview"


@dataclass(frozen=True)
class ThirdParty:
    """A manim-voiceover service: its module and class, the modules it imports, its pip extra, and
    environment variables it needs (each tuple: any one of these)."""

    module: str
    cls: str
    needs: tuple[str, ...]
    extra: str
    env: tuple[tuple[str, ...], ...] = ()
    transcription_model: str | None = None  # the service's default (Whisper needs more packages)


THIRD_PARTY: dict[str, ThirdParty] = {
    "gtts": ThirdParty("gtts", "GTTSService", ("gtts",), "gtts"),
    "azure": ThirdParty(
        "azure",
        "AzureService",
        ("azure.cognitiveservices.speech",),
        "azure",
        (("AZURE_SUBSCRIPTION_KEY",), ("AZURE_SERVICE_REGION",)),
    ),
    "openai": ThirdParty("openai", "OpenAIService", ("openai",), "openai", (("OPENAI_API_KEY",),), "base"),
    "elevenlabs": ThirdParty("elevenlabs", "ElevenLabsService", ("elevenlabs",), "elevenlabs", (("ELEVEN_API_KEY",),)),
    "pyttsx3": ThirdParty("pyttsx3", "PyTTSX3Service", ("pyttsx3",), "pyttsx3"),
    "gemini": ThirdParty("gemini", "GeminiService", ("google.genai",), "gemini"),
}


def _check_festival(voice: str | None) -> None:
    from ncfvid.speech.festivalengine import DEFAULT_VOICE, check_available

    check_available(voice or DEFAULT_VOICE)


def _check_espeak(voice: str | None) -> None:
    from ncfvid.speech.espeakng import check_available

    check_available()


@dataclass(frozen=True)
class Native:
    """One of ncfvid's own engines: its service class (module, class) and, for one that needs a
    program or library, a check that it is there (given the voice, None for the engine's default),
    which raises EngineUnavailable with the fix. Modules are imported only when used."""

    module: str
    cls: str
    check: Callable[[str | None], None] | None = None
    ahead: bool = False  # `ncfvid render` synthesises its lines ahead, in parallel (ncfvid.speech.ahead)


NATIVE: dict[str, Native] = {
    "festival": Native("ncfvid.speech.festival", "FestivalService", _check_festival, ahead=True),
    "espeak": Native("ncfvid.speech.espeak", "EspeakService", _check_espeak),
    "draft": Native("ncfvid.speech.draft", "DraftService"),
}
DEFAULT_ENGINE = "festival"
ENGINES: tuple[str, ...] = (*NATIVE, *THIRD_PARTY)
WHISPER_MODULES = ("whisper", "stable_whisper")
#: Storyboard voice settings that only some services take; dropped for a service that does not.
PORTABLE_OPTIONS = ("voice", "rate", "pitch")


def voice_language(engine: str, voice: str | None) -> str:
    """The language (a BCP 47 tag, 'und' if unknown) that `voice` of `engine` speaks (None: the
    engine's default voice): Festival names its voices, espeak-ng's voices are language tags."""
    if engine == "festival":
        from ncfvid.speech.festivalengine import DEFAULT_VOICE, VOICE_LANGUAGES

        return VOICE_LANGUAGES.get(voice or DEFAULT_VOICE, "und")
    return voice or "en-us"


def _module_missing(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):  # a missing parent package
        return True


def check_engine(engine: str, options: Mapping[str, Any] | None = None) -> None:
    """Raise EngineUnavailable (one line, with the fix) if `engine` cannot run on this machine."""
    options = options or {}
    native = NATIVE.get(engine)
    if native is not None:
        if native.check is not None:
            native.check(options.get("voice"))
        return
    spec = THIRD_PARTY.get(engine)
    if spec is None:
        raise EngineUnavailable(f"unknown speech engine {engine!r}: choose one of {', '.join(ENGINES)}")
    missing = [name for name in spec.needs if _module_missing(name)]
    if missing:
        raise EngineUnavailable(
            f"the {engine} speech engine needs the Python package {missing[0]!r}: run "
            f'`pip install "manim-voiceover[{spec.extra}]"`, {DRAFT_HINT}'
        )
    if options.get("transcription_model", spec.transcription_model) is not None:
        missing = [name for name in WHISPER_MODULES if _module_missing(name)]
        if missing:
            raise EngineUnavailable(
                f"the {engine} speech engine transcribes with Whisper, which needs {missing[0]!r}: run "
                '`pip install "manim-voiceover[transcribe]"` or set the option transcription_model: null, '
                f"{DRAFT_HINT}"
            )
    if float(options.get("global_speed", 1.0)) != 1.0 and shutil.which("sox") is None:
        raise EngineUnavailable(
            f"global_speed with the {engine} engine needs the sox program: install it "
            "(`apt-get install sox`) or remove the option"
        )
    try:
        importlib.import_module(f"manim_voiceover.services.{spec.module}")  # also loads a .env file
    except ImportError as err:
        raise EngineUnavailable(
            f'the {engine} speech engine cannot load ({err}): run `pip install "manim-voiceover[{spec.extra}]"`, '
            f"{DRAFT_HINT}"
        ) from None
    for names in spec.env:
        if not any(os.environ.get(name) for name in names):
            raise EngineUnavailable(
                f"the {engine} speech engine needs the environment variable {' or '.join(names)} "
                f"(set it, or put it in a .env file), {DRAFT_HINT}"
            )


def engine_status() -> dict[str, str | None]:
    """Each known engine: None when it can run here, else the one-line reason it cannot."""
    status: dict[str, str | None] = {}
    for engine in ENGINES:
        try:
            check_engine(engine)
            status[engine] = None
        except EngineUnavailable as err:
            status[engine] = str(err)
    return status


def available_engines() -> list[str]:
    """The engines that can run on this machine now."""
    return [engine for engine, reason in engine_status().items() if reason is None]


def make_service(
    engine: str = DEFAULT_ENGINE,
    *,
    cache_dir: Path,
    options: Mapping[str, Any] | None = None,
    recordings_dir: Path | None = None,
    recordings: Mapping[str, Any] | None = None,
    store: Path | None = None,
) -> Any:
    """A ready manim-voiceover SpeechService.

    `engine`: "festival" (default), "espeak", "draft", or a manim-voiceover service name (gtts, azure,
    openai, elevenlabs, pyttsx3, gemini); `options` are its keyword arguments (a `voice` of None: the
    engine's own default). With recordings (`recordings`:
    beat id or narration text -> file; `recordings_dir`: a folder of `<beat_id>.wav|.mp3`) those beats
    play the recording and the others use the engine. `store`: where ncfvid's own engines keep
    their lines instead of `cache_dir`, shared by every job of a render (manim-voiceover's services
    keep a `cache.json` that two jobs must not write at once, so they stay in `cache_dir`).
    """
    opts = dict(options or {})
    check_engine(engine, opts)
    cache_dir = Path(store if store is not None and engine in NATIVE else cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    service: Any
    if opts.get("voice", "") is None:
        opts.pop("voice")
    if engine in NATIVE:
        native = NATIVE[engine]
        service = getattr(importlib.import_module(native.module), native.cls)(cache_dir=cache_dir, **opts)
    else:
        spec = THIRD_PARTY[engine]
        service_class = getattr(importlib.import_module(f"manim_voiceover.services.{spec.module}"), spec.cls)
        accepted = inspect.signature(service_class.__init__).parameters
        for name in PORTABLE_OPTIONS:
            if name not in accepted:
                opts.pop(name, None)
        service = service_class(cache_dir=str(cache_dir), **opts)

    from ncfvid.speech.recorded import RecordedService, has_recordings

    if recordings or has_recordings(recordings_dir) or engine in THIRD_PARTY:
        return RecordedService(
            dict(recordings) if recordings else None,
            service,
            recordings_dir=recordings_dir,
            cache_dir=cache_dir,
        )
    return service
