// Helpers for the tests that run the built `workbench` binary (and python3 with Tools/gpt2_ref.py) as
// subprocesses: locating the binary, running a process with a timeout, hermetic environments, shared
// tiny checkpoints, and reading float32 files.
import Foundation
import XCTest

/// A test failure with a message (thrown after `XCTFail` so a test stops at its first broken precondition).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a finished subprocess left behind.
struct ProcessResult {
    let command: String
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool

    /// Non-empty stdout lines.
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    /// Non-empty stderr lines.
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    /// A short description for failure messages.
    var summary: String {
        "`\(command)` -> status \(status)\(timedOut ? " (timed out, killed)" : "")\nstdout: \(stdout.prefix(2000))\nstderr: \(stderr.prefix(2000))"
    }
}

/// Where things are: the package root (from this file's path), the reference script, the built binary.
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let referenceScript: String = packageRoot.appendingPathComponent("Tools/gpt2_ref.py").path

    /// The `workbench` binary built with this test bundle: `$WORKBENCH_BIN` if set, else the binary in the
    /// folder of the running test executable / bundle (`.build-*/debug/`), else the newest
    /// `.build*/{debug,release}/workbench` under the package root.
    static let workbench: String? = locateWorkbench()

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    private static func locateWorkbench() -> String? {
        if let p = ProcessInfo.processInfo.environment["WORKBENCH_BIN"], !p.isEmpty { return isExecutableFile(p) ? p : nil }
        // The test executable (Linux: .build-x/debug/workbenchPackageTests.xctest) or bundle (macOS:
        // .build-x/debug/workbenchPackageTests.xctest/Contents/MacOS/...) lives in the products folder.
        var starts: [URL] = [URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()]
        if let e = Bundle.main.executableURL { starts.append(e.resolvingSymlinksInPath()) }
        starts.append(Bundle(for: BundleMarker.self).bundleURL.resolvingSymlinksInPath())
        for start in starts {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<5 {
                let candidate = dir.appendingPathComponent("workbench").path
                if isExecutableFile(candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        // Fallback: the newest build of the package.
        let fm = FileManager.default
        var best: (String, Date)?
        let builds = (try? fm.contentsOfDirectory(atPath: packageRoot.path))?.filter { $0.hasPrefix(".build") } ?? []
        for b in builds {
            for sub in ["debug", "release"] {
                let p = packageRoot.appendingPathComponent(b).appendingPathComponent(sub).appendingPathComponent("workbench").path
                guard isExecutableFile(p), let d = (try? fm.attributesOfItem(atPath: p))?[.modificationDate] as? Date else { continue }
                if best == nil || d > best!.1 { best = (p, d) }
            }
        }
        return best?.0
    }
}

private final class BundleMarker {}

/// Runs subprocesses with a clean environment and a timeout.
enum Subprocess {
    /// The environment every test process gets: the caller's, without `WORKBENCH_MODEL`, with
    /// `WORKBENCH_CACHE` pointing into the test's temporary folder (so nothing touches ~/.cache), plus `extra`.
    /// A key in `remove` is dropped.
    static func environment(_ extra: [String: String] = [:], remove: [String] = []) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["WORKBENCH_MODEL"] = nil
        env["WORKBENCH_CACHE"] = Fixtures.shared.directory + "/cache"
        for (k, v) in extra { env[k] = v }
        for k in remove { env[k] = nil }
        return env
    }

    /// Runs `executable args`, waits at most `timeout` seconds (then kills it), returns what it printed.
    static func run(_ executable: String, _ args: [String], environment: [String: String]? = nil,
                    timeout: TimeInterval = 120) throws -> ProcessResult {
        let fm = FileManager.default
        let dir = Fixtures.shared.directory
        let id = UUID().uuidString
        let outPath = "\(dir)/stdout-\(id)", errPath = "\(dir)/stderr-\(id)"
        guard fm.createFile(atPath: outPath, contents: nil), fm.createFile(atPath: errPath, contents: nil) else {
            throw TestFailure("cannot create output files in \(dir)")
        }
        defer { try? fm.removeItem(atPath: outPath); try? fm.removeItem(atPath: errPath) }
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw TestFailure("cannot create output files in \(dir)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = environment ?? Subprocess.environment()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            p.terminate()
            if done.wait(timeout: .now() + 5) == .timedOut { kill(p.processIdentifier, SIGKILL); done.wait() }
        }
        try out.close(); try err.close()
        let command = ([executable] + args).map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
        return ProcessResult(command: command, status: p.terminationStatus,
                             stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                             timedOut: timedOut)
    }

    /// Runs the built `workbench` binary.
    static func workbench(_ args: [String], environment: [String: String]? = nil, timeout: TimeInterval = 120,
                          file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        guard let bin = TestPaths.workbench else {
            let msg = "cannot find the built `workbench` binary next to the test bundle (\(CommandLine.arguments[0])) or under \(TestPaths.packageRoot.path)/.build*/; build it or set WORKBENCH_BIN"
            XCTFail(msg, file: file, line: line)
            throw TestFailure(msg)
        }
        return try run(bin, args, environment: environment, timeout: timeout)
    }

    /// python3 from PATH (or $PYTHON).
    static var python: String {
        if let p = ProcessInfo.processInfo.environment["PYTHON"], !p.isEmpty { return p }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return "/usr/bin/python3"
    }

    private static let numpyProblem: String? = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return "python3 not found (looked for \(python))" }
        guard let r = try? run(python, ["-c", "import numpy; print(numpy.__version__)"], timeout: 60) else {
            return "cannot run \(python)"
        }
        return r.status == 0 ? nil : "python3 (\(python)) cannot import numpy: \(r.stderrLines.last ?? "")"
    }()

    /// Runs Tools/gpt2_ref.py; fails the test with a clear message when python3 or numpy is missing.
    static func reference(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        if let problem = numpyProblem {
            let msg = "the reference tests need python3 with numpy (CI installs it: `pip install numpy`): \(problem)"
            XCTFail(msg, file: file, line: line)
            throw TestFailure(msg)
        }
        return try run(python, [TestPaths.referenceScript] + args, environment: environment(["OPENBLAS_NUM_THREADS": "1"]))
    }
}

