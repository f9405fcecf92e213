"""How well the narration can be understood, and what the voice costs, for each speech engine (issue 11).

Usage: .venv/bin/python bench/intelligibility.py [--storyboard storyboards/ncf.yaml] [-q l]
                                                [--engines festival,espeak] [--rounds N] [--no-write]

For each engine, in one run, one after another (with --rounds N, the engines take turns N times and
every figure is reported per round):

  cold    `ncfvid render STORY -q l --engine E -o TMP/E` into a fresh output folder (trains the model,
          synthesises every line, renders every act), timed
  again   the same command, nothing changed: how many lines it synthesised (by any of its processes:
          the speech cache's log, ncfvid.speech.entries.note_synthesis) and how long it took
  edit    one narration line edited (the first beat of the middle act, "Well, " put before it), then
          the same command: how many lines it synthesised
  WER     the cold render's video: its audio decoded (PyAV) to 16 kHz mono, cut at each caption cue of
          its .srt, and each piece put through PocketSphinx (its own en-us model, no other set-up);
          the word error rate of the recognised words against the cue's text, per cue and over all cues
          (the total of word errors over the total of caption words)

The cue text is normalised the way a listener would write down what they hear: lower case, no
punctuation, hyphens and slashes between words as spaces, numbers as words ("4.2" -> "four point
two") and all-capital abbreviations as letters ("NCF" -> "n c f"); the recogniser's words the same way.

Prints the figures, the cold-render ratio against the first engine's (espeak's, as the issue asks),
and appends a section to bench/results.md (unless --no-write).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))  # tests/srt.py reads SRT back

import yaml  # noqa: E402
from render import Watch, edit_narration, git_revision, timed  # noqa: E402  (bench/render.py)
from srt import read_srt  # noqa: E402  (tests/srt.py)

from ncfvid.speech.entries import synthesis_count  # noqa: E402
from ncfvid.subtitles import Cue  # noqa: E402

NCFVID = Path(sys.executable).parent / "ncfvid"
RESULTS = ROOT / "bench" / "results.md"
RATE = 16000  # PocketSphinx's en-us model
TARGETS = {"wer": 0.35, "bad_cue": 0.90, "cold_ratio": 1.3}

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split()
)
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [str(n)]


def normalise(text: str) -> list[str]:
    """What a listener would write down for `text`, as lower-case words."""
    words: list[str] = []
    for token in re.split(r"[\s/—–]+|(?<=\w)-(?=\w)", text):
        token = token.strip(".,;:!?\"'()[]{}«»“”‘’…")
        if not token:
            continue
        number = re.fullmatch(r"(\d[\d,]*)(?:\.(\d+))?", token)
        if number:
            words += number_words(int(number.group(1).replace(",", "")))
            if number.group(2):
                words += ["point", *(_ONES[int(d)] for d in number.group(2))]
            continue
        bare = re.sub(r"[^\w']", "", token)
        if re.fullmatch(r"[A-Z]{2,}s?", bare):  # an abbreviation is said letter by letter
            words += [ch.lower() for ch in bare.rstrip("s")] + (["s"] if bare.endswith("s") else [])
            continue
        if bare:
            words.append(bare.lower())
    return words


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def audio_16k(video: Path) -> bytes:
    import av

    chunks = []
    with av.open(str(video)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(stream):
            chunks += [out.to_ndarray().tobytes() for out in resampler.resample(frame)]
        chunks += [out.to_ndarray().tobytes() for out in resampler.resample(None)]
    return b"".join(chunks)


@dataclass
class CueScore:
    cue: Cue
    heard: str
    errors: int
    words: int

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)


def recognise(video: Path) -> list[CueScore]:
    """PocketSphinx on the video's audio, cut at each caption cue."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    pcm = audio_16k(video)
    scores = []
    for cue in read_srt(video.with_suffix(".srt").read_text(encoding="utf-8")):
        piece = pcm[int(cue.start * RATE) * 2 : int(cue.end * RATE) * 2]
        decoder.start_utt()
        decoder.process_raw(piece, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        heard = hyp.hypstr if hyp is not None else ""
        reference = normalise(cue.text)
        scores.append(CueScore(cue, heard, edit_distance(reference, normalise(heard)), len(reference)))
    return scores


def syntheses(out: Path) -> int:
    """Lines synthesised into the output's speech cache so far, by any process (its log)."""
    return synthesis_count(out / "cache" / "speech")


def spoke(output: str) -> str:
    match = re.search(r"Spoke (\d+) of (\d+) line", output)
    return f"{match.group(1)} of {match.group(2)}" if match else "0"


@dataclass
class Run:
    engine: str
    cold: float = 0.0
    cold_synthesised: int = -1
    again: float = 0.0
    again_synthesised: int = -1
    edit: float = 0.0
    edit_synthesised: int = -1
    scores: list[CueScore] = field(default_factory=list)

    @property
    def wer(self) -> float:
        return sum(s.errors for s in self.scores) / max(sum(s.words for s in self.scores), 1)

    @property
    def bad_cues(self) -> int:
        return sum(1 for s in self.scores if s.wer >= TARGETS["bad_cue"])


def measure(engine: str, source: Path, quality: str, tmp: Path, edit_act: str) -> Run:
    folder = tmp / engine
    folder.mkdir()
    story = folder / source.name
    shutil.copy(source, story)
    out = folder / "out"
    command = [str(NCFVID), "render", story.name, "-q", quality, "--engine", engine, "-o", str(out)]
    run = Run(engine)
    run.cold, output = timed(command, folder, log=folder / "cold.log")
    video = out / f"{source.stem}.mp4"
    run.scores = recognise(video)
    run.cold_synthesised = syntheses(out)
    before = syntheses(out)
    run.again, output = timed(command, folder, log=folder / "again.log")
    run.again_synthesised = syntheses(out) - before
    edit_narration(story, edit_act)
    before = syntheses(out)
    run.edit, output = timed(command, folder, log=folder / "edit.log")
    run.edit_synthesised = syntheses(out) - before
    print(
        f"  {engine:<9} cold {run.cold:6.1f} s ({run.cold_synthesised} synthesised)   "
        f"again {run.again:5.1f} s ({run.again_synthesised} synthesised)   "
        f"edit {run.edit:5.1f} s ({run.edit_synthesised} synthesised)   WER {run.wer:.1%}, "
        f"{run.bad_cues} of {len(run.scores)} cues at >= 90%",
        flush=True,
    )
    return run


def report(runs: list[list[Run]], engines: list[str], source: Path, quality: str, watch: Watch) -> str:
    rounds = len(runs)
    base = engines[-1] if "espeak" not in engines else "espeak"
    lines = [
        f"### Intelligibility and voice cost, {source.relative_to(ROOT)} at -q{quality} "
        f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`bench/intelligibility.py`, {rounds} round(s), engines in turn; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, ncfvid at {git_revision()}. Highest 1-minute load average "
        f"during the run: {watch.max_load:.1f}"
        + (
            f"; other Manim renders ran meanwhile ({len(watch.foreign)} seen): the machine was shared"
            if watch.foreign
            else ""
        )
        + ".",
        "",
        "| engine | round | WER over all cues (≤ 35 %) | cues at ≥ 90 % (none) | cold render (lines synthesised) | "
        f"cold / {base} cold (≤ 1.3) | unchanged re-render: lines synthesised | one line edited: lines synthesised |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index, round_runs in enumerate(runs, 1):
        cold_base = next(r.cold for r in round_runs if r.engine == base)
        for run in round_runs:
            lines.append(
                f"| {run.engine} | {index} | {run.wer:.1%} | {run.bad_cues} of {len(run.scores)} | {run.cold:.1f} s "
                f"({run.cold_synthesised}) | "
                f"{run.cold / cold_base:.2f} | {run.again_synthesised} ({run.again:.1f} s) | "
                f"{run.edit_synthesised} ({run.edit:.1f} s) |"
            )
    for engine in engines:
        ratios = [
            next(r.cold for r in rr if r.engine == engine) / next(r.cold for r in rr if r.engine == base) for rr in runs
        ]
        if engine != base:
            lines.append("")
            lines.append(f"{engine} cold / {base} cold: median {statistics.median(ratios):.2f} over {rounds} round(s).")
    last = runs[-1]
    lines += ["", "<details><summary>WER per cue (last round)</summary>", ""]
    lines.append("| cue | text | " + " | ".join(f"{r.engine} WER | {r.engine} heard" for r in last) + " |")
    lines.append("|---:|---|" + "---:|---|" * len(last))
    for i in range(max(len(r.scores) for r in last)):
        text = next((r.scores[i].cue.text for r in last if i < len(r.scores)), "").replace("\n", " ")
        cells = []
        for run in last:
            if i < len(run.scores):
                score = run.scores[i]
                cells += [f"{score.wer:.0%}", score.heard.replace("|", "/")]
            else:
                cells += ["", ""]
        lines.append(f"| {i + 1} | {text.replace('|', '/')} | " + " | ".join(cells) + " |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quality", choices=["l", "m", "h"], default="l")
    parser.add_argument("--storyboard", type=Path, default=ROOT / "storyboards" / "ncf.yaml")
    parser.add_argument("--engines", default="espeak,festival", help="comma-separated, in the order they run")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/results.md")
    args = parser.parse_args()

    source = args.storyboard.resolve()
    acts = [act["id"] for act in yaml.safe_load(source.read_text(encoding="utf-8"))["acts"]]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="ncfvid-intelligibility-"))
    watch = Watch(tag=str(tmp)).start()
    print(f"bench: {source.relative_to(ROOT)} at -q{args.quality}, engines {', '.join(engines)}, in {tmp}")
    runs = []
    try:
        for index in range(args.rounds):
            round_dir = tmp / f"round-{index + 1}"
            round_dir.mkdir()
            runs.append([measure(e, source, args.quality, round_dir, acts[len(acts) // 2]) for e in engines])
    finally:
        watch.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = report(runs, engines, source, args.quality, watch)
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
