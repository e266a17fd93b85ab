import OspreyCore

/// A seeded, deterministic mutator for fuzzing the parse path (`swift test` runs a bounded number of inputs,
/// `make fuzz` / `osprey-fuzz` runs many). Same seed, same inputs.
public struct FuzzMutator {
    private var core: SplitMix64

    public init(seed: UInt64) { core = SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15) }

    public mutating func next() -> UInt64 { core.next() }

    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Tokens that tend to reach edge cases: structure bytes, line ends, huge and negative numbers, years past
    /// 9999, envelope keys, escapes, separators of every format.
    public static let tokens: [[UInt8]] = [
        "\"", "{", "}", "[", "]", ",", ":", "\\", "|", "=", "\r", "\n", "\r\n", " ", "\t", "\\\"", "\"\"",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999", "-", "1e309", "0.5", "-0",
        "10000-01-01T00:00:00Z", "9999-12-31T23:59:59-1400", "0000-01-01T00:00:00+0100", "253402300800000",
        "9999999999999999", "{\"data\":[", "\"heldReleaseLogs\":[", "{\"message\":\"{", "\"events\":[", "]}",
        "\\u0000", "\\ud800", "\\u", "<>", "\"<>\"", "CEF:0|", "cs6=", "|mcType=auditLog|", "RcptActType=Jnl",
        "\"AttCnt\":", "\"timestamp\":", "null", "true", "[1,2,3]", "5", "\"junk\"", "\u{FF}", "\u{00}",
        "\"so-called \"TPS\" x.docx\"", "AttNames=", "\"to\":[{\"emailAddress\":\"", "https://qr.example/x",
    ].map { Array($0.utf8) }

    public mutating func mutate(_ input: [UInt8], splice other: [UInt8]) -> [UInt8] {
        var b = input
        let rounds = below(2) == 0 ? 1 : 1 + below(4)
        for _ in 0..<rounds {
            switch below(10) {
            case 0 where !b.isEmpty: // flip a byte
                b[below(b.count)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
            case 1: // insert a random byte
                b.insert(UInt8(truncatingIfNeeded: next()), at: below(b.count + 1))
            case 2 where !b.isEmpty: // delete a range
                let at = below(b.count)
                let n = min(b.count - at, 1 + below(16))
                b.removeSubrange(at..<(at + n))
            case 3 where !b.isEmpty: // duplicate a range
                let at = below(b.count)
                let n = min(b.count - at, 1 + below(64))
                b.insert(contentsOf: b[at..<(at + n)], at: below(b.count + 1))
            case 4, 5: // insert a token
                let t = FuzzMutator.tokens[below(FuzzMutator.tokens.count)]
                b.insert(contentsOf: t, at: below(b.count + 1))
            case 6 where !b.isEmpty: // truncate
                b.removeSubrange(below(b.count)..<b.count)
            case 7 where !other.isEmpty: // splice with another seed
                let cut = below(b.count + 1)
                let from = below(other.count)
                b = Array(b[0..<cut]) + Array(other[from...])
            case 8: // replace a digit run with a huge number
                if let i = b.firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    var j = i
                    while j < b.count, b[j] >= 0x30, b[j] <= 0x39 { j += 1 }
                    let t = FuzzMutator.tokens[17 + below(3)]
                    b.replaceSubrange(i..<j, with: t)
                }
            default: // overwrite a byte with a structural one
                if !b.isEmpty {
                    let structural: [UInt8] = [0x22, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x5C, 0x7C, 0x3D, 0x0D, 0x0A, 0x20]
                    b[below(b.count)] = structural[below(structural.count)]
                }
            }
        }
        if b.count > 1 << 16 { b.removeSubrange((1 << 16)...) }
        return b
    }

    /// Lines in every shape Osprey reads, written for fuzzing (not taken from any third party).
    public static let builtSeeds: [String] = [
        #"{"acc":"C1","aCode":"k1","datetime":"2025-03-04T05:06:07+0000","Dir":"Inbound","Sender":"a@x.example","Rcpt":"b@y.example","IP":"192.0.2.1","Act":"Acc","AttCnt":2,"Subject":"hello"}"#,
        #"{"type":"MTA","data":[{"acc":"C1","aCode":"k2","datetime":"2025-03-04T05:06:07+0000","AttCnt":1,"AttNames":"\"a.docx\", \"b \"q\" c.pdf\"","MsgSize":123}],"meta":{"status":200}}"#,
        #"{"aggregateId":"g1","processingId":"p1","timestamp":1741064767000,"type":"attachment protect","fileName":"x.pdf","md5":"0123456789abcdef0123456789abcdef","subject":"s","messageId":"<m@x>"}"#,
        #"{"aggregateId":"g2","timestamp":1741064767000,"type":"receipt","senderIp":"192.0.2.2","senderEnvelope":"a@x.example","recipients":["b@y.example"],"direction":"Inbound"}"#,
        #"datetime=2025-03-04T05:06:07+0000|aCode=k3|acc=C1|Dir=Outbound|Sender=a@x.example|Rcpt=b@y.example|Act=Acc|Subject=\a | b\"#,
        #"datetime=2025-03-04T05:06:07+0000|aCode=k3|acc=C1|RcptActType=Jnl|Dir=Outbound|Sender=a@x.example|Rcpt=journal@x.example"#,
        #"date=2025-03-04T05:06:07+0000|mcType=auditLog|user=a@x.example|auditType="User Logged On"|eventInfo="Successful authentication for a@x.example, IP: 192.0.2.3, Application: Mimecast Personal Portal"#,
        #"{"id":"i1","auditType":"Completed Directory Sync","user":"","eventTime":"2025-03-04T05:06:07+0000","eventInfo":"No changes.","category":"account_logs"}"#,
        #"{"id":"h1","dateReceived":"2025-03-04T05:06:07+0000","from":{"emailAddress":"a@x.example"},"to":{"emailAddress":"b@y.example"},"reason":"Spam","policyInfo":"Default","size":10,"hasAttachments":false,"route":"inbound"}"#,
        #"{"fromAddress":"a@x.example","toAddress":"b@y.example","created":"2025-03-04T05:06:07+0000","info":"QR code links to https://qr.example/login","description":"QR code rejected","type":"qr"}"#,
        #"{"heldReleaseLogs":[{"heldReason":"Spam","released":"2025-03-04T05:06:07+0000","to":[{"emailAddress":"b@y.example"}]},{"heldReason":"Spam","to":[{"emailAddress":"c@y.example"}]}]}"#,
        "<110>1 2025-03-04T05:06:07.000Z host Skyformation - 1 - CEF:0|Skyformation|SkyFormation Cloud Apps Security|2.0.0|sk4-email|email|0|cat=application-data destinationServiceName =Mimecast Email Security dproc=TTP Attachment Protect cs6={\"senderAddress\":\"a@x.example\",\"recipientAddress\":\"b@y.example\",\"date\":\"2025-03-04T05:06:07+0000\",\"fileHash\":\"" + String(repeating: "ab", count: 32) + "\",\"fileName\":\"x.exe\"}",
    ]
}