/// A checkpoint shape the tests synthesize (through `workbench synth`, so the CLI path is exercised too).
struct ModelSpec: Hashable, CustomStringConvertible {
    var L: Int, NH: Int, C: Int, V: Int, Vp: Int, maxT: Int
    var version: Int = 3
    var seed: UInt64 = 1337

    var description: String { "L=\(L) NH=\(NH) C=\(C) V=\(V) Vp=\(Vp) maxT=\(maxT) v\(version) seed \(seed)" }
    var fileName: String { "m-L\(L)-NH\(NH)-C\(C)-V\(V)-Vp\(Vp)-T\(maxT)-v\(version)-s\(seed).bin" }
    var synthArguments: [String] {
        var a = ["--preset", "tiny", "--layers", "\(L)", "--heads", "\(NH)", "--channels", "\(C)", "--vocab", "\(V)",
                 "--max-t", "\(maxT)", "--version", "\(version)", "--seed", "\(seed)"]
        if version == 3 { a += ["--padded-vocab", "\(Vp)"] }
        return a
    }
    /// Float32 parameters (llm.c's 16 tensors).
    var parameterCount: Int {
        Vp * C + maxT * C + L * (C + C + 3 * C * C + 3 * C + C * C + C + C + C + 4 * C * C + 4 * C + 4 * C * C + C) + 2 * C
    }
    var fileSize: Int { 1024 + 4 * parameterCount }

    /// The tiny preset: L=2 NH=4 C=64 V=512 Vp=576 maxT=64 (version 3).
    static let tiny = ModelSpec(L: 2, NH: 4, C: 64, V: 512, Vp: 576, maxT: 64)
}

/// One temporary folder per test process, removed at exit; checkpoints made once and shared.
final class Fixtures: @unchecked Sendable {
    static let shared = Fixtures()
    let directory: String
    private var made: [ModelSpec: String] = [:]
    private let lock = NSLock()

    private init() {
        let base = FileManager.default.temporaryDirectory.path
        directory = "\(base)/workbench-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: directory + "/cache", withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.shared.directory) }
    }

    /// The sharp-weights checkpoint for `spec` (see `writeSharpCheckpoint`), written on first use.
    func sharpCheckpoint(_ spec: ModelSpec) throws -> String {
        lock.lock(); defer { lock.unlock() }
        let p = "\(directory)/sharp-\(spec.fileName)"
        if !FileManager.default.fileExists(atPath: p) { try writeSharpCheckpoint(spec, to: p) }
        return p
    }

    /// A fresh path inside the temporary folder.
    func path(_ name: String) -> String { "\(directory)/\(UUID().uuidString.prefix(8))-\(name)" }

