# The two commands (see README.md): `make up` runs the whole system, `make test` runs every test.
.PHONY: up test build bench format lint clean

up:
	@scripts/up.sh $(ARGS)

test:
	@scripts/test.sh

build:
	swift build

bench:
	@scripts/bench.sh

format:
	swift format --in-place --recursive Sources Tests Benchmarks/Sources

lint:
	swift format lint --strict --recursive Sources Tests Benchmarks/Sources

clean:
	rm -rf .build .venv test-artifacts
