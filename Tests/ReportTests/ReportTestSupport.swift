// Helpers of the report tests: subprocesses with a timeout, the built `workbench` binary, a temporary folder,
// headless chromium, and a minimal PNG check (through python3's zlib).
import Foundation
import XCTest

struct Ran {
    let command: String
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool
    var summary: String { "`\(command)` -> \(status)\(timedOut ? " (timed out)" : "")\nstdout: \(stdout.prefix(1500))\nstderr: \(stderr.prefix(3000))" }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

enum Run {
    static let temp: String = {
        let d = FileManager.default.temporaryDirectory.path + "/workbench-report-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d + "/cache", withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Run.temp) }
        return d
    }()

    static func path(_ name: String) -> String { "\(temp)/\(UUID().uuidString.prefix(8))-\(name)" }

    /// Runs `exe args` with stdout/stderr in files (no pipe deadlocks), killed after `timeout` seconds.
    static func process(_ exe: String, _ args: [String], environment: [String: String]? = nil, cwd: String? = nil,
                        timeout: TimeInterval = 120) throws -> Ran {
        let out = path("stdout"), err = path("stderr")
        FileManager.default.createFile(atPath: out, contents: nil); FileManager.default.createFile(atPath: err, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        let o = FileHandle(forWritingAtPath: out)!, e = FileHandle(forWritingAtPath: err)!
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        var env = environment ?? ProcessInfo.processInfo.environment
        env["WORKBENCH_MODEL"] = nil
        if env["WORKBENCH_CACHE"] == nil { env["WORKBENCH_CACHE"] = temp + "/cache" }
        p.environment = env
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        p.standardOutput = o; p.standardError = e; p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        try o.close(); try e.close()
        return Ran(command: ([exe] + args).joined(separator: " "), status: p.terminationStatus,
                   stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", timedOut: timedOut)
    }

    /// The built `workbench` ($WORKBENCH_BIN, else next to the test bundle, else the newest under .build*/).
    static let workbench: String? = {
        let fm = FileManager.default
        if let p = ProcessInfo.processInfo.environment["WORKBENCH_BIN"], !p.isEmpty { return fm.isExecutableFile(atPath: p) ? p : nil }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let c = dir.appendingPathComponent("workbench").path
            if fm.isExecutableFile(atPath: c) { return c }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var best: (String, Date)?
        for b in ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []) where b.hasPrefix(".build") {
            for sub in ["debug", "release"] {
                let p = root.appendingPathComponent(b).appendingPathComponent(sub).appendingPathComponent("workbench").path
                if fm.isExecutableFile(atPath: p), let d = (try? fm.attributesOfItem(atPath: p))?[.modificationDate] as? Date, best == nil || d > best!.1 {
                    best = (p, d)
                }
            }
        }
        return best?.0
    }()

    static func workbench(_ args: [String], cwd: String? = nil, timeout: TimeInterval = 180) throws -> Ran {
        guard let bin = workbench else { throw XCTSkip("cannot find the built `workbench` binary (build it, or set WORKBENCH_BIN)") }
        return try process(bin, args, cwd: cwd, timeout: timeout)
    }

    static var python: String? {
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(d)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// The tiny checkpoint (L=2, C=64, V=512, maxT=64), made once with `workbench synth`.
    static let tinyModel: Result<String, Error> = Result {
        let p = temp + "/tiny.bin"
        let r = try workbench(["synth", p, "--preset", "tiny"])
        guard r.status == 0 else { throw XCTSkip("cannot synthesize the tiny model: \(r.summary)") }
        return p
    }
}

extension XCTestCase {
    /// Exit status 2, nothing on stdout, one line on stderr starting `workbench: ` and mentioning `mentions`.
    func assertBadInput(_ r: Ran, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 2, r.summary, file: file, line: line)
        XCTAssertEqual(r.stdout, "", r.summary, file: file, line: line)
        XCTAssertEqual(r.stderrLines.count, 1, r.summary, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("workbench: "), r.summary, file: file, line: line)
        for m in mentions { XCTAssertTrue(r.stderr.contains(m), "should mention \(m): \(r.summary)", file: file, line: line) }
    }
}

/// Headless chromium (Debian's `chromium`; root needs --no-sandbox).
enum Chromium {
    static let binary: String? = {
        let fm = FileManager.default
        if let p = ProcessInfo.processInfo.environment["CHROMIUM"], !p.isEmpty { return fm.isExecutableFile(atPath: p) ? p : nil }
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            for n in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
                let p = "\(d)/\(n)"
                if fm.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }()

