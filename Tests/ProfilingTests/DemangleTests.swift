// Frame names: the runtime demangler on real mangled symbols (taken from a perf recording of workbench), and
// the simplifier on a table of demangled forms, including the odd ones (closures, thunks, specializations,
// private discriminators, getters, operators it must leave alone).
import Foundation
@testable import Profiling
import XCTest

final class DemangleTests: XCTestCase {
    func testReadableNamesOfRealSymbols() {
        let cases: [(String, String)] = [
            ("$s7Kernels11microkernelyySi_AA15TileDestinationVzSPySfGAES4itF", "Kernels.microkernel(_:_:_:_:_:_:_:_:)"),
            ("$s7Kernels18matmulForwardTiled__6packed4bias1T1C2OC7columnsySpySfG_SPySfGA2JSgS3iSnySiGtF",
             "Kernels.matmulForwardTiled(_:_:packed:bias:T:C:OC:columns:)"),
            ("$s7Kernels10PoolShared33_0FC650E29C703542D5679975AE2905E2LLC10workerLoop3ithySi_tF", "Kernels.PoolShared.workerLoop(ith:)"),
            ("$s7Kernels10WorkerPoolC11parallelFor_5align06minPerB0_ySi_S2iySnySiGXEtFySi_SitXEfU_",
             "closure #1 in Kernels.WorkerPool.parallelFor(_:align:minPerWorker:_:)"),
            ("$s7Kernels13MatmulVariantV5split_4poolyAA0B4ArgsV_AA10WorkerPoolCtFySnySiGXEfU_TATm",
             "merged partial apply forwarder for closure #1 in Kernels.MatmulVariant.split(_:pool:)"),
            ("$s7Kernels14MatmulVariantsO11tiledKernelyyAA0B4ArgsV_SnySiGtYbFZTf4nnd_n", "specialized static Kernels.MatmulVariants.tiledKernel"),
            ("$s4GPT20A5ModelC7forward_4pos09allLogitsSRySfGSays5Int32VG_SiSbtF9layernormL_____4rowsySpySfG_SPySfGA2NSnySiGtFyAOXEfU_",
             "closure #1 in layernorm #1 in GPT2.GPT2Model.forward(_:pos0:allLogits:)"),
            ("$s4GPT20A5ModelC8generate6prompt1n7sampler7kvCache11firstLogits7onTokenSays5Int32VGAM_SiAA7SamplerOSbySRySfG_SitcSgyALXEtKF",
             "GPT2.GPT2Model.generate(prompt:n:sampler:kvCache:firstLogits:onToken:)"),
            ("$s14ArgumentParser15ParsableCommandPAAE28includesPassthroughArgumentsSbvgZ",
             "static ArgumentParser.ParsableCommand.includesPassthroughArguments.getter"),
            ("$s9workbench9WorkbenchV7ProfileV14ArgumentParser15ParsableCommandAafGP3runyyKFTW",
             "protocol witness for ArgumentParser.ParsableCommand.run() in conformance workbench.Workbench.Profile in workbench"),
            ("$s7Kernels10WorkerPoolC5count3pinACSi_SbtcfcSvSgAFcfU_To", "@objc closure #1 in Kernels.WorkerPool.init(count:pin:)"),
        ]
        for (mangled, expected) in cases {
            XCTAssertTrue(Demangler.isSwiftMangled(mangled))
            XCTAssertNotNil(Demangler.demangle(mangled), mangled)
            XCTAssertEqual(Demangler.readable(mangled), expected, mangled)
        }
    }

    func testNonSwiftNamesAreLeftAlone() {
        for s in ["main", "__libc_start_call_main", "swift_retain", "_ZNSt6vectorIiSaIiEE9push_backERKi", "[unknown]", "$notswift", ""] {
            XCTAssertEqual(Demangler.readable(s), s)
        }
        XCTAssertNil(Demangler.demangle("memcpy"))
    }

    func testCompilerSuffixesAreKeptReadable() {
        // An LLVM-renamed local copy of a Swift function: the name demangles, the suffix stays visible.
        let r = Demangler.readable("$s7Kernels11microkernelyySi_AA15TileDestinationVzSPySfGAES4itF.llvm.1234")
        XCTAssertTrue(r.hasPrefix("Kernels.microkernel(_:_:_:_:_:_:_:_:)"), r)
    }

