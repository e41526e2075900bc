// Converted model files (Sources/GPT2/ModelFile.swift): layout, writer, the validating reader (every header
// field, sizes, alignment, truncation), detection by magic, the ModelWeights seam, and the accuracy helper.
import Foundation
import GPT2
import Kernels
import XCTest

final class ModelFileTests: TemporaryDirectoryTestCase {
    /// L=2 NH=4 C=64 V=512 Vp=576 maxT=64 (C a multiple of 64 like GPT-2's).
    static let tiny = GPT2Config.tiny
    /// C = 40 (not a multiple of 32), Vp = V, rows not multiples of the panels.
    static let odd = GPT2Config(maxT: 16, V: 50, Vp: 50, L: 2, NH: 2, C: 40)

    private func checkpoint(_ c: GPT2Config = tiny, seed: UInt64 = 5) throws -> Checkpoint {
        let p = "\(dir)/ck-\(c.C)-\(seed).bin"
        if !FileManager.default.fileExists(atPath: p) { try SyntheticCheckpoint.write(to: p, config: c, version: 3, seed: seed) }
        return try Checkpoint(path: p)
    }

    private func converted(_ f: WeightFormat, _ c: GPT2Config = tiny, lmhead: WeightFormat? = nil) throws -> String {
        let ck = try checkpoint(c)
        let p = "\(dir)/m-\(c.C)-\(f.rawValue)-\((lmhead ?? f).rawValue).wbm"
        if !FileManager.default.fileExists(atPath: p) { try ModelFile.write(ck, to: p, format: f, lmhead: lmhead, threads: 2) }
        return p
    }

    // MARK: layout and contents

    func testLayoutIsAlignedOrderedAndSized() throws {
        for f in WeightFormat.allCases {
            for c in [Self.tiny, Self.odd, GPT2Config.gpt2_124M] {
                let (tensors, size) = ModelFile.layout(c, format: f, lmhead: f)
                XCTAssertEqual(tensors.map(\.name), ModelFile.tensorNames)
                var end = ModelFile.headerBytes
                for (i, t) in tensors.enumerated() {
                    XCTAssertEqual(t.offset % 4096, 0, "\(t.name) aligned")
                    if i == 16 && f == .f32 {
                        XCTAssertEqual(t.offset, tensors[0].offset, "an f32 lm-head is wte")
                        continue
                    }
                    XCTAssertGreaterThanOrEqual(t.offset, end, "\(t.name) after the previous tensor")
                    XCTAssertEqual(t.format, ModelFile.matmulTensors.contains(i) || i == 16 ? f : .f32, t.name)
                    XCTAssertEqual(t.bytes, t.layers * t.format.bytes(rows: t.rows, cols: t.cols))
                    end = t.offset + t.bytes
                }
                XCTAssertEqual(size, (end + 4095) / 4096 * 4096)
                if c == .gpt2_124M {
                    // 124M: f32 is the checkpoint's size plus alignment; the formats shrink the 85M matmul
                    // weights and add their lm-head copy next to the fp32 wte.
                    let mb = Double(size) / 1e6
                    switch f {
                    case .f32: XCTAssertEqual(mb, 497.9, accuracy: 0.2)
                    case .bf16: XCTAssertEqual(mb, 497.9 - 85 * 2 + 38.6 * 2, accuracy: 1.0)
                    case .q8: XCTAssertEqual(mb, 497.9 - 85 * (4 - 1.0625) + 38.6 * 1.0625, accuracy: 1.0)
                    case .q4: XCTAssertEqual(mb, 497.9 - 85 * (4 - 0.5625) + 38.6 * 0.5625, accuracy: 1.0)
                    }
                }
            }
        }
    }

