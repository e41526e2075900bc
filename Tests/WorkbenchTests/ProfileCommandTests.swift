// `workbench profile -- CMD` behaves like `perf record -- CMD`: the command found on the user's PATH, its stdout and
// stderr its own, its exit status (or 128 + its signal) workbench's, and on every way out (Ctrl-C, SIGTERM to
// workbench, the command crashing) no perf or command process left running and no temporary folder left behind.
// Unsymbolised frames named by address in their module, kernel frames marked `_[k]`, progress lines on stderr,
// --keep-perf-data. (Skipped where perf is not installed.)
import Foundation
import XCTest

final class ProfileCommandTests: XCTestCase {
    override func setUpWithError() throws {
        let r = try Subprocess.run("/bin/sh", ["-c", "command -v perf && perf --version"])
        if r.status != 0 { throw XCTSkip("perf is not installed here (apt-get install linux-perf)") }
    }

    /// A private TMPDIR, to see what a run leaves there.
    private func privateTmp() throws -> String {
        let d = Fixtures.shared.path("tmp")
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
    private func leftovers(_ tmp: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("workbench-") }
    }
    private func profile(_ cmd: [String], _ extra: [String] = [], env: [String: String] = [:]) throws -> ProcessResult {
        try Subprocess.workbench(["profile", "--no-save"] + extra + ["--"] + cmd, environment: Subprocess.environment(env), timeout: 180)
    }

