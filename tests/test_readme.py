"""The README keeps up with the code: every environment variable the code reads is listed, every
file it points at exists, and its Prometheus scrape job scrapes a gateway."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import httpx
import yaml

from proxy.settings import Settings
from tests.gateway.conftest import gateway_for, make_table, running

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGES = ("proxy", "handlers", "shadow")
_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _environment_reads(tree: ast.AST) -> set[str]:
    """Names read from the environment: `env.get("X")`, `os.environ["X"]`, `getenv("X")`, a
    `..._ENV = "X"` constant, and any string that is a STRANGLER_* name whole."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"STRANGLER_[A-Z0-9_]+", node.value):
                found.add(node.value)
        elif isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            first = node.args[0]
            if (
                re.search(r"(env|environ)\.get$|getenv$", func)
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.add(first.value)
        elif isinstance(node, ast.Subscript) and re.search(r"env|environ", ast.unparse(node.value)):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                found.add(node.slice.value)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(n.endswith("_ENV") for n in names) and isinstance(node.value.value, str):
                found.add(node.value.value)
    return {name for name in found if _NAME.fullmatch(name)}


def environment_reads() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found |= _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
    return found


def readme_environment() -> set[str]:
    section = README.split("\n## Environment\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_environment_variable_the_code_reads_is_listed() -> None:
    read = environment_reads()
    assert {"STRANGLER_CONFIG", "STRANGLER_ADMIN_TOKEN", "LEGACY_URL", "DATABASE_URL"} <= read
    assert read - readme_environment() == set(), "read by the code, missing from the README"
    assert readme_environment() - read == set(), "listed in the README, read by nothing"


def test_the_readme_points_only_at_files_the_repository_has() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    named = re.findall(r"`([\w./-]+\.(?:md|yaml|yml|py|sh|toml))`", README)
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for target in [*links, *named]:
        if "://" in target or target.startswith("/"):
            continue
        target = target.removeprefix("./")
        # a path from the root, or one the text places in a folder it names (`pages.py`)
        assert any(f == target or f.endswith("/" + target) for f in files), target
    assert "DESIGN.md" not in README or (ROOT / "DESIGN.md").exists()


async def test_the_prometheus_scrape_job_scrapes_a_gateway() -> None:
    block = README.split("```yaml\nscrape_configs:", 1)[1].split("```", 1)[0]
    [job] = yaml.safe_load("scrape_configs:" + block)["scrape_configs"]
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    token = "prometheus-reads-this-from-its-file"
    settings = Settings(admin_token=token, watch=False)
    gateway = gateway_for(make_table("http://127.0.0.1:9"), settings=settings)
    async with running(gateway) as client:
        headers = {"Authorization": f"{job['authorization']['type']} {token}"}
        scraped = await client.get(job["metrics_path"], headers=headers)
        refused = await client.get(job["metrics_path"])
    assert scraped.status_code == httpx.codes.OK
    assert "strangler_requests_total" in scraped.text
    assert refused.status_code == httpx.codes.UNAUTHORIZED
