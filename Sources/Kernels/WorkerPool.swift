import Foundation
import Synchronization

/// A static pool of `count` workers created once: the caller is worker 0, `count - 1` persistent threads
/// are the others. Two kinds of job:
///
/// - `forEachChunk(n)` / `parallelFor`: n chunks handed out one at a time from a shared atomic counter
///   (ggml's chunked scheduling). Whoever is running takes the next chunk, so a worker that the OS has
///   descheduled (a CPU hog on its core, another process) only delays the chunk it already holds; the
///   others, the caller included, do the rest. The job ends when every chunk is done: nobody waits for a
///   worker that has not shown up. The engine uses this for every op it splits.
/// - `run`: every worker runs `body(ith, nth)` itself, once, and the caller waits for all of them
///   (thread-affine work: pre-faulting each thread's stack, the scaling probe).
///
/// Waiting never burns a core for long: a worker spins on the job counter for `spinMicroseconds`
/// (default 50 µs, `$WORKBENCH_POOL_SPIN_US`), then sleeps on a futex until the caller posts the next job;
/// the caller spins as long for the last chunks of a job, then sleeps on a futex until the worker holding
/// the last chunk finishes it. A forward pass has ~170 dispatches a few µs apart, so on a quiet machine the
/// workers never sleep inside one; beside a CPU hog a waiting thread gives its core away within 50 µs.
///
/// Which worker computes a chunk changes from run to run; what a chunk computes does not, so a kernel whose
/// outputs do not depend on how its range is cut gives the same bits for every worker count and schedule.
/// Dropping the pool stops and joins the threads.
public final class WorkerPool: @unchecked Sendable {
    /// Number of workers, the caller included (>= 1).
    public let count: Int
    /// Whether the threads were pinned to CPUs (`pin: true` at creation and the calls succeeded).
    public private(set) var pinned = false
    /// How long a waiting thread spins before it sleeps on the futex.
    public let spinMicroseconds: Int

    private let shared: PoolShared
    private var threads: [pthread_t] = []
    private var callerAffinity: [Int] = []

