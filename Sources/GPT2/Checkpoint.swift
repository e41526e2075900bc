import Basics
import Foundation

/// The shape of a GPT-2 model, as stored in an llm.c checkpoint header.
public struct GPT2Config: Codable, Equatable, Sendable {
    /// Maximum sequence length (positions in wpe).
    public var maxT: Int
    /// Vocabulary size.
    public var V: Int
    /// Padded vocabulary size (rows of wte); == V in version 1 checkpoints.
    public var Vp: Int
    /// Number of layers.
    public var L: Int
    /// Number of heads.
    public var NH: Int
    /// Channels.
    public var C: Int

    public init(maxT: Int, V: Int, Vp: Int, L: Int, NH: Int, C: Int) {
        self.maxT = maxT; self.V = V; self.Vp = Vp; self.L = L; self.NH = NH; self.C = C
    }

    /// GPT-2 small: L=12, NH=12, C=768, V=50257, Vp=50304, maxT=1024.
    public static let gpt2_124M = GPT2Config(maxT: 1024, V: 50257, Vp: 50304, L: 12, NH: 12, C: 768)
    /// A tiny model for tests: L=2, NH=4, C=64, V=512 (Vp=576), maxT=64.
    public static let tiny = GPT2Config(maxT: 64, V: 512, Vp: 576, L: 2, NH: 4, C: 64)

    /// Largest values accepted from a header (far above any released GPT-2; guards against garbage).
    public static let limits = (maxT: 1 << 20, V: 1 << 24, L: 4096, C: 1 << 16)

    /// Element counts of the 16 parameter tensors, in llm.c's order (see `ParameterTensors`).
    public var parameterSizes: [Int] {
        [Vp * C, maxT * C, L * C, L * C, L * 3 * C * C, L * 3 * C, L * C * C, L * C,
         L * C, L * C, L * 4 * C * C, L * 4 * C, L * C * 4 * C, L * C, C, C]
    }
    public static let parameterNames = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
                                        "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]
    /// Total float32 parameters.
    public var parameterCount: Int { parameterSizes.reduce(0, +) }
    /// Head size C / NH.
    public var hs: Int { C / NH }

    /// Checks every dimension; returns the first problem as one phrase, or nil when the shape is sane.
    public func problem() -> String? {
        let lim = GPT2Config.limits
        if maxT < 1 || maxT > lim.maxT { return "max sequence length \(maxT) is outside 1...\(lim.maxT)" }
        if V < 1 || V > lim.V { return "vocabulary size \(V) is outside 1...\(lim.V)" }
        if L < 1 || L > lim.L { return "layer count \(L) is outside 1...\(lim.L)" }
        if C < 1 || C > lim.C { return "channel count \(C) is outside 1...\(lim.C)" }
        if NH < 1 || NH > C { return "head count \(NH) is outside 1...\(C) (the channel count)" }
        if C % NH != 0 { return "channels \(C) are not divisible by heads \(NH)" }
        if Vp < V || Vp > lim.V {
            return "padded vocabulary size \(Vp) is outside \(V)...\(lim.V) (it must be >= the vocabulary size \(V))"
        }
        return nil
    }
}

/// A bad checkpoint: `description` is one line naming the file and what is wrong.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// llm.c's checkpoint format: a 256 x int32 header, then float32 parameters.
///   header[0] = 20240326 (magic), header[1] = version (1: Vp = V; 3: Vp = header[7]),
///   header[2..6] = maxT, V, L, NH, C.
public enum CheckpointFormat {
    public static let magic: Int32 = 20240326
    public static let headerInts = 256
    public static let headerBytes = headerInts * 4
    public static let versions: Set<Int> = [1, 3]

    /// The 256-int header for `config` in `version` (1 or 3).
    public static func header(_ config: GPT2Config, version: Int) -> [Int32] {
        var h = [Int32](repeating: 0, count: headerInts)
        h[0] = magic; h[1] = Int32(version)
        h[2] = Int32(config.maxT); h[3] = Int32(config.V); h[4] = Int32(config.L)
        h[5] = Int32(config.NH); h[6] = Int32(config.C)
        h[7] = version >= 3 ? Int32(config.Vp) : 0
        return h
    }

