/// The seed's seven activity types.
public enum ActivityType: String, Sendable, CaseIterable, Hashable {
    case appLogin = "app-login"
    case failedAppLogin = "failed-app-login"
    case appActivity = "app-activity"
    case emailOut = "dlp-email-alert-out"
    case emailOutFailed = "dlp-email-alert-out-failed"
    case emailIn = "dlp-email-alert-in"
    case emailInFailed = "dlp-email-alert-in-failed"

    public var isEmail: Bool {
        switch self { case .emailOut, .emailOutFailed, .emailIn, .emailInFailed: return true; default: return false }
    }
    public var isFailure: Bool {
        switch self { case .failedAppLogin, .emailOutFailed, .emailInFailed: return true; default: return false }
    }
}

public enum Outcome: String, Sendable { case success, failure }
