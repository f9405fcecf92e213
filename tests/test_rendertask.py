"""`render_tasks`, the seam between the planner and the executors: order, progress per label, and
failures and stops per group (one storyboard's trouble leaves the others alone). Fast: the executor
here records what it is asked and fails or blocks on cue; no Manim runs."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

from ncfvid.diagnostics import UserError
from ncfvid.executors import executor_for
from ncfvid.executors.local import LocalExecutor
from ncfvid.renderplan import ActJob, BeatClip, RenderSettings
from ncfvid.rendertask import RenderTask, render_tasks


def task(label: str, group: str, weight: float, beats: int = 1) -> RenderTask:
    act = label.rpartition("/")[2]
    clips = tuple(BeatClip(act, i, f"k{i}", Path(f"/cache/{act}/{i:02d}-k{i}")) for i in range(beats))
    job = ActJob(act, f"Act{act}", clips, beats, weight, log_name=f"{act}.log")
    return RenderTask(job, Path("/out/scenes.py"), RenderSettings(), Path(f"/out/{group}"), label, group)


class FakeExecutor:
    """Runs nothing: records the order, fails the tasks named in `failing`."""

    def __init__(self, slots: int, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.slots, self.failing = slots, failing
        self.ran: list[str] = []
        self.stopped: list[str | None] = []
        self.lock = threading.Lock()

    def run(self, task: RenderTask) -> float:
        with self.lock:
            self.ran.append(task.label)
        if task.label in self.failing:
            raise UserError.single(str(task.module_path), f"act '{task.job.act_id}' failed to render")
        return 0.0

    def stop(self, group: str | None = None) -> None:
        self.stopped.append(group)

    def close(self) -> None:
        pass


def reports() -> tuple[list[tuple[str, str]], object]:
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def report(label: str, state: str, seconds: float | None, log: Path | None = None) -> None:
        with lock:
            seen.append((label, state))

    return seen, report


def test_biggest_first_and_one_report_per_label_state() -> None:
    tasks = [task("a/x", "a", 1.0), task("b/y", "b", 5.0), task("a/z", "a", 3.0), task("a/z", "a", 2.0)]
    executor = FakeExecutor(slots=1)
    seen, report = reports()
    assert render_tasks(tasks, executor, report) == {}
    assert executor.ran == ["b/y", "a/z", "a/z", "a/x"]
    assert seen == [
        ("b/y", "rendering"),
        ("b/y", "done"),
        ("a/z", "rendering"),
        ("a/z", "done"),  # once, after its second task
        ("a/x", "rendering"),
        ("a/x", "done"),
    ]


@pytest.mark.parametrize("slots", [1, 3])
def test_a_failing_group_does_not_stop_the_others(slots: int) -> None:
    tasks = [task("a/x", "a", 4.0), task("a/y", "a", 1.0), task("b/x", "b", 3.0), task("b/y", "b", 2.0)]
    executor = FakeExecutor(slots, failing={"a/x"})
    seen, report = reports()
    failures = render_tasks(tasks, executor, report)
    assert list(failures) == ["a"]
    assert "act 'x' failed to render" in failures["a"][0].message
    assert ("a/x", "failed") in seen
    assert ("b/x", "done") in seen and ("b/y", "done") in seen  # the other storyboard rendered
    if slots == 1:  # run one after another, a failed storyboard's later tasks do not start
        assert "a/y" not in executor.ran


def test_a_stopped_group_starts_no_further_task() -> None:
    tasks = [task("a/x", "a", 4.0), task("b/x", "b", 3.0), task("a/y", "a", 2.0)]
    stopped = {"a"}
    executor = FakeExecutor(slots=2)
    seen, report = reports()
    assert render_tasks(tasks, executor, report, lambda group: group in stopped) == {}
    assert executor.ran == ["b/x"]
    assert seen == [("b/x", "rendering"), ("b/x", "done")]


def test_an_interrupt_stops_every_running_task() -> None:
    class Interrupting(FakeExecutor):
        def run(self, task: RenderTask) -> float:
            raise KeyboardInterrupt

    executor = Interrupting(slots=2)
    with pytest.raises(KeyboardInterrupt):
        render_tasks([task("a/x", "a", 2.0), task("b/x", "b", 1.0)], executor, reports()[1])
    assert None in executor.stopped


def test_a_task_is_picklable_and_the_default_executor_is_local() -> None:
    one = task("bookclub/dna", "bookclub", 2.0, beats=3)
    assert pickle.loads(pickle.dumps(one)) == one
    executor = executor_for(None, 3)
    assert isinstance(executor, LocalExecutor) and executor.slots == 3
