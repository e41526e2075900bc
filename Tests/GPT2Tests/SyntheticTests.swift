// Synthetic checkpoints: determinism, the padded rows, the distribution of the weights, refused shapes;
// and the pure part of DefaultModel (the environment-dependent part is tested through the CLI, in
// WorkbenchTests/RunTests.swift).
import Foundation
import GPT2
import XCTest

final class SyntheticTests: TemporaryDirectoryTestCase {
    /// An odd small shape: L=2 NH=3 C=12 V=37 Vp=64 maxT=9.
    static let small = GPT2Config(maxT: 9, V: 37, Vp: 64, L: 2, NH: 3, C: 12)

    private func bytes(_ config: GPT2Config = small, version: Int = 3, seed: UInt64) throws -> Data {
        let p = "\(dir)/s-\(seed)-v\(version)-\(UUID().uuidString.prefix(6)).bin"
        try SyntheticCheckpoint.write(to: p, config: config, version: version, seed: seed)
        return try Data(contentsOf: URL(fileURLWithPath: p))
    }

    func testSameSeedSameBytes() throws {
        XCTAssertEqual(try bytes(seed: 1), try bytes(seed: 1))
    }

    func testDifferentSeedDifferentParametersSameHeader() throws {
        let a = try bytes(seed: 1), b = try bytes(seed: 2)
        XCTAssertEqual(a.count, b.count)
        XCTAssertEqual(a.prefix(1024), b.prefix(1024))
        XCTAssertNotEqual(a.dropFirst(1024), b.dropFirst(1024))
    }

    func testLayoutPaddingAndDistribution() throws {
        let p = "\(dir)/layout.bin"
        let c = Self.small
        try SyntheticCheckpoint.write(to: p, config: c, version: 3, seed: 3)
        let ck = try Checkpoint(path: p)
        XCTAssertEqual(ck.config, c)
        var offset = 0
        var tensors: [String: [Float]] = [:]
        for (name, n) in zip(GPT2Config.parameterNames, c.parameterSizes) {
            tensors[name] = Array(UnsafeBufferPointer(start: ck.parameters + offset, count: n))
            offset += n
        }
        let wte = tensors["wte"]!
        XCTAssertTrue(wte[(c.V * c.C)...].allSatisfy { $0 == 0 }, "padded rows V..<Vp of wte are zero")
        XCTAssertFalse(wte[((c.V - 1) * c.C)..<(c.V * c.C)].contains(0), "the last real row is random")
        for name in GPT2Config.parameterNames {
            let t = tensors[name]!.prefix(name == "wte" ? c.V * c.C : Int.max)
            let mean = t.reduce(0, +) / Float(t.count)
            if ["ln1w", "ln2w", "lnfw"].contains(name) {
                XCTAssertEqual(mean, 1, accuracy: 0.02, "\(name) is 1 + N(0, 0.02)")
            } else {
                XCTAssertEqual(mean, 0, accuracy: 0.02, "\(name) is N(0, 0.02)")
            }
            let sd = (t.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(t.count)).squareRoot()
            if t.count >= 100 { XCTAssertEqual(sd, 0.02, accuracy: 0.005, "spread of \(name)") }
        }
    }

    func testVersionOneWritesVpEqualToV() throws {
        var c = Self.small; c.Vp = c.V
        let d = try bytes(c, version: 1, seed: 4)
        let h = d.withUnsafeBytes { raw in (0..<8).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) } }
        XCTAssertEqual(h, [20240326, 1, 9, 37, 2, 3, 12, 0])
        XCTAssertEqual(d.count, 1024 + 4 * c.parameterCount)
    }

    func testRefusedShapesWriteNothing() throws {
        let p = "\(dir)/refused.bin"
        var bad = Self.small; bad.NH = 5
        XCTAssertThrowsError(try SyntheticCheckpoint.write(to: p, config: bad)) { e in
            XCTAssertTrue("\(e)".contains("divisible"), "\(e)")
        }
        XCTAssertThrowsError(try SyntheticCheckpoint.write(to: p, config: Self.small, version: 1)) { e in
            XCTAssertTrue("\(e)".contains("version 1"), "\(e)")
        }
        XCTAssertThrowsError(try SyntheticCheckpoint.write(to: p, config: Self.small, version: 2))
        var zero = Self.small; zero.L = 0
        XCTAssertThrowsError(try SyntheticCheckpoint.write(to: p, config: zero))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no file, no temporary")
        XCTAssertThrowsError(try SyntheticCheckpoint.write(to: "\(dir)/no/such/dir/x.bin", config: Self.small)) { e in
            XCTAssertTrue("\(e)".contains("cannot write"), "\(e)")
        }
    }

    func testSplitMix64IsTheReferenceGenerator() {
        // The published SplitMix64 sequence for seed 0 (Vigna's splitmix64.c).
        var r = SplitMix64(seed: 0)
        XCTAssertEqual(r.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(r.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(r.next(), 0x06C4_5D18_8009_454F)
    }

    func testNormalsHaveUnitSpread() {
        var r = SplitMix64(seed: 99)
        let n = 100_000
        var s = 0.0, s2 = 0.0
        for _ in 0..<n { let z = Double(r.nextNormal()); s += z; s2 += z * z }
        let mean = s / Double(n), sd = (s2 / Double(n) - mean * mean).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(sd, 1, accuracy: 0.02)
        var u = SplitMix64(seed: 1)
        for _ in 0..<1000 { let x = u.nextUniform(); XCTAssertTrue(x > 0 && x < 1) }
    }

    func testDefaultModelExplicitPathWinsWithoutSideEffects() throws {
        var logged: [String] = []
        XCTAssertEqual(try DefaultModel.resolve("/some/explicit.bin", log: { logged.append($0) }), "/some/explicit.bin")
        XCTAssertEqual(logged, [])
        XCTAssertTrue(DefaultModel.syntheticPath.hasPrefix(DefaultModel.cacheDirectory + "/"))
        XCTAssertTrue(DefaultModel.syntheticPath.hasSuffix("seed\(DefaultModel.seed).bin"))
    }
}
