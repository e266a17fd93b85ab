#!/usr/bin/env bash
# Builds .build/libfuzzer/osprey-libfuzzer: OspreyCore and OspreyParsing compiled with libFuzzer coverage
# instrumentation (swiftc -sanitize=fuzzer), linked with tools/libfuzzer/main.swift.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/libfuzzer
mkdir -p "$out"
flags=(-O -sanitize=fuzzer -parse-as-library -I "$out")
# The C substring search (a C target in Package.swift), built with the same coverage instrumentation.
clang -O2 -fsanitize=fuzzer-no-link -c Sources/CByteShims/bytes.c -I Sources/CByteShims/include -o "$out/bytes.o"
swiftc "${flags[@]}" -module-name OspreyCore -emit-module -emit-module-path "$out/OspreyCore.swiftmodule" \
  -emit-library -static -o "$out/libOspreyCore.a" -I Sources/CByteShims/include Sources/OspreyCore/*.swift
swiftc "${flags[@]}" -module-name OspreyParsing -emit-module -emit-module-path "$out/OspreyParsing.swiftmodule" \
  -emit-library -static -o "$out/libOspreyParsing.a" -I Sources/CByteShims/include -I Sources/CPCRE2 Sources/OspreyParsing/*.swift
swiftc "${flags[@]}" -I Sources/CByteShims/include -I Sources/CPCRE2 tools/libfuzzer/main.swift \
  "$out/bytes.o" -L "$out" -lOspreyParsing -lOspreyCore -lpcre2-8 -o "$out/osprey-libfuzzer"
echo "$out/osprey-libfuzzer"
