// gzip through the system's zlib (RFC 1952 framing by deflateInit2 with windowBits 31). Foundation on Linux
// has no compression API, and zlib is on every Linux system the package links against (libelf needs it).
import CZlib
import Foundation

public enum Gzip {
    /// `data` as a gzip file (best compression).
    public static func compress(_ data: [UInt8], level: Int32 = 9) throws -> [UInt8] {
        var s = z_stream()
        guard ws_deflate_init_gzip(&s, level) == Z_OK else { throw ProfilingError("gzip: deflateInit2 failed") }
        defer { deflateEnd(&s) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, uLong(data.count))) + 32)
        var input = data
        let rc: Int32 = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                s.next_in = inp.baseAddress; s.avail_in = uInt(inp.count)
                s.next_out = o.baseAddress; s.avail_out = uInt(o.count)
                return deflate(&s, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw ProfilingError("gzip: deflate failed (\(rc))") }
        return Array(out.prefix(Int(s.total_out)))
    }

    /// The contents of a gzip (or zlib) stream. Throws `ProfilingError` on corrupt input.
    public static func decompress(_ data: [UInt8]) throws -> [UInt8] {
        var s = z_stream()
        guard ws_inflate_init_auto(&s) == Z_OK else { throw ProfilingError("gzip: inflateInit2 failed") }
        defer { inflateEnd(&s) }
        var input = data
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let ok: Bool = input.withUnsafeMutableBufferPointer { inp in
            s.next_in = inp.baseAddress; s.avail_in = uInt(inp.count)
            while true {
                let (rc, produced): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { c in
                    s.next_out = c.baseAddress; s.avail_out = uInt(c.count)
                    let rc = inflate(&s, Z_NO_FLUSH)
                    return (rc, c.count - Int(s.avail_out))
                }
                result += chunk.prefix(produced)
                if rc == Z_STREAM_END { return true }
                if rc != Z_OK || (produced == 0 && s.avail_in == 0) { return false }
            }
        }
        guard ok else { throw ProfilingError("gzip: corrupt or truncated data") }
        return result
    }
}
