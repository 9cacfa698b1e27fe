"""parse_run_input: every documented value accepted, every broken rule reported per field."""

import json
from typing import Any

import pytest

from seedance.exceptions import InvalidRunInput
from seedance.run_input import (
    ASPECT_RATIOS,
    DURATIONS,
    FIELDS,
    RESOLUTIONS,
    SEED_LIMIT,
    RunInput,
    parse_run_input,
)

PROMPT = "A red fox runs through fresh snow at dawn"
METADATA_LIMIT = 16 * 1024


def errors_of(data: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidRunInput) as caught:
        parse_run_input(data)
    assert caught.value.code == "invalid_input"
    return caught.value.fields


def metadata_of_encoded_size(size: int) -> dict[str, str]:
    """A metadata object whose compact JSON encoding is exactly ``size`` bytes."""
    overhead = len(json.dumps({"k": ""}, separators=(",", ":")))
    metadata = {"k": "x" * (size - overhead)}
    assert len(json.dumps(metadata, separators=(",", ":")).encode()) == size
    return metadata


# --- the documented value sets -------------------------------------------------------


def test_documented_value_sets_match_the_model_page() -> None:
    assert ASPECT_RATIOS == ("auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
    assert DURATIONS == ("auto", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15")
    assert RESOLUTIONS == ("480p", "720p")
    assert SEED_LIMIT == 2**32


def test_prompt_alone_gets_the_documented_defaults() -> None:
    parsed = parse_run_input({"prompt": PROMPT})
    assert parsed == RunInput(
        prompt=PROMPT,
        aspect_ratio="auto",
        duration="auto",
        resolution="720p",
        generate_audio=True,
        seed=None,
        end_user_id="",
        metadata={},
    )
    assert tuple(parsed.as_dict()) == FIELDS


def test_every_field_set_at_once_is_accepted() -> None:
    data = {
        "prompt": PROMPT,
        "aspect_ratio": "9:16",
        "duration": "12",
        "resolution": "480p",
        "generate_audio": False,
        "seed": 123,
        "end_user_id": "user-42",
        "metadata": {"order": 7, "tags": ["a", "b"], "nested": {"ok": True}},
    }
    assert parse_run_input(data).as_dict() == data


@pytest.mark.parametrize("aspect_ratio", ["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"])
def test_every_documented_aspect_ratio_is_accepted(aspect_ratio: str) -> None:
    assert parse_run_input({"prompt": PROMPT, "aspect_ratio": aspect_ratio}).aspect_ratio == (
        aspect_ratio
    )


@pytest.mark.parametrize("duration", ["auto", *(str(n) for n in range(4, 16))])
def test_every_documented_duration_string_is_accepted(duration: str) -> None:
    assert parse_run_input({"prompt": PROMPT, "duration": duration}).duration == duration


@pytest.mark.parametrize("seconds", range(4, 16))
def test_bare_integer_duration_is_accepted_and_stored_as_string(seconds: int) -> None:
    assert parse_run_input({"prompt": PROMPT, "duration": seconds}).duration == str(seconds)


@pytest.mark.parametrize("resolution", ["480p", "720p"])
def test_every_documented_resolution_is_accepted(resolution: str) -> None:
    assert parse_run_input({"prompt": PROMPT, "resolution": resolution}).resolution == resolution


@pytest.mark.parametrize("generate_audio", [True, False])
def test_generate_audio_takes_either_bool(generate_audio: bool) -> None:
    parsed = parse_run_input({"prompt": PROMPT, "generate_audio": generate_audio})
    assert parsed.generate_audio is generate_audio


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1])
def test_seed_in_range_is_accepted(seed: int) -> None:
    assert parse_run_input({"prompt": PROMPT, "seed": seed}).seed == seed


def test_null_seed_means_no_seed() -> None:
    assert parse_run_input({"prompt": PROMPT, "seed": None}).seed is None


