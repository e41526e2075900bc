// speedscope's file format: the required fields of the schema, and consistency (frame indices in range, one
// weight per sample, endValue = the sum of the weights, stacks root first, one profile per thread).
import Foundation
@testable import Profiling
import XCTest

final class SpeedscopeTests: XCTestCase {
    func profile() -> SampleProfile {
        var p = SampleProfile()
        let main = Frame("main", module: "/bin/app", address: 1), mm = Frame("matmul", module: "/bin/app", address: 2)
        let gelu = Frame("gelu", module: "/lib/libm.so.6", address: 3)
        p.add(Sample(frames: [main, mm], thread: "app-1"), count: 5)
        p.add(Sample(frames: [main, gelu], thread: "app-1"), count: 1)
        p.add(Sample(frames: [main, mm], thread: "app-2"), count: 3)
        p.add(Sample(frames: [main], thread: "app-2"), count: 1)
        p.periodNanos = 4_000_000
        return p
    }

    func testRequiredFieldsArePresent() throws {
        let data = try Speedscope.json(profile(), name: "test profile")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(doc["$schema"] as? String, "https://www.speedscope.app/file-format-schema.json")
        XCTAssertEqual(doc["name"] as? String, "test profile")
        XCTAssertEqual(doc["activeProfileIndex"] as? Int, 0)
        XCTAssertEqual(doc["exporter"] as? String, "workbench profile")
        let frames = try XCTUnwrap((doc["shared"] as? [String: Any])?["frames"] as? [[String: Any]])
        XCTAssertTrue(frames.allSatisfy { $0["name"] is String })
        XCTAssertEqual(frames.first { $0["name"] as? String == "gelu" }?["file"] as? String, "libm.so.6")
        let profiles = try XCTUnwrap(doc["profiles"] as? [[String: Any]])
        XCTAssertEqual(profiles.count, 2, "one profile per thread")
        for p in profiles {
            for key in ["type", "name", "unit", "startValue", "endValue", "samples", "weights"] { XCTAssertNotNil(p[key], "missing \(key)") }
            XCTAssertEqual(p["type"] as? String, "sampled")
            XCTAssertEqual(p["unit"] as? String, "nanoseconds")
        }
    }

    func testIndicesWeightsAndEndValueAreConsistent() throws {
        let f = Speedscope.file(profile(), name: "x")
        XCTAssertEqual(f.profiles.map(\.name), ["app-1", "app-2"], "most samples first")
        for p in f.profiles {
            XCTAssertEqual(p.samples.count, p.weights.count)
            XCTAssertEqual(p.startValue, 0)
            XCTAssertEqual(p.endValue, p.weights.reduce(0, +))
            XCTAssertTrue(p.samples.allSatisfy { s in !s.isEmpty && s.allSatisfy { f.shared.frames.indices.contains($0) } })
            XCTAssertTrue(p.samples.allSatisfy { f.shared.frames[$0[0]].name == "main" }, "root first")
        }
        XCTAssertEqual(f.profiles[0].endValue, 6 * 4_000_000)
        XCTAssertEqual(f.profiles[1].endValue, 4 * 4_000_000)
        let matmul = f.profiles[0].samples.firstIndex { $0.map { f.shared.frames[$0].name } == ["main", "matmul"] }!
        XCTAssertEqual(f.profiles[0].weights[matmul], 5 * 4_000_000)
        // Frames are shared: "main" once.
        XCTAssertEqual(f.shared.frames.filter { $0.name == "main" }.count, 1)
    }

    func testFoldedInputIsOneProfileInSamples() throws {
        let f = Speedscope.file(SampleProfile(StackProfile([(["a", "b"], 2), (["a"], 1)])), name: "folded")
        XCTAssertEqual(f.profiles.count, 1)
        XCTAssertEqual(f.profiles[0].name, "all")
        XCTAssertEqual(f.profiles[0].unit, "none")
        XCTAssertEqual(f.profiles[0].endValue, 3)
        // The document decodes back (the keys are the schema's).
        let back = try JSONDecoder().decode(Speedscope.File.self, from: try Speedscope.json(SampleProfile(StackProfile([(["a"], 1)])), name: "n"))
        XCTAssertEqual(back.schema, Speedscope.schema)
    }
}
