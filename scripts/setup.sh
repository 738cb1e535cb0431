#!/usr/bin/env bash
# Installs what a new machine lacks: Debian packages (PHP and PHP-FPM for the legacy application,
# Adminer as a PHP application the FastCGI tests run unchanged, nginx and wrk for benchmarks and
# parity tests, chromium for dashboard tests, what building mysqlclient needs) and the Python
# virtualenv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(php-cli php-fpm php-mysql php-sqlite3 php-mbstring adminer nginx-light wrk chromium docker-compose
  libmariadb-dev pkg-config gcc libc6-dev python3-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
# mysqlclient (C) is the native handlers' MariaDB driver when it is installed (handlers/mysql.py);
# pymysql stays the fallback, so a machine that cannot build it loses speed, not function.
if ! .venv/bin/python -c "import MySQLdb" 2>/dev/null; then
  .venv/bin/pip install -q "mysqlclient>=2.2" ||
    echo "setup: mysqlclient did not build (it needs libmariadb-dev, pkg-config and a C compiler); the native handlers use pymysql" >&2
fi
