# The README's two commands: `make demo` and `make test`.
.PHONY: setup build demo sample test bench bench-instructions bench-suite calibrate fuzz fuzz-libfuzzer clean

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

# Calibration matrix (not part of make test): profiles × seeds, per-rule figures; docs/calibration.md.
calibrate: build
	.build/release/osprey calibrate --profiles small,medium,large --seeds 1-5

# Benchmarks are a package of their own, Benchmarks/ (its own .build; README, "Benchmark").
# bench: the report (child-process CPU seconds, ratio to the memmem floor, Python reference ratios, goals);
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--lines 100000".
BENCH_ARGS ?=
bench: setup
	cd Benchmarks && swift build -c release --product osprey && swift build -c release --product osprey-bench-report
	Benchmarks/.build/release/osprey-bench-report $(BENCH_ARGS)

# bench-instructions: instructions per line and at start-up under valgrind (exact from run to run, unlike
# CPU seconds here): compare commits with it. INSTRUCTION_LINES / INSTRUCTION_USERS size the inputs;
# INSTRUCTION_BUILD=/other/checkout/Benchmarks/.build/release measures another commit's build.
bench-instructions:
	scripts/setup.sh --instructions
	cd Benchmarks && swift build -c release --product osprey && swift build -c release --product osprey-bench-report
	Benchmarks/instructions.sh

# bench-suite: the ordo-one/benchmark suites, one per stage; BENCH_SUITE_ARGS passes options, e.g.
# BENCH_SUITE_ARGS="--target ParseBenchmarks".
BENCH_SUITE_ARGS ?=
bench-suite: setup
	cd Benchmarks && swift package --allow-writing-to-package-directory benchmark $(BENCH_SUITE_ARGS)

# Fuzzing: a seeded mutator over every parser family and the line framing (README, "Hostile input").
FUZZ_COUNT ?= 10000000
FUZZ_SEED ?= 1
fuzz: setup
	swift build -c release --product osprey-fuzz
	.build/release/osprey-fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

# Coverage-guided: OspreyCore + OspreyParsing built with `swiftc -sanitize=fuzzer`, seeded with every corpus
# line (one file per line), run for FUZZ_SECONDS; crashing inputs are written to .build/libfuzzer/crash-*.
FUZZ_SECONDS ?= 600
fuzz-libfuzzer: setup
	./tools/libfuzzer/build.sh
	rm -rf .build/libfuzzer/seeds && mkdir -p .build/libfuzzer/seeds .build/libfuzzer/work
	if [ -d ../shared/corpus ]; then find ../shared/corpus -type f ! -name '*.md' ! -name '*.py' | while read -r f; do split -l 1 -a 4 "$$f" ".build/libfuzzer/seeds/$$(basename "$$f")-"; done; fi
	.build/libfuzzer/osprey-libfuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	  -artifact_prefix=.build/libfuzzer/crash- .build/libfuzzer/work .build/libfuzzer/seeds

clean:
	rm -rf .build
