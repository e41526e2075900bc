// pprof's profile.proto (github.com/google/pprof/proto/profile.proto), written by hand: a small protobuf
// encoder (varints, length-delimited fields, packed repeated integers) and the Profile message built from a
// SampleProfile, gzip-compressed as `go tool pprof` expects. No dependency but zlib.
//
//   Profile { sample_type = 1 (ValueType), sample = 2, mapping = 3, location = 4, function = 5,
//             string_table = 6 (index 0 is ""), time_nanos = 9, duration_nanos = 10, period_type = 11,
//             period = 12, comment = 13, default_sample_type = 14 }
//   ValueType { type = 1, unit = 2 }                       (string-table indices)
//   Sample    { location_id = 1 (packed, leaf first), value = 2 (packed), label = 3 }
//   Label     { key = 1, str = 2 }
//   Mapping   { id = 1, memory_start = 2, memory_limit = 3, file_offset = 4, filename = 5,
//               has_functions = 7 }
//   Location  { id = 1, mapping_id = 2, address = 3, line = 4 }     Line { function_id = 1, line = 2 }
//   Function  { id = 1, name = 2, system_name = 3, filename = 4 }
//
// What goes where: sample types `samples/count` and `cpu/nanoseconds` (`wall/nanoseconds` for the wall
// clock; the second only when the period is known), one location per distinct (module, address, name),
// one function per (name, module) with the module as its filename (there are no source files), one mapping per
// module (load range when the sampler knew it, else 0...highest address + 1 with module-relative addresses),
// labels `thread` and `op`. Every location has a function, so mappings say has_functions and pprof does not
// try to symbolize.
import Foundation

/// The protobuf wire format, the few pieces profile.proto needs.
public struct ProtoWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    /// Field key: number << 3 | wire type (0 varint, 2 length-delimited).
    public mutating func key(_ field: Int, wireType: Int) { varint(UInt64(field << 3 | wireType)) }
    /// A varint field (int64/uint64/bool), omitted when zero (proto3 default).
    public mutating func int(_ field: Int, _ v: UInt64) {
        guard v != 0 else { return }
        key(field, wireType: 0); varint(v)
    }
    public mutating func int(_ field: Int, _ v: Int64) { int(field, UInt64(bitPattern: v)) }
    public mutating func int(_ field: Int, _ v: Int) { int(field, UInt64(bitPattern: Int64(v))) }
    /// A length-delimited field (string, bytes, embedded message), always written (repeated strings may be empty).
    public mutating func bytesField(_ field: Int, _ b: [UInt8]) {
        key(field, wireType: 2); varint(UInt64(b.count)); bytes += b
    }
    public mutating func string(_ field: Int, _ s: String) { bytesField(field, Array(s.utf8)) }
    public mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var m = ProtoWriter(); build(&m); bytesField(field, m.bytes)
    }
    /// A packed repeated varint field (omitted when empty).
    public mutating func packed(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var m = ProtoWriter(); for v in values { m.varint(v) }
        bytesField(field, m.bytes)
    }
}

