import Foundation
import Synchronization
import XCTest
@testable import Kernels

/// n atomic counters (an array cannot hold the non-copyable `Atomic`).
final class Counters: @unchecked Sendable {
    let p: UnsafeMutablePointer<Atomic<Int>>
    let count: Int
    init(_ n: Int) {
        count = n
        p = .allocate(capacity: max(1, n))
        for i in 0..<n { (p + i).initialize(to: Atomic(0)) }
    }
    deinit { p.deinitialize(count: count); p.deallocate() }
    subscript(i: Int) -> Int { p[i].load(ordering: .relaxed) }
    @discardableResult func add(_ i: Int, _ v: Int = 1) -> Int { p[i].add(v, ordering: .sequentiallyConsistent).newValue }
    func subtract(_ i: Int) { p[i].subtract(1, ordering: .sequentiallyConsistent) }
    var values: [Int] { (0..<count).map { self[$0] } }
}

/// The pool's two kinds of job: chunked (`forEachChunk`, `parallelFor`) and broadcast (`run`); every chunk
/// exactly once, per-worker slots never shared, a stalled worker not stalling the job, sleeping and waking.
final class WorkerPoolTests: XCTestCase {
    static let sizes = [1, 2, 3, 5]

    func testEveryChunkRunsExactlyOnce() {
        for k in Self.sizes {
            let pool = WorkerPool(count: k)
            for n in [1, 2, 3, 7, 64, 1000] {
                let hits = Counters(n)
                pool.forEachChunk(n) { c, worker in
                    XCTAssertTrue((0..<k).contains(worker))
                    hits.add(c)
                }
                for c in 0..<n { XCTAssertEqual(hits[c], 1, "pool \(k), n \(n), chunk \(c)") }
            }
        }
    }

    /// Two chunks running at the same time never share a worker slot (so per-worker scratch is safe).
    func testWorkerSlotsAreNeverSharedConcurrently() {
        for k in Self.sizes {
            let pool = WorkerPool(count: k)
            let busy = Counters(k), clashes = Counters(1)
            for _ in 0..<20 {
                pool.forEachChunk(200) { _, worker in
                    if busy.add(worker) != 1 { clashes.add(0) }
                    for _ in 0..<200 { _ = busy[worker] }
                    busy.subtract(worker)
                }
            }
            XCTAssertEqual(clashes[0], 0, "pool \(k)")
        }
    }

    func testParallelForCoversTheRangeInAlignedChunks() {
        for k in Self.sizes {
            let pool = WorkerPool(count: k)
            for (n, align, minimum) in [(1000, 1, 1), (1000, 32, 32), (50257, 32, 32), (7, 1, 4), (100, 16, 10)] {
                let hits = Counters(n), misaligned = Counters(1)
                pool.parallelFor(n, align: align, minPerWorker: minimum) { r in
                    if r.lowerBound % align != 0 { misaligned.add(0) }
                    for i in r { hits.add(i) }
                }
                XCTAssertEqual(misaligned[0], 0)
                XCTAssertTrue(hits.values.allSatisfy { $0 == 1 }, "pool \(k) n \(n) align \(align)")
            }
        }
    }

    func testChunkSize() {
        XCTAssertEqual(WorkerPool.chunkSize(768, workers: 2, align: 32, minimum: 32), 64)
        XCTAssertEqual(WorkerPool.chunkSize(50257, workers: 2, align: 32, minimum: 32), 3168)
        XCTAssertEqual(WorkerPool.chunkSize(10, workers: 2, align: 1, minimum: 4), 4)
        XCTAssertEqual(WorkerPool.chunkSize(1, workers: 5, align: 16, minimum: 1), 16)
    }

    /// `run` is thread-affine: ith runs on thread ith, each once, all at the same time.
    func testRunGivesEveryWorkerItsOwnThread() {
        for k in Self.sizes {
            let pool = WorkerPool(count: k)
            for _ in 0..<50 {
                var ids = [pthread_t](repeating: pthread_t(), count: k)
                let arrived = Atomic<Int>(0)
                ids.withUnsafeMutableBufferPointer { p in
                    let base = p.baseAddress!
                    pool.run { ith, nth in
                        XCTAssertEqual(nth, k)
                        base[ith] = pthread_self()
                        arrived.add(1, ordering: .sequentiallyConsistent)
                        // every worker is inside the job at once: wait (bounded) for the others
                        let deadline = Date().addingTimeInterval(5)
                        while arrived.load(ordering: .sequentiallyConsistent) < nth && Date() < deadline {}
                    }
                }
                XCTAssertEqual(arrived.load(ordering: .relaxed), k)
                XCTAssertEqual(Set(ids).count, k)
                XCTAssertEqual(ids[0], pthread_self(), "the caller is worker 0")
            }
        }
    }

