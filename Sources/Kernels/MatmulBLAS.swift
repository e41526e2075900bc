// Matmul variant `blas`: OpenBLAS's sgemm, the outside yardstick (not bit-reproducible across shapes:
// OpenBLAS picks its blocking and its summation order from T, OC and its thread count).
import CBLAS
import Synchronization

/// out[:, columns] = inp · weight[columns, :]ᵀ (cblas_sgemm, row-major, weight transposed; cblas_sgemv
/// when T = 1), then + bias.
/// out: [T, OC], inp: [T, C], weight: [>= OC, C] (row-major), bias: [OC] or nil. `threads` is the number
/// of OpenBLAS threads for the call (set with openblas_set_num_threads when it changes).
public func matmulForwardBLAS(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>,
    threads: Int
) {
    if columns.isEmpty || T == 0 { return }
    BLASThreads.use(threads)
    let lo = columns.lowerBound, n = columns.count
    if T == 1 {
        // decode: OpenBLAS's sgemm does not switch to its matrix-vector kernel by itself
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(C), 1, weight + lo * C, Int32(C), inp, 1, 0, out + lo, 1)
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(n), Int32(C),
                    1, inp, Int32(C), weight + lo * C, Int32(C), 0, out + lo, Int32(OC))
    }
    guard let bias else { return }
    for t in 0..<T {
        let row = out + t * OC
        for o in columns { row[o] += bias[o] }
    }
}

/// OpenBLAS's thread count, changed only when a call asks for a different one.
public enum BLASThreads {
    private static let current = Atomic<Int>(0)

    /// Makes OpenBLAS use `n` threads (>= 1) from now on.
    public static func use(_ n: Int) {
        let n = max(1, n)
        if current.exchange(n, ordering: .relaxed) != n { openblas_set_num_threads(Int32(n)) }
    }

    /// The OpenBLAS build's description (version, threading, target core).
    public static var config: String { String(cString: openblas_get_config()) }
}
