"""Benchmark the edit-render loop of issue 6 against plain Manim, in one run on this machine.

Usage: .venv/bin/python bench/render.py [-q l|h] [--storyboard storyboards/ncf.yaml] [--act ID]
                                        [--edit-act ID] [--edit-beat N] [--jobs N] [--no-write]

  (a) cold render: `ncfvid render STORY -q X -o TMP/out` into a fresh output folder (trains the model,
      synthesises every line, renders every act; --jobs defaults to ncfvid's default, the core count)
  (b) the same command again, nothing changed
  (c) after editing one narration line (beat --edit-beat, default the first, of --edit-act, default
      the storyboard's middle act) in the temp copy of the storyboard; `--edit-act` repeated (or
      `all`) measures one (c) per act, each edit on top of the last
  (d) the module generated in (a) rendered by plain Manim: `python -m manim render -qX
      --disable_caching scenes.py Act1.. ActN` (all scenes, one process, one after another), with the
      environment ncfvid gives its own Manim runs (same voice, a fresh audio cache) but
      a SceneJob with fast_holds and fast_copy off, so holds are encoded and mobjects copied the way
      Manim does it

It prints each time and the ratios (a)/(d), (b)/(a), (c)/(a) and appends a section to
bench/results.md (unless --no-write). `--act ID` limits every step to one act (labelled as such).
It records what else ran meanwhile (other Manim processes, load average) and whether ncfvid's scene
library changed during the run (which would invalidate (b) and (c)), so a disturbed run is visible.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from ncfvid.render import RenderSettings, library_hash, scene_job  # noqa: E402

NCFVID = Path(sys.executable).parent / "ncfvid"
RESULTS = ROOT / "bench" / "results.md"
TARGETS = {"a/d": 0.35, "b": 3.0, "c/a": 0.35}
EDIT_PREFIX = "Well, "


@dataclass
class Watch:
    """Samples, every 2 s, the load average and Manim processes that are not this benchmark's."""

    tag: str
    max_load: float = 0.0
    foreign: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watch:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.max_load = max(self.max_load, os.getloadavg()[0])
            for pid, cmd in manim_processes():
                try:
                    cwd = os.readlink(f"/proc/{pid}/cwd")
                except OSError:
                    cwd = ""
                if self.tag not in cmd and self.tag not in cwd:
                    self.foreign.add(f"{pid}: {cmd[:140]}")
            self._stop.wait(2)


def manim_processes() -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if "manim" in cmd and " render" in cmd and "bench/render.py" not in cmd:
            found.append((int(entry.name), cmd))
    return found


def timed(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, log: Path | None = None
) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    if log is not None:
        log.write_text(output, encoding="utf-8")
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{output[-3000:]}")
    return seconds, output


def act_states(output: str) -> dict[str, str]:
    states = {}
    for line in output.splitlines():
        match = re.match(r"^\s+(\w+)\s+(cached|done in ([\d.]+) s)", line)
        if match:
            states[match.group(1)] = match.group(3) or "cached"
    return states


def edit_narration(storyboard: Path, act_id: str, beat: int = 1) -> str:
    """Change the narration of the `beat`-th beat of act `act_id` in place; returns the edited line."""
    lines = storyboard.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"^\s*-\s+id:\s*{re.escape(act_id)}\s*$", line))
    found = [i for i in range(start + 1, len(lines)) if re.match(r"^\s+narration:", lines[i])]
    act = next(a for a in yaml.safe_load("".join(lines))["acts"] if a["id"] == act_id)
    if not 1 <= beat <= len(act["beats"]):
        sys.exit(f"act {act_id} has {len(act['beats'])} beat(s); --edit-beat {beat} is not one of them")
    index = found[beat - 1]
    value = lines[index].split("narration:", 1)[1].strip()
    if value[:1] in (">", "|") or not value:  # a block scalar: its text starts on the next line
        index += 1
        indent = len(lines[index]) - len(lines[index].lstrip())
        lines[index] = lines[index][:indent] + EDIT_PREFIX + lines[index][indent:]
    else:
        head, tail = lines[index].split("narration:", 1)
        lines[index] = f"{head}narration: {EDIT_PREFIX}{tail.lstrip()}"
    storyboard.write_text("".join(lines), encoding="utf-8")
    return lines[index].strip()


