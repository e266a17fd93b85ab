# The README's two commands: `make demo` and `make test`.
.PHONY: setup build demo sample test bench fuzz clean

setup:
	@./scripts/setup.sh

build: setup
	swift build -c release --product osprey

# The demo: generate a synthetic organization (300 people, 45 days), replay it, evaluate, show notable users.
demo: build
	.build/release/osprey demo

# Parse the bundled sample lines (one per shape) and show the summary.
sample: build
	.build/release/osprey parse samples/mimecast-sample.log > /dev/null

test:
	@./scripts/setup.sh --test
	swift test

bench: build
	swift build -c release --product osprey-bench
	.build/release/osprey-bench

# Fuzzing: a seeded mutator over every parser family and the line framing (README, "Hostile input").
FUZZ_COUNT ?= 10000000
FUZZ_SEED ?= 1
fuzz: setup
	swift build -c release --product osprey-fuzz
	.build/release/osprey-fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

clean:
	rm -rf .build
