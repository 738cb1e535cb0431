#!/usr/bin/env bash
# The demo: the legacy PHP application on SQLite under PHP-FPM, and the gateway straight in front
# of it (FastCGI to PHP-FPM's socket, the application's public files served by the gateway: no
# nginx, no php -S), with the repository's routing.yaml. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY_PORT=${GATEWAY_PORT:-8000}
SCALE=${SCALE:-100}
DB_FILE="$PWD/legacy/var/paymenter.sqlite"
SEED_JSON="$PWD/legacy/var/seed.json"
# PHP-FPM's work directory (config, logs, socket), as legacy/deploy/run-fpm.sh keeps it; the
# socket is the one routing.yaml names (legacy.fastcgi: unix:var/php-fpm/php-fpm.sock)
FPM_DIR="$PWD/var/php-fpm"

if ! command -v php >/dev/null || ! { command -v php-fpm8.2 || command -v php-fpm || [ -x /usr/sbin/php-fpm8.2 ]; } >/dev/null; then
  echo "PHP and PHP-FPM are not installed. On Debian or Ubuntu, as root:" >&2
  echo "  apt-get update && apt-get install -y php-cli php-fpm php-sqlite3 php-mysql php-mbstring" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT") 2>/dev/null; then
  echo "port $GATEWAY_PORT is already in use; set GATEWAY_PORT to a free one" >&2
  exit 1
fi

mkdir -p legacy/var var
export DB_DSN="sqlite:$DB_FILE"
export DATABASE_URL="sqlite:///$DB_FILE"
if [ ! -s "$DB_FILE" ] || [ ! -s "$SEED_JSON" ]; then
  echo "seeding the legacy database (scale $SCALE) into $DB_FILE ..."
  php legacy/bin/seed.php --scale "$SCALE" > "$SEED_JSON"
fi
TOKEN=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"]["admin"])' "$SEED_JSON")

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash legacy/deploy/run-fpm.sh --stop "$FPM_DIR" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# PHP-FPM as the current user, its workers given DB_DSN (clear_env = no)
if ! started=$(bash legacy/deploy/run-fpm.sh --fpm-only --children 4 --workdir "$FPM_DIR" \
    --background 2>&1); then
  echo "$started" >&2
  exit 1
fi
.venv/bin/strangler check routing.yaml
.venv/bin/strangler serve --host 127.0.0.1 --port "$GATEWAY_PORT" --config routing.yaml &
pids+=($!)

for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$GATEWAY_PORT") 2>/dev/null && break
  sleep 0.2
done

G="http://127.0.0.1:$GATEWAY_PORT"
cat <<TXT

Strangler is listening on $G, in front of PHP-FPM on unix:$FPM_DIR/php-fpm.sock
(PHP's log: var/php-fpm/php-error.log).
This terminal shows the gateway's reloads, warnings and errors; STRANGLER_LOG_LEVEL=debug
adds a line per request. Try, in another terminal:

  # legacy: the PHP login page and health check, run by PHP-FPM over FastCGI
  curl -i $G/login
  curl -s $G/health
  # a public file of the PHP application, served by the gateway as nginx served it
  curl -i $G/robots.txt
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