    func testConvertedTensorsHoldTheCheckpointInTheirFormat() throws {
        for c in [Self.tiny, Self.odd] {
            let ck = try checkpoint(c)
            var sources: [UnsafePointer<Float>] = []
            var p = ck.parameters
            for n in c.parameterSizes { sources.append(p); p += n }
            for f in WeightFormat.allCases {
                let file = try ModelFile(path: try converted(f, c))
                XCTAssertEqual(file.config, c)
                XCTAssertEqual(file.format, f)
                XCTAssertEqual(file.lmheadFormat, f)
                for (i, t) in file.tensors.enumerated() {
                    let src = i == 16 ? sources[0] : sources[i]
                    if t.format == .f32 {
                        XCTAssertEqual(memcmp(file.bytes(i), src, t.bytes), 0, "\(f) \(t.name): fp32 bytes")
                        continue
                    }
                    let one = f.bytes(rows: t.rows, cols: t.cols)
                    let buf = UnsafeMutableRawPointer.allocate(byteCount: one, alignment: 64)
                    defer { buf.deallocate() }
                    for l in 0..<t.layers {
                        f.pack(buf, from: src + l * t.rows * t.cols, rows: t.rows, cols: t.cols)
                        XCTAssertEqual(memcmp(file.bytes(i) + l * one, buf, one), 0, "\(f) \(t.name) layer \(l): packed bytes")
                    }
                }
            }
        }
    }

    func testLmheadFormatMayDiffer() throws {
        let file = try ModelFile(path: try converted(.q4, lmhead: .f32))
        XCTAssertEqual(file.format, .q4)
        XCTAssertEqual(file.lmheadFormat, .f32)
        XCTAssertEqual(file.tensors[16].offset, file.tensors[0].offset)
        let w = ModelWeights(file: file)
        XCTAssertEqual(w.lmhead.data, file.floats(0), "an f32 lm-head is a view of wte")
        let o = w.nativeOptions(EngineOptions(matmul: MatmulVariants.named("threaded")!))
        XCTAssertEqual(o.matmul[.qkv]!.name, "q4")
        XCTAssertEqual(o.matmul[.lmhead]!.name, "threaded")
    }

    // MARK: detection and the seam

    func testLoadModelFileDetectsBothKinds() throws {
        let ck = try checkpoint()
        let a = try loadModelFile(ck.path)
        XCTAssertNotNil(a.checkpoint)
        XCTAssertNil(a.modelFile)
        XCTAssertEqual(a.format, .f32)
        XCTAssertFalse(isConvertedModelFile(ck.path))
        let q = try converted(.q8)
        XCTAssertTrue(isConvertedModelFile(q))
        let b = try loadModelFile(q)
        XCTAssertNil(b.checkpoint)
        XCTAssertEqual(b.format, .q8)
        XCTAssertEqual(b.config, Self.tiny)
        XCTAssertTrue(b.qkvw.allSatisfy(\.arrivedPacked))
        XCTAssertEqual(b.qkvw.count, 2)
        // the llm.c reader names a converted file's magic as bad; ModelFile names an llm.c checkpoint's
        XCTAssertThrowsError(try Checkpoint(path: q)) { XCTAssertTrue("\($0)".contains("bad magic")) }
        XCTAssertThrowsError(try ModelFile(path: ck.path)) { XCTAssertTrue("\($0)".contains("llm.c checkpoint")) }
        XCTAssertThrowsError(try loadModelFile("\(dir)/missing")) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }

