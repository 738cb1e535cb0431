"""legacy/bin/seed.php, legacy/schema/ and legacy/src/db.php: the same deterministic data on SQLite
and MariaDB, in Paymenter's table layout, rich enough to exercise every filter, sort and include."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.services import ROOT, mariadb_database, mariadb_dsn, mariadb_url, php_binary

SEEDER = ROOT / "legacy" / "bin" / "seed.php"
DB_PHP = ROOT / "legacy" / "src" / "db.php"
SCALE = 50
SEED = 5

TABLES = [
    "users",
    "roles",
    "api_keys",
    "settings",
    "audits",
    "currencies",
    "categories",
    "products",
    "plans",
    "prices",
    "coupons",
    "orders",
    "services",
    "invoices",
    "invoice_items",
    "invoice_transactions",
    "tickets",
    "ticket_messages",
    "ticket_message_attachments",
    "credits",
    "custom_properties",
    "properties",
    "service_upgrades",
]

# paymenter-api.md section 1.4, spelled out independently of the seeder.
ALL_PERMISSIONS = {
    f"admin.{resource}.{ability}"
    for resource, abilities in {
        "users": ["create", "update", "view", "delete", "impersonate"],
        "invoices": ["create", "update", "view", "delete"],
        "invoice_items": ["create", "update", "view", "delete"],
        "tickets": ["create", "update", "view", "delete"],
        "orders": ["create", "update", "view", "delete"],
        "services": ["create", "update", "view", "delete"],
        "coupons": ["create", "update", "view", "delete"],
        "credits": ["create", "update", "view", "delete"],
        "ticket_messages": ["create", "view", "delete"],
        "products": ["view"],
        "categories": ["view"],
        "properties": ["view"],
        "roles": ["view"],
    }.items()
    for ability in abilities
}
RESTRICTED = [
    "admin.users.view",
    "admin.invoices.view",
    "admin.tickets.view",
    "admin.ticket_messages.view",
]


@dataclass(frozen=True)
class Seeded:
    report: dict[str, Any]
    stdout: str
    engine: sa.Engine
    env: dict[str, str]


def run_seed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [php_binary(), str(SEEDER), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def seed_into(env: dict[str, str], url: str, *args: str) -> Seeded:
    proc = run_seed(env, *args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, "exactly one JSON object on stdout"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    return Seeded(json.loads(lines[0]), proc.stdout, engine, env)


def seed_sqlite(path: Path, *args: str) -> Seeded:
    return seed_into({"DB_DSN": f"sqlite:{path}"}, f"sqlite:///{path}", *args)


def standard_args(seed: int = SEED) -> list[str]:
    return ["--scale", str(SCALE), "--seed", str(seed)]


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_sqlite(tmp_path_factory.mktemp("seed") / "a.sqlite", *standard_args())
    yield seeded
    seeded.engine.dispose()


@pytest.fixture(scope="module")
def mariadb_seeded() -> Iterator[Seeded]:
    with mariadb_database("strangler_seed") as name:
        seeded = seed_into(mariadb_dsn(name), mariadb_url(name), *standard_args())
        yield seeded
        seeded.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def seeded(request: pytest.FixtureRequest) -> Seeded:
    return request.getfixturevalue(f"{request.param}_seeded")  # type: ignore[no-any-return]


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def scalar(engine: sa.Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def normalised(value: Any) -> str | None:
    return None if value is None else str(value)


def dump(engine: sa.Engine) -> dict[str, list[tuple[str | None, ...]]]:
    """Every row of every table, values as strings, in primary-key order."""
    out = {}
    for table in TABLES:
        key = "code" if table == "currencies" else "id"
        with engine.connect() as conn:
            result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {key}"))
            out[table] = [tuple(normalised(v) for v in row) for row in result]
    return out


# -- the report ----------------------------------------------------------------------------


def test_report_names_the_database_arguments_tokens_and_every_table(seeded: Seeded) -> None:
    report = seeded.report
    assert list(report) == ["dsn", "scale", "seed", "timezone", "tokens", "counts"]
    assert report["dsn"] == seeded.env["DB_DSN"]
    assert (report["scale"], report["seed"], report["timezone"]) == (SCALE, SEED, "UTC")
    assert set(report["tokens"]) == {"admin", "restricted", "disabled", "wrong_type", "ip_locked"}
    assert sorted(report["counts"]) == sorted(TABLES)


def test_counts_match_the_tables(seeded: Seeded) -> None:
    actual = {t: scalar(seeded.engine, f"SELECT COUNT(*) FROM {t}") for t in TABLES}
    assert seeded.report["counts"] == actual
    assert actual["users"] == SCALE


def test_rows_grow_in_proportion_to_users(seeded: Seeded) -> None:
    per_user = {t: n / SCALE for t, n in seeded.report["counts"].items()}
    assert 1 <= per_user["orders"] <= 3
    assert 1 <= per_user["services"] <= 3
    assert 1 <= per_user["invoices"] <= 3
    assert 1 <= per_user["invoice_items"] / per_user["invoices"] <= 4
    assert 0.3 <= per_user["tickets"] <= 2
    assert 1 <= per_user["ticket_messages"] / per_user["tickets"] <= 5
    assert 1 <= per_user["credits"] <= 3


# -- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_data_and_output(sqlite_seeded: Seeded, tmp_path: Path) -> None:
    again = seed_sqlite(tmp_path / "b.sqlite", *standard_args())
    try:
        assert again.stdout.replace(again.report["dsn"], sqlite_seeded.report["dsn"]) == (
            sqlite_seeded.stdout
        )
        assert dump(again.engine) == dump(sqlite_seeded.engine)
    finally:
        again.engine.dispose()


def test_reseeding_replaces_the_data(sqlite_seeded: Seeded, tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    first = seed_sqlite(path, "--scale", "3", "--seed", "9")
    second = seed_sqlite(path, *standard_args())
    try:
        assert dump(second.engine) == dump(sqlite_seeded.engine)
    finally:
        first.engine.dispose()
        second.engine.dispose()


@contextlib.contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """(the seeder's environment, an SQLAlchemy URL) of a database with nothing in it."""
    if kind == "mariadb":
        with mariadb_database("strangler_seed_once") as name:
            yield mariadb_dsn(name), mariadb_url(name)
        return
    path = tmp_path / "once.sqlite"
    yield {"DB_DSN": f"sqlite:{path}"}, f"sqlite:///{path}"


def seed_once(env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = run_seed(env, "--scale", "3", "--seed", "9", "--if-empty", *args)
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    return json.loads(line)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["sqlite", "mariadb"])
def test_if_empty_seeds_an_empty_database_once_and_then_keeps_it(kind: str, tmp_path: Path) -> None:
    """As a container start runs it: every time, and only the first run writes."""
    with empty_database(kind, tmp_path) as (env, url):
        first = seed_once(env)
        assert list(first) == ["dsn", "scale", "seed", "timezone", "tokens", "counts"]
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            with engine.begin() as conn:  # what the application wrote since, to be kept
                conn.execute(sa.text("UPDATE users SET first_name = 'Kept' WHERE id = 1"))
            again = seed_once(env)
            assert again == {
                "dsn": env["DB_DSN"],
                "skipped": "the database is seeded already (3 users): kept as it is (without "
                "--if-empty every table is dropped and seeded again)",
                "users": 3,
                "seed": 9,
                "tokens": first["tokens"],
            }
            assert scalar(engine, "SELECT first_name FROM users WHERE id = 1") == "Kept"
            other = seed_once(env, "--seed", "10")  # not the seed it holds: no tokens to give
            assert "skipped" in other and "tokens" not in other
        finally:
            engine.dispose()


def test_if_empty_seeds_again_a_database_whose_seed_was_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "cut.sqlite"
    seed_sqlite(path, "--scale", "3").engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM settings")  # written last: a seed that stopped before them
        conn.commit()
    report = seed_once({"DB_DSN": f"sqlite:{path}"})
    assert "counts" in report and report["counts"]["settings"] > 0


def test_a_different_seed_gives_different_data(sqlite_seeded: Seeded, tmp_path: Path) -> None:
    other = seed_sqlite(tmp_path / "d.sqlite", *standard_args(SEED + 1))
    try:
        assert other.report["tokens"]["admin"] != sqlite_seeded.report["tokens"]["admin"]
        mine, theirs = dump(sqlite_seeded.engine), dump(other.engine)
        for table in ("users", "services", "invoices", "tickets", "ticket_messages", "credits"):
            assert mine[table] != theirs[table], table
    finally:
        other.engine.dispose()


def test_sqlite_and_mariadb_hold_the_same_rows(
    sqlite_seeded: Seeded, mariadb_seeded: Seeded
) -> None:
    assert sqlite_seeded.report["tokens"] == mariadb_seeded.report["tokens"]
    assert sqlite_seeded.report["counts"] == mariadb_seeded.report["counts"]
    mine, theirs = dump(sqlite_seeded.engine), dump(mariadb_seeded.engine)
    for table in TABLES:
        assert mine[table] == theirs[table], table


# -- API keys ------------------------------------------------------------------------------


def test_tokens_are_stored_as_sha256_of_the_plaintext(seeded: Seeded) -> None:
    keys = {r["name"]: r for r in rows(seeded.engine, "SELECT * FROM api_keys")}
    assert set(keys) == set(seeded.report["tokens"])
    for name, plain in seeded.report["tokens"].items():
        assert re.fullmatch(r"PAYM[0-9a-f]{64}", plain), name
        assert keys[name]["token"] == hashlib.sha256(plain.encode()).hexdigest(), name


def test_api_keys_have_the_specified_permissions_and_state(seeded: Seeded) -> None:
    keys = {r["name"]: r for r in rows(seeded.engine, "SELECT * FROM api_keys")}

    def state(name: str) -> tuple[Any, ...]:
        key = keys[name]
        ips = json.loads(key["ip_addresses"]) if key["ip_addresses"] is not None else None
        return key["type"], int(key["enabled"]), ips or None

    assert set(json.loads(keys["admin"]["permissions"])) == ALL_PERMISSIONS
    assert len(json.loads(keys["admin"]["permissions"])) == len(ALL_PERMISSIONS)
    assert json.loads(keys["restricted"]["permissions"]) == RESTRICTED
    for name in ("disabled", "wrong_type", "ip_locked"):
        assert set(json.loads(keys[name]["permissions"])) == ALL_PERMISSIONS, name
    assert state("admin") == ("admin", 1, None)
    assert state("restricted") == ("admin", 1, None)
    assert state("disabled") == ("admin", 0, None)
    assert state("wrong_type") == ("user", 1, None)
    assert state("ip_locked") == ("admin", 1, ["10.9.9.9"])


# -- what the data must exercise -----------------------------------------------------------


def column(seeded: Seeded, sql: str) -> list[Any]:
    return [next(iter(r.values())) for r in rows(seeded.engine, sql)]


def test_names_are_unicode_and_sometimes_null(seeded: Seeded) -> None:
    firsts = column(seeded, "SELECT first_name FROM users")
    lasts = column(seeded, "SELECT last_name FROM users")
    names = [n for n in firsts + lasts if n is not None]
    assert any(not n.isascii() for n in names), "accented names"
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", n) for n in names), "CJK"
    assert any(any(ord(c) > 0xFFFF for c in n) for n in names), "emoji (outside the BMP)"
    assert None in firsts
    assert None in lasts


def test_users_have_distinct_emails_verified_or_not_and_a_few_admins(seeded: Seeded) -> None:
    users = rows(seeded.engine, "SELECT * FROM users")
    emails = [u["email"].lower() for u in users]
    assert len(set(emails)) == len(emails)
    assert any("_" in e for e in emails) and any("%" in e for e in emails), "LIKE wildcards"
    verified = [u["email_verified_at"] for u in users]
    assert None in verified and any(v is not None for v in verified)
    admins = [u for u in users if u["role_id"] == 1]
    assert 1 <= len(admins) <= 5
    roles = rows(seeded.engine, "SELECT * FROM roles WHERE name = 'admin'")
    assert json.loads(roles[0]["permissions"]) == ["*"]


def test_settings_rows(seeded: Seeded) -> None:
    settings = {
        r["key"]: r
        for r in rows(seeded.engine, "SELECT * FROM settings WHERE settingable_type IS NULL")
    }
    numbers = column(seeded, "SELECT number FROM invoices WHERE number IS NOT NULL")
    assert settings["timezone"]["value"] == "UTC"
    assert settings["invoice_number"]["value"] == str(max(int(n) for n in numbers))
    assert settings["invoice_number_padding"]["value"] == "1"
    assert settings["invoice_number_format"]["value"] == "{number}"
    assert settings["invoice_proforma"]["value"] == "0"
    assert json.loads(settings["ticket_departments"]["value"]) == ["Sales", "Support", "Billing"]
    assert settings["ticket_departments"]["type"] == "array"


def test_an_invoice_number_equals_another_invoices_id(seeded: Seeded) -> None:
    invoices = rows(seeded.engine, "SELECT id, number FROM invoices")
    ids = {str(i["id"]) for i in invoices}
    numbers = [i["number"] for i in invoices]
    assert None in numbers
    assert any(i["number"] in ids and i["number"] != str(i["id"]) for i in invoices)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT DISTINCT status FROM services", {"pending", "active", "cancelled", "suspended"}),
        ("SELECT DISTINCT status FROM invoices", {"pending", "paid", "cancelled"}),
        ("SELECT DISTINCT priority FROM tickets", {"low", "medium", "high"}),
        ("SELECT DISTINCT status FROM tickets", {"open", "closed", "replied"}),
        ("SELECT DISTINCT department FROM tickets", {"Sales", "Support", "Billing", None}),
        (
            "SELECT DISTINCT reference_type FROM invoice_items",
            {"App\\Models\\Service", "App\\Models\\Credit", None},
        ),
        ("SELECT DISTINCT type FROM plans", {"free", "one-time", "recurring"}),
        ("SELECT DISTINCT billing_unit FROM plans", {"hour", "day", "week", "month", "year", None}),
        (
            "SELECT DISTINCT status FROM invoice_transactions",
            {"succeeded", "failed", "processing"},
        ),
        ("SELECT DISTINCT hidden FROM products", {0, 1}),
        ("SELECT DISTINCT allow_quantity FROM products", {"disabled", "separated", "combined"}),
    ],
    ids=[
        "service-status",
        "invoice-status",
        "ticket-priority",
        "ticket-status",
        "department",
        "reference-type",
        "plan-type",
        "billing-unit",
        "transaction-status",
        "hidden",
        "allow-quantity",
    ],
)
def test_every_value_of_an_enumeration_occurs(seeded: Seeded, sql: str, expected: set[Any]) -> None:
    assert set(column(seeded, sql)) == expected