/// What a fuzz run saw. `inputs` lines were parsed; each gave at least one result (event, reject or empty
/// page) or the run reports it in `silent`.
public struct FuzzReport: Sendable, CustomStringConvertible {
    public var inputs = 0
    public var events = 0
    public var rejects = 0
    public var emptyPages = 0
    /// Inputs that produced no result at all (must stay 0).
    public var silent = 0
    public var rejectsByReason: [String: Int] = [:]
    public init() {}
    public var description: String {
        "\(inputs) inputs: \(events) events, \(rejects) rejects, \(emptyPages) empty pages, \(silent) without a result"
    }
}

public enum ParseFuzzer {
    /// Parses `count` mutated lines; every input must end as at least one event, reject or empty page.
    public static func run(engine: ParseEngine, seeds: [[UInt8]], count: Int, seed: UInt64,
                           onInput: (([UInt8]) -> Void)? = nil) -> FuzzReport {
        var m = FuzzMutator(seed: seed)
        var report = FuzzReport()
        let pool = seeds.isEmpty ? FuzzMutator.builtSeeds.map { Array($0.utf8) } : seeds
        for _ in 0..<count {
            let base = pool[m.below(pool.count)]
            let input = m.mutate(base, splice: pool[m.below(pool.count)])
            onInput?(input)
            var results = 0
            input.withUnsafeBytes { b in
                engine.parse(line: b) { r in
                    results += 1
                    switch r {
                    case .event: report.events += 1
                    case .reject(let j): report.rejects += 1; report.rejectsByReason[j.reason.rawValue, default: 0] += 1
                    case .emptyPage: report.emptyPages += 1
                    }
                }
            }
            if results == 0 { report.silent += 1 }
            report.inputs += 1
        }
        return report
    }
}
