/// Osprey's version: the one constant behind `osprey --version`, the webhook User-Agent, the CEF header's
/// device version and the `osprey_build_info` metric.
public enum OspreyVersion {
    public static let string = "0.1.0"
}
