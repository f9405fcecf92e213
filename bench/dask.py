"""Benchmark the Dask executor against the local one (issue 17), in one run on this machine.

Usage: .venv/bin/python bench/dask.py [-q l|h] [--rounds N] [--no-write] [STORYBOARD ...]

Each round renders the storyboards (default: storyboards/ncf.yaml and storyboards/bookclub.yaml) cold,
in one command (`ncfvid render A B -q X -o TMP/...`: one set of jobs), twice:
  local  the local executor (this machine's fork server, --jobs = cores)
  dask   `--scheduler tcp://...` on a cluster started for the round: a `dask scheduler` and one
         `dask worker --nthreads 1 --no-nanny` process per core, each a separate process, with a fresh
         scratch folder (NCFVID_WORKER_CACHE): cold on the workers too. The cluster's start is not
         timed (a cluster runs before renders come); the workers' fork servers start within the render.
Rounds alternate the order (local first, then dask first, ...) so that drift on a shared machine
weighs on both. It prints each time and Dask's overhead (dask / local - 1, target at most 15 %),
checks that both modes give the same frames and sound for every storyboard, and appends a section
to bench/results.md (unless --no-write), with the load average seen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this file is bench/dask.py: its folder first on sys.path would hide the dask package
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.md"
TARGET = 0.15


class Cluster:
    """A scheduler and `workers` single-thread workers as separate processes, killed on close."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        env = {**os.environ, "NCFVID_WORKER_CACHE": str(folder / "scratch")}
        info = folder / "scheduler.json"
        self._start(
            folder, "scheduler", ["scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)], env
        )
        deadline = time.monotonic() + 60
        while not info.is_file():
            if time.monotonic() > deadline:
                self.close()
                raise SystemExit("the Dask scheduler did not start: see " + str(folder / "scheduler.log"))
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(info.read_text())["address"]
        for n in range(workers):
            command = ["worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
            self._start(folder, f"worker-{n}", command, env)
        try:
            from distributed import Client

            with Client(self.address, timeout=30) as client:
                client.wait_for_workers(workers, timeout=120)
        except BaseException:
            self.close()
            raise

    def _start(self, folder: Path, name: str, arguments: list[str], env: dict[str, str]) -> None:
        log = (folder / f"{name}.log").open("wb")
        command = [str(BIN / "dask"), *arguments]
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        )

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


class Load:
    """The highest load average seen while it runs (sampled every 2 s)."""

    def __init__(self) -> None:
        self.max = 0.0
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.max = max(self.max, os.getloadavg()[0])
            self._stop.wait(2)

    def stop(self) -> float:
        self._stop.set()
        return self.max


def render(storyboards: list[Path], quality: str, out: Path, *extra: str) -> float:
    command = [str(BIN / "ncfvid"), "render", *map(str, storyboards), "-q", quality, "-o", str(out), *extra]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    (out.parent / f"{out.name}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(
            f"failed ({result.returncode}): {' '.join(command)}\n{(result.stdout + result.stderr)[-3000:]}"
        )
    return seconds


def digest(video: Path) -> tuple[str, str, int]:
    """SHA-256 of the decoded frames and of the decoded sound, and the frame count."""
    import av

    frames, sound, count = hashlib.sha256(), hashlib.sha256(), 0
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            frames.update(frame.to_ndarray(format="rgb24").tobytes())
            count += 1
    with av.open(str(video)) as container:
        for chunk in container.decode(audio=0):
            sound.update(chunk.to_ndarray().tobytes())
    return frames.hexdigest(), sound.hexdigest(), count


def video_of(out: Path, storyboard: Path, several: bool) -> Path:
    stem = storyboard.name.removesuffix(".yaml")
    return (out / stem if several else out) / f"{stem}.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "storyboards", nargs="*", type=Path, default=[Path("storyboards/ncf.yaml"), Path("storyboards/bookclub.yaml")]
    )
    parser.add_argument("-q", "--quality", default="l", choices=["l", "m", "h", "k"])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (local, dask), alternating the order")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Dask workers (default: cores)")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/results.md")
    args = parser.parse_args()
    storyboards = [path if path.is_absolute() else ROOT / path for path in args.storyboards]
    several = len(storyboards) > 1
    times: dict[str, list[float]] = {"local": [], "dask": []}
    digests: dict[str, dict[str, tuple[str, str, int]]] = {}
    load = Load()
    with tempfile.TemporaryDirectory(prefix="ncfvid-bench-dask-") as temp:
        tmp = Path(temp)
        for round_ in range(args.rounds):
            order = ["local", "dask"] if round_ % 2 == 0 else ["dask", "local"]
            for mode in order:
                out = tmp / f"{mode}-{round_}"
                if mode == "local":
                    seconds = render(storyboards, args.quality, out)
                else:
                    folder = tmp / f"cluster-{round_}"
                    folder.mkdir()
                    cluster = Cluster(folder, args.workers)
                    try:
                        seconds = render(storyboards, args.quality, out, "--scheduler", cluster.address)
                    finally:
                        cluster.close()
                times[mode].append(seconds)
                print(f"round {round_ + 1}: {mode:<5} {seconds:6.1f} s", flush=True)
                if round_ == 0:
                    digests[mode] = {s.name: digest(video_of(out, s, several)) for s in storyboards}
    max_load = load.stop()
    local, dask = sum(times["local"]) / len(times["local"]), sum(times["dask"]) / len(times["dask"])
    overhead = dask / local - 1
    same = {name: digests["local"][name] == digests["dask"][name] for name in digests["local"]}
    print(f"local {local:.1f} s, dask {dask:.1f} s: overhead {overhead:+.1%} (target at most {TARGET:.0%})")
    print("frames and sound equal: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in same.items()))
    if not args.no_write:
        write(args, storyboards, times, overhead, same, digests, max_load)


def write(
    args: argparse.Namespace,
    storyboards: list[Path],
    times: dict[str, list[float]],
    overhead: float,
    same: dict[str, bool],
    digests: dict[str, dict[str, tuple[str, str, int]]],
    max_load: float,
) -> None:
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = ", ".join(f"`{path.relative_to(ROOT)}`" for path in storyboards)
    rows = [
        f"| {mode} | " + ", ".join(f"{s:.1f}" for s in times[mode]) + f" | {sum(times[mode]) / len(times[mode]):.1f} |"
        for mode in ("local", "dask")
    ]
    verdict = "pass" if overhead <= TARGET else "miss"
    frames = ", ".join(
        f"{name}: {'equal' if ok else 'DIFFERENT'} ({digests['local'][name][2]} frames)" for name, ok in same.items()
    )
    text = f"""
### Dask executor against the local one, -q {args.quality}: {now}

Machine: {os.cpu_count()} cores (nproc), {platform.machine()}, Python {platform.python_version()}; ncfvid {revision};
storyboards {names} in one `ncfvid render` command, cold (fresh output folders; fresh worker scratch
folders). Dask: a `dask scheduler` and {args.workers} `dask worker --nthreads 1 --no-nanny` processes on this
machine, started before each Dask render (not timed). The machine was shared with other helpers'
renders and tests (max load average {max_load:.1f}), so the times are noisy; rounds alternate the order.

| executor | seconds per round | mean |
|---|---|---:|
{chr(10).join(rows)}

Dask's overhead: {overhead:+.1%} (target at most {TARGET:.0%}: {verdict}). Frames and sound, local against Dask
(decoded, SHA-256): {frames}.
"""
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(text)
    print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
