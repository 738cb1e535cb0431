"""Credentials never reach the store: seed them into traffic, store it, scan every column of
every row of every table for them."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shadow.experiment import Experiment, ShadowSettings
from shadow.fieldpath import parse
from shadow.observation import Observation
from shadow.records import RequestInfo
from shadow.redact import MASK, is_secret_key, redact_query, redact_text, redact_tree
from shadow.store import Store, StoreWriter, metadata
from tests.shadow.helpers import candidate, primary

SECRETS = [
    "Bearer-s3cr3t-AUTH", "sess=COOKIE-VALUE-1", "SETCOOKIE-VALUE-2", "KEYHEADER-3",
    "hunter2-PASSWORD", "TOKEN-deep-4", "APIKEY-deep-5", "CLIENT-SECRET-6", "QUERY-KEY-7",
    "alice@example.org", "EXC-TOKEN-8", "HTML-PASS-9",
]  # fmt: skip


def seeded(side: str) -> tuple[tuple[tuple[str, str], ...], bytes]:
    headers = (
        ("content-type", "application/json"),
        ("Authorization", "Bearer-s3cr3t-AUTH"),
        ("Cookie", "sess=COOKIE-VALUE-1"),
        ("Set-Cookie", "SETCOOKIE-VALUE-2; HttpOnly"),
        ("X-Api-Key", "KEYHEADER-3"),
    )
    body = {
        "data": [
            {
                "id": 1,
                "side": side,  # a real difference, so both sides are sampled
                "email": "alice@example.org",
                "attributes": {
                    "Password": "hunter2-PASSWORD",
                    "nested": [{"accessToken": "TOKEN-deep-4"}],
                },
                "meta": {"API_KEY": "APIKEY-deep-5", "client-secret": "CLIENT-SECRET-6"},
                "html": "<input name=password value=HTML-PASS-9>",
            }
        ]
    }  # fmt: skip
    return headers, orjson.dumps(body)


def every_value(store: Store) -> list[str]:
    values: list[str] = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                values.extend(str(v) for v in row)
    return values


async def test_no_seeded_secret_appears_anywhere_in_the_store(store: Store) -> None:
    settings = ShadowSettings(
        headers=("content-type", "authorization", "cookie", "set-cookie", "x-api-key"),
        redact=("body.data[*].email",),
        noise_sample=1.0,
    )
    writer = StoreWriter(store)
    exp = Experiment(writer, settings)
    request = RequestInfo("GET", "/api/users", "api_key=QUERY-KEY-7&page=1", "req-secret")
    p_headers, p_body = seeded("legacy")
    c_headers, c_body = seeded("native")

    async def other() -> Observation:
        return candidate(c_body, c_headers)

    async def fails() -> Observation:
        raise RuntimeError("upstream said token=EXC-TOKEN-8")

    exp.submit("users.list", request, primary(p_body, p_headers), other, other)
    exp.submit("users.show", request, primary(p_body, p_headers), fails)
    await exp.close()
    await writer.close()

    values = every_value(store)
    assert any("[redacted]" in v for v in values)  # samples were stored, masked
    assert any('"side":"native"' in v for v in values)
    leaked = [s for s in SECRETS if any(s in v for v in values)]
    assert leaked == []


@pytest.mark.parametrize(
    "key",
    ["password", "Password", "user_pass", "accessToken", "refresh_token", "api_key", "X-Api-Key",
     "client_secret", "Authorization", "session", "csrf"],
)  # fmt: skip
def test_credential_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["author", "passage", "name", "email", "keyboard"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert not is_secret_key(key)


def test_configured_paths_are_masked_and_the_shape_is_kept() -> None:
    tree = {"body": {"data": [{"email": "a@b", "name": "A"}, {"email": "c@d", "name": "C"}]}}
    masked = redact_tree(tree, [parse("body.data[*].email")])
    assert masked == {
        "body": {"data": [{"email": MASK, "name": "A"}, {"email": MASK, "name": "C"}]}
    }


def test_text_and_queries_lose_their_credentials() -> None:
    assert redact_query("page=2&token=abc") == "page=2&token=[redacted]"
    assert "abc" not in redact_text('{"password": "abc"} and secret=abc;')
    form = '<input type="password" name="pw" value="abc"><input name="user" value="ann">'
    assert redact_text(form) == (
        '<input type="password" name="pw" value="[redacted]"><input name="user" value="ann">'
    )


secret_keys = st.sampled_from(
    ["password", "api_key", "accessToken", "client_secret", "Authorization", "session"]
)
plain_keys = st.sampled_from(["id", "name", "data", "attributes", "author", "items"])


@st.composite
def bodies_with_a_secret(draw: st.DrawFn) -> tuple[object, str]:
    secret = "SEEKRIT-" + draw(st.text("abcdef0123456789", min_size=6, max_size=6))
    node: object = {draw(secret_keys): secret}
    for _ in range(draw(st.integers(0, 4))):
        wrap = draw(st.sampled_from(["dict", "list"]))
        node = {draw(plain_keys): node} if wrap == "dict" else [1, node, "x"]
    return node, secret


@given(bodies_with_a_secret())
def test_a_secret_under_a_credential_key_never_survives_at_any_depth(
    case: tuple[object, str],
) -> None:
    body, secret = case
    masked = redact_tree({"status": 200, "headers": {}, "body": body})
    assert secret not in orjson.dumps(masked).decode()
