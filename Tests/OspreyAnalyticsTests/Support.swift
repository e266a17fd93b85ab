import Foundation
import XCTest
import OspreyCore
@testable import OspreyAnalytics

enum Support {
    static let root: String = {
        // Tests/OspreyAnalyticsTests/Support.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }()
    static var contentDirectory: String { root + "/Content" }

    nonisolated(unsafe) static var cached: AnalyticsContent?
    static func content() throws -> AnalyticsContent {
        if let c = cached { return c }
        let c = try AnalyticsContent.load(directory: contentDirectory)
        cached = c
        return c
    }
}