    /// The model over a converted file computes exactly what the model over the checkpoint computes with the
    /// same variants: an f32 file with every fp32 variant, a q8/q4/bf16 file with its format's variant
    /// (which, on the checkpoint, quantizes at prepare time into the same bytes).
    func testModelOverAConvertedFileEqualsTheCheckpointModel() throws {
        let tokens: [Int32] = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38]
        for c in [Self.tiny, Self.odd] {
            let ck = try checkpoint(c)
            let toks = tokens.map { $0 % Int32(c.V) }
            for f in WeightFormat.allCases {
                let name = f == .f32 ? "threaded" : f.rawValue
                let o = EngineOptions(matmul: MatmulVariants.named(name)!, attention: AttentionVariants.named("online")!, threads: 2)
                let ref = GPT2Model(checkpoint: ck, options: o).teacherForcedLogits(toks)
                let weights = try loadModelFile(try converted(f, c))
                let m = GPT2Model(weights: weights, options: weights.nativeOptions(o))
                XCTAssertEqual(m.options.matmul[.fc]!.name, name)
                let got = m.teacherForcedLogits(toks)
                XCTAssertEqual(got.count, toks.count * c.V)
                XCTAssertTrue(zip(got, ref).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(f) C=\(c.C): logits differ from the checkpoint's")
                // and with an fp32 variant the converted weights are unpacked and used as they are
                if f != .f32 {
                    let naive = EngineOptions(matmul: MatmulVariants.named("naive")!, threads: 1)
                    let u = GPT2Model(weights: try loadModelFile(try converted(f, c)), options: naive).teacherForcedLogits(toks)
                    XCTAssertTrue(u.allSatisfy(\.isFinite))
                    XCTAssertFalse(zip(u, ref).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(f): naive over unpacked weights is another computation")
                }
            }
        }
    }

    /// Every format is bit-reproducible: a converted file generates the same tokens (and logits) on 1, 2 and 3
    /// threads, with and without the KV cache (T < 16: one order).
    func testEveryFormatGivesTheSameTokensOnEveryThreadCount() throws {
        for f in WeightFormat.allCases {
            let weights = try loadModelFile(try converted(f, Self.odd))
            var streams: Set<[Int32]> = []
            for threads in [1, 2, 3] {
                for kv in [true, false] {
                    let o = EngineOptions(matmul: MatmulVariants.named(MatmulVariants.defaultName)!, attention: AttentionVariants.named("online")!,
                                          threads: threads, timers: false)
                    let m = GPT2Model(weights: weights, options: weights.nativeOptions(o))
                    streams.insert(try m.generate(try GenerationRequest(prompt: [3, 1, 4], n: 14, kvCache: kv, config: weights.config)))
                }
            }
            XCTAssertEqual(streams.count, 1, "\(f): \(streams)")
        }
    }

    /// Accuracy of each format against the f32 model on the tiny synthetic model: the tolerances Notes/formats.md states.
    func testAccuracyAgainstF32WithinTheStatedTolerances() throws {
        let ck = try checkpoint()
        let o = EngineOptions(matmul: MatmulVariants.named("threaded")!, attention: AttentionVariants.named("online")!, threads: 1)
        let reference = GPT2Model(checkpoint: ck, options: o)
        // (max mean KL, min top-1 agreement, max relative RMS of the logits)
        let bounds: [WeightFormat: (Double, Double, Double)] = [.f32: (1e-12, 1, 1e-6), .bf16: (1e-5, 0.95, 0.01),
                                                                 .q8: (1e-4, 0.9, 0.03), .q4: (3e-3, 0.6, 0.25)]
        for f in WeightFormat.allCases {
            let w = try loadModelFile(try converted(f))
            let candidate = GPT2Model(weights: w, options: w.nativeOptions(o))
            let sequence = accuracySequence(48, vocabulary: 512)
            let first: [Int32] = [31373 % 512, 39292 % 512, 47211 % 512]
            XCTAssertEqual(Array(sequence.prefix(3)), first)
            let run = try compareModels(reference: reference, candidate: candidate, sequence: sequence, greedyPrompt: [7, 300], greedy: 20)
            XCTAssertEqual(run.tokens, sequence)
            XCTAssertEqual(run.referenceLogits.count, 48 * 512)
            XCTAssertEqual(run.referenceGreedy.count, 20)
            let plain = GPT2Model(checkpoint: ck, options: o)
            // the last row is a plain forward's (its lm-head ran on 48 rows there, on one here: another FMA order)
            let last = Array(plain.forward(sequence)), tf = Array(run.referenceLogits.suffix(512))
            XCTAssertLessThanOrEqual(zip(last, tf).map { abs($0 - $1) }.max()!, 1e-5 * max(1, last.map(abs).max()!))
            let (kl, top1, rms) = bounds[f]!
            let e = AccuracyFigures(run)
            XCTAssertLessThanOrEqual(e.meanKL, kl, "\(f): \(e)")
            XCTAssertGreaterThanOrEqual(e.top1, top1, "\(f): \(e)")
            XCTAssertLessThanOrEqual(e.relativeRMS, rms, "\(f): \(e)")
            if f == .f32 { XCTAssertEqual(run.candidateGreedy, run.referenceGreedy) }
        }
    }

    // MARK: validation

    /// The header of a valid q8 tiny file, and its tensor data.
    private func validFile() throws -> (header: [UInt8], body: Data) {
        let data = try Data(contentsOf: URL(fileURLWithPath: try converted(.q8)))
        return (Array(data.prefix(4096)), data.dropFirst(4096))
    }

    private func put32(_ h: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { h[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) } }
    private func put64(_ h: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0..<8 { h[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) } }

    /// FNV-1a 64 with bytes 64..<72 as 0 (the writer's checksum), so a test can change one field and keep the
    /// checksum valid to reach that field's own check.
    private func resealed(_ h: [UInt8]) -> [UInt8] {
        var x: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, b) in h.enumerated() { x = (x ^ UInt64((64..<72).contains(i) ? 0 : b)) &* 0x0000_0100_0000_01B3 }
        var h = h
        put64(&h, 64, x)
        return h
    }