@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("services", "expires_at"),
        ("services", "coupon_id"),
        ("services", "order_id"),
        ("invoices", "due_at"),
        ("invoices", "number"),
        ("tickets", "assigned_to"),
        ("tickets", "department"),
        ("prices", "setup_fee"),
        ("products", "stock"),
        ("products", "description"),
        ("products", "slug"),
        ("categories", "parent_id"),
        ("invoice_items", "description"),
        ("invoice_transactions", "fee"),
    ],
)
def test_nullable_columns_hold_nulls_and_values(seeded: Seeded, table: str, name: str) -> None:
    values = column(seeded, f"SELECT {name} FROM {table}")
    assert None in values
    assert any(v is not None for v in values)


@pytest.mark.parametrize(
    ("table", "name"),
    [("credits", "amount"), ("invoice_items", "price"), ("services", "price"), ("prices", "price")],
)
def test_money_has_zero_and_large_amounts_as_two_decimal_strings(
    seeded: Seeded, table: str, name: str
) -> None:
    values = [str(v) for v in column(seeded, f"SELECT {name} FROM {table}") if v is not None]
    assert all(re.fullmatch(r"\d{1,15}\.\d\d", v) for v in values)
    assert "0.00" in values
    assert max(float(v) for v in values) >= 100_000


