// The profile verb's library logic, without the CLI: samples with labels (threads, ops) from both backends, the op
// view join, the text report (per thread too), the perf child protocol (FIFOs, report), finding a command on
// PATH, running a child to its end (exit status, signal death), and progress lines.
import CSampler
import Foundation
@testable import Profiling
import XCTest

final class SampleProfileTests: XCTestCase {
    func testFoldedStacksBecomeNameOnlySamplesAndBack() {
        let stacks = StackProfile([(["main", "libfoo.so+0x10"], 3), (["main", "read_[k]"], 1)])
        let p = SampleProfile(stacks)
        XCTAssertEqual(p.stacks, stacks)
        XCTAssertEqual(p.total, 4)
        XCTAssertEqual(p.modules["libfoo.so+0x10"], "libfoo.so")
        XCTAssertEqual(p.modules["read_[k]"], "[kernel.kallsyms]")
        XCTAssertNil(p.modules["main"])
        XCTAssertEqual(p.threads.map(\.name), ["all"])
        XCTAssertNil(p.periodNanos)
    }

    func testThreadsAndOpsSplitTheSamples() {
        var p = SampleProfile()
        p.add(Sample(frames: [Frame("main"), Frame("mm")], thread: "w-1", op: "fc"), count: 3)
        p.add(Sample(frames: [Frame("main"), Frame("mm")], thread: "w-2", op: "fc"), count: 5)
        p.add(Sample(frames: [Frame("main")], thread: "w-2"), count: 1)
        p.add(Sample(frames: [], thread: "w-3"), count: 9)  // empty: ignored
        XCTAssertEqual(p.total, 9)
        XCTAssertEqual(p.threads.map(\.name), ["w-2", "w-1"])
        XCTAssertEqual(p.thread("w-2").total, 6)
        XCTAssertEqual(p.thread("w-2").stacks.counts[["main", "mm"]], 5)
        XCTAssertEqual(p.byOp["fc"], 8); XCTAssertEqual(p.byOp[nil], 1)
        XCTAssertEqual(p.stacks.counts[["main", "mm"]], 8, "the folded view merges threads")
    }

    func testPerfSamplesCarryThreadsModulesAndPeriod() throws {
        let text = try ProfilingFixtures.text("perf-script.txt")
        let p = PerfScript.samples(try PerfScript.parse(text))
        XCTAssertEqual(p.total, 10)
        XCTAssertEqual(p.periodNanos, 4_000_000)
        XCTAssertEqual(Set(p.threads.map(\.name)), ["workbench-7095", "workbench-7097", "workbench-7098", "Pool Worker 1-4250"])
        let frames = p.counts.keys.flatMap(\.frames)
        let blas = try XCTUnwrap(frames.first { $0.name == "libopenblasp-r0.3.21.so+0x374869" })
        XCTAssertEqual(blas.address, 0x374869)
        XCTAssertEqual(blas.module, "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so")
        let swift = try XCTUnwrap(frames.first { $0.name == "Kernels.microkernel(_:_:_:_:_:_:_:_:)" })
        XCTAssertTrue(swift.symbol?.hasPrefix("$s") == true, "the mangled name is kept for pprof's system_name")
        XCTAssertTrue(frames.filter { FrameName.isKernel($0.name) }.allSatisfy { $0.module == "[kernel.kallsyms]" })
        XCTAssertEqual(PerfScript.samples(try PerfScript.parse(text), kernelFrames: false).stacks, PerfScript.profile(try PerfScript.parse(text), kernelFrames: false).stacks)
    }