    private func assertRejected(_ h: [UInt8], _ body: Data, _ mentions: [String], seal: Bool = true,
                                file: StaticString = #filePath, line: UInt = #line) {
        let p = write("bad-\(UUID().uuidString.prefix(6)).wbm", Data(seal ? resealed(h) : h) + body)
        do {
            _ = try ModelFile(path: p)
            XCTFail("accepted a file that should mention \(mentions)", file: file, line: line)
        } catch let e as CheckpointError {
            XCTAssertEqual(e.path, p, file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(p + ": "), file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
            for m in mentions { XCTAssertTrue(e.message.contains(m), "'\(e.message)' should mention '\(m)'", file: file, line: line) }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    func testEveryHeaderFieldIsValidated() throws {
        let (h, body) = try validFile()
        XCTAssertNoThrow(try ModelFile(path: write("ok.wbm", Data(h) + body)))
        func changed(_ edit: (inout [UInt8]) -> Void) -> [UInt8] { var c = h; edit(&c); return c }
        assertRejected(changed { put32(&$0, 0, 0x12345678) }, body, ["bad magic", "not a converted model file"])
        assertRejected(changed { put32(&$0, 0, 20240326) }, body, ["llm.c checkpoint"])
        assertRejected(changed { put32(&$0, 4, 2) }, body, ["version 2"])
        assertRejected(changed { put32(&$0, 8, 7) }, body, ["unknown weight format code 7"])
        assertRejected(changed { put32(&$0, 8, 3) }, body, ["qkvw", "q8", "expected q4"])
        assertRejected(changed { put32(&$0, 12, 1024) }, body, ["header size"])
        assertRejected(changed { put32(&$0, 16, 16) }, body, ["tensor count is 16"])
        assertRejected(changed { put32(&$0, 20, 64) }, body, ["alignment is 64"])
        assertRejected(changed { put64(&$0, 24, UInt64(h.count + body.count + 4096)) }, body, ["truncated"])
        assertRejected(changed { put64(&$0, 24, UInt64(h.count + body.count - 4096)) }, body, ["trailing bytes"])
        assertRejected(changed { put32(&$0, 32 + 16, 0) }, body, ["bad header", "head count 0"])
        assertRejected(changed { put32(&$0, 32 + 20, 65) }, body, ["bad header", "not divisible"])
        assertRejected(changed { put32(&$0, 32 + 8, 500) }, body, ["padded vocabulary"])
        assertRejected(changed { put32(&$0, 32 + 12, 3) }, body, ["shape", "3 x"])
        assertRejected(changed { put32(&$0, 56, 1) }, body, ["reserved"])
        assertRejected(changed { $0[200] ^= 1 }, body, ["checksum", "corrupt"], seal: false)
        // the table
        let e = { (i: Int) in 128 + 64 * i }
        assertRejected(changed { $0[e(1)] = UInt8(ascii: "x") }, body, ["tensor 1 is named 'xpe'", "expected 'wpe'"])
        assertRejected(changed { $0[e(1) + 10] = 1 }, body, ["NUL-padded"])
        assertRejected(changed { put32(&$0, e(2) + 16, 2) }, body, ["ln1w is stored as q8, expected f32"])
        assertRejected(changed { put32(&$0, e(6) + 16, 9) }, body, ["attprojw", "unknown weight format code 9"])
        assertRejected(changed { put32(&$0, e(4) + 20, 3) }, body, ["qkvw has shape 3 x"])
        assertRejected(changed { put64(&$0, e(10) + 24, 255) }, body, ["fcw has shape", "[255, 64]"])
        assertRejected(changed { put64(&$0, e(12) + 48, 100) }, body, ["fcprojw has 100 bytes"])
        assertRejected(changed { put64(&$0, e(5) + 40, 4096 * 3 + 64) }, body, ["qkvb starts at", "not a multiple of 4096"])
        assertRejected(changed { put64(&$0, e(5) + 40, 4096 * 1000) }, body, ["qkvb ends at", "past the end"])
        assertRejected(changed { put64(&$0, e(5) + 40, 4096) }, body, ["qkvb starts at 4096", "expected"])
        assertRejected(changed { put64(&$0, e(16) + 40, UInt64(Int.max - 4095)) }, body, ["lmhead", "(overflow)", "past the end"])
        assertRejected(changed { $0[128 + 64 * 17 + 5] = 1 }, body, ["after the tensor table"])
    }

    func testTruncatedShortAndOddFiles() throws {
        let (h, body) = try validFile()
        assertRejected(h, body.dropLast(1), ["truncated"])
        assertRejected(h, body + Data(count: 1), ["trailing bytes"])
        for (name, data) in [("empty", Data()), ("short", Data(h.prefix(4000)))] {
            let p = write("\(name).wbm", data)
            XCTAssertThrowsError(try ModelFile(path: p)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        }
        XCTAssertThrowsError(try ModelFile(path: dir)) { XCTAssertTrue("\($0)".contains("directory")) }
        XCTAssertThrowsError(try ModelFile(path: "\(dir)/nope.wbm")) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }

    func testWriterRefusesAnUnwritablePath() throws {
        let ck = try checkpoint()
        XCTAssertThrowsError(try ModelFile.write(ck, to: "\(dir)/no/such/dir/x.wbm", format: .q8)) {
            XCTAssertTrue("\($0)".contains("cannot write"), "\($0)")
        }
    }
}

/// Mean KL, top-1 agreement and relative RMS computed here (GPT2Tests does not link Bench; BenchTests
/// checks Bench's versions of the same formulas).
struct AccuracyFigures: CustomStringConvertible {
    var meanKL = 0.0, top1 = 0.0, relativeRMS = 0.0
    init(_ run: ModelPairRun) {
        let V = run.vocabulary, n = run.referenceLogits.count / V
        var e2 = 0.0, r2 = 0.0, agree = 0, kl = 0.0
        for i in 0..<n {
            let r = run.referenceLogits[(i * V)..<((i + 1) * V)].map(Double.init)
            let c = run.candidateLogits[(i * V)..<((i + 1) * V)].map(Double.init)
            for j in 0..<V { e2 += (c[j] - r[j]) * (c[j] - r[j]); r2 += r[j] * r[j] }
            if r.firstIndex(of: r.max()!) == c.firstIndex(of: c.max()!) { agree += 1 }
            let lr = log(r.map { exp($0 - r.max()!) }.reduce(0, +)) + r.max()!
            let lc = log(c.map { exp($0 - c.max()!) }.reduce(0, +)) + c.max()!
            for j in 0..<V { kl += exp(r[j] - lr) * ((r[j] - lr) - (c[j] - lc)) }
        }
        meanKL = kl / Double(n); top1 = Double(agree) / Double(n); relativeRMS = (e2 / max(r2, 1e-300)).squareRoot()
    }
    var description: String { String(format: "mean KL %.3e, top-1 %.3f, rel RMS %.3e", meanKL, top1, relativeRMS) }
}
