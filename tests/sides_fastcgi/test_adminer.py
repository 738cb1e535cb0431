"""A real PHP application no one here wrote, as Debian packages it: Adminer (`apt-get install
adminer`) under PHP-FPM, with the gateway in front speaking FastCGI and no nginx anywhere.

Debian installs Adminer for a web server whose document root is /etc/adminer and whose
directory index is conf.php (its Apache snippet says so); the table says the same in two keys.
The test signs in to the MariaDB at 127.0.0.1:3306 as a user it creates (Adminer refuses empty
passwords), lists the databases, runs a query, and loads Adminer's stylesheet."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.live import LiveGateway, live_gateway
from tests.support.fpm import php_fpm
from tests.support.services import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    mariadb_database,
    unavailable,
)

pytestmark = pytest.mark.integration

ADMINER = Path("/etc/adminer/conf.php")


@pytest.fixture(scope="module")
def account() -> Iterator[tuple[str, str, str]]:
    """A database with a table, and a user with a password who may use it: (db, user, pw)."""
    import pymysql

    with mariadb_database("strangler_adminer") as database:
        user, password = f"adm_{secrets.token_hex(4)}", "pw-" + secrets.token_hex(8)
        conn = pymysql.connect(
            host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER,
            password=MARIADB_PASSWORD, autocommit=True,
        )  # fmt: skip
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
                cur.execute(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
                cur.execute(f"CREATE TABLE `{database}`.fruit (id INT PRIMARY KEY, name TEXT)")
                cur.execute(f"INSERT INTO `{database}`.fruit VALUES (1, 'quince'), (2, 'medlar')")
            yield database, user, password
        finally:
            with conn.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            conn.close()


@pytest.fixture(scope="module")
def adminer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    if not ADMINER.exists():
        unavailable(f"{ADMINER} is missing (apt-get install adminer)")
    sessions = tmp_path_factory.mktemp("sessions")
    settings = {"php_admin_value[session.save_path]": str(sessions)}
    with php_fpm(children=2, settings=settings) as fpm:
        table = (
            f"version: 1\nlegacy:\n  fastcgi: unix:{fpm.socket}\n"
            f"  root: {ADMINER.parent}\n  index: {ADMINER.name}\n"
        )
        with live_gateway(table, tmp_path_factory.mktemp("gw")) as gateway:
            yield gateway


def test_adminer_signs_in_lists_databases_and_runs_a_query(
    adminer: LiveGateway, account: tuple[str, str, str]
) -> None:
    database, user, password = account
    server = f"{MARIADB_HOST}:{MARIADB_PORT}"
    with httpx.Client(base_url=adminer.url, follow_redirects=False, timeout=30) as browser:
        form = browser.get("/")
        assert form.status_code == 200
        assert 'name="auth[username]"' in form.text

        signed_in = browser.post(
            "/",
            data={
                "auth[driver]": "server", "auth[server]": server, "auth[username]": user,
                "auth[password]": password, "auth[db]": "",
            },
        )  # fmt: skip
        assert signed_in.status_code == 302  # PHP's redirect, as PHP wrote it
        assert any(c.startswith("adminer_sid=") for c in signed_in.headers.get_list("set-cookie"))

        databases = browser.get(signed_in.headers["location"])
        assert databases.status_code == 200
        assert f"db={database}" in databases.text

        sql_page = browser.get("/", params={"server": server, "username": user, "db": database,
                                            "sql": ""})  # fmt: skip
        token = re.search(r'name="token" value="([^"]+)"', sql_page.text)
        assert token is not None, sql_page.text[:500]
        result = browser.post(
            "/",
            params={"server": server, "username": user, "db": database, "sql": ""},
            data={"query": "SELECT name FROM fruit ORDER BY id", "limit": "",
                  "token": token.group(1)},
        )  # fmt: skip
        assert result.status_code == 200
        assert re.search(r"<td>quince.*<td>medlar", result.text, re.DOTALL), result.text[-800:]

        stylesheet = browser.get("/", params={"file": "default.css", "version": "4.8.1"})
        assert stylesheet.status_code == 200
        assert stylesheet.headers["content-type"].startswith("text/css")