    func testSignalRunLabelsThreadsAndOps() throws {
        let tag = SignalSampler.opTag
        tag.pointee = 7
        defer { tag.pointee = 0 }
        let run = try SignalRun.record(clock: .wall, hz: 500, unwinder: .backtrace, threads: 1, duration: 0.3, progress: nil) {
            let end = Date().addingTimeInterval(0.05)
            var x = 0.0
            while Date() < end { x += 1 }
            _ = x
        }
        XCTAssertEqual(run.clock, .wall)
        XCTAssertGreaterThanOrEqual(run.iterations, 5)
        let me = SignalSampler.currentThreadID
        let p = run.samples(ops: [7: "busy"], threads: [me: "tester-\(me)"])
        XCTAssertGreaterThan(p.total, 20)
        XCTAssertEqual(p.clock, "wall")
        XCTAssertGreaterThan(p.periodNanos ?? 0, 0)
        XCTAssertTrue(p.threads.contains { $0.name == "tester-\(me)" }, "\(p.threads)")
        XCTAssertGreaterThan(p.byOp["busy"] ?? 0, 0)
        XCTAssertFalse(p.mappings.isEmpty, "load addresses of the modules seen")
        let meta = run.metadata(p)
        XCTAssertEqual(meta.clock, "wall"); XCTAssertEqual(meta.samples, p.total); XCTAssertEqual(meta.threads["tester-\(me)"], p.thread("tester-\(me)").total)
    }
}

final class OpViewTests: XCTestCase {
    func testTimersJoinTaggedSamples() {
        let timers = [OpTimer(key: "fc", name: "fc matmul", ms: 60, percent: 60), OpTimer(key: "gelu", name: "gelu", ms: 40, percent: 40)]
        let sampled: [String?: Int] = ["fc": 55, "gelu": 35, "softmax": 10, nil: 25]
        let rows = OpView.rows(timers: timers, sampled: sampled, names: [("fc", "fc matmul"), ("softmax", "softmax"), ("lnf", "lnf")])
        XCTAssertEqual(rows.map(\.key), ["fc", "gelu", "softmax"], "timed ops in order, then sampled-but-untimed ones; unseen ones left out")
        XCTAssertEqual(rows[0].samples, 55); XCTAssertEqual(rows[0].sampledPercent ?? 0, 55, accuracy: 1e-9)
        XCTAssertEqual(rows[0].sampledStdErr ?? 0, 100 * (0.55 * 0.45 / 100).squareRoot(), accuracy: 1e-9)
        XCTAssertNil(rows[2].timerMs)
        let t = OpView.table(rows, sampled: sampled, forwardMs: 100)
        XCTAssertTrue(t.contains("fc matmul            60.0   60.0%        55     55.0%"), t)
        XCTAssertTrue(t.contains("25 samples (20.0%) were outside them"), t)
        XCTAssertTrue(OpView.timerTable(OpView.timerRows(timers), forwardMs: 100).contains("carry no op tag"))
    }

    func testTextReportPerThread() {
        var p = SampleProfile()
        p.add(Sample(frames: [Frame("main"), Frame("a")], thread: "t-1"), count: 3)
        p.add(Sample(frames: [Frame("main"), Frame("b")], thread: "t-2"), count: 1)
        let one = ProfileText.render(p, header: "H\n", minPercent: 0, top: 5, opTable: "OPS\n")
        XCTAssertTrue(one.hasPrefix("H\nsampling error: a share p of N = 4 samples"), one)
        XCTAssertEqual(one.components(separatedBy: "== call tree").count - 1, 1)
        XCTAssertTrue(one.hasSuffix("== op view: per-op timers vs the op each sample was taken in ==\nOPS\n"), one)
        let split = ProfileText.render(p, header: "", minPercent: 0, top: 5, opTable: nil, perThread: true)
        XCTAssertTrue(split.contains("== call tree, thread t-1: 3 samples, 75.0%"), split)
        XCTAssertTrue(split.contains("== top 5 frames by self samples, thread t-2: 1 samples, 25.0% =="), split)
        let t1 = split[split.range(of: "thread t-1")!.lowerBound..<split.range(of: "thread t-2")!.lowerBound]
        XCTAssertTrue(t1.contains(" a\n") && !t1.contains(" b\n"), String(t1))
        XCTAssertEqual(ProfileText.threadCounts(p, main: "t-2"), "t-1: 3, t-2 (main): 1")
    }

    func testJSONReportPerThread() throws {
        var p = SampleProfile()
        p.add(Sample(frames: [Frame("a")], thread: "t-1"), count: 2)
        p.add(Sample(frames: [Frame("b")], thread: "t-2"), count: 1)
        let meta = ProfileMetadata(command: ["x"], backend: "signal", requestedHz: 250, samples: 3, seconds: 1)
        let doc = try JSONSerialization.jsonObject(with: try ProfileReport(metadata: meta, samples: p, top: 5, perThread: true).json()) as? [String: Any]
        let threads = try XCTUnwrap(doc?["threads"] as? [[String: Any]])
        XCTAssertEqual(threads.map { $0["thread"] as? String }, ["t-1", "t-2"])
        let whole = try JSONSerialization.jsonObject(with: try ProfileReport(metadata: meta, samples: p, top: 5, perThread: false).json()) as? [String: Any]
        XCTAssertNil(whole?["threads"])
    }
}

