"""Seeded-random requests for the differential test: every endpoint, filter, sort, include,
page size, bad token and bad input, plus writes with valid and invalid bodies."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tests.contract.spec import ENDPOINTS

TOKENS = (
    ["admin"] * 12 + ["restricted"] * 3 + ["disabled", "wrong_type", "ip_locked", None, "bogus"]
)
FILTER_VALUES = [
    "a",
    "1",
    "e",
    "true",
    "false",
    "",
    "a,b",
    "%",
    "_",
    "\\",
    "é",
    "usd",
    "paid",
    "open",
    "0",
    "2025",
    ",",
    "x,",
    "Müller",
    "pending,active",
]
PER_PAGES = [None] * 6 + ["1", "2", "5", "15", "50", "1000", "0", "-1", "abc", "2.5", "3"]
PAGES = [None] * 6 + ["1", "2", "3", "0", "-2", "x", "999"]
ACCEPTS = ["application/json"] * 10 + [None, "*/*", "text/html", "application/vnd.api+json"]
ATTRS = {
    "users": ["id", "email", "first_name", "created_at"],
    "services": ["price", "status", "expires_at"],
    "invoices": ["status", "due_at"],
    "roles": ["name"],
    "products": ["name", "hidden"],
}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    token: str | None = "admin"
    accept: str | None = "application/json"
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class World:
    """What the seeded database holds, for picking ids and values."""

    ids: dict[str, list[int]]
    currencies: list[str]
    invoice_numbers: list[str]


class Generator:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.serial = 0

    def pick(self, items: list[Any]) -> Any:
        return self.rng.choice(items)

    def some_id(self, table: str) -> int:
        ids = self.world.ids.get(table) or [1]
        return int(self.pick(ids))

    def read(self) -> Call:
        if self.rng.random() < 0.12:
            return self.odd()
        endpoint = self.pick(list(ENDPOINTS.values()))
        token, accept = self.pick(TOKENS), self.pick(ACCEPTS)
        if self.rng.random() < 0.35:
            key = self._member_key(endpoint.table)
            return Call("GET", f"{endpoint.path}/{key}", self._includes(endpoint), token, accept)
        params = self._includes(endpoint) + self._filters(endpoint) + self._sorts(endpoint)
        params += self._paging() + self._fields()
        self.rng.shuffle(params)
        return Call("GET", endpoint.path, params, token, accept)

    def _member_key(self, table: str) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return self.pick(["999999", "abc", "0", "1abc", "-1"])
        if table == "invoices" and roll < 0.25 and self.world.invoice_numbers:
            return str(self.pick(self.world.invoice_numbers))
        return str(self.some_id(table))

    def _includes(self, endpoint: Any) -> list[tuple[str, str]]:
        if self.rng.random() < 0.5:
            return []
        pool = [*list(endpoint.includes), f"{endpoint.includes[0]}Count", "plans.prices"]
        if self.rng.random() < 0.15:
            pool.append("nope")
        chosen = self.rng.sample(pool, k=self.rng.randint(1, min(3, len(pool))))
        if "plans.prices" in chosen and endpoint.path != "products":
            chosen.remove("plans.prices")
        return [("include", ",".join(chosen))] if chosen else []

    def _filters(self, endpoint: Any) -> list[tuple[str, str]]:
        out = []
        for _ in range(self.rng.choice([0, 0, 1, 1, 2])):
            name = self.pick(
                [*endpoint.filters, "bogus"] if self.rng.random() < 0.1 else endpoint.filters
            )
            out.append((f"filter[{name}]", self.pick(FILTER_VALUES)))
        return out

    def _sorts(self, endpoint: Any) -> list[tuple[str, str]]:
        if self.rng.random() < 0.5:
            return []
        pool = [*endpoint.sorts, "bogus"] if self.rng.random() < 0.15 else list(endpoint.sorts)
        names = [self.pick(pool) for _ in range(self.rng.randint(1, 2))]
        names = [("-" if self.rng.random() < 0.5 else "") + n for n in names]
        # A tie-breaker keeps equal keys in the same order on both sides.
        return (
            [("sort", ",".join([*names, "id"]))]
            if "id" not in names
            else [("sort", ",".join(names))]
        )

    def _paging(self) -> list[tuple[str, str]]:
        out = []
        per_page, page = self.pick(PER_PAGES), self.pick(PAGES)
        if per_page is not None:
            out.append(("per_page", per_page))
        if page is not None:
            out.append(("page", page))
        return out

    def _fields(self) -> list[tuple[str, str]]:
        if self.rng.random() < 0.85:
            return []
        kind = self.pick(list(ATTRS))
        return [
            (f"fields[{kind}]", ",".join(self.rng.sample(ATTRS[kind], k=min(2, len(ATTRS[kind])))))
        ]

    def odd(self) -> Call:
        """Requests at the edges: HEAD, OPTIONS, odd paths, arrays where strings belong,
        content negotiation, headers that change how errors render."""
        user = self.some_id("users")
        return self.pick(
            [
                Call("HEAD", "users"),
                Call("HEAD", "users/999999"),
                Call("OPTIONS", f"users/{user}"),
                Call("GET", "users/"),
                Call("GET", "users/%31"),
                Call("GET", f"users/{user}/extra"),
                Call("GET", ""),
                Call("GET", "nothing"),
                Call("GET", "users", [("include[]", "role")]),
                Call("GET", "users", [("fields", "id")]),
                Call("GET", "users", [("filter", "abc")]),
                Call("GET", "users", [("filter[email][]", "user1"), ("filter[email][]", "2")]),
                Call("GET", "users", [("filter[email][x][]", "1")]),
                Call("GET", "users", [("sort", ",,-id")]),
                Call("GET", "users", [("per_page", " 3 "), ("page[size]", "2")]),
                Call("GET", "users", [("fields[users]", "")]),
                Call("GET", "users", [("filter[first_name]", "ZOË")]),
                Call("GET", "users", [("include", "role,properties"), ("fields[roles]", "name")]),
                Call("GET", "tickets", [("include", "assigned_to")]),
                Call("GET", "tickets", [("include", "assigned_toCount")]),
                Call(
                    "GET",
                    "users",
                    token="admin",
                    accept="*/*",
                    headers=(("X-Requested-With", "XMLHttpRequest"),),
                ),
                Call(
                    "GET", "users", [("filter[x]", "1")], accept="text/html;q=0.5, application/json"
                ),
                Call(
                    "POST",
                    "orders",
                    json={},
                    accept=None,
                    headers=(("Referer", "http://diff.test/back"),),
                ),
                Call("GET", "users", token=None, headers=(("Authorization", "Basic abc"),)),
                Call("GET", "users", token=None, headers=(("Authorization", "Bearer ,x"),)),
                Call(
                    "POST",
                    "orders",
                    content=b"user_id=1&currency_code=USD",
                    content_type="application/x-www-form-urlencoded",
                ),
                Call(
                    "PATCH",
                    f"users/{user}",
                    content=b"first_name=Form",
                    content_type="application/x-www-form-urlencoded",
                ),
            ]
        )

    def write(self) -> Call:
        from tests.handlers.diffwrites import write_call

        self.serial += 1
        return write_call(self, self.serial)