    static func require() throws -> String {
        guard let b = binary else {
            throw XCTSkip("headless chromium is not installed (Tools/setup.sh installs Debian's `chromium`; or set CHROMIUM=/path/to/chrome): the browser checks of the report are skipped")
        }
        return b
    }

    static func args(_ extra: [String]) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
         "--user-data-dir=\(Run.path("chromium-profile"))", "--hide-scrollbars"] + extra
    }

    /// The DOM after load (scripts run), and chromium's log (console messages included).
    static func dumpDOM(_ file: String) throws -> Ran {
        try Run.process(try require(), args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom",
                                             URL(fileURLWithPath: file).absoluteString]), timeout: 180)
    }

    static func screenshot(_ file: String, to png: String, width: Int = 1400, height: Int = 3000) throws -> Ran {
        try Run.process(try require(), args(["--screenshot=\(png)", "--window-size=\(width),\(height)", "--virtual-time-budget=3000",
                                             URL(fileURLWithPath: file).absoluteString]), timeout: 180)
    }

    /// Console errors in a chromium log: uncaught exceptions, failed loads, and the page's own error marker.
    static func consoleErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { l in
            (l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("report error") || l.contains("Error")))
                || l.contains("Failed to load resource") || l.contains("net::ERR_")
        }
    }
}

/// What a PNG shows, roughly: size, and the share of pixels that are not (near) white, via python3's zlib.
struct PNGSummary {
    var width: Int, height: Int
    var nonWhiteFraction: Double
    var distinctColors: Int

    static let script = #"""
    import sys, zlib, struct
    d = open(sys.argv[1], 'rb').read()
    assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, w, h, ct, bd = 8, b'', 0, 0, 0, 0
    while pos < len(d):
        n, = struct.unpack('>I', d[pos:pos+4]); t = d[pos+4:pos+8]; body = d[pos+8:pos+8+n]; pos += 12 + n
        if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', body[:10])
        elif t == b'IDAT': idat += body
    assert bd == 8 and ct in (2, 6), 'unexpected PNG format %d/%d' % (bd, ct)
    bpp = 4 if ct == 6 else 3
    raw = zlib.decompress(idat); stride = w * bpp
    prev = bytearray(stride); nonwhite = 0; colors = set(); i = 0
    for y in range(h):
        f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
        for x in range(stride):
            a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 2: continue
        for x in range(0, stride, bpp * 2):
            r, g, bl = line[x], line[x+1], line[x+2]
            if r < 235 or g < 235 or bl < 235: nonwhite += 1
            if len(colors) < 5000: colors.add((r >> 3, g >> 3, bl >> 3))
    total = ((h + 1) // 2) * ((w + 1) // 2)
    print(w, h, nonwhite / max(1, total), len(colors))
    """#

    static func read(_ png: String) throws -> PNGSummary {
        guard let py = Run.python else { throw XCTSkip("python3 is needed to decode the screenshot") }
        let r = try Run.process(py, ["-c", script, png], timeout: 300)
        let f = r.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard r.status == 0, f.count == 4, let w = Int(f[0]), let h = Int(f[1]), let nw = Double(f[2]), let c = Int(f[3]) else {
            throw NSError(domain: "PNG", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot decode \(png): \(r.summary)"])
        }
        return PNGSummary(width: w, height: h, nonWhiteFraction: nw, distinctColors: c)
    }
}