final class PerfProtocolTests: XCTestCase {
    func testControlFIFOsCarryCommandsAndAcks() throws {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let control = try PerfControl.create(in: dir)
        XCTAssertEqual(control.spec, "\(dir)/ctl,\(dir)/ack")
        // perf's side, played by a thread: read a command line, acknowledge it.
        let got = Locked<[String]>([])
        let perf = Thread {
            let c = open(control.controlFIFO, O_RDONLY), a = open(control.ackFIFO, O_WRONLY)
            var buf = [UInt8](repeating: 0, count: 64)
            for _ in 0..<2 {
                let n = read(c, &buf, buf.count)
                got.mutate { $0.append(String(decoding: buf.prefix(max(0, n)), as: UTF8.self)) }
                _ = write(a, "ack\n", 4)
            }
            close(c); close(a)
        }
        perf.start()
        var ran = 0
        let (runs, seconds, controlled) = try PerfControl.runControlled(spec: control.spec, duration: 0.05, prepare: {}, work: { ran += 1; usleep(10_000) })
        XCTAssertTrue(controlled)
        XCTAssertEqual(runs, ran); XCTAssertGreaterThanOrEqual(seconds, 0.05)
        while got.value.count < 2 { usleep(1000) }
        XCTAssertEqual(got.value, ["enable\n", "disable\n"])
        // No FIFOs: no control, the workload still runs.
        XCTAssertFalse(try PerfControl.runControlled(spec: nil, duration: 0, prepare: {}, work: {}).controlled)
        XCTAssertNil(PerfControl.Client(spec: "/nonexistent/ctl,/nonexistent/ack"))
        XCTAssertThrowsError(try PerfControl.create(in: "/nonexistent/dir"))
    }

    func testWorkloadReportRoundTrip() throws {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = PerfWorkloadReport(generations: 12, seconds: 2, engine: "matmul=x", controlled: true, forwards: 96, forwardMs: 1900,
                                   ops: [OpTimer(key: "fc", name: "fc matmul", ms: 500, percent: 26.3)])
        try r.write(to: dir + "/child.json")
        XCTAssertEqual(PerfWorkloadReport.read(dir + "/child.json"), r)
        XCTAssertNil(PerfWorkloadReport.read(dir + "/missing.json"))
        XCTAssertEqual(r.describe(prompt: "1 2", n: 10), "12 generations of [1 2] to n=10 (96 forward passes) in 2.00 s")
        XCTAssertEqual(r.achievedHz(samples: 1000, threads: 2), 250)
    }
}

final class ChildProcessTests: XCTestCase {
    func testCommandsAreFoundOnThePATHGiven() throws {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for d in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: "\(dir)/\(d)/tool", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        FileManager.default.createFile(atPath: "\(dir)/a/plain", contents: Data(), attributes: [.posixPermissions: 0o644])
        XCTAssertEqual(CommandLookup.resolve("tool", path: "\(dir)/a:\(dir)/b"), .found("\(dir)/a/tool"))
        XCTAssertEqual(CommandLookup.resolve("tool", path: "\(dir)/b:\(dir)/a"), .found("\(dir)/b/tool"), "the first PATH entry wins")
        XCTAssertEqual(CommandLookup.resolve("plain", path: "\(dir)/a"), .notExecutable("\(dir)/a/plain"))
        XCTAssertEqual(CommandLookup.resolve("nope", path: "\(dir)/a"), .notFound)
        XCTAssertEqual(CommandLookup.resolve("a", path: "\(dir)"), .notFound, "a folder is not a command")
        XCTAssertEqual(CommandLookup.resolve("./tool", path: "", cwd: "\(dir)/b"), .found("\(dir)/b/./tool"), "a name with a slash is a path")
        XCTAssertEqual(CommandLookup.resolve("tool", path: ":/nonexistent", cwd: "\(dir)/a"), .found("\(dir)/a/tool"), "an empty entry is the current folder")
        XCTAssertEqual(try CommandLookup.absolute(["tool", "x"], path: "\(dir)/b"), ["\(dir)/b/tool", "x"])
        XCTAssertThrowsError(try CommandLookup.absolute(["nope"], path: dir)) { e in
            XCTAssertEqual(e as? CommandLookup.Failure, CommandLookup.Failure(message: "command not found: nope", exitCode: 127))
        }
        XCTAssertThrowsError(try CommandLookup.absolute(["plain"], path: "\(dir)/a")) { e in XCTAssertEqual((e as? CommandLookup.Failure)?.exitCode, 126) }
    }

