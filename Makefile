# Tessera — every entry point a person or CI needs. Each target installs what it is
# missing (scripts/setup.sh), so `make demo` and `make test` work on a fresh Debian.
SHELL := /bin/bash
SWIFT ?= swift
PY := .venv/bin/python
DEBUG_BIN := .build/debug/tessera
RELEASE_BIN := .build/release/tessera

.PHONY: all build release deps venv test test-swift test-conformance bench demo fuzz clean

all: build

deps:
	@scripts/setup.sh

venv:
	@scripts/setup.sh --python

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product tessera
	$(SWIFT) build -c release --product tessera-bench

# The catalog's PostgreSQL store is tested against a throwaway server (scripts/pg-test.sh),
# stopped even when the tests fail.
# Temporary files go to a fresh folder from scripts/test-tmp.sh (a tmpfs when there is
# room: deletes on this disk wait for TRIM), removed when every test passed and kept, with
# its path printed, when one failed.
test: venv
	$(SWIFT) build
	@tmp=$$(scripts/test-tmp.sh) || exit 1; \
	pgdir=$$(mktemp -d "$$tmp/pg.XXXXXX"); \
	trap 'scripts/pg-test.sh stop "$$pgdir"' EXIT; \
	url=$$(scripts/pg-test.sh start "$$pgdir") || exit 1; \
	if TMPDIR=$$tmp TESSERA_TEST_POSTGRES=$$url $(MAKE) test-swift test-conformance PYTEST_ARGS="--basetemp $$tmp/pytest"; then \
		scripts/pg-test.sh stop "$$pgdir"; rm -rf "$$tmp"; \
	else \
		echo "make test: failed; the tests' files are kept in $$tmp"; exit 1; \
	fi

test-swift:
	$(SWIFT) test

test-conformance:
	TESSERA_BIN=$(CURDIR)/$(DEBUG_BIN) $(PY) -m pytest -q $(PYTEST_ARGS) Tests/Conformance

bench: venv release
	$(PY) Benchmarks/run_bench.py $(BENCH_ARGS)

# libFuzzer over metadata parsing, shard indexes and the codec decoders (scripts/fuzz.sh):
# FUZZ_RUNS inputs (default 100000) from the seeds in Fuzz/corpus.
fuzz: deps
	scripts/fuzz.sh

demo: venv release
	@scripts/demo.sh $(RELEASE_BIN)

clean:
	rm -rf .build demo