def test_several_currencies(seeded: Seeded) -> None:
    currencies = rows(seeded.engine, "SELECT * FROM currencies")
    assert len(currencies) >= 6
    assert {c["code"] for c in currencies} >= {"USD", "EUR", "GBP", "JPY"}
    assert all(c["name"] for c in currencies)
    assert len(set(column(seeded, "SELECT currency_code FROM credits"))) >= 3
    assert len(set(column(seeded, "SELECT currency_code FROM prices"))) >= 5
    per_user = column(
        seeded, "SELECT COUNT(*) FROM credits GROUP BY user_id, currency_code HAVING COUNT(*) > 1"
    )
    assert per_user == [], "one credit row per user and currency"


def test_categories_nest_and_products_have_plans_with_prices(seeded: Seeded) -> None:
    categories = rows(seeded.engine, "SELECT id, parent_id, slug FROM categories")
    parents = {c["id"]: c["parent_id"] for c in categories}
    assert any(p is not None and parents[p] is not None for p in parents.values()), "3 levels"
    assert len({c["slug"] for c in categories}) == len(categories)
    orphans = scalar(
        seeded.engine,
        "SELECT COUNT(*) FROM products p WHERE NOT EXISTS (SELECT 1 FROM plans"
        " WHERE priceable_id = p.id AND priceable_type LIKE '%Models%Product')",
    )
    assert orphans == 0


