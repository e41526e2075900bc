// Frame names shared by both backends, so the same function reads the same in every report.
//
//   Kernels.matmulForwardTiled(_:_:packed:bias:T:C:OC:columns:)   a Swift function (demangled, simplified)
//   __sched_yield                                                  a C function (ELF version suffix removed)
//   libopenblasp-r0.3.21.so+0x1a2f0                                no symbol: the module and the address in it
//   do_sched_yield_[k]                                             kernel code (FlameGraph's `_[k]` suffix)
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

    /// An address with no symbol, named by its object and its address in it (`gzip+0x1a2f0`: the address
    /// `addr2line -e gzip` takes); `[unknown]+0x...` (absolute) when it lies in no known object.
    public static func unsymbolised(module: String?, address: UInt64) -> String {
        let hex = "0x" + String(address, radix: 16)
        guard let m = module, !m.isEmpty, m != "[unknown]" else { return "[unknown]+" + hex }
        return Folded.escape(basename(m)) + "+" + hex
    }

    /// An address with no symbol and no known address: only its object (if known).
    public static func unknown(module: String?) -> String {
        guard let m = module, !m.isEmpty, m != "[unknown]" else { return "[unknown]" }
        return "[unknown] (\(basename(m)))"
    }

    /// The suffix of kernel frames (FlameGraph's stackcollapse-perf.pl --kernel and flamegraph.pl colour them).
    public static let kernelSuffix = "_[k]"

    /// A kernel frame (perf only).
    public static func kernel(_ symbol: String) -> String { Folded.escape(symbol) + kernelSuffix }

    /// A kernel address perf could not name.
    public static func kernelUnsymbolised(address: UInt64) -> String { "[kernel.kallsyms]+0x" + String(address, radix: 16) + kernelSuffix }

    public static func isKernel(_ name: String) -> Bool { name.hasSuffix(kernelSuffix) }

    /// The module a frame name says it lies in, for names read back from folded text: kernel frames,
    /// `module+0xhex` and `[unknown] (module)`; nil for function names.
    public static func module(ofName name: String) -> String? {
        if isKernel(name) { return "[kernel.kallsyms]" }
        if name.hasPrefix("[unknown] ("), name.hasSuffix(")") { return String(name.dropFirst(11).dropLast()) }
        if let plus = name.range(of: "+0x", options: .backwards), plus.lowerBound != name.startIndex,
           !name[plus.upperBound...].isEmpty, name[plus.upperBound...].allSatisfy(\.isHexDigit) {
            let m = String(name[..<plus.lowerBound])
            return m == "[unknown]" ? nil : m
        }
        return nil
    }

    /// The last path component ("/usr/lib/libc.so.6" -> "libc.so.6").
    public static func basename(_ path: String) -> String {
        if let slash = path.lastIndex(of: "/") { return String(path[path.index(after: slash)...]) }
        return path
    }
}
