// What every report of the Lab shares: the one JSON encoder (sorted keys, non-finite numbers as strings) and
// the one-line error users see. Every JSON the tool writes carries a `schema` field: its format's version,
// bumped when a field changes meaning or disappears (new fields do not bump it).
import Basics
import Foundation

/// A bad request to the Lab: printed by the CLI as one line `workbench: <message>`, exit status 2.
public struct LabError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum LabJSON {
    /// `value` as pretty-printed JSON with sorted keys; infinities and NaN as the strings "inf", "-inf", "nan".
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    public static func data<T: Encodable>(_ value: T) throws -> Data { try ToolJSON.data(value) }
}

/// `s` padded with spaces on the right to at least `n` characters (a space added when it is longer).
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
/// `s` padded with spaces on the left to at least `n` characters (a space added when it is longer).
func rpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
/// "1.23e-05", "-" for nil, "nan".
func sci(_ x: Double?) -> String { x.map { $0.isNaN ? "nan" : String(format: "%.2e", $0) } ?? "-" }

/// A unit for durations given in nanoseconds, chosen so the reference value shows 3-4 significant digits;
/// every value of a row uses its median's unit.
struct TimeUnit {
    let scale: Double, name: String, digits: Int
    init(_ reference: Double) {
        switch reference {
        case ..<1e3: (scale, name, digits) = (1, "ns", 1)
        case ..<1e6: (scale, name, digits) = (1e3, "us", 2)
        case ..<1e9: (scale, name, digits) = (1e6, "ms", 2)
        default: (scale, name, digits) = (1e9, "s", 3)
        }
    }
    func format(_ v: Double) -> String { String(format: "%.\(digits)f %@", v / scale, name as NSString) }
}
