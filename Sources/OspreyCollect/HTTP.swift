import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

public struct APIRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
    }
}

public struct APIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status; self.headers = headers; self.body = body
    }
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// How requests leave the process (AsyncHTTPClient in production; tests may substitute).
public protocol APITransport: Sendable {
    func send(_ request: APIRequest, timeoutSeconds: Double, maxBodyBytes: Int) async throws -> APIResponse
    func shutdown() async
}

/// AsyncHTTPClient (HTTP/1.1 and HTTP/2, TLS through NIOSSL with the system trust roots).
public final class AHCTransport: APITransport {
    let client: HTTPClient

    public init() {
        var c = HTTPClient.Configuration()
        c.redirectConfiguration = .disallow
        c.decompression = .disabled
        c.connectionPool.idleTimeout = .seconds(30)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    public func send(_ r: APIRequest, timeoutSeconds: Double, maxBodyBytes: Int) async throws -> APIResponse {
        var req = HTTPClientRequest(url: r.url)
        req.method = HTTPMethod(rawValue: r.method)
        for (k, v) in r.headers { req.headers.add(name: k, value: v) }
        if let b = r.body { req.body = .bytes(ByteBuffer(bytes: b)) }
        let ms = Int64(max(1, min(timeoutSeconds, 86_400)) * 1000)
        do {
            let resp = try await client.execute(req, timeout: .milliseconds(ms))
            let buf = try await resp.body.collect(upTo: maxBodyBytes)
            return APIResponse(status: Int(resp.status.code), headers: resp.headers.map { ($0.name, $0.value) },
                                body: Array(buf.readableBytesView))
        } catch let e as NIOTooManyBytesError {
            throw CollectError.response(path: HTTPTransportPath.of(r.url), detail: "body over \(maxBodyBytes) bytes (\(e))")
        } catch let e as CollectError {
            throw e
        } catch {
            // Connection refused, reset, closed before the announced length (a truncated download), timeouts.
            throw CollectError.network("\(r.method) \(HTTPTransportPath.of(r.url)): \(error)")
        }
    }

    public func shutdown() async { try? await client.shutdown() }
}

enum HTTPTransportPath {
    /// The URL without its query (pre-signed URLs carry credentials in the query: never logged).
    static func of(_ url: String) -> String {
        if let q = url.firstIndex(of: "?") { return String(url[..<q]) }
        return url
    }
}
