#!/usr/bin/env bash
# Runs the legacy billing application under php-fpm behind nginx, as the current user, on a
# loopback port. The configuration is rendered from nginx.conf and php-fpm.conf (beside this
# script) into a work directory, which also holds the pid files, logs and the php-fpm socket;
# nothing is written to system paths. With --fpm-only, php-fpm runs alone, for a gateway that
# speaks FastCGI to its socket (Strangler's legacy.fastcgi).
#
#   run-fpm.sh [--port N] [--children N] [--workers N] [--workdir DIR] [--docroot DIR] [--background]
#   run-fpm.sh --fpm-only [--children N] [--workdir DIR] [--background]
#   run-fpm.sh --stop DIR
#
#   --port N        port on 127.0.0.1 (default 8080)
#   --children N    php-fpm workers, pm = static (default 4)
#   --workers N     nginx worker processes (default 1)
#   --workdir DIR   where configs, logs and the socket go (default: a new temporary directory)
#   --docroot DIR   document root (default: legacy/public)
#   --fpm-only      no nginx: php-fpm alone; what is printed is its socket, unix:DIR/php-fpm.sock
#   --background    start, wait until the port answers, print the URL and return; stop later
#                   with `run-fpm.sh --stop DIR`
#   --stop DIR      stop a background instance started with --workdir DIR
#
# In the foreground it prints the base URL (with --fpm-only, the socket) once it answers and runs
# until SIGINT or SIGTERM, or until nginx or php-fpm exits. DB_DSN, DB_USER and DB_PASSWORD are passed to PHP
# unchanged. PHP_FPM and NGINX may name the binaries.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT=8080
CHILDREN=4
WORKERS=1
WORKDIR=""
DOCROOT="$(cd "$HERE/../public" 2>/dev/null && pwd || echo "$HERE/../public")"
BACKGROUND=0
FPM_ONLY=0

die() {
    echo "run-fpm: $*" >&2
    exit 2
}

is_count() {
    [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]]
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) PORT="${2:-}"; shift 2 ;;
        --children) CHILDREN="${2:-}"; shift 2 ;;
        --workers) WORKERS="${2:-}"; shift 2 ;;
        --workdir) WORKDIR="${2:-}"; shift 2 ;;
        --docroot) DOCROOT="${2:-}"; shift 2 ;;
        --background) BACKGROUND=1; shift ;;
        --fpm-only) FPM_ONLY=1; shift ;;
        --stop)
            dir="${2:-}"
            [[ -f "$dir/run.pid" ]] || die "no instance running in '$dir'"
            pid="$(cat "$dir/run.pid")"
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 100); do
                kill -0 "$pid" 2>/dev/null || exit 0
                sleep 0.1
            done
            die "instance in '$dir' did not stop"
            ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1 && PORT <= 65535 )) || die "--port must be 1-65535, not '$PORT'"
is_count "$CHILDREN" || die "--children must be a positive integer, not '$CHILDREN'"
is_count "$WORKERS" || die "--workers must be a positive integer, not '$WORKERS'"
[[ -d "$DOCROOT" ]] || die "document root '$DOCROOT' does not exist"
DOCROOT="$(cd "$DOCROOT" && pwd)"

find_binary() {
    local override="$1"; shift
    if [[ -n "$override" ]]; then
        echo "$override"
        return
    fi
    local candidate
    for candidate in "$@"; do
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    done
    return 1
}

FPM_BIN="$(find_binary "${PHP_FPM:-}" php-fpm8.2 /usr/sbin/php-fpm8.2 php-fpm /usr/sbin/php-fpm)" \
    || die "php-fpm not found (apt-get install php-fpm, or set PHP_FPM)"
NGINX_BIN=""
if (( ! FPM_ONLY )); then
    NGINX_BIN="$(find_binary "${NGINX:-}" nginx /usr/sbin/nginx)" \
        || die "nginx not found (apt-get install nginx-light, or set NGINX)"