@pytest.mark.parametrize("end_user_id", ["", "u", "user@example.com", "ü" * 255, "x" * 255])
def test_end_user_id_up_to_255_chars_is_accepted(end_user_id: str) -> None:
    assert parse_run_input({"prompt": PROMPT, "end_user_id": end_user_id}).end_user_id == (
        end_user_id
    )


@pytest.mark.parametrize(
    "prompt",
    ["x", "  padded  ", "x" * 2000, "é" * 2000, "line one\nline two", "🦊 in the snow"],
    ids=["one-char", "padded", "2000-ascii", "2000-accented", "multiline", "emoji"],
)
def test_prompt_of_1_to_2000_chars_is_accepted(prompt: str) -> None:
    assert parse_run_input({"prompt": prompt}).prompt == prompt


@pytest.mark.parametrize(
    "metadata",
    [{}, {"a": 1}, {"nested": {"list": [1, 2, {"x": None}]}}, {"unicode": "日本語"}],
)
def test_metadata_json_object_is_accepted(metadata: dict[str, Any]) -> None:
    assert parse_run_input({"prompt": PROMPT, "metadata": metadata}).metadata == metadata


def test_metadata_of_exactly_16_kib_is_accepted() -> None:
    metadata = metadata_of_encoded_size(METADATA_LIMIT)
    assert parse_run_input({"prompt": PROMPT, "metadata": metadata}).metadata == metadata