    func testSimplifierTable() {
        let cases: [(String, String)] = [
            ("Kernels.matmulForwardNaive(_: Swift.UnsafeMutablePointer<Swift.Float>, _: Swift.UnsafePointer<Swift.Float>, weight: Swift.UnsafePointer<Swift.Float>, bias: Swift.Optional<Swift.UnsafePointer<Swift.Float>>, T: Swift.Int, C: Swift.Int, OC: Swift.Int, columns: Swift.Range<Swift.Int>) -> ()",
             "Kernels.matmulForwardNaive(_:_:weight:bias:T:C:OC:columns:)"),
            ("closure #1 (Swift.Int, Swift.Int) -> () in Kernels.WorkerPool.parallelFor(_: Swift.Int, align: Swift.Int, minPerWorker: Swift.Int, _: (Swift.Range<Swift.Int>) -> ()) -> ()",
             "closure #1 in Kernels.WorkerPool.parallelFor(_:align:minPerWorker:_:)"),
            ("Kernels.WorkerPool.(workerLoop in _0FC650E29C703542D5679975AE2905E2)(ith: Swift.Int) -> ()", "Kernels.WorkerPool.workerLoop(ith:)"),
            ("generic specialization <Swift.Float> of Kernels.sum<A where A: Swift.BinaryFloatingPoint>(_: [A]) -> A", "specialized Kernels.sum(_:)"),
            ("function signature specialization <Arg[0] = [Closure Propagated : $s1A1fyyF, Argument Types : [Swift.Int]> of A.g(_: (Swift.Int) -> ()) -> ()",
             "specialized A.g(_:)"),
            ("Profiling.DiffRow.totalB.modify : Swift.Double with unmangled suffix \".resume.0\"", "Profiling.DiffRow.totalB.modify"),
            ("partial apply forwarder for reabstraction thunk helper from @escaping @callee_guaranteed () -> () to @escaping @callee_guaranteed () -> (@out ())",
             "partial apply forwarder for reabstraction thunk"),
            ("static Kernels.MatmulVariants.tiledKernel@Sendable (Kernels.MatmulArgs, Swift.Range<Swift.Int>) -> ()", "static Kernels.MatmulVariants.tiledKernel"),
            ("closure #2 @Sendable (Swift.Int) -> () in static Bench.Peak.readBandwidthGBs(bytes: Swift.Int, threads: Swift.Int) -> Swift.Double",
             "closure #2 in static Bench.Peak.readBandwidthGBs(bytes:threads:)"),
            ("A.f(x: inout Swift.Int, y: any Swift.Error) async throws -> (Swift.Int, Swift.String)", "A.f(x:y:)"),
            ("generic specialization <Swift.Int> of (extension in Swift):Swift.Sequence._copySequenceContents(initializing: Swift.UnsafeMutableBufferPointer<A.Element>) -> (A.Iterator, Swift.Int)",
             "specialized Sequence._copySequenceContents(initializing:)"),
            ("type metadata accessor for workbench.Workbench.Compare.(CodingKeys in _03CDEB99CF0140D20D1CB324F83DDAF7)",
             "type metadata accessor for workbench.Workbench.Compare.CodingKeys"),
            ("A.B.init() -> A.B", "A.B.init()"),
        ]
        for (demangled, expected) in cases {
            XCTAssertEqual(Demangler.simplify(demangled), expected, demangled)
        }
        // An operator name the parser cannot follow: the text survives, only without `Swift.` qualifiers.
        let op = "protocol witness for static Swift.Comparable.< infix(A, A) -> Swift.Bool in conformance X.Y : Swift.Comparable in X"
        XCTAssertEqual(Demangler.simplify(op), op.replacingOccurrences(of: "Swift.", with: ""))
    }

    func testFrameNamesAreSafeForTheFoldedFormat() {
        XCTAssertEqual(FrameName.function("operator;weird(int)"), "operator:weird(int)")
        XCTAssertEqual(FrameName.function("pthread_cond_wait@@GLIBC_2.3.2"), "pthread_cond_wait")
        XCTAssertEqual(FrameName.function("cfree@GLIBC_2.2.5"), "cfree")
        XCTAssertEqual(FrameName.unknown(module: "/usr/lib/x86_64-linux-gnu/libc.so.6"), "[unknown] (libc.so.6)")
        XCTAssertEqual(FrameName.unknown(module: nil), "[unknown]")
        XCTAssertEqual(FrameName.kernel("do_syscall_64"), "do_syscall_64_[k]")
        // No symbol: the module and the address in it (what addr2line -e MODULE takes).
        XCTAssertEqual(FrameName.unsymbolised(module: "/usr/bin/gzip", address: 0x1a2f0), "gzip+0x1a2f0")
        XCTAssertEqual(FrameName.unsymbolised(module: nil, address: 0x8), "[unknown]+0x8")
        XCTAssertEqual(FrameName.kernelUnsymbolised(address: 0xffffffff81000000), "[kernel.kallsyms]+0xffffffff81000000_[k]")
        // And back, from folded text: the module a name says it lies in.
        XCTAssertEqual(FrameName.module(ofName: "gzip+0x1a2f0"), "gzip")
        XCTAssertEqual(FrameName.module(ofName: "[unknown] (libc.so.6)"), "libc.so.6")
        XCTAssertEqual(FrameName.module(ofName: "do_syscall_64_[k]"), "[kernel.kallsyms]")
        XCTAssertNil(FrameName.module(ofName: "[unknown]+0x8"))
        XCTAssertNil(FrameName.module(ofName: "Kernels.matmul(_:)"))
        XCTAssertNil(FrameName.module(ofName: "operator+0xzz"))
    }
}
