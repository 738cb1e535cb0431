#!/usr/bin/env bash
# The demo: the legacy PHP application on SQLite behind the gateway, with the repository's
# routing.yaml. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PHP_PORT=${PHP_PORT:-8080}
GATEWAY_PORT=${GATEWAY_PORT:-8000}
SCALE=${SCALE:-100}
DB_FILE="$PWD/legacy/var/paymenter.sqlite"
SEED_JSON="$PWD/legacy/var/seed.json"

if ! command -v php >/dev/null; then
  echo "PHP is not installed. On Debian or Ubuntu, as root:" >&2
  echo "  apt-get update && apt-get install -y php-cli php-sqlite3 php-mysql php-mbstring" >&2
  exit 1
fi
for port in "$PHP_PORT" "$GATEWAY_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; set PHP_PORT / GATEWAY_PORT to free ones" >&2
    exit 1
  fi
done

mkdir -p legacy/var var
export DB_DSN="sqlite:$DB_FILE"
export DATABASE_URL="sqlite:///$DB_FILE"
export LEGACY_URL="http://127.0.0.1:$PHP_PORT"
if [ ! -s "$DB_FILE" ] || [ ! -s "$SEED_JSON" ]; then
  echo "seeding the legacy database (scale $SCALE) into $DB_FILE ..."
  php legacy/bin/seed.php --scale "$SCALE" > "$SEED_JSON"
fi
TOKEN=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"]["admin"])' "$SEED_JSON")

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

PHP_CLI_SERVER_WORKERS=4 php -S "127.0.0.1:$PHP_PORT" -t legacy/public legacy/public/index.php \
  > var/php.log 2>&1 &
pids+=($!)
.venv/bin/strangler check routing.yaml
.venv/bin/strangler serve --host 127.0.0.1 --port "$GATEWAY_PORT" --config routing.yaml &
pids+=($!)

for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT") 2>/dev/null && break
  sleep 0.2
done

G="http://127.0.0.1:$GATEWAY_PORT"
cat <<TXT

Strangler is listening on $G, in front of PHP on $LEGACY_URL (PHP log: var/php.log).
This terminal shows the gateway's reloads, warnings and errors; STRANGLER_LOG_LEVEL=debug
adds a line per request. Try, in another terminal:

  # legacy: the PHP login page and health check, passed through untouched
  curl -i $G/login
  curl -s $G/health
  # native: one user, served by the Python handlers (handlers/)
  curl -s -H 'Authorization: Bearer $TOKEN' -H 'Accept: application/json' $G/api/v1/admin/users/1
  # shadow: the users list, answered by PHP and compared with the Python side
  curl -s -H 'Authorization: Bearer $TOKEN' -H 'Accept: application/json' '$G/api/v1/admin/users?per_page=5'
  # the operator's view
  curl -s $G/_strangler/routes
  .venv/bin/strangler match GET /api/v1/admin/users/7
  .venv/bin/strangler report

Edit routing.yaml (say, flip a route's mode) and the gateway reloads it. Ctrl-C stops the demo.
TXT
wait
