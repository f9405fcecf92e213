"""Festival as long-lived processes: speech with each word's start and end, and nothing of Manim.

Starting Festival and loading a voice takes about a second, so a `FestivalProcess` is started once
and then reads one Scheme command per line of narration from a pipe (``festival --pipe``): it
synthesises the text as one utterance, saves the wave and prints, for each word with sound, the
index of its text token and the times its first segment starts and its last segment ends (from the
utterance's Word and Segment relations). A `FestivalPool` holds one process per core for the lines
synthesised ahead of a render (`ncfvid.speech.ahead`).

Text goes to Festival as plain ASCII (`speakable`): accents are dropped, dashes become a comma,
curly quotes straight ones, and what Festival cannot say (emoji, symbols, other scripts) a space;
each Festival token keeps the index of the narration token it came from, so word times map back to
the narration however the text was cleaned. Festival's own text analysis reads numbers, dates and
abbreviations.

Kept apart from the manim-voiceover service (`ncfvid.speech.festival`) so that checking that
Festival is installed, and synthesising ahead of a render, do not import Manim.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
import unicodedata
import wave
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ncfvid.speech import (
    EngineUnavailable,
    is_word,
    token_spans,
)

DEFAULT_VOICE = "cmu_us_slt_arctic_hts"
#: Debian packages of Festival voices, for the install hint.
VOICE_PACKAGES = {
    "cmu_us_slt_arctic_hts": "festvox-us-slt-hts",
    "kal_diphone": "festvox-kallpc16k",
    "ked_diphone": "festvox-kdlpc16k",
}
#: The language each of those voices speaks (for the video's subtitle track).
VOICE_LANGUAGES = {"cmu_us_slt_arctic_hts": "en-us", "kal_diphone": "en-us", "ked_diphone": "en-us"}
VOICE_DIRS = ("/usr/share/festival/voices", "/usr/lib/festival/voices", "/usr/local/share/festival/voices")
#: Words per minute of cmu_us_slt_arctic_hts at its own speed, measured over the narration of
#: storyboards/ncf.yaml (words / seconds from the first word's start to the last word's end).
NATURAL_RATE = 163.0
#: Bumped when the files or word times this module makes change, so old cache entries are not used.
FORMAT_VERSION = 1
START_SECONDS = 30.0  # the longest a process may take to start and load its voice
SECONDS_PER_CHAR = 0.25  # and to speak a line: generous, the machine may be busy; only a hang ends it
END = "@@ncfvid-end"
SILENT_RATE, SILENT_SECONDS = 16000, 0.1  # a line with nothing to say
PENDING_WAIT = 300.0  # the longest a job waits for a line a render is synthesising ahead

#: Scheme run once per process, after the voice is chosen. `ncfvid_say` speaks one line: it sets the
#: speed (HTS voices through hts_engine's -r, the others through Duration_Stretch), synthesises,
#: saves the wave and prints "W <token index> <start> <end>" for every word that has segments.
SCHEME = r"""
(defvar hts_engine_params nil)
(set! ncfvid_hts_base hts_engine_params)
(define (ncfvid_words utt)
  (let ((tok (utt.relation.first utt 'Token)) (i 0))
    (while tok
      (mapcar
       (lambda (w)
         (if (item.daughter1 (item.relation w 'SylStructure))
             (format t "W %d %f %f\n" i
                     (item.feat w "R:SylStructure.daughter1.daughter1.segment_start")
                     (item.feat w "R:SylStructure.daughtern.daughtern.segment_end"))))
       (item.daughters tok))
      (set! i (+ i 1))
      (set! tok (item.next tok)))))
(define (ncfvid_say text wavfile speed)
  (set! hts_engine_params (append ncfvid_hts_base (list (list "-r" speed))))
  (Parameter.set 'Duration_Stretch (/ 1.0 speed))
  (let ((utt (eval (list 'Utterance 'Text text))))
    (utt.synth utt)
    (utt.save.wave utt wavfile 'riff)
    (ncfvid_words utt)))
"""

# Characters Festival should hear as something else (after NFKD has split accents off letters).
_REPLACE = {
    "\u2014": ", ",  # em dash: a pause, as a comma gives
    "\u2013": ", ",  # en dash
    "\u2015": ", ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2026": "...",
    "\u00a0": " ",
}


class SynthesisError(RuntimeError):
    """Festival failed while speaking."""


OTHER_ENGINE = "or speak with espeak-ng (`engine: espeak` under `voice:`, or --engine espeak)"


def install_hint(voice: str = DEFAULT_VOICE) -> str:
    package = VOICE_PACKAGES.get(voice, "the festvox package of that voice")
    return f"`apt-get install festival {package}`, {OTHER_ENGINE}"


@functools.cache
def festival_program() -> str | None:
    return shutil.which("festival")


def _voice_installed(voice: str) -> bool:
    """Whether `voice` is in one of Festival's usual voice folders (<root>/<language>/<voice>/festvox)."""
    return any(next(Path(root).glob(f"*/{voice}/festvox"), None) is not None for root in VOICE_DIRS)


@functools.cache
def _festival_knows(voice: str) -> bool:
    """Ask Festival itself (slow: starts it) whether it has `voice`; for voices outside VOICE_DIRS."""
    program = festival_program()
    if program is None:
        return False
    try:
        done = subprocess.run(
            [program, "--pipe"],
            input=b'(format t "%l\\n" (voice.list))\n',
            capture_output=True,
            timeout=START_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return voice in done.stdout.decode("utf-8", "replace").strip("()\n").split()


def check_available(voice: str = DEFAULT_VOICE) -> None:
    """Raise EngineUnavailable (one line, with the Debian package to install) unless Festival can
    speak with `voice` here."""
    if festival_program() is None:
        raise EngineUnavailable(f"Festival is not installed: run {install_hint(voice)}")
    if _voice_installed(voice) or _festival_knows(voice):
        return
    if voice in VOICE_PACKAGES:
        raise EngineUnavailable(f"the Festival voice {voice!r} is not installed: run {install_hint(voice)}")
    raise EngineUnavailable(
        f"Festival has no voice {voice!r}: install the festvox package that has it, leave `voice:` out "
        f"for {DEFAULT_VOICE}, {OTHER_ENGINE}"
    )


@functools.cache
def festival_version() -> str:
    """Festival's version line and a signature of the voice files: part of every cache key."""
    program = festival_program()
    if program is None:
        return "missing"
    try:
        done = subprocess.run([program, "--version"], capture_output=True, timeout=START_SECONDS, check=False)
        version = done.stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    return version


@functools.cache
def voice_signature(voice: str) -> str:
    """The size and time of the voice's files: changes when the voice package is upgraded."""
    total, latest = 0, 0.0
    for root in VOICE_DIRS:
        for folder in Path(root).glob(f"*/{voice}"):
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    total += stat.st_size
                    latest = max(latest, stat.st_mtime)
    return f"{total}-{int(latest)}"


# --- text ------------------------------------------------------------------------------------------


def _ascii(char: str) -> str:
    if char in _REPLACE:
        return _REPLACE[char]
    if char.isspace():
        return " "
    if " " <= char <= "~":
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    return plain if plain and plain.isprintable() else " "


def speakable(plain: str) -> tuple[str, list[int]]:
    """What Festival is given for `plain`, and for each of its whitespace-separated tokens the index
    of the token of `plain` (`ncfvid.speech.token_spans`) it came from."""
    chunks: list[str] = []
    origin: list[int] = []
    for index, (start, end) in enumerate(token_spans(plain)):
        for chunk in "".join(_ascii(ch) for ch in plain[start:end]).split():
            chunks.append(chunk)
            origin.append(index)
    return " ".join(chunks), origin


def scheme_string(text: str) -> str:
    """`text` as a Scheme string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- processes -------------------------------------------------------------------------------------


@dataclass
class Synthesis:
    """What Festival produced for one line."""

    pcm: bytes
    sample_rate: int
    #: (token index in `plain`, start, end) in seconds, for each token with sound, in order
    words: list[tuple[int, float, float]] = field(default_factory=list)


class FestivalProcess:
    """One Festival with `voice` loaded, speaking line after line (thread-safe, one line at a time)."""

    def __init__(self, voice: str = DEFAULT_VOICE) -> None:
        check_available(voice)
        self.voice = voice
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="ncfvid-festival-"))
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [festival_program() or "festival", "--pipe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            cwd=self.folder,
            start_new_session=True,  # a Ctrl-C reaches ncfvid, which ends it
        )
        self._buffer = b""
        self.lines = 0
        check = f'(voice_{voice})\n{SCHEME}\n(format t "voice %s\\n" current-voice)'
        reply = self._run(check, START_SECONDS)
        if f"voice {voice}" not in reply:
            self.close()
            raise EngineUnavailable(f"Festival cannot load the voice {voice!r}: run {install_hint(voice)}")

    def _run(self, command: str, timeout: float) -> str:
        """Send `command`, return what Festival printed until it finished it."""
        if self.process.poll() is not None:
            raise SynthesisError(f"Festival stopped (exit status {self.process.returncode}){self._stderr_tail()}")
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(f'{command}\n(format t "\\n{END}\\n")\n(fflush nil)\n'.encode("ascii"))
            self.process.stdin.flush()
        except OSError as err:
            raise SynthesisError(f"Festival stopped ({err}){self._stderr_tail()}") from None
        deadline = time.monotonic() + timeout
        marker = f"\n{END}\n".encode()
        fd = self.process.stdout.fileno()
        while marker not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise SynthesisError(f"Festival did not answer within {timeout:.0f} s and was stopped")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise SynthesisError(f"Festival stopped (exit status {self.process.wait()}){self._stderr_tail()}")
            self._buffer += chunk
        reply, _, self._buffer = self._buffer.partition(marker)
        return reply.decode("utf-8", "replace")

    def _stderr_tail(self) -> str:
        try:
            self.errors.seek(0)
            lines = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return f": {lines[-1][:200]}" if lines else ""

    def speak(self, text: str, speed: float = 1.0) -> Synthesis:
        """Synthesise `text` (already `speakable`) at `speed` (1 = the voice's own)."""
        with self.lock:
            self.lines += 1
            wav_path = self.folder / f"line-{self.lines}.wav"
            command = f"(ncfvid_say {scheme_string(text)} {scheme_string(str(wav_path))} {speed:.4f})"
            reply = self._run(command, START_SECONDS + SECONDS_PER_CHAR * len(text))
            try:
                with wave.open(str(wav_path), "rb") as wav:
                    pcm = wav.readframes(wav.getnframes())
                    rate = wav.getframerate()
                    width, channels = wav.getsampwidth(), wav.getnchannels()
            except (OSError, wave.Error, EOFError):
                raise SynthesisError(f"Festival made no sound for {text[:60]!r}{self._stderr_tail()}") from None
            finally:
                wav_path.unlink(missing_ok=True)
        if width != 2 or channels != 1:
            raise SynthesisError(f"Festival wrote {channels} channel(s) of {8 * width}-bit audio, not 16-bit mono")
        words = []
        for line in reply.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] == "W":
                words.append((int(parts[1]), float(parts[2]), float(parts[3])))
        return Synthesis(pcm, rate, words)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                if self.process.stdin is not None:
                    self.process.stdin.close()
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.errors.close()
        shutil.rmtree(self.folder, ignore_errors=True)


T = TypeVar("T")
R = TypeVar("R")


class FestivalPool:
    """Up to `size` Festival processes with one voice, started as work arrives, each speaking a line
    at a time; `map` spreads lines over them."""

    def __init__(self, voice: str = DEFAULT_VOICE, size: int = 1) -> None:
        self.voice = voice
        self.size = max(1, size)
        self._idle: list[FestivalProcess] = []
        self._all: list[FestivalProcess] = []
        self._lock = threading.Lock()
        self._free = threading.Semaphore(self.size)

    def speak(self, text: str, speed: float = 1.0) -> Synthesis:
        with self._free:
            with self._lock:
                process = self._idle.pop() if self._idle else None
            if process is None:
                process = FestivalProcess(self.voice)
                with self._lock:
                    self._all.append(process)
            try:
                return process.speak(text, speed)
            finally:
                with self._lock:
                    if process.process.poll() is None:
                        self._idle.append(process)

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`work` on each item, `size` at a time (`work` calls `speak`)."""
        todo = list(items)
        if self.size == 1 or len(todo) <= 1:
            return [work(item) for item in todo]
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            return list(pool.map(work, todo))

    def close(self) -> None:
        with self._lock:
            processes, self._all, self._idle = self._all, [], []
        for process in processes:
            process.close()

    def __enter__(self) -> FestivalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- word times ------------------------------------------------------------------------------------


def token_times(
    plain: str, origin: Sequence[int], words: Sequence[tuple[int, float, float]]
) -> dict[int, tuple[float, float]]:
    """Token index of `plain` -> (start, end) of its sound, from Festival's words (whose token
    indexes are those of the speakable text, `origin` maps them back)."""
    times: dict[int, tuple[float, float]] = {}
    for chunk, start, end in words:
        if not 0 <= chunk < len(origin) or end <= start:
            continue
        token = origin[chunk]
        if token in times:
            old_start, old_end = times[token]
            times[token] = (min(old_start, start), max(old_end, end))
        else:
            times[token] = (start, end)
    return times


def word_spans(plain: str, times: dict[int, tuple[float, float]]) -> list[tuple[int, float, float]]:
    """(token start offset, start, end) for each word token of `plain`; a word Festival gave no sound
    (an emoji, a symbol) gets a zero-length span where its neighbours leave off."""
    spans = token_spans(plain)
    result: list[tuple[int, float, float]] = []
    for index, (start, end) in enumerate(spans):
        if index in times:
            result.append((start, *times[index]))
        elif is_word(plain[start:end]):
            later = [times[i][0] for i in range(index + 1, len(spans)) if i in times]
            before = result[-1][2] if result else (later[0] if later else 0.0)
            result.append((start, before, before))
    return result
