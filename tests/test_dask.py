"""Rendering on a Dask cluster (`ncfvid render --scheduler`): a scheduler and two workers started as
separate processes (tests/daskcluster.py) render the tiny storyboard with Festival's voice into
frames and sound equal to a local render's; a worker killed mid-render still leaves a complete,
equal video; an unreachable scheduler, a scheduler without workers and a worker of another version
are one line each; `--scheduler local` renders on a LocalCluster. A clip that comes back damaged
never enters the cache and is drawn again (fast tests at the end). Slow: `-m render`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from daskcluster import FAKE_VERSION, Cluster, dask_cluster, running_manim
from test_cache import NCFVID, TINY, act_states, assert_same_video

import ncfvid
from ncfvid.executors import SCHEDULER_ENV, scheduler_from
from ncfvid.executors.payload import DrawnClip
from ncfvid.executors.received import BadResult, unpack

RENDER = pytest.mark.render
SUMMARY = "1 error, 0 warnings"  # the line every error report ends with


def render(folder: Path, *extra: str, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    """`ncfvid render tiny.yaml -q l --engine festival -o out [extra]` in a folder of its own (a
    LocalCluster's workers keep their scratch folder in it too)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY, folder / "tiny.yaml")
    command = [str(NCFVID), "render", "tiny.yaml", "-q", "l", "--engine", "festival", "-o", "out", *extra]
    env = {**os.environ, "NCFVID_WORKER_CACHE": str(folder / "scratch")}
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=env)
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny storyboard rendered on this machine (the local executor)."""
    folder = tmp_path_factory.mktemp("local")
    result = render(folder)
    assert result.returncode == 0, result.stderr
    return folder / "out"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    with dask_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def assert_same_render(out: Path, reference: Path) -> None:
    assert_same_video(reference / "tiny.mp4", out / "tiny.mp4")
    assert (out / "tiny.srt").read_bytes() == (reference / "tiny.srt").read_bytes()


@RENDER
def test_a_render_on_two_workers_equals_a_local_render(cluster: Cluster, reference: Path, tmp_path: Path) -> None:
    result = render(tmp_path, "--scheduler", cluster.address)
    assert result.returncode == 0, result.stderr
    assert act_states(result.stdout) == {"intro": "done", "answer": "done"}
    assert_same_render(tmp_path / "out", reference)
    # the workers spoke the lines, into their machine's store; the coordinator spoke none
    assert not (tmp_path / "out" / "cache" / "speech").exists()
    assert list(cluster.scratch.glob("*/cache/speech/festival-*.wav"))
    # the clips came back with their layout records: the coordinator checked every beat's layout
    assert "Checked 4 beats: no layout problems" in result.stdout


@RENDER
def test_two_storyboards_render_on_the_cluster_named_by_the_environment(
    cluster: Cluster, reference: Path, tmp_path: Path
) -> None:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    shutil.copy(TINY, tmp_path / "twin.yaml")
    command = [str(NCFVID), "render", "tiny.yaml", "twin.yaml", "-q", "l", "--engine", "festival", "-o", "out"]
    env = {**os.environ, SCHEDULER_ENV: cluster.address}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "2 of 2 storyboards rendered" in result.stdout
    assert_same_render(tmp_path / "out" / "tiny", reference)
    assert_same_video(reference / "tiny.mp4", tmp_path / "out" / "twin" / "twin.mp4")
    assert {path.parent.parent.name.split("-")[0] for path in cluster.scratch.glob("*/logs/*.log")} >= {"tiny", "twin"}


@RENDER
def test_killing_a_worker_mid_render_still_ends_with_a_complete_video(
    cluster: Cluster, reference: Path, tmp_path: Path
) -> None:
    """Runs last of the cluster's tests: it leaves the cluster one worker short."""
    process = render(tmp_path, "--scheduler", cluster.address, wait=False)
    assert isinstance(process, subprocess.Popen)
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and process.poll() is None and time.monotonic() < deadline:
        victim = next((worker for worker in cluster.workers if running_manim(worker)), None)
        time.sleep(0.02)
    assert victim is not None, "no worker ever ran Manim"
    victim.kill()  # no nanny: the worker is gone; its fork server and Manim run end with it
    victim.wait()  # reaped: a zombie would still own its lines in the speech store's pending list
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert act_states(stdout) == {"intro": "done", "answer": "done"}
    assert_same_render(tmp_path / "out", reference)