public enum Pprof {
    /// The uncompressed profile.proto bytes of `profile`. `comments` become Profile.comment lines.
    public static func encode(_ profile: SampleProfile, comments: [String] = []) -> [UInt8] {
        var strings: [String] = [""], stringIndex: [String: Int] = ["": 0]
        func str(_ s: String) -> Int {
            if let i = stringIndex[s] { return i }
            strings.append(s); stringIndex[s] = strings.count - 1; return strings.count - 1
        }
        struct FunctionKey: Hashable { var name: String; var module: String? }
        var functionIDs: [FunctionKey: Int] = [:], functions: [(key: FunctionKey, system: String)] = []
        var locationIDs: [Frame: Int] = [:], locations: [Frame] = []
        var mappingIDs: [String: Int] = [:], mappingOrder: [String] = [], highest: [String: UInt64] = [:]

        func locationID(_ f: Frame) -> Int {
            if let id = locationIDs[f] { return id }
            let fk = FunctionKey(name: f.name, module: f.module)
            if functionIDs[fk] == nil { functions.append((fk, f.symbol ?? f.name)); functionIDs[fk] = functions.count }
            if let m = f.module {
                if mappingIDs[m] == nil { mappingOrder.append(m); mappingIDs[m] = mappingOrder.count }
                highest[m] = max(highest[m] ?? 0, f.address ?? 0)
            }
            locations.append(f); locationIDs[f] = locations.count
            return locations.count
        }

        let period = profile.periodNanos
        let clock = profile.clock == "wall" ? "wall" : "cpu"
        var w = ProtoWriter()
        // sample_type: samples/count, then cpu/nanoseconds (the default sample type) when the period is known.
        let types: [(String, String)] = [("samples", "count")] + (period != nil ? [(clock, "nanoseconds")] : [])
        for (t, u) in types {
            let ti = str(t), ui = str(u)
            w.message(1) { $0.int(1, ti); $0.int(2, ui) }
        }
        let threadKey = str("thread"), opKey = str("op")
        for (sample, count) in profile.sorted {
            let ids = sample.frames.reversed().map { UInt64(locationID($0)) }
            var values = [UInt64(count)]
            if let p = period { values.append(UInt64(Int64(count) * p)) }
            let thread = sample.thread.map(str), op = sample.op.map(str)
            w.message(2) { m in
                m.packed(1, ids)
                m.packed(2, values)
                if let t = thread { m.message(3) { $0.int(1, threadKey); $0.int(2, t) } }
                if let o = op { m.message(3) { $0.int(1, opKey); $0.int(2, o) } }
            }
        }
        for path in mappingOrder {
            let id = mappingIDs[path]!, file = str(path)
            let known = profile.mappings[path]
            w.message(3) { m in
                m.int(1, id)
                m.int(2, known?.start ?? 0)
                m.int(3, known?.limit ?? (highest[path]! + 1))
                m.int(5, file)
                m.int(7, 1)  // has_functions
            }
        }
        for (i, f) in locations.enumerated() {
            let fid = functionIDs[FunctionKey(name: f.name, module: f.module)]!
            let mid = f.module.flatMap { mappingIDs[$0] } ?? 0
            var address = f.address ?? 0
            if let m = f.module, let known = profile.mappings[m], f.address != nil { address &+= known.bias }
            w.message(4) { m in
                m.int(1, i + 1)
                m.int(2, mid)
                m.int(3, address)
                m.message(4) { $0.int(1, fid) }
            }
        }
        var fieldsOfFunctions: [(Int, Int, Int)] = []
        for (k, system) in functions { fieldsOfFunctions.append((str(k.name), str(system), k.module.map(str) ?? 0)) }
        for (i, f) in fieldsOfFunctions.enumerated() {
            w.message(5) { m in m.int(1, i + 1); m.int(2, f.0); m.int(3, f.1); m.int(4, f.2) }
        }
        let commentIDs = comments.map(str)
        let periodType = (str(clock), str("nanoseconds"))
        // Every string is interned by now: the table can be written.
        for s in strings { w.string(6, s) }
        w.int(9, profile.startNanos ?? 0)
        w.int(10, profile.durationNanos ?? 0)
        if let p = period {
            w.message(11) { $0.int(1, periodType.0); $0.int(2, periodType.1) }
            w.int(12, p)
            w.int(14, periodType.0)  // default_sample_type: cpu (or wall)
        }
        for c in commentIDs { w.int(13, c) }
        return w.bytes
    }

    /// Writes `profile` as a gzip-compressed profile.proto (what `go tool pprof FILE` reads). Throws `ProfilingError`.
    public static func write(_ profile: SampleProfile, to path: String, comments: [String] = []) throws {
        let gz = try Gzip.compress(encode(profile, comments: comments))
        do { try Data(gz).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }
}
