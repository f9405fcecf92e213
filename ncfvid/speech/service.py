"""The base of ncfvid's own speech services: manim-voiceover's wrapper, without its `cache.json`.

manim-voiceover's `SpeechService._wrap_generate_from_text` appends every voiceover to the cache
folder's `cache.json`, also one it served from that cache (see `ncfvid.speech.entries`). ncfvid's
services keep their entries in `entries/` and speak at their own rate (a `global_speed` is folded
into it), with word timings of their own (no Whisper), so the wrapper here only normalises the text,
validates the data the way manim-voiceover does and sets `final_audio`.
"""

from __future__ import annotations

from typing import Any

from manim_voiceover.services.base import SpeechService
from manim_voiceover.services.cache import parse_voiceover_cache_entry, serialize_voiceover_cache_entry


class OwnCacheService(SpeechService):
    """A manim-voiceover speech service whose results are cached in `ncfvid.speech.entries`."""

    def _wrap_generate_from_text(self, text: str, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        text = " ".join(text.split())  # as manim-voiceover does: one space between words
        path = kwargs.pop("path", None)
        data = self.generate_from_text(text, cache_dir=None, path=path, **kwargs)
        data = dict(serialize_voiceover_cache_entry(parse_voiceover_cache_entry(data)))
        self.audio_callback(data["original_audio"], data, **kwargs)
        data["final_audio"] = data["original_audio"]
        return data
