"""Benchmark the motion check of issue 12 inside `render`, in one run on this machine.

Usage: .venv/bin/python bench/motion.py [-q l] [--storyboard storyboards/ncf.yaml] [--no-write]

  (a) cold render with the motion check (fresh output folder, `--force`)
  (a0) the same cold render with the animations not sampled (NCFVID_MOTION=0), in another folder
  (b) (a) again, nothing changed (the motion findings are kept with each cached beat)
  (s) the CPU seconds the scenes spent sampling, summed from the beats' layout records of (a)

Target: (a)/(a0) - 1 at most 0.15, and (b) under 3 s. (a) and (a0) alternate with other work on a
shared machine, so (s)/(a)'s CPU time is printed too: the cost measured inside the scenes.
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
        on, off = Path(tmp) / "on", Path(tmp) / "off"
        common = ["render", opts.storyboard, "-q", opts.quality, "--force"]
        a_wall, a_cpu = timed([*common, "-o", str(on)], env)
        a0_wall, a0_cpu = timed([*common, "-o", str(off)], {**env, "NCFVID_MOTION": "0"})
        b_wall, _ = timed(["render", opts.storyboard, "-q", opts.quality, "-o", str(on)], env)
        sampled = sampling_seconds(on)
    rows = [
        ("(a) cold render, motion check on", f"{a_wall:.1f} s ({a_cpu:.1f} s CPU)"),
        ("(a0) cold render, motion check off", f"{a0_wall:.1f} s ({a0_cpu:.1f} s CPU)"),
        ("(a)/(a0) - 1 (target <= 0.15)", f"{a_wall / a0_wall - 1:+.3f} wall, {a_cpu / a0_cpu - 1:+.3f} CPU"),
        ("(s) sampling inside the scenes", f"{sampled:.2f} s = {sampled / a_cpu:.3f} of (a)'s CPU"),
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
