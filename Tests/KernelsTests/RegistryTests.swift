import Experiments
import XCTest
@testable import Kernels

/// The registries' invariants, whatever variants they hold (the names are not pinned: experiments add
/// their own), and registration: open, start-up only, thread-safe, names checked.
final class RegistryTests: XCTestCase {
    override func setUp() { Experiments.register() }

    func assertInvariants<V: KernelVariant>(_ r: VariantRegistry<V>, defaultName: String, file: StaticString = #filePath, line: UInt = #line) {
        let names = r.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "names are unique: \(names)", file: file, line: line)
        XCTAssertEqual(r.all.first?.name, r.builtIn.first?.name, "the reference comes first", file: file, line: line)
        XCTAssertNotNil(r.named(defaultName), file: file, line: line)
        XCTAssertTrue(r.isBuiltIn(defaultName), "the engine default is a core variant", file: file, line: line)
        XCTAssertNil(r.named("nope"), file: file, line: line)
        for v in r.all {
            XCTAssertFalse(v.summary.isEmpty || v.summary.contains("\n"), "\(v.name): one-line summary", file: file, line: line)
            XCTAssertNil(VariantRegistry<V>.problem(name: v.name), "\(v.name) can be written in a spec", file: file, line: line)
            XCTAssertTrue(v.tolerance > 0 && v.tolerance < 1, "\(v.name): tolerance \(v.tolerance)", file: file, line: line)
        }
    }

    func testMatmulRegistry() {
        assertInvariants(MatmulVariants.registry, defaultName: MatmulVariants.defaultName)
        XCTAssertEqual(MatmulVariants.reference.name, "naive")
        XCTAssertNil(MatmulVariants.named("Tiled"), "names are case-sensitive")
        // the engine default is held to the determinism rule and splits whole panels
        let d = MatmulVariants.named(MatmulVariants.defaultName)!
        XCTAssertTrue(d.bitReproducible)
        XCTAssertNil(d.ownThreads)
        // `tiled` and `threaded` give the same bits from T = 16 (threaded reads the row-major weights; the summary says so)
        let tiled = MatmulVariants.named("tiled")!, threaded = MatmulVariants.named("threaded")!
        XCTAssertEqual(tiled.columnAlignment, threaded.columnAlignment)
        XCTAssertTrue(threaded.summary.contains("bit-identical to tiled"), threaded.summary)
        XCTAssertFalse(tiled.standaloneOnPool); XCTAssertTrue(threaded.standaloneOnPool)
    }

    func testAttentionRegistry() {
        assertInvariants(AttentionVariants.registry, defaultName: AttentionVariants.defaultName)
        XCTAssertEqual(AttentionVariants.reference.name, "naive")
        XCTAssertNil(AttentionVariants.named(""))
    }

    func testExperimentsAreRegisteredAfterTheCoreVariants() {
        for v in Experiments.matmul {
            XCTAssertNotNil(MatmulVariants.named(v.name), v.name)
            XCTAssertFalse(MatmulVariants.registry.isBuiltIn(v.name))
        }
        XCTAssertEqual(Array(MatmulVariants.all.prefix(MatmulVariants.registry.builtIn.count).map(\.name)),
                       MatmulVariants.registry.builtIn.map(\.name))
        Experiments.register()  // a second call does nothing
        XCTAssertEqual(MatmulVariants.all.count, MatmulVariants.registry.builtIn.count + Experiments.matmul.count)
    }

    func testRegistration() throws {
        let r = VariantRegistry<MatmulVariant>(kernel: "matmul", builtIn: [MatmulVariants.reference])
        let mine = MatmulVariant(name: "mine", summary: "test") { _, _ in }
        try r.register(mine)
        XCTAssertEqual(r.all.map(\.name), ["naive", "mine"])
        XCTAssertThrowsError(try r.register(mine)) { XCTAssertTrue("\($0)".contains("taken"), "\($0)") }
        XCTAssertThrowsError(try r.register(MatmulVariant(name: "naive", summary: "x") { _, _ in }))
        for bad in ["", "a,b", "a=b", "a:b", "./x", "lib.so", "two words"] {
            XCTAssertThrowsError(try r.register(MatmulVariant(name: bad, summary: "x") { _, _ in }), "'\(bad)'")
        }
        XCTAssertEqual(r.all.count, 2)
    }

    /// Registration takes a lock: many threads registering at once lose nothing.
    func testConcurrentRegistration() {
        let r = VariantRegistry<MatmulVariant>(kernel: "matmul", builtIn: [MatmulVariants.reference])
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            try? r.register(MatmulVariant(name: "v\(i)", summary: "test") { _, _ in })
            _ = r.all
        }
        XCTAssertEqual(Set(r.all.map(\.name)).count, 65)
    }

    func testResolve() throws {
        XCTAssertEqual(try MatmulVariants.resolve("tiled").name, "tiled")
        XCTAssertThrowsError(try MatmulVariants.resolve("nope")) { e in
            // "(known: a, b, c)" lists exactly the registry's names (scripts and the reference tests read it)
            let text = "\(e)"
            XCTAssertTrue(text.contains("unknown matmul variant 'nope'"), text)
            guard let open = text.range(of: "(known: "), let close = text[open.upperBound...].firstIndex(of: ")") else { return XCTFail(text) }
            XCTAssertEqual(text[open.upperBound..<close].components(separatedBy: ", "), MatmulVariants.all.map(\.name))
        }
        XCTAssertThrowsError(try AttentionVariants.resolve("nope")) { XCTAssertTrue("\($0)".contains("unknown attention variant 'nope'")) }
    }

    func testSharedLibrarySpecs() {
        XCTAssertTrue(SharedLibraryMatmul.isLibrarySpec("./libmine.so"))
        XCTAssertTrue(SharedLibraryMatmul.isLibrarySpec("libmine.so"))
        XCTAssertTrue(SharedLibraryMatmul.isLibrarySpec("/opt/k/libk.so.1"))
        XCTAssertTrue(SharedLibraryMatmul.isLibrarySpec("libmine.so:my_matmul"))
        XCTAssertFalse(SharedLibraryMatmul.isLibrarySpec("tiled"))
        XCTAssertTrue(SharedLibraryMatmul.split("./a.so:my_mm") == ("./a.so", "my_mm"))
        XCTAssertTrue(SharedLibraryMatmul.split("./a.so") == ("./a.so", "matmul_forward"))
        XCTAssertTrue(SharedLibraryMatmul.split("./dir:x/a.so") == ("./dir:x/a.so", "matmul_forward"), "a colon inside the path")
        XCTAssertTrue(SharedLibraryMatmul.split("./a.so:9x") == ("./a.so:9x", "matmul_forward"), "not a C identifier")
    }

    func testSharedLibraryErrors() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/registry-tests-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try MatmulVariants.resolve(dir + "/missing.so")) { e in
            XCTAssertEqual((e as? SharedLibraryError)?.path, dir + "/missing.so")
            XCTAssertTrue("\(e)".contains("no such file"), "\(e)")
        }
        let text = dir + "/text.so"
        try Data("not an ELF file\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try MatmulVariants.resolve(text)) { XCTAssertTrue("\($0)".contains("not a loadable shared library"), "\($0)") }
        XCTAssertThrowsError(try MatmulVariants.resolve(dir)) { XCTAssertTrue("\($0)".contains(dir + ": "), "\($0)") }
    }

    func testBLASReportsItsConfiguration() {
        XCTAssertFalse(BLASThreads.config.isEmpty)
    }
}
