// The base side of an A/B: a git revision, exported into its own tree and built on its own scratch path,
// once (a second gate run finds the binary and does not rebuild):
//
//   <repo>/.build/gate-base/<sha>-<config>/
//     src/           `git archive <sha>` unpacked (no .git: the repository's worktrees are not touched)
//     build/         `swift build -c <config> --product workbench --scratch-path build`
//     build.log      the build's output (its last error line is quoted when it fails)
//     built          stamp: written after a successful build, holds the binary's path
//     lock           flock(2): two gate runs never build the same revision at once
//
// <config> is the running binary's (release for CI and timing; debug only for a debug binary's own A/B).
import Bench
import Foundation

/// A revision resolved to a commit.
public struct GateRevision: Codable, Equatable, Sendable {
    /// As the user (or the baseline) named it.
    public var name: String
    public var sha: String
    /// The commit's subject line.
    public var subject: String
    public var short: String { String(sha.prefix(12)) }
    /// "HEAD~1 = 3a96aa2c0d1e 'gate: ...'" (the name left out when it is the hash itself).
    public var text: String { (sha.hasPrefix(name) ? "" : "\(name) = ") + "\(short) '\(subject.prefix(60))'" }
}

public enum GateGit {
    struct Result { var status: Int32; var out: String; var err: String }

    static func git(_ args: [String], in dir: String) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return Result(status: 127, out: "", err: "cannot run git: \(error.localizedDescription)") }
        // Read before waiting (a full pipe would block git); git's stderr is a few lines at most.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// The repository's top folder containing `dir`, or why there is none (no git, not a repository).
    public static func root(of dir: String) -> (path: String?, why: String?) {
        let r = git(["rev-parse", "--show-toplevel"], in: dir)
        if r.status == 127 { return (nil, "git is not installed") }
        guard r.status == 0 else { return (nil, "\(dir) is not in a git repository") }
        return (r.out.trimmingCharacters(in: .whitespacesAndNewlines), nil)
    }

    /// Resolves `name` to a commit of the repository at `root`; a one-line `GateInputError` when it names none.
    public static func resolve(_ name: String, root: String) throws -> GateRevision {
        guard !name.isEmpty, !name.hasPrefix("-") else { throw GateInputError("--against: '\(name)' is not a revision") }
        let r = git(["rev-parse", "--verify", "--quiet", "\(name)^{commit}"], in: root)
        let sha = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, sha.count == 40 else {
            let shallow = git(["rev-parse", "--is-shallow-repository"], in: root).out.hasPrefix("true")
            throw GateInputError("unknown revision '\(name)': not a commit of the repository at \(root)"
                                 + (shallow ? " (this clone is shallow: `git fetch --unshallow` brings the history)" : ""))
        }
        let subject = git(["log", "-1", "--format=%s", sha], in: root).out.trimmingCharacters(in: .whitespacesAndNewlines)
        return GateRevision(name: name, sha: sha, subject: subject)
    }

    /// Whether the revision's tree has the child protocol in this build's version; the reason when not.
    public static func protocolSupport(_ rev: GateRevision, root: String) -> String? {
        let r = git(["show", "\(rev.sha):\(GateProtocol.sourcePath)"], in: root)
        guard r.status == 0 else {
            return "revision \(rev.short) predates the gate's child protocol (it has no \(GateProtocol.sourcePath), so its binary cannot run `gate --measure`)"
        }
        guard let v = GateProtocol.version(inSource: r.out) else {
            return "revision \(rev.short)'s \(GateProtocol.sourcePath) states no protocol version"
        }
        if v != GateProtocol.version {
            return "revision \(rev.short) speaks gate protocol \(v), this build speaks \(GateProtocol.version)"
        }
        return nil
    }

    /// Whether the working tree differs from HEAD (tracked files), for the baseline's warning.
    public static func isDirty(root: String) -> Bool {
        let r = git(["status", "--porcelain", "--untracked-files=no"], in: root)
        return r.status == 0 && !r.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }
}

