import Foundation
import FuzzTargets
import XCTest

/// Replays the fuzz corpus and every crash libFuzzer ever found (Tests/Fuzz/<target>/*) through the targets:
/// each must return without trapping.
final class FuzzRegressionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    func testCorpusAndCrashesReplay() throws {
        var ran = 0
        for target in FuzzTarget.allCases {
            let dir = Self.root.appendingPathComponent(target.rawValue)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            XCTAssertFalse(files.isEmpty, "no kept inputs for \(target.rawValue) in \(dir.path)")
            for f in files.sorted() {
                target.run(try Data(contentsOf: dir.appendingPathComponent(f)))
                ran += 1
            }
        }
        XCTAssertGreaterThan(ran, 0)
    }
}