    /// Creates a pool of `count` workers (the calling thread counts as one). With `pin`, worker i binds
    /// itself to CPU i (mod the CPUs online) and the calling thread to CPU 0. `spinMicroseconds` (default:
    /// `$WORKBENCH_POOL_SPIN_US`, else 50) bounds every busy-wait before a thread sleeps.
    public init(count: Int, pin: Bool = false, spinMicroseconds: Int? = nil) {
        self.count = max(1, count)
        let envSpin = ProcessInfo.processInfo.environment["WORKBENCH_POOL_SPIN_US"].flatMap { Int($0) }
        self.spinMicroseconds = max(0, spinMicroseconds ?? envSpin ?? 50)
        shared = PoolShared(count: self.count, pin: pin, spinNanos: UInt64(self.spinMicroseconds) * 1000)
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

    /// Runs `body(ith, nth)` on every worker (ith in 0..<nth, nth == count), each on its own thread, and
    /// waits for all of them. For work that must run on every thread; split work goes to `forEachChunk`.
    /// Not reentrant: call it from one thread at a time, and not from inside a job.
    public func run(_ body: (Int, Int) -> Void) {
        if count == 1 { body(0, 1); return }
        shared.broadcast(body)
    }

    /// Runs `body(chunk, worker)` once for every chunk in 0..<n, the chunks taken one by one by whichever
    /// workers are running; returns when all are done. `worker` (0..<count) names the thread running the
    /// chunk: two chunks running at the same time never share it, so it can index per-worker scratch.
    /// Not reentrant: call it from one thread at a time, and not from inside a job.
    public func forEachChunk(_ n: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void) {
        if n <= 0 { return }
        if count == 1 || n == 1 {
            for c in 0..<n { body(c, 0) }
            return
        }
        shared.chunks(n, body)
    }

    /// Runs `body(range)` over `0..<n` cut into chunks of `chunkSize(n, align:minimum:)` items (a multiple
    /// of `align`, at least `minPerWorker`, about 8 chunks per worker), scheduled as `forEachChunk`.
    /// Small problems (n < minPerWorker * 2) run on the caller alone.
    public func parallelFor(_ n: Int, align: Int = 1, minPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        if count == 1 || n < 2 * minPerWorker || n <= align {
            if n > 0 { body(0..<n) }
            return
        }
        let size = WorkerPool.chunkSize(n, workers: count, align: align, minimum: minPerWorker)
        forEachChunk((n + size - 1) / size) { c, _ in body((c * size)..<min(n, (c + 1) * size)) }
    }

    /// Items per chunk when `n` items are cut for `workers` workers: about `perWorker` chunks each, rounded
    /// up to a multiple of `align`, never fewer than `minimum` items.
    @inlinable
    public static func chunkSize(_ n: Int, workers: Int, align: Int = 1, minimum: Int = 1, perWorker: Int = 8) -> Int {
        let a = max(1, align)
        var size = max(max(1, minimum), (n + workers * perWorker - 1) / max(1, workers * perWorker))
        size = (size + a - 1) / a * a
        return size
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

    /// A number naming the job the calling thread is working on right now (unique across all pools of the
    /// process), or 0 outside a job. Kernels use it to do per-call work once per thread and reuse it for
    /// every chunk of the same call (the row-major matmul's transposed input).
    public static var currentJob: UInt64 { ThreadJob.current }

    /// Chunks of chunked jobs run by each worker slot since the pool was made (slot 0 = the caller), and
    /// how often a waiting thread went to sleep (workers) or blocked (the caller). For tests and reports.
    public var statistics: (chunks: [Int], workerSleeps: Int, callerBlocks: Int) {
        (shared.chunkCounts(), Int(shared.sleepCount.load(ordering: .relaxed)), Int(shared.blockCount.load(ordering: .relaxed)))
    }

    static func pinCurrentThread(cpu: Int) -> Bool {
        let ncpu = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return CPUAffinity.set([cpu % ncpu])
    }
}

// MARK: - futex

/// Sleeping on a 32-bit word until another thread changes it (Linux futex; elsewhere a short sleep).
enum Futex {
    #if os(Linux)
    private typealias SyscallFn = @convention(c) (Int, UnsafeMutableRawPointer?, Int32, UInt32, UnsafeRawPointer?, UnsafeRawPointer?, UInt32) -> Int
    /// glibc's `syscall` is variadic (Swift cannot call it directly); its x86-64/arm64 implementation only
    /// moves registers, so calling it through a fixed prototype is sound.
    private static let syscallFn: SyscallFn? = dlsym(nil /* RTLD_DEFAULT */, "syscall").map { unsafeBitCast($0, to: SyscallFn.self) }
    #if arch(x86_64)
    private static let sysFutex = 202
    #elseif arch(arm64)
    private static let sysFutex = 98
    #else
    private static let sysFutex = -1
    #endif
    private static let waitPrivate: Int32 = 0 | 128, wakePrivate: Int32 = 1 | 128
    #endif

    /// Sleeps while `*word == expected` (returns at once if it differs; may return spuriously).
    static func wait(_ word: UnsafeMutablePointer<Atomic<UInt32>>, _ expected: UInt32) {
        #if os(Linux)
        if let f = syscallFn, sysFutex > 0 {
            _ = f(sysFutex, UnsafeMutableRawPointer(word), waitPrivate, expected, nil, nil, 0)
            return
        }
        #endif
        usleep(50)
    }

    /// Wakes up to `n` threads sleeping on `word`.
    static func wake(_ word: UnsafeMutablePointer<Atomic<UInt32>>, _ n: Int32) {
        #if os(Linux)
        if let f = syscallFn, sysFutex > 0 {
            _ = f(sysFutex, UnsafeMutableRawPointer(word), wakePrivate, UInt32(bitPattern: n), nil, nil, 0)
        }
        #endif
    }
}

// MARK: - the job a thread is working on

/// The calling thread's current job number (thread-local through a pthread key).
enum ThreadJob {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    /// Next job number, shared by every pool.
    private static let counter = Atomic<UInt64>(0)
    static func next() -> UInt64 { counter.wrappingAdd(1, ordering: .relaxed).newValue }
    static var current: UInt64 {
        get { UInt64(UInt(bitPattern: pthread_getspecific(key))) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(newValue))) }
    }
}

// MARK: - shared state