def test_metadata_limit_counts_utf8_bytes_not_characters() -> None:
    overhead = len(json.dumps({"k": ""}, separators=(",", ":")))
    # "é" is 2 bytes in UTF-8: this many fit in characters but not in bytes.
    metadata = {"k": "é" * ((METADATA_LIMIT - overhead) // 2 + 1)}
    assert "metadata" in errors_of({"prompt": PROMPT, "metadata": metadata})


# --- refusals, each reported on its field ---------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "\n\t "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": ["a"]}, "prompt"),
        ({"prompt": {"text": "a"}}, "prompt"),
        ({"prompt": True}, "prompt"),
        ({"prompt": "a\x00b"}, "prompt"),
        ({"prompt": PROMPT, "duration": "3"}, "duration"),
        ({"prompt": PROMPT, "duration": "16"}, "duration"),
        ({"prompt": PROMPT, "duration": 3}, "duration"),
        ({"prompt": PROMPT, "duration": 16}, "duration"),
        ({"prompt": PROMPT, "duration": "abc"}, "duration"),
        ({"prompt": PROMPT, "duration": 5.5}, "duration"),
        ({"prompt": PROMPT, "duration": 5.0}, "duration"),
        ({"prompt": PROMPT, "duration": True}, "duration"),
        ({"prompt": PROMPT, "duration": "05"}, "duration"),
        ({"prompt": PROMPT, "duration": "5s"}, "duration"),
        ({"prompt": PROMPT, "duration": "AUTO"}, "duration"),
        ({"prompt": PROMPT, "duration": None}, "duration"),
        ({"prompt": PROMPT, "resolution": "1080p"}, "resolution"),
        ({"prompt": PROMPT, "resolution": "720"}, "resolution"),
        ({"prompt": PROMPT, "resolution": 720}, "resolution"),
        ({"prompt": PROMPT, "aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"prompt": PROMPT, "aspect_ratio": "16/9"}, "aspect_ratio"),
        ({"prompt": PROMPT, "aspect_ratio": ""}, "aspect_ratio"),
        ({"prompt": PROMPT, "seed": "1"}, "seed"),
        ({"prompt": PROMPT, "seed": 1.5}, "seed"),
        ({"prompt": PROMPT, "seed": 1.0}, "seed"),
        ({"prompt": PROMPT, "seed": -1}, "seed"),
        ({"prompt": PROMPT, "seed": 2**32}, "seed"),
        ({"prompt": PROMPT, "seed": 2**64}, "seed"),
        ({"prompt": PROMPT, "seed": True}, "seed"),
        ({"prompt": PROMPT, "seed": False}, "seed"),
        ({"prompt": PROMPT, "generate_audio": "true"}, "generate_audio"),
        ({"prompt": PROMPT, "generate_audio": 1}, "generate_audio"),
        ({"prompt": PROMPT, "generate_audio": None}, "generate_audio"),
        ({"prompt": PROMPT, "metadata": ["a", "b"]}, "metadata"),
        ({"prompt": PROMPT, "metadata": "{}"}, "metadata"),
        ({"prompt": PROMPT, "metadata": 1}, "metadata"),
        ({"prompt": PROMPT, "metadata": {"k": "a\x00b"}}, "metadata"),
        ({"prompt": PROMPT, "metadata": {"k\x00": "v"}}, "metadata"),
        ({"prompt": PROMPT, "metadata": {"deep": [{"k": "\x00"}]}}, "metadata"),
        ({"prompt": PROMPT, "end_user_id": 42}, "end_user_id"),
        ({"prompt": PROMPT, "end_user_id": None}, "end_user_id"),
        ({"prompt": PROMPT, "end_user_id": "x" * 256}, "end_user_id"),
        ({"prompt": PROMPT, "end_user_id": "u\x00"}, "end_user_id"),
        ({"prompt": PROMPT, "model": "other"}, "model"),
        ({"prompt": PROMPT, "image_url": "http://x"}, "image_url"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_broken_rule_is_reported_on_its_field(data: dict[str, Any], field: str) -> None:
    errors = errors_of(data)
    assert list(errors) == [field]
    assert errors[field]
    assert all(isinstance(message, str) and message for message in errors[field])


def test_oversized_metadata_is_refused_with_its_size() -> None:
    errors = errors_of({"prompt": PROMPT, "metadata": metadata_of_encoded_size(METADATA_LIMIT + 1)})
    assert errors["metadata"] == [
        f"At most {METADATA_LIMIT} bytes when encoded as JSON (got {METADATA_LIMIT + 1})."
    ]


@pytest.mark.parametrize(
    "data", [[], ["prompt"], [{"prompt": PROMPT}], "prompt", 42, None, True], ids=repr
)
def test_body_that_is_not_a_json_object_is_refused(data: Any) -> None:
    assert list(errors_of(data)) == ["non_field_errors"]


def test_every_broken_field_is_reported_at_once() -> None:
    errors = errors_of(
        {
            "prompt": "",
            "duration": "3",
            "resolution": "1080p",
            "aspect_ratio": "5:4",
            "seed": -1,
            "generate_audio": "yes",
            "end_user_id": 42,
            "metadata": [],
            "colour": "red",
        }
    )
    assert set(errors) == {
        "prompt",
        "duration",
        "resolution",
        "aspect_ratio",
        "seed",
        "generate_audio",
        "end_user_id",
        "metadata",
        "colour",
    }


def test_prompt_limit_follows_the_setting(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "PROMPT_MAX_CHARS": 10}
    assert parse_run_input({"prompt": "x" * 10}).prompt == "x" * 10
    assert "prompt" in errors_of({"prompt": "x" * 11})


def test_metadata_limit_follows_the_setting(settings: Any) -> None:
    settings.SEEDANCE = {**settings.SEEDANCE, "METADATA_MAX_BYTES": 64}
    assert parse_run_input({"prompt": PROMPT, "metadata": metadata_of_encoded_size(64)})
    assert "metadata" in errors_of({"prompt": PROMPT, "metadata": metadata_of_encoded_size(65)})


def test_metadata_with_backslash_u0000_text_but_no_nul_is_accepted() -> None:
    metadata = {"regex": "\\u0000"}  # six characters: \ u 0 0 0 0
    assert "\x00" not in metadata["regex"]
    assert parse_run_input({"prompt": PROMPT, "metadata": metadata}).metadata == metadata
