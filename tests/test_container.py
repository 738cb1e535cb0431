"""The container path, checked without a Docker daemon: what the build context holds
(.dockerignore, read as Docker reads it), what docker-compose makes of docker-compose.yml
(Debian's docker-compose), and that the healthchecks it declares answer as they should against
the real services, run here instead of in their containers. The seed step's seed-once logic is
tested with the seeder itself (tests/legacy/test_seed.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import database, seed
from tests.gateway.conftest import table_text
from tests.gateway.live import live_gateway, php_echo
from tests.support.fpm import php_fpm
from tests.support.services import ROOT, unavailable

DOCKERFILES = [ROOT / "Dockerfile", ROOT / "docker" / "legacy.Dockerfile"]


def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: `*` and `?` within one path segment,
    `**` across any number of them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            char = pattern[i]
            out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
            i += 1
    return re.compile(out)


def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _regex(line.lstrip("!").strip("/"))))
    return rules


def left_out(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """As Docker decides: the last rule that matches the path, or one of its parent
    directories, wins."""
    parts = path.split("/")
    excluded = False
    for negated, pattern in rules:
        if any(pattern.fullmatch("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


def copied_sources() -> list[str]:
    """What the Dockerfiles COPY from the build context."""
    found = []
    for dockerfile in DOCKERFILES:
        for line in dockerfile.read_text(encoding="utf-8").splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                found += line.split()[1:-1]
    return found


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python", ".git/HEAD", ".env", "legacy/var/paymenter.sqlite",
        "legacy/var/paymenter.sqlite-wal", "legacy/var/seed.json", "var/parity.db",
        "var/php.log", "test-artifacts/dashboard-routes.png", "bench/results/raw/run.json",
        "proxy/__pycache__/app.cpython-311.pyc", "parity.db", ".pytest_cache/v/cache/lastfailed",
    ],
)  # fmt: skip
def test_the_build_context_leaves_out_local_state_and_secrets(path: str) -> None:
    assert left_out(path, ignore_rules())


def test_the_build_context_keeps_what_the_images_copy() -> None:
    rules = ignore_rules()
    sources = copied_sources()
    assert {"proxy", "handlers", "shadow", "legacy", "pyproject.toml"} <= set(sources)
    for source in sources:
        assert not left_out(source, rules), source
        for file in (ROOT / source).rglob("*") if (ROOT / source).is_dir() else [ROOT / source]:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative and not relative.startswith("legacy/var/"):
                assert not left_out(relative, rules), relative
    assert not left_out("legacy/var/.gitkeep", rules)


def compose(*args: str, token: str | None, env_file: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        unavailable("docker-compose is not installed (apt-get install docker-compose)")
        raise AssertionError("unreachable")
    env = {"PATH": "/usr/bin:/bin"} | ({"STRANGLER_ADMIN_TOKEN": token} if token else {})
    return subprocess.run(
        # --env-file: an empty one, not a .env this checkout may hold
        [binary, "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def no_env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def services(no_env_file: Path) -> dict[str, dict[str, object]]:
    done = compose("config", token="from-the-environment", env_file=no_env_file)
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, object]] = yaml.safe_load(done.stdout)["services"]
    return found


def test_compose_needs_an_admin_token_from_the_environment(no_env_file: Path) -> None:
    done = compose("config", "-q", token=None, env_file=no_env_file)
    assert done.returncode != 0
    assert "set STRANGLER_ADMIN_TOKEN in the environment or in .env" in done.stderr


def test_compose_gives_the_gateway_the_token_and_waits_for_healthy_services(
    services: dict[str, dict[str, object]],
) -> None:
    gateway = services["gateway"]
    assert gateway["environment"]["STRANGLER_ADMIN_TOKEN"] == "from-the-environment"  # type: ignore[index]
    assert gateway["depends_on"] == {"legacy": {"condition": "service_healthy"}}
    assert services["legacy"]["depends_on"] == {
        "seed": {"condition": "service_completed_successfully"}
    }
    # every `up` runs the seed step: it must keep a database it has seeded
    assert "--if-empty" in services["seed"]["command"]  # type: ignore[operator]


# what a healthcheck names in its container, and what stands for it here
IN_CONTAINER = {
    "legacy": {"tcp://127.0.0.1:9000": "", "/srv/legacy/": str(ROOT / "legacy") + "/"},
    "gateway": {"http://127.0.0.1:8000/": ""},
}


def healthcheck(services: dict[str, dict[str, object]], name: str, address: str) -> list[str]:
    """The service's healthcheck command, pointed at `address` (where the service runs here)
    instead of its container's port, and at this checkout instead of the container's paths."""
    test = services[name]["healthcheck"]["test"]  # type: ignore[index]
    assert test[0] == "CMD"
    command = [str(part) for part in test[1:]]
    for there, here in IN_CONTAINER[name].items():
        assert any(there in part for part in command), command
        command = [part.replace(there, here or address) for part in command]
    return [sys.executable if command[0] == "python" else command[0], *command[1:]]


def run(command: list[str]) -> int:
    return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode


@pytest.mark.integration
def test_the_legacy_healthcheck_passes_while_php_fpm_answers_and_fails_once_it_is_gone(
    services: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    assert "ports" not in services["legacy"]  # FastCGI is for the gateway only
    with database(tmp_path, "sqlite") as (env, _):
        seed(env)
        settings = {f"env[{name}]": f'"{value}"' for name, value in env.items()}
        with php_fpm(children=1, settings=settings) as fpm:
            command = healthcheck(services, "legacy", f"unix://{fpm.socket}")
            assert run(command) == 0
        assert run(command) == 1


def test_the_gateway_reaches_php_fpm_over_fastcgi_and_serves_the_public_files(
    services: dict[str, dict[str, object]],
) -> None:
    gateway, legacy = services["gateway"], services["legacy"]
    environment = gateway["environment"]
    assert environment["LEGACY_FASTCGI"] == "legacy:9000"  # type: ignore[index]
    assert "LEGACY_URL" not in environment  # type: ignore[operator]
    root = environment["LEGACY_ROOT"]  # type: ignore[index]
    for service in (gateway, legacy):  # the same files, at the same path in both containers
        assert any(
            str(volume).endswith(f":{root}:ro") or _mounted(volume, root)
            for volume in service["volumes"]  # type: ignore[attr-defined]
        ), service["volumes"]
    assert not any(
        name == "nginx" or "nginx" in str(s.get("image", "")) for name, s in services.items()
    )


def _mounted(volume: object, target: str) -> bool:
    return isinstance(volume, dict) and volume.get("target") == target and volume.get("read_only")


@pytest.mark.integration
def test_the_gateway_healthcheck_passes_while_it_serves_and_fails_once_it_is_gone(
    services: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    with php_echo(tmp_path) as php, live_gateway(table_text(php), tmp_path) as gateway:
        command = healthcheck(services, "gateway", gateway.url + "/")
        assert run(command) == 0
    assert run(command) == 1
