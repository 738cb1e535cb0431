"""Filters, sorts and includes: allow-lists, 400 messages, include gating, SQL fragments."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import query
from handlers.errors import ApiError

USER_INCLUDES = ("properties", "orders", "services", "invoices", "tickets", "credits", "role")
RESTRICTED = [
    "admin.users.view",
    "admin.invoices.view",
    "admin.tickets.view",
    "admin.ticket_messages.view",
]


def test_unknown_filter_lists_the_allowed_ones() -> None:
    with pytest.raises(ApiError) as caught:
        query.build_filters({"x": "1", "email": "a"}, "users", ("first_name", "email"), True)
    assert caught.value.status == 400
    assert caught.value.message == (
        "Requested filter(s) `x` are not allowed. Allowed filter(s) are `first_name, email`."
    )


@pytest.mark.parametrize(
    ("raw", "params"),
    [
        ({"email": "A_b%"}, ["%a\\_b\\%%"]),
        ({"email": "a,b"}, ["%a%", "%b%"]),
        ({"email": "a,"}, ["%a%"]),
        ({"email": "true"}, ["%1%"]),
        ({"email": "false"}, ["%%"]),
        ({"email": None}, []),
        ({"email": ","}, []),
    ],
    ids=["escaped-lowered", "comma-or", "empty-part", "true", "false", "null-skipped", "commas"],
)
def test_filter_values_follow_the_query_builder(raw: dict[str, Any], params: list[str]) -> None:
    _, bound = query.build_filters(raw, "users", ("email",), False)
    assert bound == params


def test_comma_filter_is_one_parenthesised_or_with_sqlite_escape() -> None:
    where, _ = query.build_filters({"email": "a,b"}, "users", ("email",), True)
    clause = "LOWER(`users`.`email`) LIKE ? ESCAPE '\\'"
    assert where == [f"({clause} OR {clause})"]


def test_restricted_key_sees_only_gated_includes_in_the_message() -> None:
    with pytest.raises(ApiError) as caught:
        query.check_includes("role", None, USER_INCLUDES, RESTRICTED)
    assert caught.value.message == (
        "Requested include(s) `role` are not allowed. Allowed include(s) are `invoices, "
        "invoicesCount, invoicesExists, tickets, ticketsCount, ticketsExists`."
    )


def test_nested_includes_expand_to_every_prefix_without_counts() -> None:
    names = query.allowed_include_names(["products.plans.prices", "parent"])
    assert names == [
        "products",
        "productsCount",
        "productsExists",
        "products.plans",
        "products.plans.prices",
        "parent",
        "parentCount",
        "parentExists",
    ]


def test_no_allowed_includes_says_so() -> None:
    with pytest.raises(ApiError) as caught:
        query.check_includes("x", None, ("user",), [])
    assert caught.value.message.endswith("`x` are not allowed. There are no allowed includes.")


def test_fields_of_an_included_relation_are_refused() -> None:
    with pytest.raises(ApiError) as caught:
        query.check_includes("role", {"roles": "name"}, USER_INCLUDES, ["admin.roles.view"])
    assert caught.value.message.startswith("Requested field(s) `name` are not allowed (yet).")


def test_count_of_a_missing_relation_is_a_server_error() -> None:
    with pytest.raises(query.ServerError):
        query.check_includes("assigned_toCount", None, ("assigned_to",), [], ("assigned_to",))


def test_sorts_keep_request_order_and_name_unknowns_without_dash() -> None:
    assert query.build_sorts("-email,id", "users", ("id", "email")) == [
        "`users`.`email` DESC",
        "`users`.`id` ASC",
    ]
    with pytest.raises(ApiError) as caught:
        query.build_sorts("-nope", "users", ("id",))
    assert caught.value.message == (
        "Requested sort(s) `nope` is not allowed. Allowed sort(s) are `id`."
    )


def test_include_tree_nests_dot_paths() -> None:
    assert query.include_tree("plans.prices,category,") == {
        "plans": {"prices": {}},
        "category": {},
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ({"users": "id,email"}, ["id", "email"]), ({"users": None}, [])],
    ids=["absent", "listed", "empty"],
)
def test_sparse_fields(raw: Any, expected: list[str] | None) -> None:
    assert query.sparse_fields(raw, "users") == expected


def test_fields_as_a_string_is_a_400() -> None:
    with pytest.raises(ApiError, match="must be an array of resource types"):
        query.sparse_fields("id", "users")
