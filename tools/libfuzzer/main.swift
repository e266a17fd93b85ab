// libFuzzer entry for the parse engine (coverage-guided; `make fuzz-libfuzzer`, built by build.sh with
// `swiftc -sanitize=fuzzer`). Each input is one record line; it must end as at least one result (event,
// reject or empty page), and nothing may trap. OSPREY_CONTENT names the content directory (default Content).
import OspreyParsing
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) let engine: ParseEngine = {
    let dir = getenv("OSPREY_CONTENT").map { String(cString: $0) } ?? "Content"
    do { return try ParseEngine(contentDirectory: dir) } catch {
        fputs("osprey-libfuzzer: cannot load content from \(dir): \(error)\n", stderr)
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let line = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count)
    var results = 0
    engine.parse(line: line) { _ in results += 1 }
    if results == 0, count > 0 { fputs("osprey-libfuzzer: an input without any result\n", stderr); abort() }
    return 0
}
