# The README's two commands: `make demo` and `make test`.
.PHONY: setup build demo sample test bench calibrate clean

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

bench: build
	swift build -c release --product osprey-bench
	.build/release/osprey-bench

clean:
	rm -rf .build