def test_tickets_have_long_messages_and_attachments(seeded: Seeded) -> None:
    lengths = column(seeded, "SELECT message FROM ticket_messages")
    longest = max(len(m) for m in lengths)
    assert longest == 5000, "the longest message the API accepts"
    assert min(len(m) for m in lengths) < 300
    assert seeded.report["counts"]["ticket_message_attachments"] > 0
    staff = column(seeded, "SELECT DISTINCT assigned_to FROM tickets WHERE assigned_to IS NOT NULL")
    admins = set(column(seeded, "SELECT id FROM users WHERE role_id = 1"))
    assert set(staff) <= admins


def test_some_users_have_properties_from_custom_properties(seeded: Seeded) -> None:
    keys = set(column(seeded, "SELECT `key` FROM custom_properties"))
    assert keys >= {"phone", "company_name", "address", "city", "country"}
    user_props = rows(
        seeded.engine,
        "SELECT p.`key` AS pk, p.custom_property_id, c.`key` AS ck FROM properties p"
        " JOIN custom_properties c ON c.id = p.custom_property_id",
    )
    assert user_props and all(p["pk"] == p["ck"] for p in user_props)
    owners = column(
        seeded, "SELECT DISTINCT model_id FROM properties WHERE model_type LIKE '%User'"
    )
    assert 0 < len(owners) < SCALE


