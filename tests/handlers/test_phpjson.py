"""Bodies encoded byte for byte like PHP's json_encode."""

from __future__ import annotations

import json

import pytest

from handlers import phpjson


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"a": "https://x/y"}, b'{"a":"https:\\/\\/x\\/y"}'),
        ({"name": "Zoë"}, b'{"name":"Zo\\u00eb"}'),
        ({"emoji": "😀"}, b'{"emoji":"\\ud83d\\ude00"}'),
        ({"n": 12.5, "i": 3, "z": None, "t": True}, b'{"n":12.5,"i":3,"z":null,"t":true}'),
        ([], b"[]"),
        ({"tab": "a\tb\n"}, b'{"tab":"a\\tb\\n"}'),
    ],
    ids=["slashes-escaped", "latin-escaped", "astral-surrogates", "scalars", "empty-list", "ctrl"],
)
def test_encode_matches_php_flags_zero(data: object, expected: bytes) -> None:
    assert phpjson.encode(data) == expected


def test_encode_round_trips_through_a_json_parser() -> None:
    data = {"s": "ä/ö\\ü \u2028", "list": [1, "2", {"k": []}]}
    assert json.loads(phpjson.encode(data)) == data


def test_pretty_errors_use_four_spaces_and_unescaped_slashes() -> None:
    body = phpjson.encode_pretty({"message": "The route api/v1/admin/x could not be found."})
    assert body == b'{\n    "message": "The route api/v1/admin/x could not be found."\n}'