    /// A worker stuck in its chunk (here: sleeping 60 ms, as if descheduled) delays only that chunk: the
    /// other workers take every other chunk meanwhile.
    func testAStalledWorkerDoesNotStallTheOthers() {
        let pool = WorkerPool(count: 3)
        let stalled = Counters(1), perSlot = Counters(3)
        let start = Date()
        pool.forEachChunk(60) { _, worker in
            perSlot.add(worker)
            if worker == 1 && stalled.add(0) == 1 {
                usleep(60_000)
            } else {
                usleep(1_000)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        let counts = perSlot.values
        XCTAssertEqual(counts.reduce(0, +), 60)
        XCTAssertLessThanOrEqual(counts[1], 1, "worker 1 was stuck in its first chunk while the others finished: \(counts)")
        XCTAssertGreaterThan(counts[0], 0)
        XCTAssertLessThan(elapsed, 1.0)
    }

    /// After a pause longer than the spin, the workers sleep; the next job wakes them and still completes.
    func testWorkersSleepAndWake() {
        let pool = WorkerPool(count: 3, spinMicroseconds: 20)
        for round in 0..<5 {
            usleep(20_000)
            let total = Atomic<Int>(0)
            pool.forEachChunk(300) { _, _ in
                total.add(1, ordering: .relaxed)
                for _ in 0..<2000 { _ = total.load(ordering: .relaxed) }
            }
            XCTAssertEqual(total.load(ordering: .relaxed), 300, "round \(round)")
            let s = Atomic<Int>(0)
            pool.run { ith, _ in s.add(ith + 1, ordering: .relaxed) }
            XCTAssertEqual(s.load(ordering: .relaxed), 1 + 2 + 3)
        }
        XCTAssertGreaterThan(pool.statistics.workerSleeps, 0)
        XCTAssertEqual(pool.statistics.chunks.reduce(0, +), 5 * 300)
    }

    /// Many tiny jobs of both kinds back to back (the protocol's races), with exact counts.
    func testManySmallJobsOfBothKinds() {
        for k in [2, 3, 5] {
            for spin in [0, 50] {
                let pool = WorkerPool(count: k, spinMicroseconds: spin)
                let chunks = Atomic<Int>(0), shares = Atomic<Int>(0)
                for i in 0..<3000 {
                    let n = 1 + i % 5
                    pool.forEachChunk(n) { _, _ in chunks.add(1, ordering: .relaxed) }
                    if i % 7 == 0 { pool.run { _, _ in shares.add(1, ordering: .relaxed) } }
                }
                let expected = (0..<3000).reduce(0) { $0 + 1 + $1 % 5 }
                XCTAssertEqual(chunks.load(ordering: .relaxed), expected, "pool \(k) spin \(spin)")
                XCTAssertEqual(shares.load(ordering: .relaxed), (0..<3000).filter { $0 % 7 == 0 }.count * k)
            }
        }
    }

    /// `currentJob` names the job inside its chunks (one number per job, the same on every worker) and is 0
    /// outside jobs.
    func testCurrentJobNamesTheJob() {
        XCTAssertEqual(WorkerPool.currentJob, 0)
        let pool = WorkerPool(count: 3)
        var seen: [Set<UInt64>] = []
        for _ in 0..<3 {
            let jobs = Mutex<Set<UInt64>>([])
            pool.forEachChunk(50) { _, _ in
                let j = WorkerPool.currentJob
                jobs.withLock { _ = $0.insert(j) }
                usleep(100)
            }
            seen.append(jobs.withLock { $0 })
        }
        XCTAssertEqual(WorkerPool.currentJob, 0)
        for s in seen { XCTAssertEqual(s.count, 1); XCTAssertFalse(s.contains(0)) }
        XCTAssertEqual(Set(seen.map { $0.first! }).count, 3, "each job has its own number")
    }
    /// A worker still claiming when the next job is published runs that job's chunks under that job's number
    /// (a number left from the job before let the row-major matmul reuse the previous call's transposed input:
    /// wrong logits in about half of all 2-thread prefills).
    func testBackToBackJobsNeverRunUnderTheJobBeforesNumber() {
        let pool = WorkerPool(count: 2)
        let jobs = 100_000, chunks = 4
        let seen = UnsafeMutablePointer<UInt64>.allocate(capacity: jobs * chunks)
        defer { seen.deallocate() }
        for j in 0..<jobs {
            pool.forEachChunk(chunks) { c, _ in seen[j * chunks + c] = WorkerPool.currentJob }
        }
        var mixed = 0
        for j in 0..<jobs where Set((0..<chunks).map { seen[j * chunks + $0] }).count != 1 { mixed += 1 }
        XCTAssertEqual(mixed, 0, "jobs whose chunks ran under more than one job number")
    }
}
