// Bring your own C kernel: a shared library with llm.c's matmul_forward, built here with `cc` (the tests skip
// when there is none), used by run, compare and profile through `--matmul ./lib.so` / `matmul:./lib.so`.
import Foundation
import XCTest

final class SharedLibraryTests: XCTestCase {
    /// llm.c's matmul_forward_cpu, naive (the README's worked example).
    static let correct = """
    void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                        int B, int T, int C, int OC) {
        for (int bt = 0; bt < B * T; bt++) {
            for (int o = 0; o < OC; o++) {
                float val = bias ? bias[o] : 0.0f;
                for (int i = 0; i < C; i++) val += inp[bt * C + i] * weight[o * C + i];
                out[bt * OC + o] = val;
            }
        }
    }
    /* the same kernel under another name, for the :SYMBOL form */
    void my_matmul(float* out, const float* inp, const float* weight, const float* bias, int B, int T, int C, int OC) {
        matmul_forward(out, inp, weight, bias, B, T, C, OC);
    }
    """
    /// Wrong: skips the last input channel.
    static let wrong = """
    void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                        int B, int T, int C, int OC) {
        for (int bt = 0; bt < B * T; bt++)
            for (int o = 0; o < OC; o++) {
                float val = bias ? bias[o] : 0.0f;
                for (int i = 0; i < C - 1; i++) val += inp[bt * C + i] * weight[o * C + i];
                out[bt * OC + o] = val;
            }
    }
    """

    /// Builds `source` into a shared library (once per test process), or skips the test without a C compiler.
    static func library(_ name: String, _ source: String) throws -> String {
        let dir = Fixtures.shared.directory
        let lib = "\(dir)/lib\(name).so"
        if FileManager.default.fileExists(atPath: lib) { return lib }
        guard let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no C compiler (cc, gcc, clang) to build a test kernel")
        }
        let src = "\(dir)/\(name).c"
        try Data(source.utf8).write(to: URL(fileURLWithPath: src))
        let r = try Subprocess.run(cc, ["-O2", "-shared", "-fPIC", "-o", lib, src])
        guard r.status == 0 else { throw TestFailure("cannot build \(lib): \(r.summary)") }
        return lib
    }

    func testRunGivesNaivesTokens() throws {
        let lib = try Self.library("mine", Self.correct)
        let m = try Fixtures.shared.checkpoint(.tiny)
        let naive = try Subprocess.workbench(["run", "--model", m, "--matmul", "naive", "--attention", "naive", "--threads", "1", "--n", "12", "5", "6"])
        for spec in [lib, lib + ":my_matmul"] {
            let r = try Subprocess.workbench(["run", "--model", m, "--matmul", spec, "--timings", "--n", "12", "5", "6"])
            assertSuccess(r); assertSuccess(naive)
            XCTAssertEqual(Array(r.stdoutLines.prefix(10)), naive.stdoutLines, r.summary)
            XCTAssertTrue(r.stdout.contains("matmul=\(spec)"), "the engine summary names the library: \(r.summary)")
        }
        // one site only, through the engine spec
        let site = try Subprocess.workbench(["compare", "--model", m, "--engine", "matmul=naive", "--engine", "fc=\(lib)",
                                             "--n", "6", "--prompt", "1 2", "--runs", "2"])
        assertSuccess(site)
        XCTAssertTrue(site.stdout.contains("same as A"), site.summary)
    }

    func testCompareChecksFirst() throws {
        let good = try Self.library("mine", Self.correct), bad = try Self.library("wrong", Self.wrong)
        let ok = try Subprocess.workbench(["compare", "matmul:naive", "matmul:\(good)", "--shape", "4,48,40", "--runs", "3"])
        assertSuccess(ok)
        XCTAssertEqual(ok.stdoutLines.filter { $0.hasSuffix(" ok") }.count, 2, ok.summary)
        XCTAssertTrue(ok.stdout.contains("speedup B/A:"), ok.summary)
        let r = try Subprocess.workbench(["compare", "matmul:naive", "matmul:\(bad)", "--shape", "4,48,40", "--runs", "3"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdout.contains("WRONG: B (matmul:\(bad)) outside the tolerance; not timed"), r.summary)
        XCTAssertFalse(r.stdout.contains("speedup"), r.summary)
    }

    func testTuneTriesIt() throws {
        let lib = try Self.library("mine", Self.correct)
        let m = try Fixtures.shared.checkpoint(.tiny)
        let out = Fixtures.shared.path("tune-so.json")
        let r = try Subprocess.workbench(["tune", "--model", m, "--t", "1", "--budget", "0.01", "--threads", "1", "--matmul", lib, "--out", out, "--json"])
        assertSuccess(r)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let variants = Set((json?["measurements"] as? [[String: Any]] ?? []).compactMap { $0["variant"] as? String })
        XCTAssertTrue(variants.contains(lib), "measured: \(variants)")
    }

    func testBadLibraries() throws {
        let m = try Fixtures.shared.checkpoint(.tiny)
        let lib = try Self.library("mine", Self.correct)
        let text = Fixtures.shared.path("notelf.so")
        try Data("int x;\n".utf8).write(to: URL(fileURLWithPath: text))
        let missing = Fixtures.shared.path("missing.so")
        let cases: [(String, [String])] = [
            (missing, [missing + ": no such file"]),
            (text, [text + ": not a loadable shared library"]),
            (lib + ":no_such_symbol", [lib + ": no function 'no_such_symbol'", "matmul_forward"]),
            (Fixtures.shared.directory, [Fixtures.shared.directory + ": not a regular file"]),
        ]
        for (spec, mentions) in cases {
            assertBadInput(try Subprocess.workbench(["run", "--model", m, "--matmul", spec, "1"]), mentions: mentions)
            assertBadInput(try Subprocess.workbench(["compare", "matmul:naive", "matmul:\(spec)"]), mentions: mentions)
        }
    }

    /// The library's function shows up by name in profiles (the symbolizer reads every loaded object).
    func testProfileNamesTheLibrarysFunction() throws {
        let lib = try Self.library("mine", Self.correct)
        let m = try Fixtures.shared.checkpoint(.tiny)
        let folded = Fixtures.shared.path("so.folded")
        let r = try Subprocess.workbench(["profile", "--model", m, "--matmul", lib, "--duration", "1.5", "--folded", folded, "--no-save"])
        assertSuccess(r)
        let stacks = try String(contentsOfFile: folded, encoding: .utf8)
        XCTAssertTrue(stacks.contains("matmul_forward"), "no matmul_forward frame in:\n\(stacks.prefix(3000))")
    }
}