def test_timestamps_are_seconds_in_2024_and_2025(seeded: Seeded) -> None:
    for table in ("users", "orders", "services", "invoices", "tickets", "credits"):
        for r in rows(seeded.engine, f"SELECT created_at, updated_at FROM {table}"):
            created, updated = str(r["created_at"]), str(r["updated_at"])
            assert re.fullmatch(r"202[45]-\d\d-\d\d \d\d:\d\d:\d\d", created), table
            assert updated >= created, table


def test_timezone_option_sets_the_setting(tmp_path: Path) -> None:
    seeded = seed_sqlite(tmp_path / "tz.sqlite", "--scale", "2", "--timezone", "Europe/Amsterdam")
    try:
        assert seeded.report["timezone"] == "Europe/Amsterdam"
        assert seeded.report["seed"] == 1, "the default seed"
        value = scalar(seeded.engine, "SELECT value FROM settings WHERE `key` = 'timezone'")
        assert value == "Europe/Amsterdam"
    finally:
        seeded.engine.dispose()


# -- schema: the two dialects agree ---------------------------------------------------------


def sqlite_layout(engine: sa.Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in TABLES:
            cols = [
                # An INTEGER PRIMARY KEY is the rowid: never NULL, whatever notnull says.
                (r[1], not r[3] and not r[5], normal_default(r[4]))
                for r in conn.exec_driver_sql(f"PRAGMA table_info({table})")
            ]
            fks = {
                (r[3], r[2], r[4], normal_action(r[6]), normal_action(r[5]))
                for r in conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})")
            }
            uniques = set()
            indexed = set()
            for idx in conn.exec_driver_sql(f"PRAGMA index_list({table})"):
                if idx[3] == "pk":
                    continue
                names = tuple(r[2] for r in conn.exec_driver_sql(f"PRAGMA index_info('{idx[1]}')"))
                indexed.add(names[0])
                if idx[2]:
                    uniques.add(names)
            out[table] = {"columns": cols, "fks": fks, "uniques": uniques, "indexed": indexed}
    return out


