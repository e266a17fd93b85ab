#!/usr/bin/env python3
"""Python floor of the whole pipeline, for `make bench` (osprey-bench-report): the least a Python program does
with each record, reading it into a dict with the C-accelerated `json` module and nothing more.

JSON lines (first byte `{`) are loaded with json.loads; connector lines have their embedded record (the JSON
in `cs6=`, last on the line) loaded with json.loads; key=value lines are split on `|` and the first `=` into a
dict. Every record so read is one event. No parsing of fields, times, no state, no output.

Usage: json_floor.py FILE|DIR...   (directories: their *.log files by name, as `osprey replay DIR` reads them;
prints {"lines": N, "events": N, "json": N, "key_value": N} on stdout)
"""
import json
import os
import sys


def inputs(args):
    for a in args:
        if os.path.isdir(a):
            for name in sorted(os.listdir(a)):
                if name.endswith(('.log', '.json', '.jsonl')):
                    yield os.path.join(a, name)
        else:
            yield a


def main(args):
    loads = json.loads
    lines = loaded = key_value = 0
    for path in inputs(args):
        with open(path, 'rb') as f:
            for line in f:
                lines += 1
                if line[:1] == b'{':
                    loads(line)
                    loaded += 1
                    continue
                cut = line.find(b' cs6=')
                if cut >= 0:
                    loads(line[cut + 5:])
                    loaded += 1
                elif b'=' in line:
                    dict(p.split(b'=', 1) for p in line.rstrip(b'\r\n').split(b'|') if b'=' in p)
                    key_value += 1
    print(json.dumps({'lines': lines, 'events': loaded + key_value, 'json': loaded, 'key_value': key_value}))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[-2])
    main(sys.argv[1:])