/// What the pool's threads share. The job in progress is described by one 64-bit claim word:
///
///     bits 63..44  serial of the job (20 bits, wraps)
///     bit  43      broadcast (`run`: each worker runs its own ith once) or chunked (`forEachChunk`)
///     bits 42..22  n, the number of chunks (< 2^21)
///     bits 21..0   next, the next chunk to hand out (fetch-and-add; may run a little past n)
///
/// A worker claims a chunk with one fetch-and-add; if `next < n` in the value it got back, the chunk is
/// its own, and the job (whose closure it then reads) cannot end before that chunk is done, because the
/// caller waits for `done == n`. So a worker that wakes late can only claim chunks of the job that is
/// current, never touch a finished one. A broadcast job ends only when every worker checked in.
/// `gen` counts published jobs (workers sleep on it), `done` counts finished chunks (the caller sleeps on
/// it); each sits on its own cache line.
private final class PoolShared: @unchecked Sendable {
    let count: Int
    let pin: Bool
    let spinNanos: UInt64

    private let words: UnsafeMutableRawPointer
    let gen: UnsafeMutablePointer<Atomic<UInt32>>
    let done: UnsafeMutablePointer<Atomic<UInt32>>
    let claim: UnsafeMutablePointer<Atomic<UInt64>>
    let sleepers: UnsafeMutablePointer<Atomic<UInt32>>
    let callerSleeping: UnsafeMutablePointer<Atomic<UInt32>>
    let stopping: UnsafeMutablePointer<Atomic<UInt32>>
    let sleepCount = Atomic<UInt64>(0)
    let blockCount = Atomic<UInt64>(0)
    /// Chunks run per worker slot (each slot written only by its own thread).
    private let chunkCounter: UnsafeMutablePointer<Int>

    /// The job's closure and number; written by the caller before the claim word is published.
    var job: ((Int, Int) -> Void)?
    var jobNumber: UInt64 = 0
    /// Caller-only: serial of the last job published.
    private var serial: UInt64 = 0

    static let serialShift: UInt64 = 44, broadcastBit: UInt64 = 1 << 43, nShift: UInt64 = 22
    static let nMask: UInt64 = (1 << 21) - 1, nextMask: UInt64 = (1 << 22) - 1

    init(count: Int, pin: Bool, spinNanos: UInt64) {
        self.count = count; self.pin = pin; self.spinNanos = spinNanos
        let line = 128  // one (adjacent-prefetch pair of) cache line(s) per word
        let base = UnsafeMutableRawPointer.allocate(byteCount: 6 * line, alignment: line)
        words = base
        func word<T: AtomicRepresentable>(_ i: Int, _ v: T) -> UnsafeMutablePointer<Atomic<T>> {
            let p = (base + i * line).bindMemory(to: Atomic<T>.self, capacity: 1)
            p.initialize(to: Atomic(v))
            return p
        }
        gen = word(0, UInt32(0)); done = word(1, UInt32(0)); claim = word(2, UInt64(0))
        sleepers = word(3, UInt32(0)); callerSleeping = word(4, UInt32(0)); stopping = word(5, UInt32(0))
        chunkCounter = .allocate(capacity: count * 16)
        chunkCounter.initialize(repeating: 0, count: count * 16)
    }

    deinit {
        gen.deinitialize(count: 1); done.deinitialize(count: 1); claim.deinitialize(count: 1)
        sleepers.deinitialize(count: 1); callerSleeping.deinitialize(count: 1); stopping.deinitialize(count: 1)
        words.deallocate()
        chunkCounter.deallocate()
    }

    func chunkCounts() -> [Int] { (0..<count).map { chunkCounter[$0 * 16] } }

    func stop() {
        stopping.pointee.store(1, ordering: .sequentiallyConsistent)
        gen.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        Futex.wake(gen, Int32.max)
    }

    /// Announces the job whose claim word was just stored: bump `gen`, wake sleeping workers.
    private func publish() {
        gen.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if sleepers.pointee.load(ordering: .sequentiallyConsistent) > 0 { Futex.wake(gen, Int32.max) }
    }

    private func nextSerial() -> UInt64 {
        serial = (serial + 1) & ((1 << 20) - 1)
        return serial
    }

