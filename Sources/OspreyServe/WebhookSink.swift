import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OspreyAnalytics
import OspreyCore

/// `type = webhook`: one HTTP POST per batch, the alert lines as NDJSON, on AsyncHTTPClient; delivered when
/// the receiver answers 2xx within the timeout.
final class WebhookSink: AlertSink {
    let url: String
    static let timeout = TimeAmount.seconds(10)

    init(name: String, url: String) throws {
        guard (try? HTTPClient.Request(url: url)) != nil else {
            throw SinkError("output \(name): webhook url must be an http:// or https:// URL: \(url)")
        }
        self.url = url
    }

    func send(_ items: [SinkItem]) -> Bool {
        var body = ByteBuffer()
        for i in items { body.writeString(i.line); body.writeInteger(UInt8(0x0A)) }
        do {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-ndjson")
            headers.add(name: "User-Agent", value: "osprey/" + OspreyVersion.string)
            let request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .byteBuffer(body))
            let response = try HTTPClient.shared.execute(request: request, deadline: .now() + WebhookSink.timeout).wait()
            return (200..<300).contains(response.status.code)
        } catch {
            return false
        }
    }

    func close() {}
}