fi

if [[ -z "$WORKDIR" ]]; then
    WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/paymenter-fpm.XXXXXX")"
fi
mkdir -p "$WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd)"

if (( BACKGROUND )); then
    # The same script in the foreground, detached; wait for its "ready" line.
    rm -f "$WORKDIR/run.out"
    only=()
    (( FPM_ONLY )) && only=(--fpm-only)
    setsid "$0" --port "$PORT" --children "$CHILDREN" --workers "$WORKERS" "${only[@]}" \
        --workdir "$WORKDIR" --docroot "$DOCROOT" >"$WORKDIR/run.out" 2>"$WORKDIR/run.err" </dev/null &
    for _ in $(seq 200); do
        if [[ -s "$WORKDIR/run.out" ]]; then
            cat "$WORKDIR/run.out"
            echo "stop with: $0 --stop $WORKDIR" >&2
            exit 0
        fi
        kill -0 $! 2>/dev/null || { cat "$WORKDIR/run.err" >&2; die "failed to start"; }
        sleep 0.05
    done
    die "not answering on port $PORT after 10s (see $WORKDIR)"
fi

SOCKET="$WORKDIR/php-fpm.sock"
USER_LINE=""
FPM_FLAGS=()
if [[ "$(id -u)" == "0" ]]; then
    # As root, nginx would drop its workers to "nobody", who cannot reach the 0700 work
    # directory; php-fpm refuses root unless told.
    USER_LINE="user root;"
    FPM_FLAGS+=(--allow-to-run-as-root)
fi

render() {
    sed -e "s#@WORKDIR@#$WORKDIR#g" -e "s#@PORT@#$PORT#g" -e "s#@DOCROOT@#$DOCROOT#g" \
        -e "s#@FPM_SOCKET@#$SOCKET#g" -e "s#@CHILDREN@#$CHILDREN#g" -e "s#@WORKERS@#$WORKERS#g" \
        -e "s#@USER_LINE@#$USER_LINE#g" "$1" >"$2"
}
render "$HERE/nginx.conf" "$WORKDIR/nginx.conf"
render "$HERE/php-fpm.conf" "$WORKDIR/php-fpm.conf"
mkdir -p "$WORKDIR/client_body" "$WORKDIR/fastcgi" "$WORKDIR/proxy" "$WORKDIR/uwsgi" "$WORKDIR/scgi"
echo $$ >"$WORKDIR/run.pid"

FPM_PID=""
NGINX_PID=""
stop() {
    [[ -n "$NGINX_PID" ]] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
    [[ -n "$FPM_PID" ]] && kill -QUIT "$FPM_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -f "$WORKDIR/run.pid"
}
trap 'stop; exit 0' INT TERM HUP

"$FPM_BIN" --fpm-config "$WORKDIR/php-fpm.conf" --nodaemonize "${FPM_FLAGS[@]}" &
FPM_PID=$!
for _ in $(seq 200); do
    [[ -S "$SOCKET" ]] && break
    kill -0 "$FPM_PID" 2>/dev/null || { stop; die "php-fpm exited (see $WORKDIR/php-fpm.log)"; }
    sleep 0.05
done

if (( FPM_ONLY )); then
    echo "unix:$SOCKET"
    set +e
    wait "$FPM_PID"
    status=$?
    stop
    exit $(( status == 0 ? 1 : status ))
fi

"$NGINX_BIN" -e "$WORKDIR/nginx-error.log" -p "$WORKDIR" -c "$WORKDIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
ready=0
for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.05
done
if (( ! ready )); then
    stop
    die "nginx did not start on port $PORT (see $WORKDIR/nginx-error.log)"
fi
echo "http://127.0.0.1:$PORT"

# Run until a signal arrives or either server dies; then take the other one down too.
set +e
wait -n "$FPM_PID" "$NGINX_PID"
status=$?
stop
exit $(( status == 0 ? 1 : status ))
