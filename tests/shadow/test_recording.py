"""What a recording keeps of a request: never a credential, never a `redact:` field, and no
request whose body cannot be searched for secrets."""

from __future__ import annotations

import orjson
import pytest

from shadow.fieldpath import parse_all
from shadow.recording import keepable, kept_body, kept_headers
from shadow.redact import MASK

SECRET = "s3cr3t-value"


def test_credential_headers_never_survive() -> None:
    headers = [
        ("Authorization", f"Bearer {SECRET}"), ("Cookie", f"sid={SECRET}"),
        ("X-Api-Key", SECRET), ("X-Session-Token", SECRET), ("Accept", "application/json"),
        ("X-Request-ID", "abc"), ("X-Forwarded-For", "10.0.0.1"), ("User-Agent", "curl/8"),
    ]  # fmt: skip
    assert kept_headers(headers) == (("accept", "application/json"), ("user-agent", "curl/8"))


def test_a_redact_path_under_headers_drops_that_header() -> None:
    kept = kept_headers([("X-Tenant", "acme"), ("Accept", "*/*")], parse_all(["headers.x-tenant"]))
    assert kept == (("accept", "*/*"),)


def test_json_bodies_keep_their_shape_with_secrets_and_redact_paths_masked() -> None:
    body = orjson.dumps({"data": {"attributes": {"email": "a@b.c", "password": SECRET,
                                                 "phone": "555"}}})  # fmt: skip
    kept = kept_body(body, "application/vnd.api+json", parse_all(["body.data.attributes.phone"]))
    assert kept is not None
    assert orjson.loads(kept) == {
        "data": {"attributes": {"email": "a@b.c", "password": MASK, "phone": MASK}}
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", f"user=ann&password={SECRET}".encode()),
        ("text/plain", f"token={SECRET} and more".encode()),
        ("application/json", f'{{"api_key": "{SECRET}"'.encode()),  # not JSON: read as text
    ],
    ids=["form", "text", "broken-json"],
)
def test_forms_and_text_are_masked_too(content_type: str, body: bytes) -> None:
    kept = kept_body(body, content_type)
    assert kept is not None and SECRET.encode() not in kept and MASK.encode() in kept


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "application/octet-stream", "image/png"]
)
def test_a_body_that_cannot_be_searched_is_not_kept(content_type: str) -> None:
    found = keepable(
        "r", 1.0, "id", "POST", "/upload", "", [("content-type", content_type)], b"\x00\x01data"
    )
    assert found is None


def test_the_query_keeps_its_shape_with_credentials_masked() -> None:
    found = keepable(
        "users.list", 5.0, "rid", "get", "/api/users", f"page=2&api_key={SECRET}", [], b"",
        status=200, side="legacy",
    )  # fmt: skip
    assert found is not None
    assert found.target == f"/api/users?page=2&api_key={MASK}"
    assert (found.method, found.status, found.side, found.body) == ("GET", 200, "legacy", b"")