def mariadb_layout(engine: sa.Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    db = engine.url.database
    for table in TABLES:
        cols = [
            (r["COLUMN_NAME"], r["IS_NULLABLE"] == "YES", normal_default(r["COLUMN_DEFAULT"]))
            for r in rows(
                engine,
                "SELECT * FROM information_schema.columns WHERE table_schema = :db"
                " AND table_name = :t ORDER BY ordinal_position",
                db=db,
                t=table,
            )
        ]
        fks = {
            (
                r["COLUMN_NAME"],
                r["REFERENCED_TABLE_NAME"],
                r["REFERENCED_COLUMN_NAME"],
                normal_action(r["DELETE_RULE"]),
                normal_action(r["UPDATE_RULE"]),
            )
            for r in rows(
                engine,
                "SELECT k.*, c.DELETE_RULE, c.UPDATE_RULE"
                " FROM information_schema.key_column_usage k"
                " JOIN information_schema.referential_constraints c"
                " ON c.constraint_schema = k.constraint_schema"
                " AND c.constraint_name = k.constraint_name"
                " WHERE k.table_schema = :db AND k.table_name = :t",
                db=db,
                t=table,
            )
        }
        stats = rows(
            engine,
            "SELECT index_name, non_unique, column_name FROM information_schema.statistics"
            " WHERE table_schema = :db AND table_name = :t ORDER BY index_name, seq_in_index",
            db=db,
            t=table,
        )
        by_index: dict[str, list[str]] = {}
        unique_index: dict[str, bool] = {}
        for r in stats:
            by_index.setdefault(r["index_name"], []).append(r["column_name"])
            unique_index[r["index_name"]] = not r["non_unique"]
        uniques = {tuple(c) for n, c in by_index.items() if unique_index[n] and n != "PRIMARY"}
        indexed = {c[0] for n, c in by_index.items() if n != "PRIMARY"}
        out[table] = {"columns": cols, "fks": fks, "uniques": uniques, "indexed": indexed}
    return out


def normal_default(value: Any) -> str | None:
    if value is None or value == "NULL":
        return None
    return str(value).strip("'")


def normal_action(value: str) -> str:
    return "NO ACTION" if value in {"RESTRICT", "NO ACTION"} else value


def test_both_dialects_have_the_same_layout(sqlite_seeded: Seeded, mariadb_seeded: Seeded) -> None:
    mine, theirs = sqlite_layout(sqlite_seeded.engine), mariadb_layout(mariadb_seeded.engine)
    for table in TABLES:
        assert mine[table] == theirs[table], table


def test_every_foreign_key_column_is_indexed(sqlite_seeded: Seeded) -> None:
    for table, layout in sqlite_layout(sqlite_seeded.engine).items():
        for fk in layout["fks"]:
            assert fk[0] in layout["indexed"], f"{table}.{fk[0]}"


def test_paymenter_column_order(sqlite_seeded: Seeded) -> None:
    layout = sqlite_layout(sqlite_seeded.engine)
    names = {t: [c[0] for c in layout[t]["columns"]] for t in TABLES}
    assert names["users"] == [
        "id",
        "first_name",
        "last_name",
        "email",
        "role_id",
        "email_verified_at",
        "password",
        "tfa_secret",
        "created_at",
        "updated_at",
    ]
    assert names["services"][-2:] == ["billing_agreement_id", "label"]
    assert names["products"][-1] == "hidden"
    assert names["invoices"] == [
        "id",
        "number",
        "status",
        "due_at",
        "currency_code",
        "user_id",
        "created_at",
        "updated_at",
    ]


# -- db.php --------------------------------------------------------------------------------

PHP_TYPES = """
require getenv('DB_PHP');
$one = static fn (string $sql): array => db()->query($sql)->fetch();
$row = $one('SELECT id, role_id, email, created_at FROM users WHERE role_id IS NOT NULL LIMIT 1')
    + $one('SELECT amount FROM credits ORDER BY id LIMIT 1')
    + $one('SELECT hidden FROM products ORDER BY id LIMIT 1')
    + $one('SELECT due_at FROM invoices WHERE due_at IS NOT NULL ORDER BY id LIMIT 1')
    + $one('SELECT permissions FROM api_keys ORDER BY id LIMIT 1');
echo json_encode([db_driver(), array_map('get_debug_type', $row), $row['amount']]);
"""


def php(env: dict[str, str], code: str) -> str:
    proc = subprocess.run(
        [php_binary(), "-r", code],
        env={**os.environ, **env, "DB_PHP": str(DB_PHP)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def test_db_php_returns_the_same_php_types_on_both_databases(
    sqlite_seeded: Seeded, mariadb_seeded: Seeded
) -> None:
    lite = json.loads(php(sqlite_seeded.env, PHP_TYPES))
    maria = json.loads(php(mariadb_seeded.env, PHP_TYPES))
    assert lite[0] == "sqlite" and maria[0] == "mysql"
    assert (
        lite[1]
        == maria[1]
        == {
            "id": "int",
            "role_id": "int",
            "email": "string",
            "created_at": "string",
            "amount": "string",
            "hidden": "int",
            "due_at": "string",
            "permissions": "string",
        }
    )
    assert re.fullmatch(r"\d+\.\d\d", lite[2])


def test_sqlite_connection_enforces_foreign_keys_and_keeps_money_two_decimal(
    tmp_path: Path,
) -> None:
    seeded = seed_sqlite(tmp_path / "fk.sqlite", "--scale", "3")
    seeded.engine.dispose()
    code = """
require getenv('DB_PHP');
$pdo = db();
$uid = (int) $pdo->query('SELECT user_id FROM orders ORDER BY id LIMIT 1')->fetchColumn();
$pdo->prepare('INSERT INTO credits (user_id, currency_code, amount) VALUES (?, ?, ?)')
    ->execute([$uid, 'XTS', 12.5]);
$id = (int) $pdo->lastInsertId();
$pdo->prepare('UPDATE credits SET amount = ? WHERE id = ?')->execute(['7', $id]);
$after = $pdo->query("SELECT amount FROM credits WHERE id = $id")->fetchColumn();
$inserted = $pdo->query("SELECT price FROM invoice_items ORDER BY id LIMIT 1")->fetchColumn();
$pdo->prepare('DELETE FROM users WHERE id = ?')->execute([$uid]);
$left = (int) $pdo->query("SELECT COUNT(*) FROM orders WHERE user_id = $uid")->fetchColumn();
$mode = $pdo->query('PRAGMA journal_mode')->fetchColumn();
$fk = $pdo->query('PRAGMA foreign_keys')->fetchColumn();
echo json_encode([$after, $left, $mode, $fk, is_string($inserted)]);
"""
    assert json.loads(php(seeded.env, code)) == ["7.00", 0, "wal", 1, True]


def test_default_database_is_the_sqlite_file_under_legacy_var() -> None:
    code = "require getenv('DB_PHP'); echo db_dsn();"
    env = {k: v for k, v in os.environ.items() if k != "DB_DSN"}
    proc = subprocess.run(
        [php_binary(), "-r", code],
        env={**env, "DB_PHP": str(DB_PHP)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"sqlite:{ROOT / 'legacy' / 'var' / 'paymenter.sqlite'}"


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "abc"], "--scale must be a positive integer"),
        (["--scale", "0"], "--scale must be a positive integer"),
        (["--scale", "-5"], "--scale must be a positive integer"),
        ([], "--scale is required"),
        (["--scale"], "--scale needs a value"),
        (["--scale", "5", "--seed", "x"], "--seed must be"),
        (["--scale", "5", "--timezone", "Mars/Olympus"], "--timezone must be"),
        (["--scale", "5", "--colour", "red"], "unknown argument"),
    ],
    ids=[
        "scale-abc",
        "scale-zero",
        "scale-negative",
        "no-scale",
        "no-value",
        "seed",
        "tz",
        "unknown",
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = tmp_path / "never.sqlite"
    proc = run_seed({"DB_DSN": f"sqlite:{path}"}, *args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert proc.stdout == ""
    assert not path.exists(), "nothing is touched before the arguments are valid"


def test_unreachable_database_exits_non_zero_with_a_message() -> None:
    env = {"DB_DSN": "mysql:host=127.0.0.1;port=1;dbname=nothing", "DB_USER": "root"}
    proc = run_seed(env, "--scale", "5")
    assert proc.returncode != 0
    assert "cannot connect" in proc.stderr
    assert proc.stdout == ""


def test_equals_sign_form_is_accepted(tmp_path: Path) -> None:
    seeded = seed_sqlite(tmp_path / "eq.sqlite", "--scale=2", "--seed=4")
    seeded.engine.dispose()
    assert (seeded.report["scale"], seeded.report["seed"]) == (2, 4)


MONEY_COLUMNS = [
    ("prices", "price"),
    ("prices", "setup_fee"),
    ("coupons", "value"),
    ("services", "price"),
    ("invoice_items", "price"),
    ("invoice_transactions", "amount"),
    ("invoice_transactions", "fee"),
    ("credits", "amount"),
]


@pytest.fixture(scope="module")
def small_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("money") / "money.sqlite"
    seed_sqlite(path, "--scale", "3").engine.dispose()
    return path


@pytest.mark.parametrize(
    ("table", "name"), MONEY_COLUMNS, ids=[f"{t}.{c}" for t, c in MONEY_COLUMNS]
)
def test_sqlite_money_is_stored_with_two_decimals_whoever_writes_it(
    small_sqlite: Path, table: str, name: str
) -> None:
    with contextlib.closing(sqlite3.connect(small_sqlite)) as conn, conn:
        row_id = conn.execute(f"SELECT MIN(id) FROM {table}").fetchone()[0]
        for written, stored in [(12.5, "12.50"), ("7", "7.00"), (0, "0.00"), ("3.10", "3.10")]:
            conn.execute(f"UPDATE {table} SET {name} = ? WHERE id = ?", (written, row_id))
            got = conn.execute(f"SELECT {name} FROM {table} WHERE id = ?", (row_id,)).fetchone()
            assert got == (stored,), written


def test_sqlite_money_insert_keeps_nulls(small_sqlite: Path) -> None:
    with contextlib.closing(sqlite3.connect(small_sqlite)) as conn, conn:
        cur = conn.execute(
            "INSERT INTO prices (price, setup_fee, currency_code) VALUES (?, NULL, 'USD')", (3,)
        )
        got = conn.execute(
            "SELECT price, setup_fee FROM prices WHERE id = ?", (cur.lastrowid,)
        ).fetchone()
        assert got == ("3.00", None)
