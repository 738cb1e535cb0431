"""Value formats: UTC ISO dates, date casts at local midnight, decimals, raw write echoes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers import values

UTC = ZoneInfo("UTC")
AMS = ZoneInfo("Europe/Amsterdam")


def test_naive_datetimes_are_read_in_the_application_timezone() -> None:
    assert values.format_datetime("2025-06-01 14:03:22", AMS) == "2025-06-01T12:03:22.000000Z"
    assert values.format_datetime("2025-06-01 14:03:22", UTC) == "2025-06-01T14:03:22.000000Z"


def test_date_cast_is_start_of_day_in_the_application_timezone() -> None:
    assert values.format_date("2025-06-01", AMS) == "2025-05-31T22:00:00.000000Z"
    assert values.format_date("2025-06-01 18:30:00", UTC) == "2025-06-01T00:00:00.000000Z"


def test_iso_input_with_an_offset_keeps_its_instant() -> None:
    assert values.format_datetime("2025-06-01T10:00:00+02:00", UTC) == "2025-06-01T08:00:00.000000Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.5", "12.50"), ("7", "7.00"), (3, "3.00"), (0.1, "0.10"), ("1.005", "1.01"), (None, None)],
)
def test_decimals_are_two_place_strings(value: Any, expected: str | None) -> None:
    assert values.decimal_str(value) == expected


def test_write_echo_keeps_raw_types_unless_a_cast_applies() -> None:
    assert values.attribute_value("decimal", 12.5, True, UTC) == 12.5
    assert values.attribute_value("decimal_cast", 12.5, True, UTC) == "12.50"
    assert values.attribute_value("int", "5", True, UTC) == "5"
    assert values.attribute_value("int", "5", False, UTC) == 5


def test_null_kind_is_always_null() -> None:
    assert values.attribute_value("null", "anything", False, UTC) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025/06/01", "2025-06-01T00:00:00.000000Z"),
        ("06/01/2025", "2025-06-01T00:00:00.000000Z"),
        ("01.06.2025", "2025-06-01T00:00:00.000000Z"),
        ("1 June 2025", "2025-06-01T00:00:00.000000Z"),
        ("June 1, 2025", "2025-06-01T00:00:00.000000Z"),
        ("20250601", "2025-06-01T00:00:00.000000Z"),
        ("2025-06-01 10:00:00 UTC", "2025-06-01T10:00:00.000000Z"),
        ("2025-02-30", None),
        ("2025-06-01 25:00:00", None),
        ("tomorrow", None),
    ],
)
def test_date_spellings_php_reads(text: str, expected: str | None) -> None:
    assert values.format_datetime(text, UTC) == expected