    func chunks(_ n: Int, _ body: (Int, Int) -> Void) {
        precondition(n < 1 << 21, "forEachChunk: at most 2^21 - 1 chunks")
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            jobNumber = ThreadJob.next()
            done.pointee.store(0, ordering: .relaxed)
            let s = nextSerial()
            claim.pointee.store((s << Self.serialShift) | (UInt64(n) << Self.nShift), ordering: .releasing)
            publish()
            let saved = ThreadJob.current
            ThreadJob.current = jobNumber
            _ = work(slot: 0)
            waitForDone(UInt32(n))
            ThreadJob.current = saved
            job = nil
        }
    }

    func broadcast(_ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            jobNumber = ThreadJob.next()
            done.pointee.store(0, ordering: .relaxed)
            let s = nextSerial()
            claim.pointee.store((s << Self.serialShift) | Self.broadcastBit | (UInt64(count) << Self.nShift),
                                ordering: .releasing)
            publish()
            let saved = ThreadJob.current
            ThreadJob.current = jobNumber
            escaping(0, count)
            waitForDone(UInt32(count - 1))
            ThreadJob.current = saved
            job = nil
        }
    }

    /// Runs chunk `c` of the current job (a separate frame, so the closure is released before `done` moves).
    @inline(never)
    private func runChunk(_ c: Int, _ slot: Int) { job!(c, slot) }

    /// Marks one chunk (or broadcast share) finished; wakes the caller if it was the last and it sleeps.
    @inline(__always)
    private func finish(_ n: UInt32) {
        let d = done.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        if d == n && callerSleeping.pointee.load(ordering: .sequentiallyConsistent) != 0 { Futex.wake(done, 1) }
    }

    /// Claims and runs chunks of the current chunked job until none is left. Returns the last claim word seen.
    private func work(slot: Int) -> UInt64 {
        var ran = 0
        var v: UInt64
        while true {
            v = claim.pointee.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
            if v & Self.broadcastBit != 0 { break }
            let n = (v >> Self.nShift) & Self.nMask, next = v & Self.nextMask
            if next >= n { break }
            // Every chunk names its job: a worker still in this loop when the next job is published claims
            // that job's chunks too, and a number left from the job before would let a kernel reuse per-call
            // work of that job (the row-major matmul's transposed input) for this one.
            if slot != 0 { ThreadJob.current = jobNumber }
            runChunk(Int(next), slot)
            ran += 1
            finish(UInt32(n))
        }
        if ran > 0 {
            chunkCounter[slot * 16] += ran
            if slot != 0 { ThreadJob.current = 0 }
        }
        return v
    }

    /// The caller waits for `done == n`: spins up to `spinNanos`, then sleeps on the futex.
    private func waitForDone(_ n: UInt32) {
        if done.pointee.load(ordering: .acquiring) >= n { return }
        let deadline = monotonicNanos() &+ spinNanos
        var i = 0
        while done.pointee.load(ordering: .acquiring) < n {
            i &+= 1
            if i & 63 == 0 && monotonicNanos() > deadline { break }
        }
        if done.pointee.load(ordering: .acquiring) >= n { return }
        blockCount.wrappingAdd(1, ordering: .relaxed)
        while true {
            callerSleeping.pointee.store(1, ordering: .sequentiallyConsistent)
            let d = done.pointee.load(ordering: .sequentiallyConsistent)
            if d >= n { break }
            Futex.wait(done, d)
        }
        callerSleeping.pointee.store(0, ordering: .relaxed)
    }

    func workerLoop(ith: Int) {
        if pin { _ = WorkerPool.pinCurrentThread(cpu: ith) }
        var seen: UInt32 = 0
        var lastBroadcast: UInt64 = .max
        while true {
            // wait for a new job: spin for spinNanos, then sleep on gen
            var g = gen.pointee.load(ordering: .acquiring)
            if g == seen {
                let deadline = monotonicNanos() &+ spinNanos
                var i = 0
                while g == seen {
                    i &+= 1
                    if i & 63 == 0 && monotonicNanos() > deadline { break }
                    g = gen.pointee.load(ordering: .acquiring)
                }
                if g == seen {
                    sleepCount.wrappingAdd(1, ordering: .relaxed)
                    sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    while true {
                        g = gen.pointee.load(ordering: .sequentiallyConsistent)
                        if g != seen { break }
                        Futex.wait(gen, seen)
                    }
                    sleepers.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                }
            }
            seen = g
            if stopping.pointee.load(ordering: .acquiring) != 0 { return }
            var v = claim.pointee.load(ordering: .acquiring)
            if v & Self.broadcastBit == 0 { v = work(slot: ith) }
            if v & Self.broadcastBit != 0 {
                // a broadcast job cannot end before this worker checked in, so its closure is valid here
                let s = v >> Self.serialShift
                if s != lastBroadcast {
                    lastBroadcast = s
                    ThreadJob.current = jobNumber
                    runChunk(ith, count)
                    ThreadJob.current = 0
                    finish(UInt32(count - 1))
                }
            }
        }
    }
}

/// Monotonic nanoseconds for the pool's spin deadlines.
@inline(__always)
private func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
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
