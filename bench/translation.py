"""What a translation costs after the storyboard's own render (issue 13), in one run on this machine.

Usage: .venv/bin/python bench/translation.py [-q l|h] [--storyboard storyboards/ncf.yaml] [--lang de]
                                             [--no-write]

  (e) `ncfvid render STORY -q X` into a fresh output folder: the storyboard's own language, cold
  (g) then `ncfvid render STORY -q X --lang LANG` into the same folder: the translation after it
      (the trained model, parsed glyphs and every animation whose picture is the same are reused)
  (f) `ncfvid render STORY -q X --lang LANG` into another fresh folder: the translation cold
  (h) then, into the first folder, the same translation with its screen texts taken out (narration
      only, as language `xx`): the most a translation can share, every picture the storyboard's own

It prints each time, (g)/(f), and how many of the translation's animations (g) drew and reused
(from each beat clip's drawn.json), and appends a section to bench/results.md (unless --no-write).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NCFVID = Path(sys.executable).parent / "ncfvid"
RESULTS = ROOT / "bench" / "results.md"


def render(story: Path, out: Path, quality: str, *extra: str) -> float:
    started = time.perf_counter()
    command = [str(NCFVID), "render", str(story), "-q", quality, "-o", str(out), "--quiet", *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def animations(out: Path, since: float) -> tuple[int, int, int]:
    """(beats, animations drawn, animations reused) of the beat clips made after `since`."""
    beats = drawn = reused = 0
    for record in out.glob("cache/beats/*/*/drawn.json"):
        if record.stat().st_mtime < since:
            continue
        made = json.loads(record.read_text(encoding="utf-8"))
        beats += 1
        drawn += int(made.get("animations_drawn", 0))
        reused += int(made.get("animations_reused", 0))
    return beats, drawn, reused


def narration_only(source: Path, target: Path) -> None:
    """`source` without anything it shows: its narration (and voice) alone, as language `xx` spoken
    by the source language's voice."""
    import yaml

    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    language = data["language"]
    for key in ("words", "corner", "decimal", "title"):
        data.pop(key, None)
    data["language"], data["decimal"] = "xx", "."
    data.setdefault("voice", {})["voice"] = language
    for act in data["acts"].values():
        for beat in act.get("beats", {}).values():
            beat.pop("show", None)
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quality", default="l", choices=["l", "m", "h", "k"])
    parser.add_argument("--storyboard", type=Path, default=ROOT / "storyboards" / "ncf.yaml")
    parser.add_argument("--lang", default="de")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ncfvid-bench-lang-") as tmp:
        folder = Path(tmp)
        story = folder / args.storyboard.name
        shutil.copy(args.storyboard, story)
        shutil.copy(args.storyboard.with_name(f"{args.storyboard.stem}.{args.lang}.yaml"), folder)
        e = render(story, folder / "out", args.quality)
        mark = time.time()
        g = render(story, folder / "out", args.quality, "--lang", args.lang)
        beats, drawn, reused = animations(folder / "out", mark)
        f = render(story, folder / "cold", args.quality, "--lang", args.lang)
        narration_only(folder / f"{story.stem}.{args.lang}.yaml", folder / f"{story.stem}.xx.yaml")
        mark = time.time()
        h = render(story, folder / "out", args.quality, "--lang", "xx")
        h_beats, h_drawn, h_reused = animations(folder / "out", mark)
    load = os.getloadavg()[0]
    lines = [
        f"(e) {args.storyboard.name} cold, -q{args.quality}: {e:.1f} s",
        f"(g) --lang {args.lang} after it: {g:.1f} s ({beats} beats; animations drawn {drawn}, reused {reused})",
        f"(f) --lang {args.lang} cold: {f:.1f} s",
        f"(h) --lang {args.lang} without its screen texts, after (e): {h:.1f} s ({h_beats} beats; animations "
        f"drawn {h_drawn}, reused {h_reused})",
        f"(g)/(f) = {g / f:.2f}, (h)/(f) = {h / f:.2f}; load average at the end {load:.1f}",
    ]
    print("\n".join(lines))
    if not args.no_write:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = f"\n### Translation after the storyboard's own render ({stamp}, shared 2-core machine)\n\n"
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(section + "".join(f"- {line}\n" for line in lines))


if __name__ == "__main__":
    main()