/// Builds a revision's workbench binary, cached per commit and configuration.
public enum GateBaseBuild {
    /// "release" or "debug": the running binary's configuration (the base is built the same way).
    public static var configuration: String { Bench.Machine.isUnoptimizedBuild ? "debug" : "release" }

    public static func folder(_ rev: GateRevision, root: String, configuration: String = configuration) -> String {
        root + "/.build/gate-base/\(rev.sha)-\(configuration)"
    }

    /// The cached binary of `rev`, if a previous run built it.
    public static func cached(_ rev: GateRevision, root: String, configuration: String = configuration) -> String? {
        let dir = folder(rev, root: root, configuration: configuration)
        guard let stamp = try? String(contentsOfFile: dir + "/built", encoding: .utf8) else { return nil }
        let bin = stamp.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: bin) ? bin : nil
    }

    /// Exports and builds `rev` (or finds it built); returns the binary. A revision that does not build is a
    /// one-line `GateInputError` quoting the build's first error and naming its log.
    public static func build(_ rev: GateRevision, root: String, configuration: String = configuration,
                             log: (String) -> Void) throws -> String {
        let dir = folder(rev, root: root, configuration: configuration)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lockFD = open(dir + "/lock", O_CREAT | O_RDWR, 0o644)
        if lockFD >= 0 {
            if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
                log("gate: another gate run is building \(rev.short); waiting for it")
                flock(lockFD, LOCK_EX)
            }
        }
        defer { if lockFD >= 0 { flock(lockFD, LOCK_UN); close(lockFD) } }
        if let bin = cached(rev, root: root, configuration: configuration) {
            log("gate: base \(rev.short) already built: \(bin)")
            return bin
        }
        let src = dir + "/src", scratch = dir + "/build", logPath = dir + "/build.log"
        try? FileManager.default.removeItem(atPath: src)
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        // git archive | tar -x: the revision's tracked files, nothing else.
        let export = shell("git -C \(quote(root)) archive --format=tar \(rev.sha) | tar -x -C \(quote(src))")
        guard export.status == 0 else { throw GateInputError("cannot export revision \(rev.short): \(export.lastLine)") }
        // The same dependency versions as this checkout, without asking the network when they are cached.
        for f in ["Package.resolved", ".package.resolved"] where FileManager.default.fileExists(atPath: root + "/" + f) {
            try? FileManager.default.copyItem(atPath: root + "/" + f, toPath: src + "/" + f)
        }
        log("gate: building base \(rev.short) (\(configuration)) in \(dir) (log: \(logPath)); a later run reuses it")
        let t0 = monotonicSeconds()
        let b = shell("swift build -c \(configuration) --product workbench --package-path \(quote(src)) --scratch-path \(quote(scratch)) > \(quote(logPath)) 2>&1")
        guard b.status == 0 else {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            let first = text.split(separator: "\n").first { $0.contains("error:") }.map(String.init)
                ?? text.split(separator: "\n").last.map(String.init) ?? "exit status \(b.status)"
            throw GateInputError("revision \(rev.short) does not build (\(configuration)): \(first.trimmingCharacters(in: .whitespaces)) (log: \(logPath))")
        }
        let bin = scratch + "/\(configuration)/workbench"
        guard FileManager.default.isExecutableFile(atPath: bin) else {
            throw GateInputError("revision \(rev.short) built, but \(bin) is missing (log: \(logPath))")
        }
        try Data((bin + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/built"))
        log(String(format: "gate: base %@ built in %.0f s", rev.short, monotonicSeconds() - t0))
        return bin
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    struct ShellResult { var status: Int32; var lastLine: String }

    static func shell(_ command: String) -> ShellResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["bash", "-c", "set -o pipefail; " + command]
        let err = Pipe()
        p.standardError = err; p.standardInput = FileHandle.nullDevice; p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { return ShellResult(status: 127, lastLine: "cannot run bash: \(error.localizedDescription)") }
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return ShellResult(status: p.terminationStatus, lastLine: e.split(separator: "\n").last.map(String.init) ?? "")
    }
}

func monotonicSeconds() -> Double { Double(monotonicNanos()) / 1e9 }
