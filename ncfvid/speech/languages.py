"""Which voice speaks a language: espeak-ng's voices per language, and the check that one is installed.

A translation (ncfvid.translation) is spoken by espeak-ng in its language unless it names another
engine: `de` by espeak-ng's `de` voice, `zh` by `cmn` (Mandarin), and so on.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

# Where a language's code is not the name of its espeak-ng voice.
ESPEAK_VOICES = {"zh": "cmn", "en": "en-us", "fr": "fr-fr", "pt": "pt-br"}
# The names of some languages, for messages.
NAMES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
}
# Languages that write 1,6 where English writes 1.6.
DECIMAL_COMMA = frozenset("cs da de el es fi fr hu id it nb nl pl pt ro ru sk sl sv tr uk".split())


def language_name(code: str) -> str:
    return NAMES.get(code.split("-")[0], repr(code))


def espeak_voice(language: str) -> str:
    """The espeak-ng voice that speaks `language`."""
    return ESPEAK_VOICES.get(language, language)


def decimal_mark(language: str) -> str:
    return "," if language.split("-")[0] in DECIMAL_COMMA else "."


@functools.cache
def espeak_voices() -> frozenset[str] | None:
    """Every name espeak-ng accepts for its installed voices (language codes, voice names, files),
    lower-cased; None without espeak-ng."""
    if shutil.which("espeak-ng") is None:
        return None
    try:
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names: set[str] = set()
    for line in listing.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and not fields[4].startswith("mb/"):  # MBROLA voices need more programs
            names.update({fields[1].lower(), fields[3].lower(), fields[4].lower(), fields[4].split("/")[-1].lower()})
    return frozenset(names)


def missing_voice(engine: str, voice: str, language: str) -> str | None:
    """Why `engine` cannot speak `language` with `voice` here (one line naming what to install), or None."""
    if engine != "espeak":
        return None  # other engines check their voices when they speak
    voices = espeak_voices()
    if voices is None:
        return f"{language_name(language)} is spoken by espeak-ng, which is not installed: apt-get install espeak-ng"
    if voice.lower() in voices:
        return None
    return (
        f"no installed espeak-ng voice {voice!r} speaks {language_name(language)}: install espeak-ng-data "
        "(apt-get install espeak-ng-data), or set voice.voice to one of `espeak-ng --voices`"
    )
