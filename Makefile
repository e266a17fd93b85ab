# The README's two commands: `make demo` and `make test`.
.PHONY: setup build demo test bench clean

setup:
	@./scripts/setup.sh

build: setup
	swift build -c release

# Until `osprey demo` exists, the demo parses the bundled sample logs and prints the summary.
demo: build
	.build/release/osprey parse samples/mimecast-sample.log > /tmp/osprey-demo-events.jsonl
	@echo "events written to /tmp/osprey-demo-events.jsonl; first one:"
	@head -n 1 /tmp/osprey-demo-events.jsonl

test: setup
	swift test

bench: build
	.build/release/osprey-bench

clean:
	rm -rf .build
