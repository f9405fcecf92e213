"""schema/storyboard.schema.json is generated (`ncfvid schema`): a test fails when it is stale."""

from __future__ import annotations

import json
from pathlib import Path

from ncfvid.schema import ModelSettings, Storyboard

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema" / "storyboard.schema.json"


def test_the_schema_file_is_what_ncfvid_schema_prints() -> None:
    generated = json.dumps(Storyboard.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == generated, (
        "schema/storyboard.schema.json is stale: run `ncfvid schema > schema/storyboard.schema.json`"
    )


def test_the_schema_file_agrees_with_the_models_on_a_rule() -> None:
    """The issue's example: pydantic requires at least 3 MLP layers, and so does the file."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    layers = schema["$defs"]["ModelSettings"]["properties"]["layers"]
    minimum = next(m.min_length for m in ModelSettings.model_fields["layers"].metadata if hasattr(m, "min_length"))
    assert layers["minItems"] == minimum == 3