    func testExitStatusAndSignalDeathsAreReportedAsShellsDo() throws {
        XCTAssertEqual(try ChildProcess.run("/bin/sh", ["-c", "exit 3"]).termination, .exited(3))
        let segv = try ChildProcess.run("/bin/sh", ["-c", "kill -SEGV $$"])
        XCTAssertEqual(segv.termination, .signaled(SIGSEGV))
        XCTAssertEqual(segv.termination.description, "killed by SIGSEGV")
        XCTAssertEqual(segv.termination.exitCode, 139)
        XCTAssertNil(segv.interrupted)
        XCTAssertEqual(Termination.exited(0).description, "exit status 0")
        XCTAssertEqual(Signals.name(SIGINT), "SIGINT"); XCTAssertEqual(Signals.name(42), "signal 42")
        XCTAssertThrowsError(try ChildProcess.run("/nonexistent/tool", [])) { e in XCTAssertTrue("\(e)".contains("cannot run /nonexistent/tool"), "\(e)") }
    }

    func testOutputGoesWhereAskedAndTicksCome() throws {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var ticks = 0
        let o = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; sleep 0.3"], stdout: .file(dir + "/o"), stderr: .file(dir + "/e"),
                                     tick: 0.1) { _ in ticks += 1 }
        XCTAssertEqual(o.termination, .exited(0))
        XCTAssertEqual(try String(contentsOfFile: dir + "/o", encoding: .utf8), "out\n")
        XCTAssertEqual(try String(contentsOfFile: dir + "/e", encoding: .utf8), "err\n")
        XCTAssertGreaterThanOrEqual(ticks, 1)
    }

    func testStopSignalIsForwardedAndGrandchildrenEnd() throws {
        Signals.watch()
        defer { Signals.reset(); Signals.unwatch() }
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A shell whose own child would outlive it; SIGTERM to this process during the run is forwarded.
        let pidFile = dir + "/pid"
        var sent = false
        let o = try ChildProcess.run("/bin/sh", ["-c", "sleep 30 & echo $! > \(pidFile); wait"], tick: 0.1) { t in
            if !sent, t > 0.3 { sent = true; kill(getpid(), SIGTERM) }
        }
        XCTAssertEqual(o.interrupted, SIGTERM)
        XCTAssertEqual(o.termination, .signaled(SIGTERM))
        let grandchild = try XCTUnwrap(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertNotEqual(kill(grandchild, 0), 0, "the shell's background sleep was ended too")
        XCTAssertEqual(Signals.pending, [SIGTERM])
    }

    func testProgressIsQuietThenLinesOrOneRewrittenLine() {
        var plain: [String] = []
        let p = Progress(isTerminal: false, quietFor: 2, plainEvery: 10) { plain.append($0) }
        for t in stride(from: 0.0, through: 25, by: 0.5) { p.update(t, "at \(Int(t))") }
        p.clear()
        XCTAssertEqual(plain, ["workbench: at 2\n", "workbench: at 12\n", "workbench: at 22\n"])
        var tty: [String] = []
        let q = Progress(isTerminal: true, quietFor: 1, ttyEvery: 1) { tty.append($0) }
        q.update(0.5, "x"); q.update(1, "a"); q.update(1.5, "b"); q.update(2, "c")
        q.clear()
        XCTAssertEqual(tty, ["\r\u{1b}[Kworkbench: a", "\r\u{1b}[Kworkbench: c", "\r\u{1b}[K"])
        XCTAssertFalse(plain.joined().contains("\r"))
    }
}

/// A value shared with another thread.
final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
