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
test: venv
	$(SWIFT) build
	@pgdir=$$(mktemp -d /tmp/tessera-pg.XXXXXX); \
	trap 'scripts/pg-test.sh stop "$$pgdir"' EXIT; \
	url=$$(scripts/pg-test.sh start "$$pgdir") || exit 1; \
	TESSERA_TEST_POSTGRES=$$url $(MAKE) test-swift test-conformance

test-swift:
	$(SWIFT) test

test-conformance:
	TESSERA_BIN=$(CURDIR)/$(DEBUG_BIN) $(PY) -m pytest -q Tests/Conformance

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