    /// Parses and validates a header against the file's size. Throws `CheckpointError`.
    public static func parse(header h: [Int32], fileSize: Int, path: String) throws -> (GPT2Config, Int) {
        guard h.count == headerInts else { throw CheckpointError(path: path, "header is \(h.count) ints, expected 256") }
        if h[0] != magic {
            throw CheckpointError(path: path, "bad magic number \(h[0]) (expected \(magic)): not an llm.c GPT-2 checkpoint")
        }
        let version = Int(h[1])
        if !versions.contains(version) {
            throw CheckpointError(path: path, "unsupported checkpoint version \(version) (supported: 1, 3)")
        }
        let V = Int(h[3])
        let config = GPT2Config(maxT: Int(h[2]), V: V, Vp: version == 3 ? Int(h[7]) : V,
                                L: Int(h[4]), NH: Int(h[5]), C: Int(h[6]))
        if let p = config.problem() { throw CheckpointError(path: path, "bad header: \(p)") }
        // Sizes are bounded by `limits`, but still add them with overflow checks.
        var total = 0
        for s in config.parameterSizes {
            let (sum, o) = total.addingReportingOverflow(s)
            if o || s < 0 { throw CheckpointError(path: path, "bad header: parameter count overflows") }
            total = sum
        }
        let expected = headerBytes + total * 4
        if fileSize != expected {
            let what = fileSize < expected ? "file is truncated" : "file has trailing bytes"
            throw CheckpointError(path: path,
                "\(what): \(fileSize) bytes, but the header (L=\(config.L) C=\(config.C) NH=\(config.NH) V=\(config.V) Vp=\(config.Vp) maxT=\(config.maxT)) implies \(expected)")
        }
        return (config, version)
    }
}

/// How `Checkpoint` maps the file.
public enum CheckpointPaging: String, Sendable, CaseIterable {
    /// Map lazily and ask the kernel to read the file ahead (`madvise(MADV_WILLNEED)`: page-cache readahead,
    /// asynchronous; nothing is mapped into the process until a forward pass touches it). The default.
    case lazy
    /// Map lazily, no hint: pages are read (if not cached) and mapped when first touched.
    case onTouch
    /// `MAP_POPULATE`: read and map every page before `init` returns (the old behaviour; a full pass over
    /// the file at load).
    case populate
}

/// A checkpoint memory-mapped read-only; the parameters are views into the mapping (nothing is copied).
/// The engine reads the weights straight from the mapping (one copy of the weights: the page cache's),
/// so a page costs memory only once a forward pass has touched it.
public final class Checkpoint: @unchecked Sendable {
    public let path: String
    public let config: GPT2Config
    public let version: Int
    /// The first float32 parameter (just after the header).
    public let parameters: UnsafePointer<Float>
    /// Nanoseconds `init` took (open, header, validation, mmap, madvise).
    public let loadNanos: UInt64
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    /// Opens, validates and maps `path` (`paging`: how, default `$WORKBENCH_PAGING` — lazy, onTouch or
    /// populate — else `.lazy`). Throws `CheckpointError` with a one-line reason.
    public init(path: String, paging: CheckpointPaging? = nil) throws {
        let start = monotonicNanos()
        let paging = paging ?? ProcessInfo.processInfo.environment["WORKBENCH_PAGING"].flatMap(CheckpointPaging.init(rawValue:)) ?? .lazy
        self.path = path
        let file = try ModelFileHandle(path: path, kind: "checkpoint", headerBytes: CheckpointFormat.headerBytes, headerName: "1024-byte header")
        defer { close(file.fd) }
        let (fd, size) = (file.fd, file.size)
        let header = file.header.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        (config, version) = try CheckpointFormat.parse(header: header, fileSize: size, path: path)
        let flags = MAP_PRIVATE | (paging == .populate ? MAP_POPULATE : 0)
        guard let m = mmap(nil, size, PROT_READ, flags, fd, 0), m != MAP_FAILED else {
            throw CheckpointError(path: path, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        if paging == .lazy { _ = madvise(m, size, MADV_WILLNEED) }
        mapping = m
        mappedBytes = size
        parameters = UnsafePointer((m + CheckpointFormat.headerBytes).assumingMemoryBound(to: Float.self))
        loadNanos = monotonicNanos() &- start
    }

    deinit { munmap(mapping, mappedBytes) }

    /// Bytes of parameters (what one forward pass streams from memory, roughly).
    public var parameterBytes: Int { config.parameterCount * 4 }
}

/// A model file opened for validation and mapping: a regular file (a FIFO or device is refused, never
/// blocks open(2): O_NONBLOCK) at least `headerBytes` long, its header read. The caller closes `fd`.
struct ModelFileHandle {
    let fd: Int32
    let size: Int
    let header: [UInt8]

    /// `kind` names what the file should be in the messages ("checkpoint", "model file").
    init(path: String, kind: String, headerBytes: Int, headerName: String) throws {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        if fd < 0 { throw CheckpointError(path: path, "cannot open: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { close(fd) } }
        var st = stat()
        if fstat(fd, &st) != 0 { throw CheckpointError(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CheckpointError(path: path, "is a directory, not a \(kind)") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw CheckpointError(path: path, "is not a regular file, not a \(kind)") }
        let size = Int(st.st_size)
        if size < headerBytes { throw CheckpointError(path: path, "file is truncated: \(size) bytes, shorter than the \(headerName)") }
        var header = [UInt8](repeating: 0, count: headerBytes)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, headerBytes, 0) }
        if got != headerBytes { throw CheckpointError(path: path, "cannot read the header") }
        self.fd = fd; self.size = size; self.header = header
        ok = true
    }
}
