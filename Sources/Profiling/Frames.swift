// Frame names shared by both backends, so the same function reads the same in every report.
import Foundation

public enum FrameName {
    /// The reported name of a function symbol: Swift names demangled and simplified, others unchanged,
    /// ';' and line breaks made safe for the folded format.
    public static func function(_ symbol: String) -> String {
        Folded.escape(Demangler.readable(unversioned(symbol)))
    }

    /// A symbol without its ELF version ("pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait"), as
    /// perf and debug symbol tables write them. Swift mangled names never contain '@'.
    public static func unversioned(_ symbol: String) -> String {
        guard let at = symbol.firstIndex(of: "@"), at != symbol.startIndex else { return symbol }
        return String(symbol[..<at])
    }

    /// An address with no symbol, shown honestly with the object it lies in (if known).
    public static func unknown(module: String?) -> String {
        guard let m = module, !m.isEmpty, m != "[unknown]" else { return "[unknown]" }
        return "[unknown] (\(basename(m)))"
    }

    /// A kernel frame (perf only).
    public static func kernel(_ symbol: String) -> String { Folded.escape(symbol) + " [kernel]" }

    /// The last path component ("/usr/lib/libc.so.6" -> "libc.so.6").
    public static func basename(_ path: String) -> String {
        if let slash = path.lastIndex(of: "/") { return String(path[path.index(after: slash)...]) }
        return path
    }
}
