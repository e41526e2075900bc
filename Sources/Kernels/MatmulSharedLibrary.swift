// Bring your own C kernel, no rebuild: a matmul spec that names a shared library (`./libmine.so`,
// `./libmine.so:my_matmul`) loads, with dlopen, a function with llm.c's exact signature
//   void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
//                       int B, int T, int C, int OC);
// out (B,T,OC), inp (B,T,C), weight (OC,C) row-major, bias (OC) or NULL; the workbench always passes B = 1.
// The function computes all OC columns it is given, so it is not split across the worker pool: the engine
// runs it once per call (like blas's ownThreads path), on the calling thread (or on threads of its own).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// llm.c's `matmul_forward` as a C function pointer.
public typealias LLMCMatmulForward = @convention(c) (
    UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
    Int32, Int32, Int32, Int32
) -> Void

/// A shared library that cannot be used as a matmul: `description` is `PATH: what is wrong` (one line).
public struct SharedLibraryError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

public enum SharedLibraryMatmul {
    /// The symbol loaded when the spec names none.
    public static let defaultSymbol = "matmul_forward"

    /// Whether a matmul spec names a shared library rather than a registered variant: its path part
    /// contains a `/` or ends in `.so`.
    public static func isLibrarySpec(_ spec: String) -> Bool {
        let path = split(spec).path
        return path.contains("/") || path.hasSuffix(".so")
    }

    /// The library path and the symbol of a spec: `lib.so:my_matmul` -> ("lib.so", "my_matmul"); without a
    /// `:SYMBOL` suffix (a C identifier after the last colon) the symbol is `matmul_forward`.
    public static func split(_ spec: String) -> (path: String, symbol: String) {
        if let colon = spec.lastIndex(of: ":") {
            let path = String(spec[..<colon]), symbol = String(spec[spec.index(after: colon)...])
            if !path.isEmpty, isCIdentifier(symbol) { return (path, symbol) }
        }
        return (spec, defaultSymbol)
    }

    static func isCIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Loaded variants by spec: a library is opened once per process, and resolving the same spec again
    /// (the engine spec, then the tuning file) gives the same variant.
    private static let loaded = Mutex<[String: MatmulVariant]>([:])

    /// Opens the library of `spec`, finds its function and wraps it as a variant named `spec`.
    /// Throws `SharedLibraryError` for a missing file, a file that is not a loadable shared object, or a
    /// missing symbol.
    public static func load(_ spec: String) throws -> MatmulVariant {
        if let v = loaded.withLock({ $0[spec] }) { return v }
        let (path, symbol) = split(spec)
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SharedLibraryError(path: path, reason: "no such file (a matmul spec with a '/' or ending in .so names a shared library)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SharedLibraryError(path: path, reason: "not a regular file") }
        // dlopen searches the library path for names without a '/': give it the full path of the file meant.
        let full: String = {
            guard let r = realpath(path, nil) else { return path }
            defer { free(r) }
            return String(cString: r)
        }()
        _ = dlerror()
        guard let handle = dlopen(full, RTLD_NOW | RTLD_LOCAL) else {
            var why = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            if why.hasPrefix(full + ": ") { why.removeFirst(full.count + 2) }
            throw SharedLibraryError(path: path, reason: "not a loadable shared library (\(why)); build one with gcc -O3 -march=native -shared -fPIC -o libmine.so mine.c")
        }
        guard let address = dlsym(handle, symbol) else {
            dlclose(handle)
            throw SharedLibraryError(path: path, reason: "no function '\(symbol)' in it (expected one with llm.c's signature void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int B, int T, int C, int OC); name another symbol with \(path):SYMBOL)")
        }
        let function = CFunction(call: unsafeBitCast(address, to: LLMCMatmulForward.self))
        let v = MatmulVariant(
            name: spec,
            summary: "C function \(symbol) from \(full) (llm.c's matmul_forward signature, B = 1): all columns in one call, on the calling thread or threads of its own",
            bitReproducible: false,
            ownThreads: { a, _ in function.forward(a, columns: 0..<a.OC) },
            kernel: { a, cols in function.forward(a, columns: cols) })
        // Another thread may have loaded the same spec meanwhile: keep the first.
        return loaded.withLock { table in
            if let first = table[spec] { return first }
            table[spec] = v
            return v
        }
    }

    /// The loaded function (a plain C function pointer: no context, safe to share).
    private struct CFunction: @unchecked Sendable {
        let call: LLMCMatmulForward

        /// out[:, columns] of the call `a`: the whole call directly; a column range by giving the function
        /// those weight rows and bias entries (OC = the range's width) and scattering its [T, n] result.
        func forward(_ a: MatmulArgs, columns: Range<Int>) {
            if columns.isEmpty || a.T == 0 { return }
            let T = Int32(a.T), C = Int32(a.C)
            if columns == 0..<a.OC {
                call(a.out, a.inp, a.weight.data, a.bias, 1, T, C, Int32(a.OC))
                return
            }
            let lo = columns.lowerBound, n = columns.count
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: a.T * n)
            defer { tmp.deallocate() }
            call(tmp, a.inp, a.weight.data + lo * a.C, a.bias.map { $0 + lo }, 1, T, C, Int32(n))
            for t in 0..<a.T { (a.out + t * a.OC + lo).update(from: tmp + t * n, count: n) }
        }
    }
}
