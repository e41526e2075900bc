// The converted model file (`workbench convert`): GPT-2 weights with the matmul weights already in a weight
// format's layout (bf16 / q8 / q4 / f32), page-aligned, so loading is one mmap and nothing is copied.
// Notes/formats.md documents the layout; this file is the writer, the validating reader, and the one seam
// the model takes its weights through (`ModelWeights`, from either an llm.c checkpoint or a converted file).
//
// Layout (little-endian):
//   bytes 0..<4096  header
//     0   u32  magic 0x4D514257 ("WBQM"; llm.c's is 20240326)    4   u32  version (1)
//     8   u32  format of the layer matmul weights (0 f32, 1 bf16, 2 q8, 3 q4)
//     12  u32  header bytes (4096)                              16  u32  tensor count (17)
//     20  u32  tensor alignment (4096)                          24  u64  file size in bytes
//     32  i32 x 6  maxT, V, Vp, L, NH, C                         56  u32  reserved (0)
//     60  u32  reserved (0)                                     64  u64  FNV-1a 64 of the header with this field 0
//     128 tensor table: 17 entries of 64 bytes:
//         +0 name (16 bytes, NUL-padded)  +16 u32 format  +20 u32 layers  +24 u64 rows  +32 u64 cols
//         +40 u64 offset  +48 u64 bytes  +56 u64 reserved (0)
//     the rest of the header is 0
//   tensors, each at a multiple of 4096, in table order:
//     wte wpe ln1w ln1b qkvw qkvb attprojw attprojb ln2w ln2b fcw fcb fcprojw fcprojb lnfw lnfb (llm.c's 16, fp32
//     except the four layer matmul weights) and lmhead (the lm-head weight [Vp, C] = wte in a matmul format).
//     A matmul tensor of L layers is L packed matrices back to back, each `WeightFormat.bytes(rows, cols)`.
//     In an f32 file lmhead has wte's offset and size (the same bytes).

import Foundation
import Kernels

/// A converted model file: format, config, and views of its tensors in the read-only mapping.
public final class ModelFile: @unchecked Sendable {
    public static let magic: UInt32 = 0x4D51_4257  // "WBQM" in little-endian bytes
    public static let version: UInt32 = 1
    public static let headerBytes = 4096
    public static let alignment = 4096
    public static let tableOffset = 128
    public static let entryBytes = 64
    /// The tensors, in file order: llm.c's 16, then the lm-head weight.
    public static let tensorNames = GPT2Config.parameterNames + ["lmhead"]
    /// Indices of the layer matmul weights among the tensors.
    public static let matmulTensors: Set<Int> = [4, 6, 10, 12]
    static let lmheadIndex = 16

