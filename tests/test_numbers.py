"""Numbers as people write them: no negative zero, one number of decimals per table, the storyboard's choice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ncfvid.numbers import MINUS, common_places, format_all, format_number
from ncfvid.pipeline import compile_prepared, load, prepare

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (-0.004, 2, "0.00"),
        (-0.0, 1, "0.0"),
        (-0.04, 1, "0.0"),
        (-0.05001, 1, MINUS + "0.1"),
        (-1.5, 2, MINUS + "1.50"),
        (3.14159, 0, "3"),
        (2.0, 1, "2.0"),
    ],
)
def test_no_negative_zero_and_a_real_minus(value: float, places: int, text: str) -> None:
    assert format_number(value, places) == text


def test_the_decimal_mark_is_a_parameter() -> None:
    assert format_number(-1.25, 2, decimal=",") == MINUS + "1,25"
    assert format_all([1.6, None, 2], decimal=",") == ["1,6", None, "2,0"]


def test_one_table_one_number_of_decimals() -> None:
    assert common_places([0.9, -0.8]) == 1
    assert common_places([0.95, -0.6]) == 2
    assert format_all([0.95, -0.6]) == ["0.95", MINUS + "0.60"]
    assert common_places([5, 4, None, 1]) == 0
    assert common_places([0.123456, 1]) == 2  # never more than two unless asked
    assert format_all([0.123456, 1], places=4) == ["0.1235", "1.0000"]


def test_the_storyboards_choice_reaches_the_scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    story = yaml.safe_load((ROOT / "tests" / "data" / "tiny.yaml").read_text(encoding="utf-8"))
    story["video"] = {**story.get("video", {}), "decimals": 3}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(story, sort_keys=False), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    text = compile_prepared(prepare(load(path), tmp_path / "cache"))
    assert "    decimals = 3\n" in text


def test_tables_print_without_negative_zero() -> None:
    from ncfvid.scenelib.mobjects import VectorColumn

    column = VectorColumn([-0.001, 0.5, None], "#FFFFFF", "#FFFFFF")
    assert [t.text for t in column.values_text] == ["0.0", "0.5", "\u22ee"]
