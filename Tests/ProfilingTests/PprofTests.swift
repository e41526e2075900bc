// pprof's profile.proto written by hand: the wire format against hand-computed bytes, the Profile message read
// back with an independent decoder (below), gzip, and the real client: `go tool pprof -top` (skipped without go).
import Foundation
@testable import Profiling
import XCTest

/// A minimal protobuf reader: fields of one message as (number, varint or bytes), in order.
struct ProtoFields {
    enum Value: Equatable { case varint(UInt64), bytes([UInt8]) }
    var fields: [(Int, Value)] = []

    init(_ b: [UInt8]) throws {
        var i = 0
        func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < b.count else { throw TestError("truncated varint") }
                let x = b[i]; i += 1
                v |= UInt64(x & 0x7f) << shift
                if x & 0x80 == 0 { return v }
                shift += 7
            }
        }
        while i < b.count {
            let key = try varint()
            switch key & 7 {
            case 0: fields.append((Int(key >> 3), .varint(try varint())))
            case 2:
                let n = Int(try varint())
                guard i + n <= b.count else { throw TestError("truncated field") }
                fields.append((Int(key >> 3), .bytes(Array(b[i..<i + n])))); i += n
            default: throw TestError("unexpected wire type \(key & 7)")
            }
        }
    }
    func ints(_ n: Int) -> [UInt64] {
        fields.filter { $0.0 == n }.flatMap { f -> [UInt64] in
            switch f.1 {
            case .varint(let v): return [v]
            case .bytes(let b): return (try? ProtoFields.packed(b)) ?? []
            }
        }
    }
    func int(_ n: Int) -> UInt64 { ints(n).first ?? 0 }
    func messages(_ n: Int) -> [ProtoFields] {
        fields.compactMap { if $0.0 == n, case .bytes(let b) = $0.1 { return try? ProtoFields(b) } else { return nil } }
    }
    func strings(_ n: Int) -> [String] {
        fields.compactMap { if $0.0 == n, case .bytes(let b) = $0.1 { return String(decoding: b, as: UTF8.self) } else { return nil } }
    }
    static func packed(_ b: [UInt8]) throws -> [UInt64] {
        var out: [UInt64] = [], v: UInt64 = 0, shift: UInt64 = 0
        for x in b {
            v |= UInt64(x & 0x7f) << shift
            if x & 0x80 == 0 { out.append(v); v = 0; shift = 0 } else { shift += 7 }
        }
        return out
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

final class PprofTests: XCTestCase {
    func testVarintsAndFieldsAreTheWireFormat() {
        var w = ProtoWriter()
        w.varint(1); w.varint(300); w.varint(UInt64.max)
        XCTAssertEqual(w.bytes, [0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        var f = ProtoWriter()
        f.int(1, 150)        // the protobuf docs' example: 08 96 01
        f.int(2, 0)          // zero: omitted
        f.string(3, "hi")
        f.packed(4, [3, 270])
        XCTAssertEqual(f.bytes, [0x08, 0x96, 0x01, 0x1a, 0x02, 0x68, 0x69, 0x22, 0x03, 0x03, 0x8e, 0x02])
        var m = ProtoWriter()
        m.message(5) { $0.int(1, 1) }
        XCTAssertEqual(m.bytes, [0x2a, 0x02, 0x08, 0x01])
        var neg = ProtoWriter()
        neg.int(1, Int64(-1))  // int64 -1: ten bytes, as protobuf encodes negative int64
        XCTAssertEqual(neg.bytes.count, 11)
    }

    /// Two threads, an op label, a module with a known load address, a kernel frame, a folded-style frame.
    func sample() -> SampleProfile {
        var p = SampleProfile()
        let start = Frame("_start", module: "/bin/app", address: 0x1000)
        let mm = Frame("Kernels.matmul(_:)", symbol: "$s7Kernels6matmulyyF", module: "/bin/app", address: 0x2000)
        let gelu = Frame("Kernels.gelu(_:)", module: "/bin/app", address: 0x3000)
        let k = Frame("clear_page_erms_[k]", module: "[kernel.kallsyms]", address: 0xffffffff81000000)
        p.add(Sample(frames: [start, mm], thread: "app-1", op: "fc"), count: 7)
        p.add(Sample(frames: [start, gelu], thread: "app-2", op: "gelu"), count: 2)
        p.add(Sample(frames: [start, gelu, k], thread: "app-2"), count: 1)
        p.periodNanos = 4_000_000
        p.startNanos = 1_800_000_000_000_000_000
        p.durationNanos = 2_000_000_000
        p.mappings["/bin/app"] = ModuleMapping(start: 0x400000, limit: 0x500000, bias: 0x400000)
        return p
    }

    func testProfileMessageReadsBack() throws {
        let prof = try ProtoFields(Pprof.encode(sample(), comments: ["hello"]))
        let strings = prof.strings(6)
        XCTAssertEqual(strings.first, "", "string_table[0] must be empty")
        func s(_ i: UInt64) -> String { strings[Int(i)] }
        // Sample types: samples/count, cpu/nanoseconds; period type cpu/nanoseconds; default sample type cpu.
        XCTAssertEqual(prof.messages(1).map { "\(s($0.int(1)))/\(s($0.int(2)))" }, ["samples/count", "cpu/nanoseconds"])
        let pt = try XCTUnwrap(prof.messages(11).first)
        XCTAssertEqual("\(s(pt.int(1)))/\(s(pt.int(2)))", "cpu/nanoseconds")
        XCTAssertEqual(prof.int(12), 4_000_000)
        XCTAssertEqual(s(prof.int(14)), "cpu")
        XCTAssertEqual(prof.int(9), 1_800_000_000_000_000_000)
        XCTAssertEqual(prof.int(10), 2_000_000_000)
        XCTAssertEqual(prof.ints(13).map(s), ["hello"])

        let functions = Dictionary(uniqueKeysWithValues: prof.messages(5).map { ($0.int(1), $0) })
        let locations = Dictionary(uniqueKeysWithValues: prof.messages(4).map { ($0.int(1), $0) })
        let mappings = Dictionary(uniqueKeysWithValues: prof.messages(3).map { ($0.int(1), $0) })
        XCTAssertEqual(locations.count, 4, "one location per distinct frame")
        XCTAssertEqual(functions.count, 4)
        func name(_ loc: UInt64) -> String { s(functions[locations[loc]!.messages(4)[0].int(1)]!.int(2)) }

        // Samples: leaf first; values count and count x period; labels thread and op.
        let samples = prof.messages(2)
        XCTAssertEqual(samples.count, 3)
        let hot = try XCTUnwrap(samples.first { $0.ints(2).first == 7 })
        XCTAssertEqual(hot.ints(1).map(name), ["Kernels.matmul(_:)", "_start"])
        XCTAssertEqual(hot.ints(2), [7, 28_000_000])
        let labels = hot.messages(3).map { "\(s($0.int(1)))=\(s($0.int(2)))" }
        XCTAssertEqual(Set(labels), ["thread=app-1", "op=fc"])
        let kernel = try XCTUnwrap(samples.first { $0.ints(1).count == 3 })
        XCTAssertEqual(kernel.ints(1).map(name), ["clear_page_erms_[k]", "Kernels.gelu(_:)", "_start"])
        XCTAssertEqual(kernel.messages(3).map { s($0.int(1)) }, ["thread"], "no op label where none was recorded")
        XCTAssertEqual(samples.map { $0.ints(2)[0] }.reduce(0, +), 10)

        // Functions: name, system_name (the raw symbol), filename = module.
        let matmul = try XCTUnwrap(functions.values.first { s($0.int(2)) == "Kernels.matmul(_:)" })
        XCTAssertEqual(s(matmul.int(3)), "$s7Kernels6matmulyyF")
        XCTAssertEqual(s(matmul.int(4)), "/bin/app")
        let gelu = try XCTUnwrap(functions.values.first { s($0.int(2)) == "Kernels.gelu(_:)" })
        XCTAssertEqual(s(gelu.int(3)), "Kernels.gelu(_:)", "system_name falls back to the name")

        // Locations: runtime addresses (module address + load bias) inside their mapping.
        let mmLoc = try XCTUnwrap(locations.values.first { name($0.int(1)) == "Kernels.matmul(_:)" })
        XCTAssertEqual(mmLoc.int(3), 0x402000)
        let app = try XCTUnwrap(mappings[mmLoc.int(2)])
        XCTAssertEqual(s(app.int(5)), "/bin/app")
        XCTAssertEqual(app.int(2), 0x400000); XCTAssertEqual(app.int(3), 0x500000)
        XCTAssertEqual(app.int(7), 1, "has_functions")
        // A module without a known load address: 0 ... highest address + 1, addresses as recorded.
        let kLoc = try XCTUnwrap(locations.values.first { name($0.int(1)) == "clear_page_erms_[k]" })
        XCTAssertEqual(kLoc.int(3), 0xffffffff81000000)
        let km = try XCTUnwrap(mappings[kLoc.int(2)])
        XCTAssertEqual(s(km.int(5)), "[kernel.kallsyms]")
        XCTAssertEqual(km.int(2), 0); XCTAssertEqual(km.int(3), 0xffffffff81000001)
    }

    func testFoldedInputHasNamesOnlyAndNoPeriod() throws {
        let p = SampleProfile(StackProfile([(["main", "libfoo.so+0x10"], 3)]))
        let prof = try ProtoFields(Pprof.encode(p))
        let strings = prof.strings(6)
        XCTAssertEqual(prof.messages(1).map { strings[Int($0.int(1))] }, ["samples"], "no cpu value without a period")
        XCTAssertEqual(prof.int(12), 0)
        XCTAssertEqual(prof.messages(3).map { strings[Int($0.int(5))] }, ["libfoo.so"], "module guessed from the name")
    }

    func testGzipRoundTripAndHeader() throws {
        let data = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 % 251) })
        let gz = try Gzip.compress(data)
        XCTAssertEqual(Array(gz.prefix(3)), [0x1f, 0x8b, 0x08], "gzip magic + deflate")
        XCTAssertLessThan(gz.count, data.count)
        XCTAssertEqual(try Gzip.decompress(gz), data)
        XCTAssertEqual(try Gzip.decompress(try Gzip.compress([])), [])
        XCTAssertThrowsError(try Gzip.decompress(Array(gz.prefix(20))))
    }

    func testWrittenFileIsGzippedProto() throws {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Pprof.write(sample(), to: dir + "/p.pb.gz")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/p.pb.gz")))
        XCTAssertEqual(try Gzip.decompress(bytes), Pprof.encode(sample()))
        XCTAssertThrowsError(try Pprof.write(sample(), to: "/proc/nope/p.pb.gz")) { e in XCTAssertTrue("\(e)".hasPrefix("cannot write /proc/nope/p.pb.gz"), "\(e)") }
    }

    /// The real client: `go tool pprof -top` lists the matmul kernel first.
    func testGoToolPprofReadsIt() throws {
        guard let go = ProfilingTools.find("go") else { throw XCTSkip("go is not installed (apt-get install golang-go): go tool pprof not checked") }
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Pprof.write(sample(), to: dir + "/p.pb.gz", comments: ["workbench test"])
        let r = try ProfilingTools.run(go, ["tool", "pprof", "-top", dir + "/p.pb.gz"], environment: ["HOME": dir, "GOCACHE": dir + "/gocache"])
        XCTAssertEqual(r.status, 0, r.output)
        let rows = r.output.split(separator: "\n").drop { !$0.contains("flat%") }.dropFirst()
        let first = try XCTUnwrap(rows.first, r.output)
        XCTAssertTrue(first.hasSuffix("Kernels.matmul(_:)"), "first row: \(first)\n\(r.output)")
        XCTAssertTrue(first.contains("28ms") && first.contains("70.00%"), "7 of 10 samples of 4 ms: \(first)")
        XCTAssertTrue(r.output.contains("Type: cpu"), r.output)
        XCTAssertTrue(r.output.contains("Duration: 2s"), r.output)
        // Labels: focus on one thread.
        let t = try ProfilingTools.run(go, ["tool", "pprof", "-top", "-tagfocus=thread=app-2", dir + "/p.pb.gz"], environment: ["HOME": dir, "GOCACHE": dir + "/gocache"])
        XCTAssertFalse(t.output.contains("Kernels.matmul(_:)"), t.output)
        XCTAssertTrue(t.output.contains("Kernels.gelu(_:)"), t.output)
    }
}

/// Outside tools the profiling tests use when they are installed.
enum ProfilingTools {
    /// `name` on PATH (or nil).
    static func find(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a tool to its end; stdout and stderr together.
    static func run(_ path: String, _ args: [String], environment extra: [String: String] = [:], timeout: Double = 120) throws -> (status: Int32, output: String) {
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/out"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        p.standardOutput = out; p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        try out.close()
        return (p.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")
    }
}