@RENDER
def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    assert_cannot_reach(tmp_path, port, "no answer within 5 s")
    result = render(tmp_path, "--scheduler", "render-1")  # no port: refused before Dask is asked
    assert result.stderr.strip().splitlines() == [
        "--scheduler: error: 'render-1' is not a Dask scheduler's address: give tcp://HOST:PORT (or 'local')",
        SUMMARY,
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (None, "no answer within 5 s"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4, "what answers there is not a Dask scheduler"),
    ],
    ids=["accepts-and-stays-silent", "answers-something-else"],
)
def test_a_port_that_is_no_scheduler_is_one_line(tmp_path: Path, answer: bytes | None, reason: str) -> None:
    """Dask's timeout covers the TCP connection only: a port that accepts and never answers hung the
    render for good, and one that answers something else printed Dask's traceback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)  # the kernel accepts connections; nothing reads them ...
        port = server.getsockname()[1]

        def reply() -> None:  # ... or something that is not Dask answers
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                conn.sendall(answer or b"")

        if answer is not None:
            threading.Thread(target=reply, daemon=True).start()
        assert_cannot_reach(tmp_path, port, reason)


def assert_cannot_reach(folder: Path, port: int, reason: str) -> None:
    """A render sent to tcp://127.0.0.1:PORT fails within 20 s with one line giving `reason`, and
    writes no video."""
    started = time.monotonic()
    result = render(folder, "--scheduler", f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"--scheduler: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} ({reason}): "
        "start one with `dask scheduler`, or check the address",
        SUMMARY,
    ]
    assert not (folder / "out" / "tiny.mp4").exists()


@RENDER
def test_no_workers_then_a_worker_of_another_version_are_refused(tmp_path: Path) -> None:
    with dask_cluster(tmp_path / "cluster", workers=0) as lonely:
        result = render(tmp_path / "a", "--scheduler", lonely.address)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"--scheduler: error: the Dask scheduler at {lonely.address} has no workers (waited 5 s): "
            f"start some with `dask worker {lonely.address}`",
            SUMMARY,
        ]
        lonely.start_worker("--preload", str(FAKE_VERSION))
        lonely.wait_for_workers(1)
        result = render(tmp_path / "b", "--scheduler", lonely.address)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines[1:] == [SUMMARY], result.stderr
        assert "--scheduler: error: the Dask worker at tcp://" in lines[0]
        assert "runs ncfvid 0.0.0+elsewhere" in lines[0] and f"this coordinator ncfvid {ncfvid.__version__}" in lines[0]
        assert not list(lonely.scratch.glob("*/logs/*.log"))  # no job ran


@RENDER
def test_a_local_cluster_renders_the_same(reference: Path, tmp_path: Path) -> None:
    result = render(tmp_path, "--scheduler", "local", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert act_states(result.stdout) == {"intro": "done", "answer": "done"}
    assert_same_render(tmp_path / "out", reference)
    assert list((tmp_path / "scratch").glob("*/logs/*.log"))  # drawn by the cluster's workers


def test_the_option_comes_before_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://from-env:8786")
    assert scheduler_from("tcp://from-option:8786") == "tcp://from-option:8786"
    assert scheduler_from(None) == "tcp://from-env:8786"
    monkeypatch.setenv(SCHEDULER_ENV, " ")
    assert scheduler_from(None) is None


def drawn_clip(folder: Path, index: int = 0) -> DrawnClip:
    """A small clip folder as a worker sends it: 12 frames, 1000 samples, empty captions, sums."""
    import wave

    import av
    import numpy as np

    from ncfvid.cacheguard import write_sums

    folder.mkdir(parents=True)
    with av.open(str(folder / "clip.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for n in range(12):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), n * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with wave.open(str(folder / "sound.wav"), "wb") as sound:
        sound.setnchannels(1), sound.setsampwidth(2), sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 1000)
    (folder / "cues.json").write_text("[]")
    (folder / "drawn.json").write_text('{"seconds": 0.1, "state": "s0"}')
    write_sums(folder)
    return DrawnClip(index, {path.name: path.read_bytes() for path in folder.iterdir()}, frames=12, samples=1000)


@pytest.mark.parametrize("damage", ["truncated", "frames", "missing", "stranger"])
def test_a_damaged_clip_never_enters_the_cache(tmp_path: Path, damage: str) -> None:
    """What a worker sends is checked: sums, decoded frames and samples against what it measured."""
    good = drawn_clip(tmp_path / "drawn")
    unpack(good, tmp_path / "good")  # the whole clip passes
    files = dict(good.files)
    if damage == "truncated":  # cut in transfer: its sum no longer matches
        files["clip.mp4"] = files["clip.mp4"][: len(files["clip.mp4"]) // 2]
        bad = DrawnClip(0, files, good.frames, good.samples)
    elif damage == "frames":  # whole, but not what the worker drew
        bad = DrawnClip(0, files, good.frames + 1, good.samples)
    elif damage == "missing":
        del files["sound.wav"]
        bad = DrawnClip(0, files, good.frames, good.samples)
    else:
        bad = DrawnClip(0, {**files, "../escape": b"x"}, good.frames, good.samples)
    with pytest.raises(BadResult, match="beat 1"):
        unpack(bad, tmp_path / "bad")


def test_a_result_that_fails_its_check_is_drawn_again_afresh(tmp_path: Path) -> None:
    """The executor's loop, without a cluster: the first result comes back cut, the second whole."""
    from ncfvid.executors.dask import DaskExecutor
    from ncfvid.executors.payload import TaskResult
    from ncfvid.renderplan import ActJob, BeatClip, RenderSettings
    from ncfvid.rendertask import RenderTask

    good = drawn_clip(tmp_path / "drawn")
    cut = DrawnClip(0, {**good.files, "clip.mp4": good.files["clip.mp4"][:-100]}, good.frames, good.samples)
    results = [TaskResult("tcp://w1", (cut,)), TaskResult("tcp://w2", (good,))]
    sent = []

    class Client:  # stands in for distributed.Client: hands out the results in turn
        def submit(self, function: object, payload: object, **options: object) -> object:
            sent.append(payload)
            result = results[len(sent) - 1]
            return type("Future", (), {"result": lambda self: result})()

    clip = BeatClip("intro", 0, "k0", tmp_path / "out" / "cache" / "beats" / "intro" / "00-k0")
    module = tmp_path / "out" / "scenes.py"
    module.parent.mkdir(parents=True)
    module.write_text("# scenes\n")
    task = RenderTask(
        ActJob("intro", "Act1Intro", (clip,), 1, 1.0, "intro.log"), module, RenderSettings(), module.parent, "intro"
    )
    executor = object.__new__(DaskExecutor)
    executor.client, executor.address = Client(), "tcp://test:8786"
    executor._lock, executor._running = threading.Lock(), {}
    executor.run(task)
    assert [payload.fresh for payload in sent] == [False, True]  # the second time, drawn again
    assert clip.cached and (clip.folder / "clip.mp4").read_bytes() == good.files["clip.mp4"]
    assert (clip.folder.parent.parent / ".states" / "s0").read_text() == "intro/00-k0"  # and indexed
