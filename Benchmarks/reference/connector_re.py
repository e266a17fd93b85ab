#!/usr/bin/env python3
"""Reference parser of connector lines with Python's `re`, for `make bench` (osprey-bench-report).

A connector line is the Exabeam Cloud Connector's RFC 5424 syslog header, a CEF header, space-separated
extensions (`destinationServiceName =Mimecast Email Security`, `dproc=...`) and the Mimecast record as JSON in
`cs6=`, last on the line. For each line this extracts, with `re`, what Osprey's parse engine reads from it: the
syslog header fields, the seven CEF header fields, the extensions, and every key and value of the embedded
JSON, into one dict per line. It does less than the engine (no parser selection, no field mapping or lower-
casing, no time parsing, values left as bytes), so the ratio it gives flatters Python if anything.

Usage: connector_re.py FILE   (prints {"lines": N, "events": N, "fields": N} on stdout)
"""
import json
import re
import sys

SYSLOG = re.compile(rb'<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) ')
_F = rb'((?:[^|\\]|\\.)*)\|'
CEF = re.compile(rb'CEF:(\d+)\|' + _F * 6)
EXTENSION = re.compile(rb'(\w+) ?=(.*?)(?= \w+ ?=|$)')
JSON_PAIR = re.compile(
    rb'"((?:[^"\\]|\\.)*)"\s*:\s*'
    rb'("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])'
)
HEADER = (b'syslog_pri', b'syslog_version', b'syslog_time', b'host', b'app_name', b'proc_id', b'msg_id', b'structured_data')
CEF_HEADER = (b'cef_version', b'device_vendor', b'device_product', b'device_version', b'signature_id', b'name', b'severity')


def parse(line):
    """One connector line as a dict, or None when it is not one."""
    s = SYSLOG.match(line)
    if s is None:
        return None
    c = CEF.match(line, s.end())
    if c is None:
        return None
    event = dict(zip(HEADER, s.groups()))
    event.update(zip(CEF_HEADER, c.groups()))
    rest = line[c.end():]
    cut = rest.find(b' cs6=')
    extensions, record = (rest, b'') if cut < 0 else (rest[:cut], rest[cut + 5:])
    for key, value in EXTENSION.findall(extensions):
        event[key] = value
    for key, value in JSON_PAIR.findall(record):
        event[key] = value[1:-1] if value[:1] == b'"' else value
    return event


def main(path):
    lines = events = fields = 0
    with open(path, 'rb') as f:
        for line in f:
            lines += 1
            event = parse(line.rstrip(b'\r\n'))
            if event is not None:
                events += 1
                fields += len(event)
    print(json.dumps({'lines': lines, 'events': events, 'fields': fields}))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1])
