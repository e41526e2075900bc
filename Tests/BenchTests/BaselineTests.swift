// The baseline format: JSON round trip, the format number, and one clear line for every kind of broken file.
import XCTest
@testable import Bench

final class BaselineTests: XCTestCase {
    static let environment = BaselineEnvironment(fingerprint: "CPU X | 2 logical cores | x86_64", threads: 2, build: "release")

    static func sample() -> Baseline {
        Baseline(suite: "full", date: "2026-11-25T10:00:00Z", commit: String(repeating: "a", count: 40),
                 environment: environment, availability: ["ratios: ..."],
                 metrics: [
                    BaselineMetric(name: "matmul/tiled/qkv/T64", kind: .ratio, unit: "x", value: 0.025, spread: 0.0004,
                                   samples: 15, threshold: Threshold(relative: 0.1)),
                    BaselineMetric(name: "gen/124M/decode", kind: .time, unit: "ms", value: 23.5, spread: 0.25, samples: 7,
                                   threshold: Threshold(relative: 0.25)),
                    BaselineMetric(name: "share/124M/fc", kind: .share, unit: "%", value: 21.4, spread: 0.3, samples: 7,
                                   threshold: Threshold(absolute: 2)),
                    BaselineMetric(name: "gen/124M/tokens", kind: .exact, unit: "tokens", value: 0, spread: 0, samples: 1,
                                   threshold: Threshold(), text: "1 2 3"),
                    BaselineMetric(name: "gen/124M/logits-rms", kind: .checksum, unit: "", value: 0.55, spread: 0, samples: 1,
                                   threshold: Threshold(absolute: 5e-4)),
                 ])
    }

    func tempPath(_ name: String) -> String {
        NSTemporaryDirectory() + "/baseline-tests-\(getpid())-\(UUID().uuidString.prefix(8))-\(name)"
    }

    func testRoundTripThroughAFile() throws {
        let b = Self.sample()
        let path = tempPath("b.json")
        defer { unlink(path) }
        try b.write(to: path)
        let back = try Baseline.load(path: path)
        XCTAssertEqual(back, b)
        XCTAssertEqual(back.format, Baseline.formatVersion)
        XCTAssertEqual(back.metric("share/124M/fc")?.threshold.absolute, 2)
        XCTAssertNil(back.metric("nope"))
        // machineDependent follows the kind
        XCTAssertEqual(back.metrics.map(\.machineDependent), [false, true, false, false, false])
        // The file is readable: sorted keys, one field per line, slashes not escaped.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.contains("\"name\" : \"matmul/tiled/qkv/T64\""), text)
        XCTAssertTrue(text.hasSuffix("}\n"))
    }

    func testMissingFileSaysHowToMakeOne() {
        let path = tempPath("absent.json")
        XCTAssertThrowsError(try Baseline.load(path: path)) { e in
            let s = String(describing: e)
            XCTAssertTrue(s.hasPrefix("baseline \(path) not found"), s)
            XCTAssertTrue(s.contains("--update-baseline"), s)
            XCTAssertFalse(s.contains("\n"))
        }
    }

    /// Table-driven: every broken file gets one line naming the file and the problem.
    func testBrokenFilesGetOneClearLine() throws {
        let good = String(decoding: try Self.sample().encoded(), as: UTF8.self)
        let cases: [(String, String, String)] = [
            ("empty file", "", "not a JSON object"),
            ("truncated", String(good.prefix(good.count / 2)), "not a JSON object"),
            ("not JSON", "hello", "not a JSON object"),
            ("array", "[1, 2]", "not a JSON object"),
            ("no format", "{}", "no \"format\" field"),
            ("future format", "{\"format\": 99}", "format 99"),
            ("missing metrics", "{\"format\": 2, \"suite\": \"full\"}", "missing field"),
            ("duplicate metric", good.replacingOccurrences(of: "gen/124M/decode", with: "matmul/tiled/qkv/T64"), "appears twice"),
            ("exact without text", good.replacingOccurrences(of: "\"text\" : \"1 2 3\",", with: ""), "has no \"text\""),
            ("ratio without relative", good.replacingOccurrences(of: "\"relative\" : 0.1", with: "\"absolute\" : 0.1"), "threshold.relative"),
            ("negative share threshold", good.replacingOccurrences(of: "\"absolute\" : 2", with: "\"absolute\" : -2"), "threshold.absolute"),
            ("unknown kind", good.replacingOccurrences(of: "\"kind\" : \"share\"", with: "\"kind\" : \"vibes\""), "corrupt"),
            ("value is a string", good.replacingOccurrences(of: "\"value\" : 23.5", with: "\"value\" : \"fast\""), "wrong type"),
        ]
        for (label, text, needle) in cases {
            XCTAssertThrowsError(try Baseline.decode(Data(text.utf8), path: "P.json"), label) { e in
                guard let be = e as? BaselineError else { return XCTFail("\(label): \(e) is not a BaselineError") }
                let s = be.description
                XCTAssertTrue(s.hasPrefix("baseline P.json "), "\(label): \(s)")
                XCTAssertTrue(s.contains(needle), "\(label): '\(s)' should mention '\(needle)'")
                XCTAssertFalse(s.contains("\n"), "\(label): one line: \(s)")
            }
        }
        // The unmodified text decodes (so each case above fails for the reason it names).
        XCTAssertNoThrow(try Baseline.decode(Data(good.utf8), path: "P.json"))
    }

    func testEnvironmentMismatchNamesWhatDiffers() {
        let e = Self.environment
        XCTAssertNil(e.mismatch(e))
        var other = e; other.fingerprint = "CPU Y | 8 logical cores | x86_64"
        XCTAssertTrue(e.mismatch(other)!.contains("machine fingerprint differs"))
        var threads = e; threads.threads = 1
        XCTAssertTrue(e.mismatch(threads)!.contains("threads differ (baseline: 2; now: 1)"))
        var build = e; build.build = "debug"
        XCTAssertTrue(e.mismatch(build)!.contains("build differs"))
    }

    func testGitHeadIsAFullHashOrNil() {
        // Outside a repository (or without git) this is nil; inside, a 40-digit hash.
        if let h = Provenance.gitHead(directory: NSTemporaryDirectory()) { XCTAssertEqual(h.count, 40) }
        let d = Provenance.isoDate(Date(timeIntervalSince1970: 0))
        XCTAssertEqual(d, "1970-01-01T00:00:00Z")
    }
}
