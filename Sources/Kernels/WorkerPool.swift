import Foundation
import Synchronization

/// A static pool of `count` workers created once: the caller is worker 0, `count - 1` persistent threads
/// are the others. `run` hands every worker the same job `(ith, nth)` and returns when all have finished.
/// Workers spin briefly between jobs (so a forward pass's ~100 dispatches cost microseconds, not a
/// thread wake-up each) and then sleep on a condition variable. Dropping the pool stops and joins them.
///
/// Work is split the same few lines everywhere, ggml-style: see `WorkerPool.split`.
public final class WorkerPool: @unchecked Sendable {
    /// Number of workers, the caller included (>= 1).
    public let count: Int
    /// Whether the threads were pinned to CPUs (`pin: true` at creation and the calls succeeded).
    public private(set) var pinned = false

    private let shared: PoolShared
    private var threads: [pthread_t] = []
    private var callerAffinity: [Int] = []

    /// Creates a pool of `count` workers (the calling thread counts as one). With `pin`, worker i binds
    /// itself to CPU i (mod the CPUs online) and the calling thread to CPU 0.
    public init(count: Int, pin: Bool = false) {
        self.count = max(1, count)
        shared = PoolShared(count: self.count, pin: pin)
        for ith in 1..<self.count {
            // Workers hold only the shared state, never the pool, so dropping the pool runs deinit.
            let box = Unmanaged.passRetained(WorkerStart(shared: shared, ith: ith))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.shared.workerLoop(ith: start.ith)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(tid)
        }
        if pin {
            callerAffinity = CPUAffinity.current()
            pinned = WorkerPool.pinCurrentThread(cpu: 0)
        }
    }

    deinit {
        shared.stop()
        for t in threads { pthread_join(t, nil) }
        if pinned && !callerAffinity.isEmpty { CPUAffinity.set(callerAffinity) }  // unpin the creating thread
    }

    /// Runs `body(ith, nth)` on every worker (ith in 0..<nth, nth == count) and waits for all of them.
    /// Not reentrant: call it from one thread at a time, and not from inside a job.
    public func run(_ body: (Int, Int) -> Void) {
        if count == 1 { body(0, 1); return }
        shared.run(body)
    }

    /// Splits `n` items into `nth` contiguous chunks of ceil(n / nth) (rounded up to a multiple of `align`)
    /// and returns chunk `ith` (possibly empty).
    @inlinable
    public static func split(_ n: Int, ith: Int, nth: Int, align: Int = 1) -> Range<Int> {
        var per = (n + nth - 1) / nth
        per = (per + align - 1) / align * align
        let lo = min(n, ith * per)
        return lo..<min(n, lo + per)
    }

    /// Runs `body(range)` over `0..<n` split into one contiguous chunk per worker (aligned to `align`).
    /// Small problems (n < minPerWorker * 2) run on the caller alone.
    public func parallelFor(_ n: Int, align: Int = 1, minPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        if count == 1 || n < 2 * minPerWorker || n <= align {
            if n > 0 { body(0..<n) }
            return
        }
        run { ith, nth in
            let r = WorkerPool.split(n, ith: ith, nth: nth, align: align)
            if !r.isEmpty { body(r) }
        }
    }

    static func pinCurrentThread(cpu: Int) -> Bool {
        let ncpu = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return CPUAffinity.set([cpu % ncpu])
    }
}

/// The state the pool's threads share: the current job, a generation counter that announces it, the count
/// of workers still running it, and a mutex/condition for workers that went to sleep.
private final class PoolShared: @unchecked Sendable {
    let count: Int
    let pin: Bool
    let generation = Atomic<Int>(0)
    let pending = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    var job: ((Int, Int) -> Void)?
    var stopping = false
    var mutex = pthread_mutex_t()
    var cond = pthread_cond_t()
    /// Spins before a worker goes to sleep waiting for the next job.
    let spinLimit = 200_000

    init(count: Int, pin: Bool) {
        self.count = count; self.pin = pin
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    func stop() {
        pthread_mutex_lock(&mutex)
        stopping = true
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }

    func run(_ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            pending.store(count - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&cond)
                pthread_mutex_unlock(&mutex)
            }
            escaping(0, count)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 1000 { sched_yield() }
            }
            job = nil
        }
    }

    func workerLoop(ith: Int) {
        if pin { _ = WorkerPool.pinCurrentThread(cpu: ith) }
        var seen = 0
        while true {
            var spins = 0
            var g = generation.load(ordering: .acquiring)
            while g == seen {
                spins += 1
                if spins < spinLimit {
                    g = generation.load(ordering: .acquiring)
                    continue
                }
                pthread_mutex_lock(&mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                g = generation.load(ordering: .sequentiallyConsistent)
                while g == seen && !stopping {
                    pthread_cond_wait(&cond, &mutex)
                    g = generation.load(ordering: .acquiring)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(&mutex)
                spins = 0
            }
            seen = g
            pthread_mutex_lock(&mutex)
            let stop = stopping
            pthread_mutex_unlock(&mutex)
            if stop { return }
            if let job { job(ith, count) }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

private final class WorkerStart {
    let shared: PoolShared
    let ith: Int
    init(shared: PoolShared, ith: Int) { self.shared = shared; self.ith = ith }
}

/// The calling thread's CPU affinity (glibc's sched_{get,set}affinity, looked up at run time because
/// Swift's Glibc module hides these GNU extensions).
public enum CPUAffinity {
    private typealias Fn = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
    private static func fn(_ name: String) -> Fn? {
        guard let sym = dlsym(nil /* RTLD_DEFAULT on glibc */, name) else { return nil }
        return unsafeBitCast(sym, to: Fn.self)
    }

    /// CPUs the calling thread may run on (empty if unknown).
    public static func current() -> [Int] {
        guard let get = fn("sched_getaffinity") else { return [] }
        var set = [UInt8](repeating: 0, count: 128)
        let rc = set.withUnsafeMutableBytes { get(0, 128, $0.baseAddress) }
        guard rc == 0 else { return [] }
        return (0..<1024).filter { set[$0 / 8] & UInt8(1 << ($0 % 8)) != 0 }
    }

    /// Binds the calling thread to `cpus`; true on success.
    @discardableResult
    public static func set(_ cpus: [Int]) -> Bool {
        guard let setf = fn("sched_setaffinity"), !cpus.isEmpty else { return false }
        var set = [UInt8](repeating: 0, count: 128)
        for c in cpus where c >= 0 && c < 1024 { set[c / 8] |= UInt8(1 << (c % 8)) }
        return set.withUnsafeMutableBytes { setf(0, 128, $0.baseAddress) } == 0
    }
}
