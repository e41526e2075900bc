// `workbench profile` end to end on the tiny model: the text, JSON, folded, SVG, pprof (read by `go tool pprof`),
// speedscope, per-thread and saved outputs of the signal backend, Ctrl-C, the perf backend and `-- CMD` (more in
// ProfileCommandTests.swift), the diff and its SVG, and one line + exit status 2 for every bad input.
// (Uses the shared helpers of WorkbenchTestSupport.swift: Subprocess, Fixtures, assertBadInput.)
import Foundation
import XCTest

final class ProfileTests: XCTestCase {
    private func tiny() throws -> String { try Fixtures.shared.checkpoint(.tiny) }
    /// A short workload on the tiny model (prompt ids must be < 512).
    private func workload(_ extra: [String]) throws -> [String] {
        ["profile", "--model", try tiny(), "--prompt", "1 2", "--n", "24", "--no-save"] + extra
    }
    private func write(_ name: String, _ text: String) -> String {
        let p = Fixtures.shared.path(name)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    // MARK: signal backend

    func testSignalBackendTextReportAndFiles() throws {
        let folded = Fixtures.shared.path("p.folded"), svg = Fixtures.shared.path("p.svg")
        let r = try Subprocess.workbench(try workload(["--duration", "0.6", "--folded", folded, "--svg", svg]))
        assertSuccess(r)
        for section in ["workbench profile: signal backend", "samples: ", "sampling error:", "== call tree", "== top 20 frames by self samples ==",
                        "== op view", "qkv matmul", "lm-head matmul"] {
            XCTAssertTrue(r.stdout.contains(section), "missing '\(section)': \(r.summary)")
        }
        // The folded file is valid FlameGraph input whose stacks hold Kernels frames (where a forward pass works).
        let text = try String(contentsOfFile: folded, encoding: .utf8)
        var total = 0
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let n = Int(line[line.index(after: space)...]) else { return XCTFail("bad folded line \(line)") }
            XCTAssertFalse(line[..<space].split(separator: ";", omittingEmptySubsequences: false).contains { $0.isEmpty })
            total += n
        }
        XCTAssertGreaterThan(total, 20)
        XCTAssertTrue(text.contains("Kernels."), text.prefix(500).description)
        let s = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(s.hasPrefix("<?xml") && s.contains("<title>") && s.hasSuffix("</svg>\n"))
        // Frames carry their module in the tooltip.
        XCTAssertTrue(s.contains("module: workbench") || s.contains("module: lib"), String(s.prefix(3000)))
    }

    func testSignalBackendJSONAndSavedRun() throws {
        let dir = Fixtures.shared.path("runs")
        var args = try workload(["--duration", "0.5", "--json", "--clock", "wall"])
        args.removeAll { $0 == "--no-save" }
        args += ["--save-dir", dir]
        let r = try Subprocess.workbench(args)
        assertSuccess(r)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let meta = try XCTUnwrap(json?["metadata"] as? [String: Any])
        XCTAssertEqual(meta["backend"] as? String, "signal")
        XCTAssertEqual(meta["clock"] as? String, "wall")
        XCTAssertGreaterThan(meta["samples"] as? Int ?? 0, 20)
        XCTAssertNotNil(meta["engine"] as? String)
        let ops = try XCTUnwrap(json?["ops"] as? [[String: Any]])
        XCTAssertTrue(ops.contains { $0["key"] as? String == "fc" })
        let sampled = ops.compactMap { $0["sampledPercent"] as? Double }.reduce(0, +)
        XCTAssertEqual(sampled, 100, accuracy: 0.01, "sampled shares of the ops add up to 100%")
        XCTAssertFalse((json?["flat"] as? [Any] ?? []).isEmpty)
        // Saved: one .folded and its .json metadata; the path is said on stderr.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files[0].hasSuffix("-signal.folded") && files[1].hasSuffix("-signal.json"), "\(files)")
        XCTAssertTrue(r.stderr.contains("profile saved to \(dir)/"), r.summary)
    }

