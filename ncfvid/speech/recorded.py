"""Recorded narration: a narrator's file for a beat replaces the synthetic voice for that beat."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from manim_voiceover.services.base import SpeechService

SUFFIXES = (".wav", ".mp3")


def find_recording(folder: Path, beat_id: str) -> Path | None:
    """`<beat_id>.wav` or `.mp3` in `folder`, if there is one."""
    for suffix in SUFFIXES:
        path = folder / f"{beat_id}{suffix}"
        if path.is_file():
            return path
    return None


class RecordedService(SpeechService):
    """Serves a beat's recording (timing follows the file) and falls back to another service."""

    def __init__(self, recordings: dict[str, str], fallback: SpeechService, **kwargs: Any) -> None:
        self.recordings = dict(recordings)
        self.fallback = fallback
        SpeechService.__init__(self, **kwargs)

    def generate_from_text(
        self, text: str, cache_dir: str | None = None, path: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        beat = kwargs.get("beat_id")
        source = self.recordings.get(str(beat)) if beat is not None else None
        if source is None:
            return self.fallback.generate_from_text(text, cache_dir=cache_dir, path=path)
        data = Path(source).read_bytes()
        name = f"recorded-{hashlib.sha256(data).hexdigest()[:20]}{Path(source).suffix.lower()}"
        target = Path(cache_dir or self.cache_dir) / name
        if not target.is_file():
            shutil.copyfile(source, target)
        return {
            "input_text": text,
            "input_data": {"input_text": text, "service": "recorded", "file": name},
            "original_audio": name,
        }
