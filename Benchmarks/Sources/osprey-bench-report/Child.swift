import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One measured child process.
struct Measured {
    var cpuSeconds: Double
    var wallSeconds: Double
    /// Peak resident set (ru_maxrss), KiB.
    var peakKiB: Int
    var stdout: String
    var stderr: String
}

struct ChildFailed: Error, CustomStringConvertible {
    var command: [String]
    var status: Int32
    var stderr: String
    var description: String {
        "\(command.joined(separator: " ")) failed (wait status \(status)):\n\(stderr)"
    }
}

enum Child {
    /// Runs `args` (args[0] a path) through osprey-bench-spawn (beside this executable), with stdout to a file
    /// (kept when `captureStdout`, else /dev/null) and stderr to a file; returns the child's CPU seconds (user +
    /// system from wait4: the per-core figure, robust to other load on the machine, and including any children
    /// it waited for), wall seconds, peak RSS and output.
    static func run(_ args: [String], captureStdout: Bool = false) throws -> Measured {
        let scratch = NSTemporaryDirectory() + "osprey-bench-report-\(getpid())"
        let outPath = captureStdout ? scratch + ".out" : "/dev/null"
        let errPath = scratch + ".err", resultPath = scratch + ".rusage"
        defer { for p in [errPath, resultPath] + (captureStdout ? [outPath] : []) { try? FileManager.default.removeItem(atPath: p) } }
        let command = [spawner, resultPath] + args
        let status = try spawn(command, stdout: outPath, stderr: errPath)
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ChildFailed(command: args, status: status, stderr: err) }
        let fields = ((try? String(contentsOfFile: resultPath, encoding: .utf8)) ?? "").split(separator: " ")
            .map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard fields.count == 4, let user = fields[0], let system = fields[1], let peak = fields[2], let wall = fields[3] else {
            throw ChildFailed(command: command, status: status, stderr: "no measurement written\n" + err)
        }
        let out = captureStdout ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        return Measured(cpuSeconds: user + system, wallSeconds: wall, peakKiB: Int(peak), stdout: out, stderr: err)
    }

    /// The helper that runs each measured child (a small C program: see Sources/osprey-bench-spawn/main.c).
    static var spawner: String { URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("osprey-bench-spawn").path }

    /// posix_spawn of `args` with stdin from /dev/null and stdout / stderr to files; returns the wait status.
    static func spawn(_ args: [String], stdout: String, stderr: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
            posix_spawn_file_actions_destroy(&actions)
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, nil, &argv, &envp)
        guard rc == 0 else { throw ChildFailed(command: args, status: rc, stderr: String(cString: strerror(rc))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// This executable's path.
    static var me: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// `name` on PATH, or nil.
    static func onPath(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// The interpreter itself behind `python` (a pyenv shim or a wrapper would add its own start-up to the
    /// measured CPU time), or nil when there is none.
    static func pythonInterpreter(_ python: String?) -> String? {
        guard let launcher = python ?? onPath("python3") else { return nil }
        let scratch = NSTemporaryDirectory() + "osprey-bench-report-\(getpid()).python"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        guard (try? spawn([launcher, "-c", "import sys; print(sys.executable)"], stdout: scratch, stderr: "/dev/null")) == 0,
              let exe = try? String(contentsOfFile: scratch, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              FileManager.default.isExecutableFile(atPath: exe) else { return nil }
        return exe
    }
}
