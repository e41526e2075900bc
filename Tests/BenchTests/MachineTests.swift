// Machine facts: parsers over fixture text, the cache round trip and fingerprint check, and the two
// measurement loops' arithmetic (not their speed).
import XCTest
@testable import Bench

final class MachineTests: XCTestCase {
    func testParsesCPUListsAndSizes() {
        XCTAssertEqual(Machine.parseCPUList("0-1"), [0, 1])
        XCTAssertEqual(Machine.parseCPUList(" 0-3,8,10-11\n"), [0, 1, 2, 3, 8, 10, 11])
        XCTAssertEqual(Machine.parseCPUList("5"), [5])
        XCTAssertNil(Machine.parseCPUList("3-1"))
        XCTAssertNil(Machine.parseCPUList("a"))
        XCTAssertEqual(Machine.parseSize("32K"), 32768)
        XCTAssertEqual(Machine.parseSize("1024K\n"), 1 << 20)
        XCTAssertEqual(Machine.parseSize("32M"), 32 << 20)
        XCTAssertEqual(Machine.parseSize("512"), 512)
        XCTAssertNil(Machine.parseSize("")); XCTAssertNil(Machine.parseSize("xK"))
    }

    func testReadsTheFirstProcessorOfCpuinfo() {
        let text = """
        processor\t: 0
        model name\t: AMD EPYC 9R14
        flags\t\t: fpu sse2 ssse3 fma avx2 avx512f avx512bw avx512_bf16 sse4_2

        processor\t: 1
        model name\t: other
        flags\t\t: sse2
        """
        let f = Machine.cpuinfo(text)
        XCTAssertEqual(f["model name"], "AMD EPYC 9R14")
        XCTAssertEqual(Machine.simdFlags(cpuinfo: f), ["sse2", "ssse3", "sse4_2", "fma", "avx2", "avx512f", "avx512bw", "avx512_bf16"])
        XCTAssertEqual(Machine.simdFlags(cpuinfo: Machine.cpuinfo("Features\t: fp asimd asimddp sve\n")), ["asimd", "asimddp", "sve"])
        XCTAssertEqual(Machine.cpuinfo(""), [:])
    }

    func testReadsCachesFromASysFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-caches-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for (i, level, type, size, shared) in [(0, "1", "Data", "48K", "0"), (1, "1", "Instruction", "32K", "0"),
                                               (2, "2", "Unified", "2048K", "0"), (3, "3", "Unified", "32M", "0-7")] {
            let d = "\(root)/index\(i)"
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            for (file, v) in [("level", level), ("type", type), ("size", size), ("shared_cpu_list", shared)] {
                XCTAssertTrue(fm.createFile(atPath: "\(d)/\(file)", contents: Data((v + "\n").utf8)))
            }
        }
        try fm.createDirectory(atPath: "\(root)/uevent-dir", withIntermediateDirectories: true)
        let c = Machine.caches(root: root)
        XCTAssertEqual(c, [CacheInfo(level: 1, type: "Data", bytes: 48 << 10, sharedBy: 1),
                           CacheInfo(level: 1, type: "Instruction", bytes: 32 << 10, sharedBy: 1),
                           CacheInfo(level: 2, type: "Unified", bytes: 2 << 20, sharedBy: 1),
                           CacheInfo(level: 3, type: "Unified", bytes: 32 << 20, sharedBy: 8)])
        XCTAssertEqual(Machine.caches(root: root + "/missing"), [])
    }

    private func sample(fingerprint: String = Machine.fingerprint(), schema: Int = MachineInfo.currentSchema) -> MachineInfo {
        MachineInfo(schema: schema, fingerprint: fingerprint, measuredAt: "2026-11-25T00:00:00Z", build: "release",
                    cpuModel: "test CPU", architecture: "x86_64", logicalCores: 4, usableCPUs: [0, 1], simdFlags: ["avx2"],
                    caches: [], fmaPeakGFLOPS: 100, readBandwidthGBs: 20, readBandwidthAllGBs: 25, bandwidthThreads: 2,
                    bandwidthBytes: 1 << 28, warnings: [])
    }

    func testDerivedLimits() {
        let m = sample()
        XCTAssertEqual(m.peakGFLOPS(threads: 1), 100)
        XCTAssertEqual(m.peakGFLOPS(threads: 2), 200)
        XCTAssertEqual(m.peakGFLOPS(threads: 8), 200, "no more than the usable cores")
        XCTAssertEqual(m.bandwidthGBs(threads: 1), 20)
        XCTAssertEqual(m.bandwidthGBs(threads: 2), 25)
        XCTAssertEqual(m.balance(threads: 1), 5)
    }

    func testOnlyOptimisedNativeMeasurementsAreCacheable() {
        var m = sample()
        XCTAssertTrue(m.cacheable)
        m.build = "debug"
        XCTAssertFalse(m.cacheable)
        m = sample()
        m.warnings = [BenchWarning(.machine, "the machine was busy while measuring")]
        XCTAssertTrue(m.cacheable, "a busy machine still gives the best numbers it can")
        m.warnings = [BenchWarning(.machine, "FMA peak 0.9 GFLOP/s is implausibly low ...: not compiled with -target-cpu native")]
        XCTAssertFalse(m.cacheable)
    }

    func testCacheRoundTripAndRejections() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-cache-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/machine.json"
        XCTAssertNil(Machine.load(path: path), "absent")
        try Machine.save(sample(), path: path)
        XCTAssertEqual(Machine.load(path: path), sample())
        XCTAssertEqual(Machine.current(path: path), sample(), "a matching cache is reused without measuring")
        try Machine.save(sample(fingerprint: "another machine"), path: path)
        XCTAssertNil(Machine.load(path: path), "another machine's facts")
        try Machine.save(sample(schema: 0), path: path)
        XCTAssertNil(Machine.load(path: path), "an old schema")
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(Machine.load(path: path), "corrupt")
    }

    func testFMALoopArithmetic() {
        // acc = addend + acc * multiplier from 1: with multiplier 1 and addend 1, each lane is 1 + k after k
        // iterations; the result sums the 12 accumulators.
        let r = Peak.fmaLoop(iterations: 5, multiplier: 1, addend: 1)
        XCTAssertEqual(r, SIMD16<Float>(repeating: Float(Peak.fmaAccumulators * 6)))
        XCTAssertEqual(Peak.fmaLoop(iterations: 0, multiplier: 2, addend: 3), SIMD16<Float>(repeating: 12))
        XCTAssertGreaterThan(Peak.fmaGFLOPS(repeats: 1, seconds: 0.001), 0)
    }

    func testReadSumWithScalarTail() {
        for n in [1, 63, 64, 65, 200, 1000] {
            let x = (0..<n).map { Float($0 % 7) }
            let got = x.withUnsafeBufferPointer { Peak.readSum($0.baseAddress!, n) }
            XCTAssertEqual(got, x.reduce(0, +), "n = \(n)")
        }
        let one = Peak.readBandwidthGBs(bytes: 1 << 20, threads: 1, repeats: 1)
        let two = Peak.readBandwidthGBs(bytes: 1 << 20, threads: 2, repeats: 1)
        XCTAssertTrue(one.isFinite && one > 0 && two.isFinite && two > 0)
    }
}
