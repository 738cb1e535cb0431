"""The route page's button that starts a route's evidence over (POST /_strangler/route/ID/reset):
who may press it (a bearer, a loopback operator without a token, a signed-in browser whose form
carries its session's MAC), and what it does (a new epoch, in the flip history)."""

from __future__ import annotations

import re

import httpx

from proxy.operator import signin
from tests.dashboard.conftest import Evidence, admin_app
from tests.dashboard.test_signin import TOKEN, Clock, client_for, session, sign_in, with_cookie

ROUTE = "/_strangler/route/users.list"


def form_field(page: str) -> str | None:
    """The reset form's hidden field ("" when it has none); None when there is no form."""
    form = re.search(r'<form method="post" action="[^"]*/reset"[^>]*>(.*?)</form>', page, re.S)
    if form is None:
        return None
    hidden = re.search(r'name="form" value="([0-9a-f]+)"', form[1])
    return hidden[1] if hidden else ""


async def test_a_loopback_operator_without_a_token_presses_the_button(
    admin: httpx.AsyncClient, evidence: Evidence
) -> None:
    before = (await admin.get(ROUTE)).text
    assert form_field(before) == ""  # a form, with nothing to prove: loopback is the rule
    assert "Evidence counted since its reset" not in before
    pressed = await admin.post(f"{ROUTE}/reset", headers={"Accept": "text/html"})
    assert pressed.status_code == 303 and pressed.headers["location"] == ROUTE
    after = (await admin.get(ROUTE)).text
    assert "since the reset" in after
    assert [e.route for e in evidence.store.epochs()] == ["users.list"]
    assert "shadow → shadow" in after and "<td>reset</td>" in after


async def test_a_bearer_resets_and_gets_json(evidence: Evidence) -> None:
    async with client_for(admin_app(evidence, token=TOKEN)) as client:
        answer = await client.post(f"{ROUTE}/reset", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.json()["route"] == "users.list"
    assert answer.json()["message"].startswith("users.list: evidence reset at ")


async def test_a_signed_in_browser_resets_with_its_forms_mac(evidence: Evidence) -> None:
    clock = Clock()
    async with client_for(admin_app(evidence, token=TOKEN, wall=clock)) as client:
        value = session(await sign_in(client))
        page = (await client.get(ROUTE, headers=with_cookie(value))).text
        field = form_field(page)
        assert field == signin.form_mac(TOKEN, value, f"{ROUTE}/reset")
        cookie = with_cookie(value)
        # the cookie alone never authorises a post: a page elsewhere could make the browser send it
        for forged in ({}, {"form": "0" * 64}, {"form": signin.form_mac(TOKEN, value, "/x")}):
            refused = await client.post(f"{ROUTE}/reset", headers=cookie, data=forged)
            assert refused.status_code == 401, forged
        assert evidence.store.epochs() == ()
        pressed = await client.post(f"{ROUTE}/reset", headers=cookie, data={"form": field})
    assert pressed.status_code == 303
    assert [e.route for e in evidence.store.epochs()] == ["users.list"]


async def test_a_post_made_by_a_page_of_another_origin_is_refused(
    admin: httpx.AsyncClient, evidence: Evidence
) -> None:
    refused = await admin.post(f"{ROUTE}/reset", headers={"Origin": "https://evil.test"})
    assert refused.status_code == 403
    same = await admin.post(f"{ROUTE}/reset", headers={"Origin": "http://gateway.test"})
    assert same.status_code == 200
    assert len(evidence.store.epochs()) == 1


async def test_an_api_client_sees_no_form_and_an_unknown_route_is_404(
    evidence: Evidence, admin: httpx.AsyncClient
) -> None:
    async with client_for(admin_app(evidence, token=TOKEN)) as client:
        page = await client.get(ROUTE, headers={"Authorization": f"Bearer {TOKEN}"})
    assert form_field(page.text) is None
    missing = await admin.post("/_strangler/route/nope/reset")
    assert missing.status_code == 404 and "no such route" in missing.json()["error"]