    /// One row of the tensor table.
    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var format: WeightFormat
        public var layers: Int
        public var rows: Int
        public var cols: Int
        public var offset: Int
        public var bytes: Int
    }

    public let path: String
    public let config: GPT2Config
    /// The format of the layer matmul weights.
    public let format: WeightFormat
    public let tensors: [Tensor]
    public let fileSize: Int
    /// Nanoseconds `init` took (open, header, validation, mmap, madvise).
    public let loadNanos: UInt64
    private let mapping: UnsafeMutableRawPointer

    /// Opens, validates and maps `path` (read-only, shared pages; the fp32 wte is not read ahead, only the
    /// rows the encoder looks up become resident). Throws `CheckpointError` with a one-line reason.
    public init(path: String) throws {
        let start = monotonicNanos()
        self.path = path
        let file = try ModelFileHandle(path: path, kind: "model file", headerBytes: ModelFile.headerBytes,
                                       headerName: "\(ModelFile.headerBytes)-byte header of a converted model file")
        defer { close(file.fd) }
        let (fd, size) = (file.fd, file.size)
        let parsed = try ModelFile.parse(header: file.header, fileSize: size, path: path)
        (config, format, tensors) = (parsed.config, parsed.format, parsed.tensors)
        fileSize = size
        guard let m = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), m != MAP_FAILED else {
            throw CheckpointError(path: path, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        mapping = m
        // Read ahead everything a forward pass streams (all but wte, whose rows are looked up one token at a time).
        for (i, t) in tensors.enumerated() where i != 0 || format == .f32 {
            _ = madvise(m + t.offset, t.bytes, MADV_WILLNEED)
        }
        loadNanos = monotonicNanos() &- start
    }

    deinit { munmap(mapping, fileSize) }

    /// The bytes of tensor `index` (its row in `tensors`).
    public func bytes(_ index: Int) -> UnsafeRawPointer { UnsafeRawPointer(mapping + tensors[index].offset) }

    /// fp32 view of tensor `index` (only for tensors stored as f32).
    public func floats(_ index: Int) -> UnsafePointer<Float> {
        precondition(tensors[index].format == .f32, "\(tensors[index].name) is not stored as f32")
        return bytes(index).assumingMemoryBound(to: Float.self)
    }

    /// The format of the lm-head weight.
    public var lmheadFormat: WeightFormat { tensors[ModelFile.lmheadIndex].format }

    // MARK: the table a file of a config and formats must have

    /// The tensor table (offsets and sizes) of a file for `config` with layer matmuls in `format` and the
    /// lm-head in `lmhead`. Returns the table and the file size.
    public static func layout(_ config: GPT2Config, format: WeightFormat, lmhead: WeightFormat) -> ([Tensor], Int) {
        let c = config
        // (format, layers, rows, cols) per tensor; llm.c's sizes for the fp32 ones.
        var specs: [(WeightFormat, Int, Int, Int)] = [
            (.f32, 1, c.Vp, c.C), (.f32, 1, c.maxT, c.C), (.f32, c.L, 1, c.C), (.f32, c.L, 1, c.C),
            (format, c.L, 3 * c.C, c.C), (.f32, c.L, 1, 3 * c.C), (format, c.L, c.C, c.C), (.f32, c.L, 1, c.C),
            (.f32, c.L, 1, c.C), (.f32, c.L, 1, c.C), (format, c.L, 4 * c.C, c.C), (.f32, c.L, 1, 4 * c.C),
            (format, c.L, c.C, 4 * c.C), (.f32, c.L, 1, c.C), (.f32, 1, 1, c.C), (.f32, 1, 1, c.C),
        ]
        specs.append((lmhead, 1, c.Vp, c.C))
        var tensors: [Tensor] = []
        var offset = headerBytes
        for (i, (f, layers, rows, cols)) in specs.enumerated() {
            let bytes = layers * f.bytes(rows: rows, cols: cols)
            if i == lmheadIndex && f == .f32 {  // the lm-head is wte itself
                tensors.append(Tensor(name: tensorNames[i], format: f, layers: 1, rows: rows, cols: cols, offset: tensors[0].offset, bytes: tensors[0].bytes))
                continue
            }
            tensors.append(Tensor(name: tensorNames[i], format: f, layers: layers, rows: rows, cols: cols, offset: offset, bytes: bytes))
            offset += (bytes + alignment - 1) / alignment * alignment
        }
        return (tensors, offset)
    }

    // MARK: header

    /// The 4096-byte header of a file with `tensors`.
    static func header(_ config: GPT2Config, format: WeightFormat, tensors: [Tensor], fileSize: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: headerBytes)
        func put32(_ v: UInt32, _ at: Int) { withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { h[at + i] = $0[i] } } }
        func put64(_ v: UInt64, _ at: Int) { withUnsafeBytes(of: v.littleEndian) { for i in 0..<8 { h[at + i] = $0[i] } } }
        put32(magic, 0); put32(version, 4); put32(UInt32(format.code), 8); put32(UInt32(headerBytes), 12)
        put32(UInt32(tensors.count), 16); put32(UInt32(alignment), 20); put64(UInt64(fileSize), 24)
        for (i, v) in [config.maxT, config.V, config.Vp, config.L, config.NH, config.C].enumerated() { put32(UInt32(bitPattern: Int32(v)), 32 + 4 * i) }
        for (i, t) in tensors.enumerated() {
            let e = tableOffset + i * entryBytes
            for (j, b) in t.name.utf8.prefix(15).enumerated() { h[e + j] = b }
            put32(UInt32(t.format.code), e + 16); put32(UInt32(t.layers), e + 20)
            put64(UInt64(t.rows), e + 24); put64(UInt64(t.cols), e + 32); put64(UInt64(t.offset), e + 40); put64(UInt64(t.bytes), e + 48)
        }
        put64(checksum(h), 64)
        return h
    }

    /// FNV-1a 64 over the header with the checksum field (bytes 64..<72) taken as 0.
    static func checksum(_ h: [UInt8]) -> UInt64 {
        var x: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, b) in h.enumerated() {
            x = (x ^ UInt64((64..<72).contains(i) ? 0 : b)) &* 0x0000_0100_0000_01B3
        }
        return x
    }

    /// Validates a header against the file size: every field, every tensor's name, format, shape, size,
    /// alignment and bounds. Throws `CheckpointError` naming the first problem.
    public static func parse(header h: [UInt8], fileSize: Int, path: String) throws -> (config: GPT2Config, format: WeightFormat, tensors: [Tensor]) {
        func fail(_ m: String) -> CheckpointError { CheckpointError(path: path, m) }
        guard h.count == headerBytes else { throw fail("header is \(h.count) bytes, expected \(headerBytes)") }
        func u32(_ at: Int) -> UInt32 { h.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) } }
        func u64(_ at: Int) -> UInt64 { h.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
        let m = u32(0)
        if m != magic {
            if Int32(bitPattern: m) == CheckpointFormat.magic { throw fail("is an llm.c checkpoint, not a converted model file (use loadModelFile, which accepts both)") }
            throw fail(String(format: "bad magic number 0x%08x (expected 0x%08x, \"WBQM\"): not a converted model file", m, magic))
        }
        if u32(4) != version { throw fail("unsupported model file version \(u32(4)) (supported: \(version))") }
        guard let format = WeightFormat(code: Int32(bitPattern: u32(8))) else {
            throw fail("unknown weight format code \(u32(8)) (known: \(WeightFormat.allCases.map { "\($0.code) \($0.rawValue)" }.joined(separator: ", ")))")
        }
        if u32(12) != UInt32(headerBytes) { throw fail("header size field is \(u32(12)), expected \(headerBytes)") }
        if u32(16) != UInt32(tensorNames.count) { throw fail("tensor count is \(u32(16)), expected \(tensorNames.count)") }
        if u32(20) != UInt32(alignment) { throw fail("tensor alignment is \(u32(20)), expected \(alignment)") }
        if u64(64) != checksum(h) { throw fail(String(format: "header checksum mismatch (stored 0x%016llx, computed 0x%016llx): the header is corrupt", u64(64), checksum(h))) }
        let stored = u64(24)
        if stored != UInt64(fileSize) {
            let what = UInt64(fileSize) < stored ? "file is truncated" : "file has trailing bytes"
            throw fail("\(what): \(fileSize) bytes, but the header says \(stored)")
        }
        let dims = (0..<6).map { Int(Int32(bitPattern: u32(32 + 4 * $0))) }
        let config = GPT2Config(maxT: dims[0], V: dims[1], Vp: dims[2], L: dims[3], NH: dims[4], C: dims[5])
        if let p = config.problem() { throw fail("bad header: \(p)") }
        if u32(56) != 0 || u32(60) != 0 { throw fail("reserved header fields are not zero") }
        // The table: names in order, formats (f32 except the matmul weights), shapes and sizes as the config
        // implies, offsets aligned, in order, inside the file and not overlapping.
        let lmFormat = WeightFormat(code: Int32(bitPattern: u32(tableOffset + lmheadIndex * entryBytes + 16)))
        guard let lmFormat else { throw fail("tensor lmhead: unknown weight format code \(u32(tableOffset + lmheadIndex * entryBytes + 16))") }
        let (expected, expectedSize) = layout(config, format: format, lmhead: lmFormat)
        var tensors: [Tensor] = []
        for (i, want) in expected.enumerated() {
            let e = tableOffset + i * entryBytes
            let nameBytes = h[e..<(e + 16)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            if name != want.name { throw fail("tensor \(i) is named '\(name)', expected '\(want.name)'") }
            if h[(e + nameBytes.count)..<(e + 16)].contains(where: { $0 != 0 }) { throw fail("tensor \(name): name field is not NUL-padded") }
            guard let f = WeightFormat(code: Int32(bitPattern: u32(e + 16))) else { throw fail("tensor \(name): unknown weight format code \(u32(e + 16))") }
            if f != want.format {
                throw fail("tensor \(name) is stored as \(f.rawValue), expected \(want.format.rawValue)\(matmulTensors.contains(i) ? " (the header's format)" : "")")
            }
            let t = Tensor(name: name, format: f, layers: Int(u32(e + 20)), rows: Int(clamping: u64(e + 24)), cols: Int(clamping: u64(e + 32)),
                           offset: Int(clamping: u64(e + 40)), bytes: Int(clamping: u64(e + 48)))
            if t.layers != want.layers || t.rows != want.rows || t.cols != want.cols {
                throw fail("tensor \(name) has shape \(t.layers) x [\(t.rows), \(t.cols)], but the header's config implies \(want.layers) x [\(want.rows), \(want.cols)]")
            }
            if t.bytes != want.bytes { throw fail("tensor \(name) has \(t.bytes) bytes, but \(want.layers) x [\(want.rows), \(want.cols)] in \(f.rawValue) takes \(want.bytes)") }
            if t.offset % alignment != 0 { throw fail("tensor \(name) starts at \(t.offset), not a multiple of \(alignment)") }
            let (end, o) = t.offset.addingReportingOverflow(t.bytes)
            if o || end > fileSize { throw fail("tensor \(name) ends at byte \(o ? "(overflow)" : "\(end)"), past the end of the file (\(fileSize) bytes): the file is truncated or the table is corrupt") }
            if t.offset != want.offset {
                throw fail("tensor \(name) starts at \(t.offset), expected \(want.offset) (tensors follow each other in table order, each aligned to \(alignment))")
            }
            tensors.append(t)
        }
        if fileSize != expectedSize { throw fail("file is \(fileSize) bytes, but its tensors end at \(expectedSize)") }
        if h[(tableOffset + expected.count * entryBytes)...].contains(where: { $0 != 0 }) { throw fail("bytes after the tensor table are not zero") }
        return (config, format, tensors)
    }

    // MARK: writer

    /// Writes `checkpoint` converted to `format` (lm-head in `lmhead`, default the same) to `path`, through a
    /// temporary file renamed into place. Packing uses `threads` workers. Throws `CheckpointError`.
    public static func write(_ checkpoint: Checkpoint, to path: String, format: WeightFormat, lmhead: WeightFormat? = nil,
                             threads: Int = 1) throws {
        let c = checkpoint.config
        let (tensors, size) = layout(c, format: format, lmhead: lmhead ?? format)
        let dir = (path as NSString).deletingLastPathComponent
        var fs = statvfs()
        if statvfs(dir.isEmpty ? "." : dir, &fs) == 0, size > Int(fs.f_bavail) * Int(fs.f_frsize) {
            throw CheckpointError(path: path, String(format: "the model file would take %.2f GB but only %.2f GB are free there",
                                                     Double(size) / 1e9, Double(Int(fs.f_bavail) * Int(fs.f_frsize)) / 1e9))
        }
        let tmp = path + ".tmp.\(getpid())"
        guard let f = fopen(tmp, "wb") else { throw CheckpointError(path: path, "cannot write: \(String(cString: strerror(errno)))") }
        var ok = true
        func put(_ p: UnsafeRawPointer, _ n: Int) { if ok && n > 0 { ok = fwrite(p, 1, n, f) == n } }
        var written = 0
        func pad(to offset: Int) {
            let zeros = [UInt8](repeating: 0, count: alignment)
            while ok && written < offset {
                let n = min(alignment, offset - written)
                zeros.withUnsafeBytes { put($0.baseAddress!, n) }
                written += n
            }
        }
        let header = header(c, format: format, tensors: tensors, fileSize: size)
        header.withUnsafeBytes { put($0.baseAddress!, $0.count) }
        written = headerBytes
        // llm.c's tensors are consecutive fp32 after its header.
        var sources: [UnsafePointer<Float>] = []
        var p = checkpoint.parameters
        for n in c.parameterSizes { sources.append(p); p += n }
        let pool = WorkerPool(count: max(1, threads))
        for (i, t) in tensors.enumerated() {
            if i == lmheadIndex && t.format == .f32 { continue }  // the same bytes as wte
            pad(to: t.offset)
            let src = i == lmheadIndex ? sources[0] : sources[i]
            if t.format == .f32 {
                put(src, t.bytes)
            } else {
                let one = t.format.bytes(rows: t.rows, cols: t.cols)
                let buf = UnsafeMutableRawPointer.allocate(byteCount: one, alignment: 64)
                defer { buf.deallocate() }
                for l in 0..<t.layers {
                    pack(t.format, buf, src + l * t.rows * t.cols, rows: t.rows, cols: t.cols, pool: pool)
                    put(buf, one)
                }
            }
            written += t.bytes
        }
        pad(to: size)
        ok = (fclose(f) == 0) && ok
        if !ok || rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw CheckpointError(path: path, "cannot write: \(reason)")
        }
    }

    /// Packs w [rows, C] into dst, panels split across the pool.
    static func pack(_ format: WeightFormat, _ dst: UnsafeMutableRawPointer, _ w: UnsafePointer<Float>, rows: Int, cols: Int, pool: WorkerPool) {
        pool.parallelFor(format.panelCount(rows: rows), minPerWorker: 8) { r in
            format.pack(dst, from: w, rows: rows, cols: cols, panels: r)
        }
    }
}

/// Whether `path` starts with the converted model file's magic (else it is taken for an llm.c checkpoint).
public func isConvertedModelFile(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    if fd < 0 { return false }
    defer { close(fd) }
    var m: UInt32 = 0
    return pread(fd, &m, 4, 0) == 4 && UInt32(littleEndian: m) == ModelFile.magic
}

/// Opens `path` as whichever kind of model it is, by its magic: a converted model file ("WBQM") or an llm.c
/// checkpoint (anything else; its reader names a bad magic). Throws `CheckpointError` with a one-line reason.
public func loadModelFile(_ path: String) throws -> ModelWeights {
    isConvertedModelFile(path) ? ModelWeights(file: try ModelFile(path: path)) : ModelWeights(checkpoint: try Checkpoint(path: path))
}

// MARK: the seam

/// The weights a `GPT2Model` runs on, from either kind of file: fp32 views of the non-matmul tensors
/// (`params`) and one `WeightMatrix` per matmul site and layer — views into an llm.c checkpoint, or a converted
/// file's packed bytes (served to the format's variant as its cache entry, without a copy; an fp32 variant on
/// such a matrix gets its exact fp32 values unpacked on first use).
/// For a converted file in bf16/q8/q4, the four matmul fields of `params` (qkvw, attprojw, fcw, fcprojw) point
/// at an inaccessible page: use the matrices.
public final class ModelWeights: @unchecked Sendable {
    public let path: String
    public let config: GPT2Config
    public let params: ParameterTensors
    public let qkvw: [WeightMatrix], attprojw: [WeightMatrix], fcw: [WeightMatrix], fcprojw: [WeightMatrix]
    /// The lm-head weight [Vp, C] (wte, or its copy in the lm-head's format).
    public let lmhead: WeightMatrix
    /// The format the layer matmuls arrived in (.f32 for an llm.c checkpoint), and the lm-head's.
    public let format: WeightFormat
    public let lmheadFormat: WeightFormat
    /// What the views point into (kept alive here).
    public let checkpoint: Checkpoint?
    public let modelFile: ModelFile?
    /// Nanoseconds the file took to open, validate and map (the model's load line adds its own setup).
    public var loadNanos: UInt64 { checkpoint?.loadNanos ?? modelFile?.loadNanos ?? 0 }

    public init(checkpoint: Checkpoint) {
        let c = checkpoint.config
        let p = ParameterTensors(base: checkpoint.parameters, config: c)
        self.checkpoint = checkpoint; modelFile = nil
        path = checkpoint.path; config = c; params = p; format = .f32; lmheadFormat = .f32
        qkvw = (0..<c.L).map { WeightMatrix(data: p.qkvw + $0 * 3 * c.C * c.C, rows: 3 * c.C, cols: c.C) }
        attprojw = (0..<c.L).map { WeightMatrix(data: p.attprojw + $0 * c.C * c.C, rows: c.C, cols: c.C) }
        fcw = (0..<c.L).map { WeightMatrix(data: p.fcw + $0 * 4 * c.C * c.C, rows: 4 * c.C, cols: c.C) }
        fcprojw = (0..<c.L).map { WeightMatrix(data: p.fcprojw + $0 * 4 * c.C * c.C, rows: c.C, cols: 4 * c.C) }
        lmhead = WeightMatrix(data: p.wte, rows: c.Vp, cols: c.C)
    }

    public init(file: ModelFile) {
        let c = file.config
        modelFile = file; checkpoint = nil
        path = file.path; config = c; format = file.format; lmheadFormat = file.lmheadFormat
        var views: [UnsafePointer<Float>] = []
        for (i, t) in file.tensors.prefix(16).enumerated() {
            views.append(t.format == .f32 ? file.floats(i) : ModelWeights.inaccessible)
        }
        params = ParameterTensors(views: views)
        func matrices(_ i: Int) -> [WeightMatrix] {
            let t = file.tensors[i]
            let one = t.format.bytes(rows: t.rows, cols: t.cols)
            return (0..<t.layers).map { ModelWeights.matrix(file, t.format, file.bytes(i) + $0 * one, rows: t.rows, cols: t.cols, count: one) }
        }
        qkvw = matrices(4); attprojw = matrices(6); fcw = matrices(10); fcprojw = matrices(12)
        let lm = file.tensors[ModelFile.lmheadIndex]
        lmhead = ModelWeights.matrix(file, lm.format, file.bytes(ModelFile.lmheadIndex), rows: lm.rows, cols: lm.cols, count: lm.bytes)
    }

    /// A matrix over bytes of the mapped file: fp32 views directly, other formats as their cache entry.
    static func matrix(_ file: ModelFile, _ f: WeightFormat, _ bytes: UnsafeRawPointer, rows: Int, cols: Int, count: Int) -> WeightMatrix {
        if f == .f32 { return WeightMatrix(data: bytes.assumingMemoryBound(to: Float.self), rows: rows, cols: cols) }
        return WeightMatrix(rows: rows, cols: cols, key: f.cacheKey, bytes: bytes, count: count, owner: file) { dst in
            f.unpack(dst, from: bytes, rows: rows, cols: cols)
        }
    }

    /// The matrices of `site`, one per layer (the lm-head: one).
    public func matrices(_ site: MatmulSite) -> [WeightMatrix] {
        switch site { case .qkv: qkvw; case .attproj: attprojw; case .fc: fcw; case .fcproj: fcprojw; case .lmhead: [lmhead] }
    }

    /// Bytes of weights a forward pass streams as stored: the matmul weights in their formats plus the fp32
    /// tensors other than wte (of which only T rows are read).
    public var streamedBytes: Int { streamedBytes(formats: [:]) }

    /// The same when the engine reads site s's weights in `formats[s]` (its variant's format: a q8 variant over an
    /// llm.c file reads q8 bytes); sites not named read the format stored.
    public func streamedBytes(formats: [MatmulSite: WeightFormat]) -> Int {
        let c = config
        var total = 0
        for site in MatmulSite.allCases where site != .lmhead {
            let (oc, cc) = site.shape(c)
            total += c.L * (formats[site] ?? format).bytes(rows: oc, cols: cc)
        }
        total += (formats[.lmhead] ?? lmheadFormat).bytes(rows: c.Vp, cols: c.C)
        return total + (c.parameterCount - c.Vp * c.C - c.L * 12 * c.C * c.C) * 4
    }

    /// A page that faults on any access: the fp32 views a converted file does not have.
    static let inaccessible: UnsafePointer<Float> = {
        let m = mmap(nil, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        return UnsafePointer(m.assumingMemoryBound(to: Float.self))
    }()
}

extension ParameterTensors {
    /// The 16 views in llm.c's order.
    init(views v: [UnsafePointer<Float>]) {
        precondition(v.count == 16)
        (wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
        (ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb) = (v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
    }
}

extension ModelWeights {
    /// `base` with every site that uses the engine's default matmul variant switched to the variant of the
    /// format its weights arrived in (a q8 file runs `q8` unless the user chose another variant). Sites in
    /// f32 keep their variant.
    public func nativeOptions(_ base: EngineOptions, replacing: Set<String> = [MatmulVariants.defaultName]) -> EngineOptions {
        var o = base
        for site in MatmulSite.allCases {
            let f = site == .lmhead ? lmheadFormat : format
            if f != .f32, replacing.contains(o.matmul[site]!.name), let v = MatmulVariants.named(f.rawValue) { o.matmul[site] = v }
        }
        return o
    }
}

// MARK: accuracy of one model against another

/// What two models did with the same input: the raw material of `Bench.ModelAccuracy` (GPT2 does not
/// import Bench: `LogitAccuracy(reference: r.referenceLogits, candidate: r.candidateLogits, vocabulary: r.vocabulary)`
/// and `Accuracy.agreementPrefix(r.referenceGreedy, r.candidateGreedy)` turn it into the metrics).
public struct ModelPairRun: Sendable {
    /// The teacher-forced sequence.
    public var tokens: [Int32]
    public var vocabulary: Int
    /// Logits [tokens.count, V] of every position, each model teacher-forced over `tokens`.
    public var referenceLogits: [Float]
    public var candidateLogits: [Float]
    /// Tokens each model generated greedily (argmax) from the greedy prompt, with the KV cache.
    public var referenceGreedy: [Int32]
    public var candidateGreedy: [Int32]
}

extension GPT2Model {
    /// Logits [T, V] of every position of `tokens` (one forward pass from position 0).
    public func teacherForcedLogits(_ tokens: [Int32]) -> [Float] {
        resetCache()
        return Array(forward(tokens, pos0: 0, allLogits: true))
    }
}

/// The default teacher-forced sequence of the accuracy figures: n pseudo-random ids (i * 7919 + 31373) mod V,
/// the long prompt of the peers' benchmarks (/work/shared/peers/bench.py), varied enough that every position
/// asks something different (greedy continuations of a synthetic model repeat one token).
public func accuracySequence(_ n: Int, vocabulary V: Int) -> [Int32] {
    (0..<n).map { Int32((($0 * 7919) + 31373) % V) }
}

/// Runs `reference` and `candidate` on the same input: `sequence` teacher-forced through both (every position's
/// logits), and `greedy` tokens generated greedily by each from `greedyPrompt`. Throws `GenerationError` for bad
/// tokens or lengths past maxT.
public func compareModels(reference: GPT2Model, candidate: GPT2Model, sequence: [Int32], greedyPrompt: [Int32],
                          greedy: Int) throws -> ModelPairRun {
    guard reference.config == candidate.config else { throw GenerationError("the two models have different shapes") }
    _ = try GenerationRequest(prompt: sequence, n: sequence.count + 1, config: reference.config)
    if greedy > 0 { _ = try GenerationRequest(prompt: greedyPrompt, n: greedyPrompt.count + greedy, config: reference.config) }
    let r = reference.teacherForcedLogits(sequence), c = candidate.teacherForcedLogits(sequence)
    let n = greedyPrompt.count + greedy
    let rg = greedy > 0 ? try reference.generate(prompt: greedyPrompt, n: n, sampler: .argmax) : []
    let cg = greedy > 0 ? try candidate.generate(prompt: greedyPrompt, n: n, sampler: .argmax) : []
    return ModelPairRun(tokens: sequence, vocabulary: reference.config.V, referenceLogits: r, candidateLogits: c,
                        referenceGreedy: rg, candidateGreedy: cg)
}