def scene_names(module: Path, acts: list[str], only: str | None) -> list[str]:
    names = re.findall(r"^class (Act\d+\w*)\(Story\):", module.read_text(encoding="utf-8"), re.M)
    if only is None:
        return names
    wanted = f"Act{acts.index(only) + 1}"
    return [n for n in names if n.startswith(wanted) and not n[len(wanted)].isdigit()]


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
        dirty = subprocess.run(["git", "status", "--porcelain", "ncfvid"], cwd=ROOT, capture_output=True, text=True)
        return rev.strip() + (" + uncommitted changes in ncfvid/" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quality", choices=["l", "m", "h"], default="l")
    parser.add_argument("--storyboard", type=Path, default=ROOT / "storyboards" / "ncf.yaml")
    parser.add_argument("--act", help="measure one act only (every step), not the whole video")
    parser.add_argument(
        "--edit-act",
        action="append",
        help="an act whose narration (c) edits; repeat for one (c) per act, in turn, or 'all' "
        "(default: the middle act)",
    )
    parser.add_argument(
        "--edit-beat",
        type=int,
        default=1,
        help="which beat of the act (c) edits, from 1 (default 1: the whole act renders again)",
    )
    parser.add_argument("--jobs", type=int, help="ncfvid --jobs (default: ncfvid's, the core count)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/results.md")
    args = parser.parse_args()

    q = args.quality
    source = args.storyboard.resolve()
    acts = [act["id"] for act in yaml.safe_load(source.read_text(encoding="utf-8"))["acts"]]
    if args.act:
        edit_acts = [args.act]
    elif args.edit_act == ["all"]:
        edit_acts = acts
    else:
        edit_acts = args.edit_act or [acts[len(acts) // 2]]
    tmp = Path(tempfile.mkdtemp(prefix="ncfvid-bench-"))
    story = tmp / source.name  # a copy, so (c) can edit it
    shutil.copy(source, story)
    out = tmp / "out"
    extra = ["--act", args.act] if args.act else []
    if args.jobs:
        extra += ["--jobs", str(args.jobs)]
    command = [str(NCFVID), "render", story.name, "-q", q, "-o", str(out), *extra]
    lib = library_hash()
    watch = Watch(tag=str(tmp)).start()
    scope = f"act {args.act} only" if args.act else f"all {len(acts)} acts"
    print(f"bench: {source.relative_to(ROOT)} at -q{q}, {scope}, {os.cpu_count()} cores, in {tmp}")

    print("(a) cold render ...", flush=True)
    a, out_a = timed(command, tmp, log=tmp / "a.log")
    states_a = act_states(out_a)
    print(f"    {a:.1f} s  per act: {states_a}{check_note(out_a)}")
    module = tmp / "baseline" / "scenes.py"
    module.parent.mkdir()
    shutil.copy(out / "scenes.py", module)

    print("(b) unchanged re-render ...", flush=True)
    b, out_b = timed(command, tmp, log=tmp / "b.log")
    states_b = act_states(out_b)
    print(f"    {b:.2f} s  {states_b}")

    edits: list[tuple[str, float, dict[str, str], str]] = []
    for index, act in enumerate(edit_acts):
        edited = edit_narration(story, act, args.edit_beat)
        print(f"(c) re-render after editing act {act}: {edited[:70]!r} ...", flush=True)
        c, out_c = timed(command, tmp, log=tmp / f"c{index}.log")
        edits.append((act, c, act_states(out_c), check_note(out_c)))
        print(f"    {c:.1f} s  {edits[-1][2]}{edits[-1][3]}")

    scenes = scene_names(module, acts, args.act)
    # stock Manim: no ncfvid patch to how holds are encoded or mobjects copied
    job = scene_job(RenderSettings(quality=q, fast_holds=False), module.parent / "audio").but(fast_copy=False)
    env = job.to_env()
    baseline = [sys.executable, "-m", "manim", "render", f"-q{q}", "--disable_caching", "scenes.py", *scenes]
    print(f"(d) plain manim, {len(scenes)} scene(s) in one process ...", flush=True)
    d, _ = timed(baseline, module.parent, env=env, log=tmp / "d.log")
    print(f"    {d:.1f} s")
    watch.stop()

    valid = []
    if library_hash() != lib:
        valid.append("ncfvid's scene library changed during the run: (b) and (c) may have re-rendered more")
    if set(states_b.values()) != {"cached"}:
        valid.append(f"(b) did not serve every act from the cache: {states_b}")
    for act, _, states, _ in edits:
        if set(states) != set(states_b) or [k for k, v in states.items() if v != "cached"] != [act]:
            valid.append(f"(c) did not re-render exactly act {act}: {states}")
    if watch.foreign:
        valid.append(f"{len(watch.foreign)} other Manim process(es) ran during the benchmark")
    mark = {True: "pass", False: "miss"}
    rows = [
        ("(a) cold render", a, f"(a)/(d) = {a / d:.3f}", "≤ 0.35", mark[a / d <= TARGETS["a/d"]]),
        ("(b) unchanged re-render", b, f"(b)/(a) = {b / a:.4f}", "(b) < 3 s", mark[b < TARGETS["b"]]),
    ]
    for act, c, states, _ in edits:
        name = (
            f"(c) narration of beat {args.edit_beat} of act `{act}` edited (that act's jobs: {states.get(act, '?')} s)"
        )
        rows.append((name, c, f"(c)/(a) = {c / a:.3f}", "≤ 0.35", mark[c / a <= TARGETS["c/a"]]))
    rows.append((f"(d) plain `manim`, {len(scenes)} scene(s), one process", d, "", "", ""))
    print()
    for name, seconds, ratio, target, result in rows:
        print(f"{name:<72} {seconds:8.2f} s  {ratio:<18} {target:<10} {result}")
    print(f"max load average {watch.max_load:.1f}")
    for problem in valid:
        print(f"WARNING: {problem}")
    for line in sorted(watch.foreign):
        print(f"  other: {line}")

    if not args.no_write:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        length = re.search(r"\(([\d.]+) s of video", out_a)
        lines = [
            "",
            f"### -q {q}, {scope}: {now}",
            "",
            f"Machine: {os.cpu_count()} cores (nproc), {platform.machine()}, Python {platform.python_version()}; "
            f"ncfvid {git_revision()}; storyboard `{source.relative_to(ROOT)}`"
            + (f" ({length.group(1)} s of video)" if length else "")
            + f"; ncfvid jobs: {args.jobs or 'default (cores)'}.",
            "",
            "| step | seconds | ratio | target | result |",
            "|---|---:|---|---|---|",
            *(f"| {n} | {s:.2f} | {r} | {t} | {m} |" for n, s, r, t, m in rows),
            "",
            "Act times in (a) (seconds, first job start to last job end; jobs side by side): "
            + ", ".join(f"{k} {v}" for k, v in states_a.items())
            + f".{check_note(out_a)}",
            f"Max load average during the run: {watch.max_load:.1f}.",
        ]
        lines += [f"(c) `{act}`:{note}" for act, _, _, note in edits if note]
        lines += [f"**Disturbed run:** {problem}." for problem in valid]
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n".join(lines) + "\n")
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def check_note(output: str) -> str:
    """What `ncfvid render`'s layout check says it checked."""
    match = re.search(r"Checked (\d+) beats: no layout problems", output)
    return f" Layout check: {match.group(1)} beats, from the layouts the render jobs recorded." if match else ""


if __name__ == "__main__":
    main()
