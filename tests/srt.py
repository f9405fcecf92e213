"""Reading back the SubRip files ncfvid writes (tests only: ncfvid itself never reads SRT)."""

from __future__ import annotations

import re

from ncfvid.subtitles import _TIMING, Cue, _seconds


def read_srt(text: str) -> list[Cue]:
    """Parse SubRip text, to read back what ncfvid writes (tolerates a BOM, CRLF line ends and a
    missing index)."""
    cues = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = block.split("\n")
        for k, line in enumerate(lines[:2]):
            timing = _TIMING.search(line)
            if timing:
                g = timing.groups()
                body = "\n".join(x for x in lines[k + 1 :] if x.strip())
                cues.append(Cue(_seconds(*g[:4]), _seconds(*g[4:]), body))
                break
    return cues
