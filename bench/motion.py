"""Benchmark the motion check of issue 12 inside `render`, in one run on this machine.

Usage: .venv/bin/python bench/motion.py [-q l] [--storyboard storyboards/ncf.yaml] [--no-write]

  (a) cold render (fresh output folder, `--force`): wall and CPU seconds of ncfvid and its children
  (s) the CPU seconds the scenes spent sampling animations during (a), summed from the beats'
      layout records (each scene measures its own sampling with time.process_time)
  (b) (a) again, nothing changed (the motion findings are kept with each cached beat)

Target: (s) / ((a)'s CPU - (s)) at most 0.15 (what the check adds to the render without it), and
(b) under 3 s. CPU time, measured inside the same run, is what other work on a shared machine
disturbs least.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NCFVID = Path(sys.executable).parent / "ncfvid"
RESULTS = ROOT / "bench" / "results.md"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (of the children) of one ncfvid command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([str(NCFVID), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"ncfvid {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def sampling_seconds(out: Path) -> float:
    total = 0.0
    for layout in out.glob("cache/beats/*/*/layout.json"):
        total += float(json.loads(layout.read_text(encoding="utf-8")).get("motion_seconds", 0.0))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-q", "--quality", default="l")
    parser.add_argument("--storyboard", default="storyboards/ncf.yaml")
    parser.add_argument("--no-write", action="store_true")
    opts = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ncfvid-motion-") as tmp:
        out = Path(tmp) / "out"
        a_wall, a_cpu = timed(["render", opts.storyboard, "-q", opts.quality, "--force", "-o", str(out)], env)
        b_wall, _ = timed(["render", opts.storyboard, "-q", opts.quality, "-o", str(out)], env)
        sampled = sampling_seconds(out)
    rows = [
        ("(a) cold render", f"{a_wall:.1f} s ({a_cpu:.1f} s CPU)"),
        ("(s) sampling animations, inside (a)", f"{sampled:.2f} s CPU"),
        ("(s) / ((a) CPU - (s)) (target <= 0.15)", f"{sampled / (a_cpu - sampled):.3f}"),
        ("(b) unchanged re-render (target < 3 s)", f"{b_wall:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if opts.no_write:
        return
    load = os.getloadavg()[0]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [
        f"\n### Motion check (issue 12), `bench/motion.py -q {opts.quality}`, {stamp}\n",
        f"{opts.storyboard}; machine shared with other helpers (load average {load:.1f} at the end).\n",
        "| | |\n|---|---:|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