    /// The checkpoint for `spec`, synthesized on first use.
    func checkpoint(_ spec: ModelSpec, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let p = made[spec] { return p }
        let p = "\(directory)/\(spec.fileName)"
        let r = try Subprocess.workbench(["synth", p] + spec.synthArguments, file: file, line: line)
        guard r.status == 0 else {
            XCTFail("cannot synthesize \(spec): \(r.summary)", file: file, line: line)
            throw TestFailure("synth failed")
        }
        made[spec] = p
        return p
    }
}

/// Writes a version-3 checkpoint with *large* weights, unlike `workbench synth`'s N(0, 0.02): wte and wpe
/// N(0, 1), layernorm weights 1 + N(0, 0.1), everything else N(0, 0.3); padded wte rows zero. Its logits
/// reach ~20 and its attention and next-token distributions are peaked, so sampling and argmax decisions
/// are sharp and a mistake in any op changes tokens. Deterministic (own generator: SplitMix64 + Box-Muller),
/// written here so it is independent of the engine's synthesizer.
func writeSharpCheckpoint(_ s: ModelSpec, to path: String) throws {
    precondition(s.version == 3)
    var header = [Int32](repeating: 0, count: 256)
    header[0] = 20240326; header[1] = 3
    header[2] = Int32(s.maxT); header[3] = Int32(s.V); header[4] = Int32(s.L); header[5] = Int32(s.NH)
    header[6] = Int32(s.C); header[7] = Int32(s.Vp)
    var state = s.seed
    func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    func normal() -> Float {
        let u1 = (Double(next() >> 11) + 0.5) / 9007199254740992.0, u2 = Double(next() >> 11) / 9007199254740992.0
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
    let (L, C) = (s.L, s.C)
    let tensors: [(String, Int)] = [
        ("wte", s.Vp * C), ("wpe", s.maxT * C), ("ln1w", L * C), ("ln1b", L * C), ("qkvw", L * 3 * C * C),
        ("qkvb", L * 3 * C), ("attprojw", L * C * C), ("attprojb", L * C), ("ln2w", L * C), ("ln2b", L * C),
        ("fcw", L * 4 * C * C), ("fcb", L * 4 * C), ("fcprojw", L * 4 * C * C), ("fcprojb", L * C), ("lnfw", C), ("lnfb", C)]
    var floats: [Float] = []
    floats.reserveCapacity(s.parameterCount)
    for (name, count) in tensors {
        for i in 0..<count {
            switch name {
            case "wte": floats.append(i < s.V * C ? normal() : 0)
            case "wpe": floats.append(normal())
            case "ln1w", "ln2w", "lnfw": floats.append(1 + 0.1 * normal())
            default: floats.append(0.3 * normal())
            }
        }
    }
    var data = header.withUnsafeBytes { Data($0) }
    floats.withUnsafeBytes { data.append(contentsOf: $0) }
    try data.write(to: URL(fileURLWithPath: path))
}

/// Reads a file of little-endian float32 values.
func readFloats(_ path: String) throws -> [Float] {
    let d = try Data(contentsOf: URL(fileURLWithPath: path))
    return d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
}

/// Reads the first `count` little-endian int32 values of a file.
func readInt32s(_ path: String, count: Int) throws -> [Int32] {
    let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? h.close() }
    let d = try h.read(upToCount: count * 4) ?? Data()
    return d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
}

/// Largest |a[i] - b[i]| (infinity if the counts differ or a value is not finite).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if !d.isFinite { return .infinity }
        m = max(m, d)
    }
    return m
}

extension XCTestCase {
    /// Asserts the shape of a bad-input failure: exit status 2, nothing on stdout, stderr exactly one line
    /// starting with `workbench: ` and containing every string of `mentions`.
    func assertBadInput(_ r: ProcessResult, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.timedOut, "timed out: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.status, 2, "exit status: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", "stdout should be empty: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, "stderr should be one line: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("workbench: "), "stderr should start with 'workbench: ': \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasSuffix("\n"), "stderr should end with a newline: \(r.summary)", file: file, line: line)
        for m in mentions {
            XCTAssertTrue(r.stderr.contains(m), "stderr should mention '\(m)': \(r.summary)", file: file, line: line)
        }
    }

    /// Asserts a successful run: exit status 0, not timed out.
    func assertSuccess(_ r: ProcessResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.timedOut, "timed out: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.status, 0, "exit status: \(r.summary)", file: file, line: line)
    }
}
