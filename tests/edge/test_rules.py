"""The pure rules of the edge: Host values, absolute-form targets, header names, the limits."""

from __future__ import annotations

from unittest.mock import ANY

import orjson
import pytest

from proxy.edge import EdgeLimits, Refusal
from proxy.edge.answers import refusal_answer
from proxy.edge.fields import valid_name
from proxy.edge.host import absolute_form, valid_host


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param(b"a.test", True, id="name"),
        pytest.param(b"a.test:8080", True, id="name-port"),
        pytest.param(b"a.test:", True, id="empty-port"),
        pytest.param(b"127.0.0.1:80", True, id="ipv4"),
        pytest.param(b"[::1]:443", True, id="ipv6"),
        pytest.param(b"xn--caf-dma.test", True, id="punycode"),
        pytest.param(b"a_b.test", True, id="underscore"),
        pytest.param(b"a.test.", True, id="trailing-dot"),
        pytest.param(b"", False, id="empty"),
        pytest.param(b".", False, id="only-dot"),
        pytest.param(b":80", False, id="only-port"),
        pytest.param(b"a b", False, id="space"),
        pytest.param(b"a..b", False, id="dot-dot"),
        pytest.param(b"a/b", False, id="slash"),
        pytest.param(b"a\x00b", False, id="nul"),
        pytest.param(b"u@a", False, id="userinfo"),
        pytest.param(b"a:8x", False, id="port-not-digits"),
        pytest.param(b"[::1", False, id="open-bracket"),
        pytest.param(b"caf\xc3\xa9.test", False, id="utf-8"),
    ],
)
def test_a_host_is_valid_only_as_rfc_3986_spells_one(value: bytes, valid: bool) -> None:
    assert valid_host(value) is valid
    assert valid_host(value) is valid  # and so is it the second time (remembered)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(b"http://a.test/x?q", (b"a.test", b"/x?q"), id="path-query"),
        pytest.param(b"http://a.test", (b"a.test", b"/"), id="no-path"),
        pytest.param(b"http://a.test?q", (b"a.test", b"/?q"), id="no-path-query"),
        pytest.param(b"https://a.test:1/", (b"a.test:1", b"/"), id="port"),
        pytest.param(b"http://a.test/x#frag", (b"a.test", b"/x"), id="fragment-dropped"),
        pytest.param(b"/x", None, id="origin-form"),
        pytest.param(b"a.test:443", None, id="authority-form"),
        pytest.param(b"*", None, id="asterisk"),
    ],
)
def test_an_absolute_form_target_splits_into_authority_and_origin_form(
    target: bytes, expected: tuple[bytes, bytes] | None
) -> None:
    assert absolute_form(target) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        pytest.param(b"content-type", True, id="letters-and-dash"),
        pytest.param(b"x-1", True, id="digits"),
        pytest.param(b"x_dry_run", False, id="underscore"),
        pytest.param(b"x.y", False, id="dot"),
        pytest.param(b"x|y", False, id="pipe"),
        pytest.param(b"", False, id="empty"),
    ],
)
def test_a_header_name_passes_only_with_letters_digits_and_dashes(name: bytes, valid: bool) -> None:
    assert valid_name(name) is valid
    assert valid_name(name) is valid  # and so it is the second time (remembered)


def test_names_are_judged_alike_once_the_memo_is_full() -> None:
    for number in range(2000):
        valid_name(b"x-filler-%d" % number)
    assert valid_name(b"x_late_comer") is False
    assert valid_name(b"x-late-comer") is True


def test_the_defaults_are_nginx_s() -> None:
    limits = EdgeLimits()
    assert (limits.max_request_line, limits.max_header_line, limits.max_head) == (8192, 8192, 32768)
    assert (limits.header_timeout, limits.body_timeout, limits.keepalive_timeout) == (60, 60, 75)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"max_head": 0}, id="zero-size"),
        pytest.param({"header_timeout": 0}, id="zero-timeout"),
        pytest.param({"body_timeout": -1}, id="negative-timeout"),
        pytest.param({"max_connections": 0}, id="no-connections"),
    ],
)
def test_limits_that_would_refuse_everything_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="edge limits"):
        EdgeLimits(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limits", "interval"),
    [
        pytest.param(EdgeLimits(), 0.5, id="defaults-lingering-5s"),
        pytest.param(EdgeLimits(lingering_timeout=60), 1.0, id="at-most-a-second"),
        pytest.param(EdgeLimits(header_timeout=0.3), 0.03, id="a-tenth-of-the-shortest"),
    ],
)
def test_deadlines_are_swept_at_a_tenth_of_the_shortest_timeout(
    limits: EdgeLimits, interval: float
) -> None:
    assert limits.sweep_interval() == pytest.approx(interval)


def test_an_explicit_connection_bound_is_kept() -> None:
    assert EdgeLimits(max_connections=123).connection_bound() == 123


@pytest.mark.parametrize("refusal", list(Refusal), ids=[r.value for r in Refusal])
def test_every_refusal_answers_its_status_in_the_gateways_json_shape(refusal: Refusal) -> None:
    answer = refusal_answer(refusal, [(b"server", b"strangler")])
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = dict(line.split(b": ", 1) for line in lines)
    assert status_line.startswith(b"HTTP/1.1 %d " % refusal.status)
    assert orjson.loads(body) == {"error": refusal.message, "request_id": ANY}
    assert headers[b"x-request-id"].decode() == orjson.loads(body)["request_id"]
    assert int(headers[b"content-length"]) == len(body)
    assert headers[b"connection"] == b"close"
    assert headers[b"server"] == b"strangler"
    assert b"date" in headers


def test_a_refusal_keeps_the_servers_own_date() -> None:
    answer = refusal_answer(Refusal.BAD_HOST, [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")])
    assert answer.count(b"date: ") == 1