    func testExitStatusAndStreamsAreTheCommands() throws {
        let tmp = try privateTmp()
        let r = try profile(["/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"],
                            env: ["TMPDIR": tmp])
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("to-stdout\n"), r.summary)
        XCTAssertTrue(r.stdout.contains("command: /bin/sh -c") && r.stdout.contains("(exit status 3,"), r.summary)
        XCTAssertTrue(r.stderr.contains("to-stderr\n"), r.summary)
        XCTAssertFalse(r.stdout.split(separator: "\n").contains("to-stderr"), "the command line is in the header, its stderr line is not on stdout")
        XCTAssertTrue(r.stderr.contains("workbench: the command ended with exit status 3"), r.summary)
        XCTAssertEqual(leftovers(tmp), [])
    }

    func testCommandKilledBySignalExits128PlusN() throws {
        let tmp = try privateTmp()
        let r = try profile(["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; kill -SEGV $$"], env: ["TMPDIR": tmp])
        XCTAssertEqual(r.status, 128 + SIGSEGV, r.summary)
        XCTAssertTrue(r.stdout.contains("(killed by SIGSEGV,"), r.summary)
        XCTAssertTrue(r.stderr.contains("workbench: the command was killed by SIGSEGV"), r.summary)
        XCTAssertEqual(leftovers(tmp), [])
    }

    func testMissingOrNotExecutableCommand() throws {
        let r = try profile(["no-such-command-xyz", "arg"])
        XCTAssertEqual(r.status, 127, r.summary)
        XCTAssertEqual(r.stderr, "workbench: command not found: no-such-command-xyz\n")
        XCTAssertEqual(r.stdout, "")
        let plain = Fixtures.shared.path("plain")
        FileManager.default.createFile(atPath: plain, contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
        let n = try profile([plain])
        XCTAssertEqual(n.status, 126, n.summary)
        XCTAssertEqual(n.stderr, "workbench: permission denied: \(plain)\n")
    }

    func testTheUsersPATHDecidesWhatRuns() throws {
        // Two scripts called wb-which; the first PATH folder's runs, whatever PATH perf would set for itself.
        let a = Fixtures.shared.path("binA"), b = Fixtures.shared.path("binB")
        for (dir, word) in [(a, "first"), (b, "second")] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: dir + "/wb-which", contents: Data("#!/bin/sh\necho \(word)\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        let path = "\(a):\(b):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try profile(["wb-which"], env: ["PATH": path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.hasPrefix("first\n"), r.summary)
        let s = try profile(["wb-which"], env: ["PATH": "\(b):\(a):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        XCTAssertTrue(s.stdout.hasPrefix("second\n"), s.summary)
    }

    func testUnsymbolisedFramesAreNamedByModuleAndAddressAndKeepPerfData() throws {
        // gzip is stripped: its own functions have no symbols. Compress enough for a few hundred samples.
        let input = Fixtures.shared.path("noise.bin"), folded = Fixtures.shared.path("gzip.folded"), kept = Fixtures.shared.path("kept.data")
        let noise = (0..<4_000_000).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) }
        FileManager.default.createFile(atPath: input, contents: Data(noise))
        let r = try profile(["gzip", "-9", "-c", input], ["--folded", folded, "--keep-perf-data", kept])
        XCTAssertEqual(r.status, 0, r.summary)
        let text = try String(contentsOfFile: folded, encoding: .utf8)
        XCTAssertNotNil(text.range(of: #"(^|;)gzip\+0x[0-9a-f]+"#, options: .regularExpression), String(text.prefix(2000)))
        XCTAssertFalse(text.contains("[unknown] (gzip)"))
        XCTAssertFalse(text.contains(" [kernel]"), "kernel frames use FlameGraph's _[k]")
        if text.contains("_[k]") { XCTAssertNotNil(text.range(of: #"[a-z_0-9]+_\[k\]"#, options: .regularExpression)) }
        let size = (try FileManager.default.attributesOfItem(atPath: kept)[.size] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(size, 0, "perf.data kept")
        XCTAssertTrue(r.stderr.contains("workbench: perf.data kept as \(kept)"), r.summary)
    }

    // MARK: signals

    /// Starts `workbench profile --no-save -- sleep 30` (SIGINT at its default disposition even when this test
    /// process ignores it, as a background job's shell makes it), waits until perf's child runs.
    private func startSleeping(tmp: String) throws -> (Process, out: String, err: String, perf: pid_t, command: pid_t) {
        let out = Fixtures.shared.path("sig.out"), err = Fixtures.shared.path("sig.err")
        FileManager.default.createFile(atPath: out, contents: nil); FileManager.default.createFile(atPath: err, contents: nil)
        let p = Process()
        let bin = try XCTUnwrap(TestPaths.workbench)
        let args = [bin, "profile", "--no-save", "--", "sleep", "30"]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
            p.arguments = ["-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die", "--"] + args
        } else {
            p.executableURL = URL(fileURLWithPath: bin); p.arguments = Array(args.dropFirst())
        }
        p.environment = Subprocess.environment(["TMPDIR": tmp])
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let perf = children(p.processIdentifier).first, let sleep = children(perf).first,
               (try? String(contentsOfFile: "/proc/\(sleep)/comm", encoding: .utf8))?.hasPrefix("sleep") == true {
                return (p, out, err, perf, sleep)
            }
            usleep(50_000)
        }
        p.terminate()
        throw TestFailure("perf or sleep did not start under workbench")
    }
    private func children(_ pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { t in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(t)/children", encoding: .utf8)) ?? "").split(separator: " ").compactMap { pid_t($0) }
        }
    }
    /// Gone, or a zombie waiting for a reaper (not running).
    private func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
    private func waitExit(_ p: Process, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        return !p.isRunning
    }

    func testCtrlCStopsRecordingAndStillReports() throws {
        let tmp = try privateTmp()
        let (p, out, err, perf, command) = try startSleeping(tmp: tmp)
        XCTAssertFalse(leftovers(tmp).isEmpty, "the run's temporary folder exists while it records")
        usleep(2_500_000)  // past the quiet period of the progress lines
        kill(p.processIdentifier, SIGINT)
        XCTAssertTrue(waitExit(p), "workbench did not stop after SIGINT")
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "ends as interrupted: \(stderr)")
        XCTAssertEqual(p.terminationStatus, SIGINT)
        XCTAssertTrue(stdout.contains("workbench profile: perf backend") && stdout.contains("(interrupted by SIGINT,"), stdout + stderr)
        XCTAssertTrue(stderr.contains("workbench: recording: "), "progress lines: \(stderr)")
        XCTAssertFalse(stderr.contains("\r"), "plain lines when stderr is not a terminal")
        XCTAssertTrue(isGone(perf) && isGone(command), "perf \(perf) or sleep \(command) still running")
        XCTAssertEqual(leftovers(tmp), [])
    }

    func testSIGTERMToWorkbenchLeavesNothingBehind() throws {
        let tmp = try privateTmp()
        let (p, _, err, perf, command) = try startSleeping(tmp: tmp)
        kill(p.processIdentifier, SIGTERM)
        XCTAssertTrue(waitExit(p), "workbench did not stop after SIGTERM")
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertEqual(p.terminationStatus, SIGTERM)
        XCTAssertTrue(((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").contains("workbench: interrupted by SIGTERM; nothing reported"))
        XCTAssertTrue(isGone(perf) && isGone(command), "perf \(perf) or sleep \(command) still running")
        XCTAssertEqual(leftovers(tmp), [])
    }

    func testCommandCrashLeavesNothingBehind() throws {
        let tmp = try privateTmp()
        // The command crashes: perf ends, workbench reports, exits 128 + 11, and cleans up.
        let r = try profile(["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; kill -SEGV $$"], env: ["TMPDIR": tmp])
        XCTAssertEqual(r.status, 139, r.summary)
        XCTAssertEqual(leftovers(tmp), [])
        XCTAssertFalse(try Subprocess.run("/bin/sh", ["-c", "ls \(tmp)"]).stdout.contains("perf"), "no perf.data left")
    }
}
