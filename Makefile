# The two commands of the README: `make demo` and `make test`. Both set up what is missing first.
VENV := .venv
PY := $(VENV)/bin/python
TYPED := proxy handlers shadow

.PHONY: setup demo test lint typecheck pytest bench compose-check clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy $(TYPED)

pytest: setup
	$(PY) -m pytest

compose-check:
	@if command -v docker-compose >/dev/null; then STRANGLER_ADMIN_TOKEN=compose-check docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"; \
	elif [ "$$CI" = true ]; then echo "docker-compose is missing under CI=true" >&2; exit 1; \
	else echo "docker-compose not installed; skipping compose check" >&2; fi

test: lint typecheck compose-check pytest

bench: setup
	@bash bench/run.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
