"""Credentials in shadowed traffic never reach the parity store: the request's Authorization and
Cookie, a token in the query, a password in a write's body, and a candidate that answers with
Set-Cookie, password and token fields. The whole store is scanned for each value."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from shadow.store import Store
from tests.e2e.conftest import API, Legacy, native_on, running, table_text
from tests.gateway_shadow.conftest import shadow_gateway

pytestmark = pytest.mark.integration

SECRETS = {
    "cookie": "c00kie-5ecret-value",
    "query": "query-t0ken-5ecret",
    "password": "correct-h0rse-5ecret",
    "set_cookie": "set-c00kie-5ecret",
    "echoed_password": "ech0ed-pa55word-5ecret",
    "api_token": "api-t0ken-5ecret",
    "text": "text-t0ken-5ecret",
}
ROUTES = f"""\
  - id: users.show
    match: GET {API}/users/{{id:int}}
    mode: shadow
  - id: users.create
    match: POST {API}/users
    mode: shadow
    shadow: {{writes: dry_run}}
"""

# room for every in-process call, at once and in time
ROOM = "  max_in_process: 16\n  in_process_share: 1\n"


def leak(document: Any) -> Any:
    """A candidate that answers with credentials wherever they can hide."""
    data = document["data"]
    data["attributes"]["password"] = SECRETS["echoed_password"]
    data["attributes"]["api_token"] = SECRETS["api_token"]
    data["attributes"]["notes"] = f"login with token={SECRETS['text']} please"
    return document


def dump(store: Store) -> str:
    """Every cell of every table of the store, as text."""
    cells: list[str] = []
    with store.engine.connect() as conn:
        metadata = sa.MetaData()
        metadata.reflect(bind=conn)
        for table in metadata.tables.values():
            for row in conn.execute(sa.select(table)):
                cells.extend(str(value) for value in row)
    return "\n".join(cells)


async def test_no_credential_reaches_the_store(legacy: Legacy, store: Store) -> None:
    native = native_on(
        legacy.db_url,
        {f"{API}/users/2": leak, f"{API}/users": leak},
        [(b"set-cookie", f"session={SECRETS['set_cookie']}; HttpOnly".encode())],
    )
    shadow = "  noise_sample: 1.0\n  headers: [content-type, location, set-cookie]\n"
    shadow += "" + ROOM  # the read's candidate must not shed the write's dry run
    text = table_text(legacy.url, ROUTES, shadow)
    headers = {
        "Authorization": f"Bearer {legacy.token}",
        "Cookie": f"laravel_session={SECRETS['cookie']}",
        "Accept": "application/json",
    }
    async with running(shadow_gateway(legacy.url, native, store, text=text)) as client:
        r = await client.get(f"{API}/users/2?api_token={SECRETS['query']}", headers=headers)
        assert r.status_code == 200
        body = {"email": "s@example.test", "password": SECRETS["password"], "first_name": "S"}
        assert (await client.post(f"{API}/users", json=body, headers=headers)).status_code == 201

    stored = dump(store)
    # the candidate's answers differed, so both sides were stored as samples: the scan means
    # something only because there is something to scan
    assert "api_token" in stored and "[redacted]" in stored and "notes" in stored
    for name, secret in [*SECRETS.items(), ("bearer", legacy.token)]:
        assert secret not in stored, name