    func testDiffOfTwoProfiles() throws {
        let a = write("a.folded", "main;matmul 80\nmain;gelu 20\n")
        let b = write("b.folded", "main;matmul 50\nmain;gelu 40\nmain;softmax 10\n")
        let r = try Subprocess.workbench(["profile", "--diff", a, b])
        assertSuccess(r)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains("(100 samples)"), r.summary)
        // matmul lost 30 points of self share: first row.
        let first = try XCTUnwrap(lines.first { $0.contains("matmul") })
        XCTAssertTrue(first.contains("80.0%") && first.contains("50.0%") && first.contains("-30.0"), first)
        XCTAssertTrue(r.stdout.contains("softmax"))
        let j = try Subprocess.workbench(["profile", "--diff", a, b, "--json"])
        assertSuccess(j)
        let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["samplesB"] as? Int, 100)
    }

    // MARK: pprof, speedscope, SVG options, per thread

    /// A model whose matmuls dominate (C=256, V=4096), one thread, the naive matmul: its kernel is the hot frame.
    private func matmulHeavy(_ extra: [String]) throws -> [String] {
        let spec = ModelSpec(L: 2, NH: 4, C: 256, V: 4096, Vp: 4096, maxT: 64)
        return ["profile", "--model", try Fixtures.shared.checkpoint(spec), "--prompt", "1 2", "--n", "16", "--threads", "1",
                "--matmul", "naive", "--no-save"] + extra
    }

    func testPprofOpensInGoToolPprofWithTheMatmulKernelFirst() throws {
        let pb = Fixtures.shared.path("p.pb.gz"), ss = Fixtures.shared.path("p.speedscope.json")
        let r = try Subprocess.workbench(try matmulHeavy(["--duration", "1", "--pprof", pb, "--speedscope", ss]))
        assertSuccess(r)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: pb))
        XCTAssertEqual(Array(bytes.prefix(2)), [0x1f, 0x8b], "gzip")
        // speedscope: one sampled profile per thread, consistent.
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ss))) as? [String: Any])
        XCTAssertEqual(doc["$schema"] as? String, "https://www.speedscope.app/file-format-schema.json")
        let frames = try XCTUnwrap((doc["shared"] as? [String: Any])?["frames"] as? [[String: Any]])
        for p in try XCTUnwrap(doc["profiles"] as? [[String: Any]]) {
            let samples = try XCTUnwrap(p["samples"] as? [[Int]]), weights = try XCTUnwrap(p["weights"] as? [Int])
            XCTAssertEqual(samples.count, weights.count)
            XCTAssertEqual(p["endValue"] as? Int, weights.reduce(0, +))
            XCTAssertTrue(samples.joined().allSatisfy { frames.indices.contains($0) })
        }
        // The real client.
        let go = try Subprocess.run("/bin/sh", ["-c", "command -v go"])
        guard go.status == 0 else { throw XCTSkip("go is not installed (apt-get install golang-go): go tool pprof not run") }
        let home = Fixtures.shared.path("gohome")
        let t = try Subprocess.run(go.stdout.trimmingCharacters(in: .whitespacesAndNewlines), ["tool", "pprof", "-top", pb],
                                   environment: Subprocess.environment(["HOME": home, "GOCACHE": home + "/cache"]))
        XCTAssertEqual(t.status, 0, t.summary)
        let rows = t.stdout.split(separator: "\n").drop { !$0.contains("flat%") }.dropFirst()
        XCTAssertTrue(rows.first?.hasSuffix("Kernels.matmulForwardNaive(_:_:weight:bias:T:C:OC:columns:)") == true, t.stdout)
        XCTAssertTrue(t.stdout.contains("Type: cpu"), t.stdout)
        print("go tool pprof -top head:\n" + t.stdout.split(separator: "\n").prefix(12).joined(separator: "\n"))
    }

    func testPerThreadSVGOptionsAndInverted() throws {
        let svg = Fixtures.shared.path("inv.svg")
        let r = try Subprocess.workbench(try workload(["--duration", "0.5", "--per-thread", "--svg", svg, "--inverted", "--min-width", "0.5%"]))
        assertSuccess(r)
        XCTAssertGreaterThanOrEqual(r.stdout.components(separatedBy: "== call tree, thread ").count - 1, 2, r.summary)
        XCTAssertTrue(r.stdout.contains("== top 20 frames by self samples, thread "), r.summary)
        let s = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(s.contains("inverted: callers of the leaves"), String(s.prefix(1500)))
        XCTAssertTrue(s.contains("<script") && s.contains("Reset Zoom") && s.contains("Search"))
        assertBadInput(try Subprocess.workbench(try workload(["--min-width", "wide"])), mentions: ["--min-width must be pixels (0.1) or a percentage (0.5%)"])
        assertBadInput(try Subprocess.workbench(try workload(["--keep-perf-data", "x.data"])), mentions: ["--keep-perf-data needs the perf backend"])
        let j = try Subprocess.workbench(try workload(["--duration", "0.3", "--per-thread", "--json"]))
        assertSuccess(j)
        let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        XCTAssertFalse((doc?["threads"] as? [Any] ?? []).isEmpty, j.summary)
    }

    func testDifferentialSVGAndOptionsADiffCannotUse() throws {
        let a = write("da.folded", "main;matmul 80\nmain;gelu 20\n")
        let b = write("db.folded", "main;matmul 50\nmain;gelu 40\nmain;softmax 10\n")
        let svg = Fixtures.shared.path("d.svg")
        assertSuccess(try Subprocess.workbench(["profile", "--diff", a, b, "--svg", svg]))
        let s = try String(contentsOfFile: svg, encoding: .utf8)
        // gelu grew (20% -> 40%): red; matmul shrank (80% -> 50%): blue, the deepest (largest change).
        func fill(_ name: String) -> String? {
            guard let t = s.range(of: "<title>\(name)\n"), let f = s[t.upperBound...].range(of: "fill=\"") else { return nil }
            return String(s[f.upperBound...].prefix { $0 != "\"" })
        }
        XCTAssertEqual(fill("matmul"), "rgb(0,0,255)")
        XCTAssertTrue(fill("gelu")?.hasPrefix("rgb(255,") == true, fill("gelu") ?? "none")
        XCTAssertTrue(fill("softmax")?.hasPrefix("rgb(255,") == true)
        XCTAssertEqual(fill("main"), "rgb(255,255,255)")
        for bad in [["--pprof", "x.pb.gz"], ["--speedscope", "x.json"], ["--per-thread"], ["--folded", "x"], ["--backend", "perf"], ["--hz", "100"],
                    ["--min-percent", "5"], ["--n", "5"]] {
            assertBadInput(try Subprocess.workbench(["profile", "--diff", a, b] + bad), mentions: ["\(bad[0]) cannot be used with --diff"])
        }
        assertSuccess(try Subprocess.workbench(["profile", "--diff", a, b, "--inverted", "--min-width", "1", "--top", "3", "--svg", svg]))
    }

    func testCtrlCStopsTheSignalBackendAndStillReports() throws {
        let out = Fixtures.shared.path("int.out"), err = Fixtures.shared.path("int.err")
        FileManager.default.createFile(atPath: out, contents: nil); FileManager.default.createFile(atPath: err, contents: nil)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else { throw XCTSkip("no /usr/bin/perl to start workbench with SIGINT at its default") }
        let bin = try XCTUnwrap(TestPaths.workbench)
        let p = Process()
        // SIGINT at its default disposition even if this test process ignores it (a background job's shell does).
        p.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        p.arguments = ["-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die", "--", bin] + (try workload(["--duration", "120"]))
        p.environment = Subprocess.environment()
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try p.run()
        sleep(4)
        kill(p.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(p.isRunning, "still sampling after SIGINT")
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertEqual(p.terminationStatus, SIGINT)
        XCTAssertTrue(stdout.contains("== top 20 frames by self samples ==") && stdout.contains("== op view"), stdout)
    }

    // MARK: perf backend

    private func perfUsable() throws {
        let r = try Subprocess.run("/bin/sh", ["-c", "command -v perf && perf --version"])
        if r.status != 0 { throw XCTSkip("perf is not installed here (apt-get install linux-perf)") }
    }

    func testPerfBackendOnTheWorkload() throws {
        try perfUsable()
        let folded = Fixtures.shared.path("perf.folded")
        let r = try Subprocess.workbench(try workload(["--backend", "perf", "--duration", "0.6", "--folded", folded]), timeout: 180)
        assertSuccess(r)
        XCTAssertTrue(r.stdout.contains("perf backend"), r.summary)
        XCTAssertTrue(r.stdout.contains("carry no op tag"), r.summary)
        let text = try String(contentsOfFile: folded, encoding: .utf8)
        XCTAssertTrue(text.contains("GPT2.GPT2Model.forward(_:pos0:allLogits:)"), "demangled Swift frames expected")
        XCTAssertFalse(text.contains("$s"), "no mangled names")
    }

    func testPerfOnACommand() throws {
        try perfUsable()
        let r = try Subprocess.workbench(["profile", "--no-save", "--", "/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"], timeout: 180)
        assertSuccess(r)
        XCTAssertTrue(r.stdout.contains("command: /bin/sh -c"), r.summary)
        XCTAssertTrue(r.stdout.contains("== top 20 frames by self samples =="), r.summary)
    }

    // MARK: bad input

    func testPerfMissingOrNotRunnable() throws {
        assertBadInput(try Subprocess.workbench(try workload(["--backend", "perf", "--perf", "/nonexistent/perf"])),
                       mentions: ["perf not found at /nonexistent/perf", "apt-get install linux-perf"])
        let empty = Fixtures.shared.path("emptybin")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertBadInput(try Subprocess.workbench(try workload(["--backend", "perf"]), environment: Subprocess.environment(["PATH": empty])),
                       mentions: ["perf not found on PATH", "apt-get install linux-perf"])
        assertBadInput(try Subprocess.workbench(["profile", "--no-save", "--"] + ["/bin/true"], environment: Subprocess.environment(["PATH": empty])),
                       mentions: ["perf not found on PATH"])
    }

    func testBadDiffInputs() throws {
        assertBadInput(try Subprocess.workbench(["profile", "--diff", "/nonexistent/a.folded", "/nonexistent/b.folded"]),
                       mentions: ["/nonexistent/a.folded: no such file"])
        let ok = write("ok.folded", "a;b 3\n")
        let garbled = write("garbled.folded", "a;b 3\nthis line has no count\n")
        assertBadInput(try Subprocess.workbench(["profile", "--diff", ok, garbled]), mentions: ["garbled.folded: line 2"])
        let empty = write("empty.folded", "")
        assertBadInput(try Subprocess.workbench(["profile", "--diff", empty, ok]), mentions: ["empty.folded: no samples"])
        assertBadInput(try Subprocess.workbench(["profile", "--diff", ok]), mentions: ["--diff takes two folded files"])
        assertBadInput(try Subprocess.workbench(["profile", "--diff", ok, Fixtures.shared.directory]), mentions: ["is a directory"])
    }

    func testBadOptions() throws {
        let cases: [([String], String)] = [
            (["--backend", "dtrace"], "unknown backend 'dtrace'"),
            (["--clock", "sundial"], "unknown clock 'sundial'"),
            (["--hz", "0"], "--hz must be in"),
            (["--duration", "0"], "--duration must be in"),
            (["--top", "0"], "--top must be positive"),
            (["--min-percent", "200"], "--min-percent must be in"),
            (["--backend", "perf", "--call-graph", "lbr"], "unknown --call-graph 'lbr'"),
            (["--prompt", "1 99999"], "token 99999 is out of range"),
            (["--prompt", ""], "empty prompt"),
            (["--n", "2"], "the prompt has 2 tokens but n = 2"),
            (["--backend", "perf", "--measure-overhead"], "--measure-overhead measures the signal backend"),
        ]
        for (extra, message) in cases {
            assertBadInput(try Subprocess.workbench(try workload(extra)), mentions: [message])
        }
        assertBadInput(try Subprocess.workbench(["profile", "--backend", "signal", "--", "/bin/true"]),
                       mentions: ["only the perf backend can profile another command"])
    }
}
