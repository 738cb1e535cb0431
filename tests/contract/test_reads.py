"""Index and show of every endpoint: documents, attributes, filters, sorts, includes, fields,
pagination (paymenter-api.md §2.1 to §2.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tests.contract.conftest import Api, Target
from tests.contract.expect import (
    MODEL_CLASS,
    RELATIONS,
    app_timezone,
    attribute_names,
    like_matches,
    related,
    resource_object,
    row,
    rows,
    scalar,
)
from tests.contract.spec import (
    ENDPOINTS,
    MISSING_COLUMNS,
    RESTRICTED_PERMISSIONS,
    SILENT_INCLUDES,
    allowed_include_names,
)

ALL = list(ENDPOINTS)
SERVER_ERROR = {"message": "Server Error"}
ADMIN_VIEWS = [
    "users", "invoices", "tickets", "ticket_messages", "orders", "services", "credits",
    "properties", "roles", "products",
]  # fmt: skip


def ids(doc: dict[str, Any]) -> list[int]:
    return [int(item["id"]) for item in doc["data"]]


def all_ids(db: sa.Engine, table: str) -> list[int]:
    return [int(r["id"]) for r in rows(db, f"SELECT id FROM {table} ORDER BY id")]


def check_object_shape(obj: dict[str, Any], rtype: str) -> None:
    assert list(obj)[:3] == ["id", "type", "attributes"]
    assert isinstance(obj["id"], str)
    assert obj["type"] == rtype
    assert list(obj["attributes"]) == attribute_names(rtype)
    assert obj["attributes"].get("id", int(obj["id"])) == int(obj["id"])


# -- index and show ---------------------------------------------------------------------------


@pytest.mark.parametrize("ep", ALL)
def test_index_first_page(api: Api, db: sa.Engine, target: Target, ep: str) -> None:
    e = ENDPOINTS[ep]
    r = api.get(ep)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.api+json"
    doc = r.json()
    assert list(doc) == ["data", "links", "meta"]
    tz = app_timezone(db)
    expected = rows(db, f"SELECT * FROM {e.table} ORDER BY id LIMIT 15")
    assert doc["data"] == [resource_object(e.rtype, x, tz) for x in expected]
    for obj in doc["data"]:
        check_object_shape(obj, e.rtype)
        assert "relationships" not in obj
        assert "links" not in obj
        assert "meta" not in obj
    total = scalar(db, f"SELECT COUNT(*) FROM {e.table}")
    path = f"{target.base_url}/api/v1/admin/{ep}"
    assert doc["meta"] == {
        "current_page": 1,
        "current_page_url": f"{path}?page=1",
        "from": 1 if expected else None,
        "path": path,
        "per_page": 15,
        "to": len(expected) if expected else None,
    }
    assert list(doc["meta"]) == [
        "current_page",
        "current_page_url",
        "from",
        "path",
        "per_page",
        "to",
    ]
    links = {"first": f"{path}?page=1"}
    if total > 15:
        links["next"] = f"{path}?page=2"
    assert doc["links"] == links


@pytest.mark.parametrize("ep", ALL)
def test_show(api: Api, db: sa.Engine, ep: str) -> None:
    e = ENDPOINTS[ep]
    every = all_ids(db, e.table)
    assert every, f"the seed data has no {e.table}"
    tz = app_timezone(db)
    for id_ in {every[0], every[len(every) // 2], every[-1]}:
        r = api.get(f"{ep}/{id_}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.api+json"
        expected_row = row(db, e.table, id_)
        if ep == "invoices":
            # Invoices bind by number first (see test_invoice_binding_prefers_number).
            numbered = rows(db, "SELECT * FROM invoices WHERE number = :n", n=str(id_))
            expected_row = numbered[0] if numbered else expected_row
        assert expected_row is not None
        assert r.json() == {"data": resource_object(e.rtype, expected_row, tz)}
        check_object_shape(r.json()["data"], e.rtype)


@pytest.mark.parametrize("ep", ALL)
def test_show_missing_is_404_with_model_name(api: Api, db: sa.Engine, ep: str) -> None:
    missing = (scalar(db, f"SELECT MAX(id) FROM {ENDPOINTS[ep].table}") or 0) + 1000
    r = api.get(f"{ep}/{missing}")
    assert r.status_code == 404
    if ep == "invoices":
        assert r.json() == {"message": "No query results for model [App\\Models\\Invoice]."}
    else:
        assert r.json() == {
            "message": f"No query results for model [{MODEL_CLASS[ENDPOINTS[ep].rtype]}] {missing}"
        }


def test_invoice_binding_prefers_number(api: Api, db: sa.Engine) -> None:
    tz = app_timezone(db)
    invoices = rows(db, "SELECT * FROM invoices ORDER BY id")
    assert len(invoices) >= 3
    # Data-driven: every id in the table resolves to the invoice numbered so, else the id.
    by_number = {str(i["number"]): i for i in invoices if i["number"] is not None}
    for inv in invoices[:10]:
        value = str(inv["id"])
        expected = by_number.get(value, inv)
        assert api.get(f"invoices/{value}").json()["data"] == resource_object(
            "invoices", expected, tz
        )
    # Crafted: invoice A numbered with B's id is found at /invoices/<B's id>.
    a, b = invoices[0], invoices[1]
    holder = by_number.get(str(b["id"]))
    with db.connect() as conn:
        try:
            if holder is not None:
                conn.execute(
                    sa.text("UPDATE invoices SET number = :n WHERE id = :id"),
                    {"n": f"tmp-{holder['id']}", "id": holder["id"]},
                )
            conn.execute(
                sa.text("UPDATE invoices SET number = :n WHERE id = :id"),
                {"n": str(b["id"]), "id": a["id"]},
            )
            got = api.get(f"invoices/{b['id']}").json()["data"]
            assert got["id"] == str(a["id"])
            text_number = f"INV-{a['id']}-X"
            conn.execute(
                sa.text("UPDATE invoices SET number = :n WHERE id = :id"),
                {"n": text_number, "id": a["id"]},
            )
            assert api.get(f"invoices/{text_number}").json()["data"]["id"] == str(a["id"])
            missing = api.get("invoices/NO-SUCH-NUMBER")
            assert missing.status_code == 404
            assert missing.json() == {
                "message": "No query results for model [App\\Models\\Invoice]."
            }
        finally:
            conn.execute(
                sa.text("UPDATE invoices SET number = :n WHERE id = :id"),
                {"n": a["number"], "id": a["id"]},
            )
            if holder is not None:
                conn.execute(
                    sa.text("UPDATE invoices SET number = :n WHERE id = :id"),
                    {"n": holder["number"], "id": holder["id"]},
                )


# -- filters ----------------------------------------------------------------------------------

FILTER_CASES = [
    (ep, f) for ep, e in ENDPOINTS.items() for f in e.filters if (ep, f) not in MISSING_COLUMNS
]


def sample_needle(db: sa.Engine, table: str, column: str) -> str:
    values = [
        r["v"]
        for r in rows(
            db, f"SELECT LOWER({column}) AS v FROM {table} WHERE {column} IS NOT NULL ORDER BY id"
        )
    ]
    if not values:
        pytest.skip(f"no {table}.{column} values in the seed data")
    ordered = values[len(values) // 2 :] + values[: len(values) // 2]
    for value in ordered:
        text = str(value)
        needle = text[1:4] if len(text) > 4 else text
        if needle.isascii():
            return needle
    return str(ordered[0])


@pytest.mark.parametrize(("ep", "name"), FILTER_CASES, ids=[f"{a}-{b}" for a, b in FILTER_CASES])
def test_filter_is_partial_and_case_insensitive(
    api: Api, db: sa.Engine, target: Target, ep: str, name: str
) -> None:
    e = ENDPOINTS[ep]
    needle = sample_needle(db, e.table, name)
    if needle in {"true", "false"}:
        needle = needle[:3]
    asked = needle.upper() if needle.isascii() else needle
    r = api.get(ep, params={f"filter[{name}]": asked, "per_page": 10000})
    assert r.status_code == 200
    expected = like_matches(db, target.dialect, e.table, name, needle)
    assert expected, "the needle was taken from the data, so something must match"
    assert ids(r.json()) == expected


@pytest.mark.parametrize(("ep", "name"), sorted(MISSING_COLUMNS))
def test_filter_on_a_missing_column_is_a_server_error(api: Api, ep: str, name: str) -> None:
    r = api.get(ep, params={f"filter[{name}]": "usd"})
    assert r.status_code == 500
    assert r.json() == SERVER_ERROR


def test_filter_comma_means_or(api: Api, db: sa.Engine, target: Target) -> None:
    users = rows(db, "SELECT email FROM users ORDER BY id")
    first, second = users[0]["email"], users[-1]["email"]
    r = api.get("users", params={"filter[email]": f"{first},{second}", "per_page": 10000})
    expected = sorted(
        set(like_matches(db, target.dialect, "users", "email", first))
        | set(like_matches(db, target.dialect, "users", "email", second))
    )
    assert ids(r.json()) == expected


def test_filter_true_and_false_are_coerced(api: Api, db: sa.Engine, target: Target) -> None:
    truthy = api.get("products", params={"filter[hidden]": "true", "per_page": 10000})
    assert ids(truthy.json()) == like_matches(db, target.dialect, "products", "hidden", "1")
    falsy = api.get("products", params={"filter[hidden]": "false", "per_page": 10000})
    assert ids(falsy.json()) == [
        int(r["id"])
        for r in rows(db, "SELECT id FROM products WHERE hidden IS NOT NULL ORDER BY id")
    ]


def test_empty_filter_is_skipped(api: Api, db: sa.Engine) -> None:
    r = api.get("users", params={"filter[first_name]": "", "per_page": 10000})
    assert ids(r.json()) == all_ids(db, "users")
    r = api.get("users", params={"filter[first_name]": "   ", "per_page": 10000})
    assert ids(r.json()) == all_ids(db, "users")


@pytest.mark.parametrize("needle", ["%", "_", "\\"])
def test_filter_escapes_like_wildcards(
    api: Api, db: sa.Engine, target: Target, needle: str
) -> None:
    r = api.get("users", params={"filter[email]": needle, "per_page": 10000})
    assert r.status_code == 200
    assert ids(r.json()) == like_matches(db, target.dialect, "users", "email", needle)


@pytest.mark.parametrize("ep", ALL)
def test_unknown_filter_is_400(api: Api, ep: str) -> None:
    r = api.get(ep, params={"filter[nope]": "x"})
    assert r.status_code == 400
    allowed = ", ".join(ENDPOINTS[ep].filters)
    assert r.json() == {
        "message": f"Requested filter(s) `nope` are not allowed. Allowed filter(s) are `{allowed}`."
    }


# -- sorts ------------------------------------------------------------------------------------

MONEY_COLUMNS = {"price", "amount"}
SORT_CASES = [
    (ep, s) for ep, e in ENDPOINTS.items() for s in e.sorts if (ep, s) not in MISSING_COLUMNS
]


@pytest.mark.parametrize(("ep", "name"), SORT_CASES, ids=[f"{a}-{b}" for a, b in SORT_CASES])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_sort(api: Api, db: sa.Engine, ep: str, name: str, descending: bool) -> None:
    e = ENDPOINTS[ep]
    r = api.get(ep, params={"sort": ("-" if descending else "") + name, "per_page": 10000})
    assert r.status_code == 200
    values = {int(x["id"]): x["v"] for x in rows(db, f"SELECT id, {name} AS v FROM {e.table}")}
    got = [values[i] for i in ids(r.json())]
    if name in MONEY_COLUMNS:
        # money sorts by amount on every database (SQLite keeps it as two-decimal text)
        expected = sorted(values.values(), key=Decimal, reverse=descending)
    else:
        direction = "DESC" if descending else "ASC"
        query = f"SELECT {name} AS v FROM {e.table} ORDER BY {name} {direction}"
        expected = [x["v"] for x in rows(db, query)]
    assert got == expected


def test_multiple_sorts(api: Api, db: sa.Engine) -> None:
    r = api.get("services", params={"sort": "status,-id", "per_page": 10000})
    assert ids(r.json()) == [
        int(x["id"]) for x in rows(db, "SELECT id FROM services ORDER BY status ASC, id DESC")
    ]


@pytest.mark.parametrize(("ep", "name"), sorted(MISSING_COLUMNS))
def test_sort_on_a_missing_column_is_a_server_error(api: Api, ep: str, name: str) -> None:
    r = api.get(ep, params={"sort": name})
    assert r.status_code == 500
    assert r.json() == SERVER_ERROR


@pytest.mark.parametrize("ep", ALL)
def test_unknown_sort_is_400(api: Api, ep: str) -> None:
    r = api.get(ep, params={"sort": "-nope"})
    assert r.status_code == 400
    allowed = ", ".join(ENDPOINTS[ep].sorts)
    assert r.json() == {
        "message": f"Requested sort(s) `nope` is not allowed. Allowed sort(s) are `{allowed}`."
    }


def test_filter_is_checked_before_include_and_include_before_sort(api: Api) -> None:
    r = api.get("users", params={"filter[nope]": "x", "include": "nope", "sort": "nope"})
    assert r.json()["message"].startswith("Requested filter(s)")
    r = api.get("users", params={"include": "nope", "sort": "nope"})
    assert r.json()["message"].startswith("Requested include(s)")


# -- includes ---------------------------------------------------------------------------------


def expected_relationship(
    db: sa.Engine, rtype: str, parent: dict[str, Any], relation: str
) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    """(relationship data, [(type, row)] of the related resources)."""
    rel_type, many, found = related(db, rtype, parent, relation)
    idents = [{"type": rel_type, "id": str(x["id"])} for x in found]
    if many:
        return idents, [(rel_type, x) for x in found]
    return (idents[0] if idents else None), [(rel_type, x) for x in found]


INCLUDE_CASES = [
    (ep, inc)
    for ep, e in ENDPOINTS.items()
    for inc in e.includes
    if "." not in inc and (ep, inc) not in SILENT_INCLUDES and inc != "assigned_to"
]


@pytest.mark.parametrize(
    ("ep", "include"), INCLUDE_CASES, ids=[f"{a}-{b}" for a, b in INCLUDE_CASES]
)
def test_include(api: Api, db: sa.Engine, ep: str, include: str) -> None:
    e = ENDPOINTS[ep]
    tz = app_timezone(db)
    r = api.get(ep, params={"include": include, "per_page": 8})
    assert r.status_code == 200
    doc = r.json()
    expected_included: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in doc["data"]:
        parent = row(db, e.table, int(obj["id"]))
        assert parent is not None
        data, related_rows = expected_relationship(db, e.rtype, parent, include)
        assert list(obj) == [
            "id",
            "type",
            "attributes",
            "relationships",
            *(["meta"] if (ep, include) == ("users", "properties") else []),
        ]
        assert obj["relationships"] == {include: {"data": data}}
        for rel_type, rel_row in related_rows:
            expected_included.setdefault(
                (rel_type, str(rel_row["id"])), resource_object(rel_type, rel_row, tz)
            )
    included = doc.get("included", [])
    keys = [(x["type"], x["id"]) for x in included]
    assert len(keys) == len(set(keys)), "included must be de-duplicated"
    assert {k: v for k, v in zip(keys, included, strict=True)} == expected_included
    if not expected_included:
        assert "included" not in doc
    else:
        assert list(doc) == ["data", "links", "meta", "included"]


def test_polymorphic_reference_over_every_invoice_item(api: Api, db: sa.Engine) -> None:
    tz = app_timezone(db)
    doc = api.get("invoice-items", params={"include": "reference", "per_page": 100000}).json()
    seen_types = set()
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in doc["data"]:
        item = row(db, "invoice_items", int(obj["id"]))
        assert item is not None
        data, related_rows = expected_relationship(db, "invoiceItems", item, "reference")
        assert obj["relationships"] == {"reference": {"data": data}}
        for rel_type, rel_row in related_rows:
            seen_types.add(rel_type)
            expected[(rel_type, str(rel_row["id"]))] = resource_object(rel_type, rel_row, tz)
    assert {(x["type"], x["id"]): x for x in doc.get("included", [])} == expected
    assert {"services", "credits"} <= seen_types, "the seed data references services and credits"


def test_id_filters_are_partial_too(api: Api, db: sa.Engine) -> None:
    r = api.get("invoices", params={"filter[id]": "1", "per_page": 100000})
    expected = [i for i in all_ids(db, "invoices") if "1" in str(i)]
    assert ids(r.json()) == expected
    assert len(expected) > 1


@pytest.mark.parametrize(("ep", "include"), sorted(SILENT_INCLUDES))
def test_accepted_includes_without_output(api: Api, ep: str, include: str) -> None:
    plain = api.get(ep, params={"per_page": 5}).json()
    r = api.get(ep, params={"include": include, "per_page": 5})
    assert r.status_code == 200
    assert r.json() == plain


@pytest.mark.parametrize("ep", ALL)
def test_count_and_exists_includes_change_nothing(api: Api, ep: str) -> None:
    first = ENDPOINTS[ep].includes[0].split(".")[0]
    if ep == "tickets":
        first = "messages"
    plain = api.get(ep, params={"per_page": 5}).json()
    r = api.get(ep, params={"include": f"{first}Count,{first}Exists", "per_page": 5})
    assert r.status_code == 200
    assert r.json() == plain


def test_assigned_to_include_is_a_server_error(api: Api) -> None:
    r = api.get("tickets", params={"include": "assigned_to"})
    assert r.status_code == 500
    assert r.json() == SERVER_ERROR


def test_relationship_keys_follow_the_declared_order(api: Api) -> None:
    doc = api.get("invoices", params={"include": "items,user", "per_page": 3}).json()
    for obj in doc["data"]:
        assert list(obj["relationships"]) == ["user", "items"]


def test_nested_include_plans_prices(api: Api, db: sa.Engine) -> None:
    tz = app_timezone(db)
    doc = api.get("products", params={"include": "plans.prices", "per_page": 10000}).json()
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in doc["data"]:
        product = row(db, "products", int(obj["id"]))
        assert product is not None
        plans = rows(db, RELATIONS["products"]["plans"][2], id=product["id"])
        assert obj["relationships"] == {
            "plans": {"data": [{"type": "plans", "id": str(p["id"])} for p in plans]}
        }
        for plan in plans:
            prices = rows(db, RELATIONS["plans"]["prices"][2], id=plan["id"])
            plan_obj = resource_object("plans", plan, tz)
            plan_obj["relationships"] = {
                "prices": {"data": [{"type": "prices", "id": str(p["id"])} for p in prices]}
            }
            expected[("plans", str(plan["id"]))] = plan_obj
            for price in prices:
                expected[("prices", str(price["id"]))] = resource_object("prices", price, tz)
    got = {(x["type"], x["id"]): x for x in doc.get("included", [])}
    assert len(got) == len(doc.get("included", []))
    assert got == expected
    assert any(k[0] == "prices" for k in expected), "the seed data should give plans with prices"


def test_nested_include_products_plans_prices(api: Api, db: sa.Engine) -> None:
    tz = app_timezone(db)
    doc = api.get(
        "categories", params={"include": "products.plans.prices", "per_page": 10000}
    ).json()
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in doc["data"]:
        products = rows(db, RELATIONS["categories"]["products"][2], id=int(obj["id"]))
        assert obj["relationships"] == {
            "products": {"data": [{"type": "products", "id": str(p["id"])} for p in products]}
        }
        for product in products:
            plans = rows(db, RELATIONS["products"]["plans"][2], id=product["id"])
            p_obj = resource_object("products", product, tz)
            p_obj["relationships"] = {
                "plans": {"data": [{"type": "plans", "id": str(p["id"])} for p in plans]}
            }
            expected[("products", str(product["id"]))] = p_obj
            for plan in plans:
                prices = rows(db, RELATIONS["plans"]["prices"][2], id=plan["id"])
                plan_obj = resource_object("plans", plan, tz)
                plan_obj["relationships"] = {
                    "prices": {"data": [{"type": "prices", "id": str(p["id"])} for p in prices]}
                }
                expected[("plans", str(plan["id"]))] = plan_obj
                for price in prices:
                    expected[("prices", str(price["id"]))] = resource_object("prices", price, tz)
    got = {(x["type"], x["id"]): x for x in doc.get("included", [])}
    assert got == expected
    # A prefix of the path is an include of its own.
    partial = api.get("categories", params={"include": "products", "per_page": 10000}).json()
    assert {x["type"] for x in partial.get("included", [])} <= {"products"}


def test_user_meta_properties(api: Api, db: sa.Engine) -> None:
    with_props = scalar(db, "SELECT MIN(model_id) FROM properties WHERE model_type = :user_cls")
    without = scalar(
        db,
        "SELECT MIN(id) FROM users WHERE id NOT IN"
        " (SELECT model_id FROM properties WHERE model_type = :user_cls)",
    )
    checked = 0
    if with_props is not None:
        props = rows(
            db,
            "SELECT * FROM properties WHERE model_type = :user_cls AND model_id = :id",
            id=with_props,
        )
        data = api.get(f"users/{with_props}", params={"include": "properties"}).json()["data"]
        assert data["meta"] == {"properties": {p["key"]: p["value"] for p in props}}
        assert list(data) == ["id", "type", "attributes", "relationships", "meta"]
        checked += 1
    if without is not None:
        data = api.get(f"users/{without}", params={"include": "properties"}).json()["data"]
        assert data["meta"] == {"properties": []}
        checked += 1
    assert checked, "the seed data has no users"
    plain = api.get(f"users/{with_props or without}").json()["data"]
    assert "meta" not in plain


def test_include_gating_for_a_restricted_key(api: Api) -> None:
    r = api.get("users", token="restricted", params={"include": "orders"})
    assert r.status_code == 400
    names = ", ".join(allowed_include_names(ENDPOINTS["users"].includes, RESTRICTED_PERMISSIONS))
    allowed = f"Allowed include(s) are `{names}`."
    assert r.json() == {"message": f"Requested include(s) `orders` are not allowed. {allowed}"}
    assert (
        api.get("users", token="restricted", params={"include": "invoices,tickets"}).status_code
        == 200
    )
    r = api.get("tickets", token="restricted", params={"include": "messages,user"})
    assert r.status_code == 200


@pytest.mark.parametrize("ep", ALL)
def test_unknown_include_is_400_with_the_full_allowed_list(api: Api, ep: str) -> None:
    r = api.get(ep, params={"include": "nope"})
    assert r.status_code == 400
    every = [f"admin.{name}.view" for name in ADMIN_VIEWS]
    names = ", ".join(allowed_include_names(ENDPOINTS[ep].includes, every))
    allowed = f"Allowed include(s) are `{names}`."
    assert r.json() == {"message": f"Requested include(s) `nope` are not allowed. {allowed}"}


# -- sparse fieldsets -------------------------------------------------------------------------


def test_sparse_fieldsets_keep_the_declared_order(api: Api) -> None:
    doc = api.get("users", params={"fields[users]": "email,first_name,nope", "per_page": 3}).json()
    for obj in doc["data"]:
        assert list(obj["attributes"]) == ["first_name", "email"]


def test_sparse_fieldsets_apply_per_type(api: Api, db: sa.Engine) -> None:
    doc = api.get(
        "invoices", params={"include": "items", "fields[invoiceItems]": "price", "per_page": 5}
    ).json()
    for obj in doc["data"]:
        assert list(obj["attributes"]) == attribute_names("invoices")
    for inc in doc.get("included", []):
        assert list(inc["attributes"]) == ["price"]


def test_fields_as_a_string_is_400(api: Api) -> None:
    r = api.get("users", params={"fields": "email"})
    assert r.status_code == 400
    assert r.json() == {"message": "The fields parameter must be an array of resource types."}


def test_fields_value_must_be_a_string(api: Api) -> None:
    r = api.get("users", params={"fields[users][]": "email"})
    assert r.status_code == 400
    assert r.json() == {
        "message": "The fields parameter value must be a comma seperated list of attributes."
    }


def test_empty_fields_for_a_type_leaves_an_empty_attributes_object(api: Api) -> None:
    doc = api.get("users", params={"fields[users]": "", "per_page": 2}).json()
    for obj in doc["data"]:
        assert list(obj) == ["id", "type", "attributes"]
        assert obj["attributes"] == {}


def test_fields_for_an_included_relation_is_400(api: Api) -> None:
    r = api.get("invoices", params={"include": "user", "fields[users]": "email"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Requested field(s) `email` are not allowed (yet).")


# -- pagination -------------------------------------------------------------------------------


def test_pagination_second_page(api: Api, db: sa.Engine, target: Target) -> None:
    every = all_ids(db, "users")
    assert len(every) > 5
    r = api.get("users", params={"per_page": 2, "page": 2, "filter[email]": "", "sort": "id"})
    doc = r.json()
    assert ids(doc) == every[2:4]
    path = f"{target.base_url}/api/v1/admin/users"
    assert doc["meta"] == {
        "current_page": 2,
        "current_page_url": f"{path}?page=2",
        "from": 3,
        "path": path,
        "per_page": "2",
        "to": 4,
    }
    assert doc["links"] == {
        "first": f"{path}?page=1",
        "prev": f"{path}?page=1",
        "next": f"{path}?page=3",
    }


def test_page_beyond_the_end(api: Api, target: Target) -> None:
    doc = api.get("users", params={"page": 1000}).json()
    path = f"{target.base_url}/api/v1/admin/users"
    assert doc["data"] == []
    assert doc["meta"]["from"] is None
    assert doc["meta"]["to"] is None
    assert doc["meta"]["current_page"] == 1000
    assert doc["links"] == {"first": f"{path}?page=1", "prev": f"{path}?page=999"}


def test_exactly_one_page_has_no_next_link(api: Api, db: sa.Engine) -> None:
    total = scalar(db, "SELECT COUNT(*) FROM users")
    assert "next" not in api.get("users", params={"per_page": total}).json()["links"]
    assert "next" in api.get("users", params={"per_page": total - 1}).json()["links"]


@pytest.mark.parametrize("value", ["0", ""])
def test_falsy_per_page_is_the_default(api: Api, value: str) -> None:
    doc = api.get("users", params={"per_page": value}).json()
    assert doc["meta"]["per_page"] == 15
    assert len(doc["data"]) <= 15


def test_non_numeric_per_page_is_a_server_error(api: Api) -> None:
    r = api.get("users", params={"per_page": "abc"})
    assert r.status_code == 500
    assert r.json() == SERVER_ERROR


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_invalid_page_is_page_one(api: Api, value: str) -> None:
    assert api.get("users", params={"page": value}).json()["meta"]["current_page"] == 1


def test_links_use_the_request_host(api: Api) -> None:
    doc = api.get("users", headers={"Host": "billing.example.test:8443"}).json()
    assert doc["meta"]["path"] == "http://billing.example.test:8443/api/v1/admin/users"
    assert doc["links"]["first"] == "http://billing.example.test:8443/api/v1/admin/users?page=1"
