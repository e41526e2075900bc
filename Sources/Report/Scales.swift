// Scales map data values to pixels and choose the ticks of their axis.
//   linear: ticks every 1, 2 or 5 x 10^k (about `target` of them), the domain widened to whole steps;
//   log10:  ticks at the powers of ten (every other one beyond 8 decades), unlabelled minor ticks at 2..9 x 10^k;
//           a domain under two decades gets 1-2-5 ticks, under half a decade every integer multiple.
import Foundation

/// One tick of an axis. Minor ticks carry no label.
public struct Tick: Equatable, Sendable {
    public var value: Double
    public var label: String
    public var major: Bool
    public init(_ value: Double, _ label: String, major: Bool = true) { self.value = value; self.label = label; self.major = major }
}

/// A map from a data domain to a pixel range, with the ticks of its axis.
public protocol AxisScale {
    var domain: ClosedRange<Double> { get }
    /// Pixels: `range.0` at the domain's lower end, `range.1` at its upper end (y axes run downwards).
    var range: (Double, Double) { get }
    func callAsFunction(_ v: Double) -> Double
    var ticks: [Tick] { get }
}

public enum TickFormat {
    /// A tick label: 4 significant digits without trailing zeros; 1e5 style from 1e5 up and below 1e-3.
    public static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 {
            let e = Int(floor(log10(a)))
            let m = v / pow(10, Double(e))
            let ms = abs(m - m.rounded()) < 1e-9 ? String(Int(m.rounded())) : trimmed(String(format: "%.2f", m))
            return "\(ms)e\(e)"
        }
        return trimmed(String(format: a >= 1000 ? "%.0f" : "%.4g", v))
    }

    /// "%.Nf" output without trailing zeros after a decimal point.
    static func trimmed(_ s: String) -> String {
        guard s.contains("."), !s.contains("e") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}

/// A linear scale. `init(nice:)` widens the domain to whole tick steps.
public struct LinearScale: AxisScale {
    public let domain: ClosedRange<Double>
    public let range: (Double, Double)
    public let step: Double

    /// A step of 1, 2 or 5 x 10^k giving about `target` intervals over `span`.
    public static func niceStep(span: Double, target: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(1, target))
        let mag = pow(10, floor(log10(raw)))
        let f = raw / mag
        let m: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        return m * mag
    }

    /// The scale over `domain` widened to multiples of its step (a degenerate domain is widened by one unit).
    public init(nice domain: ClosedRange<Double>, range: (Double, Double), target: Int = 6) {
        var lo = domain.lowerBound, hi = domain.upperBound
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi - lo < 1e-12 * max(1, abs(hi)) { lo -= max(0.5, abs(lo) * 0.1); hi += max(0.5, abs(hi) * 0.1) }
        let s = LinearScale.niceStep(span: hi - lo, target: target)
        self.domain = (floor(lo / s + 1e-9) * s)...(ceil(hi / s - 1e-9) * s)
        self.range = range
        step = s
    }

    /// The scale over exactly `domain`, ticks every `step` (default: a nice step).
    public init(exact domain: ClosedRange<Double>, range: (Double, Double), step: Double? = nil, target: Int = 6) {
        self.domain = domain
        self.range = range
        self.step = step ?? LinearScale.niceStep(span: domain.upperBound - domain.lowerBound, target: target)
    }

    public func callAsFunction(_ v: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        let t = span > 0 ? (v - domain.lowerBound) / span : 0.5
        return range.0 + t * (range.1 - range.0)
    }

    public var ticks: [Tick] {
        var out: [Tick] = []
        let first = ceil(domain.lowerBound / step - 1e-9)
        var i = first
        while i * step <= domain.upperBound + step * 1e-9, out.count < 200 {
            var v = i * step
            if abs(v) < step * 1e-9 { v = 0 }
            out.append(Tick(v, TickFormat.label(v)))
            i += 1
        }
        return out
    }
}

/// A base-10 logarithmic scale over a positive domain.
public struct LogScale: AxisScale {
    public let domain: ClosedRange<Double>
    public let range: (Double, Double)

    /// The scale over `domain` (positive; non-positive bounds are replaced by a small positive value), widened to
    /// whole decades when it spans two or more, else to the nearest 1-2-5 values.
    public init(nice domain: ClosedRange<Double>, range: (Double, Double)) {
        var lo = domain.lowerBound, hi = domain.upperBound
        if !(hi > 0 && hi.isFinite) { hi = 1 }
        if !(lo > 0 && lo.isFinite) || lo > hi { lo = hi / 10 }
        if hi / lo < 1.0001 { lo /= 2; hi *= 2 }
        let dl = floor(log10(lo) + 1e-9), dh = ceil(log10(hi) - 1e-9)
        if log10(hi) - log10(lo) >= 2 {
            self.domain = pow(10, dl)...pow(10, dh)
        } else {
            func down(_ v: Double) -> Double {
                let m = pow(10, floor(log10(v) + 1e-9)); let f = v / m
                return (f >= 5 - 1e-9 ? 5 : f >= 2 - 1e-9 ? 2 : 1) * m
            }
            func up(_ v: Double) -> Double {
                let m = pow(10, floor(log10(v) + 1e-9)); let f = v / m
                return (f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10) * m
            }
            self.domain = down(lo)...up(hi)
        }
        self.range = range
    }

    /// The scale over exactly `domain` (both bounds positive).
    public init(exact domain: ClosedRange<Double>, range: (Double, Double)) {
        precondition(domain.lowerBound > 0, "LogScale: the domain must be positive")
        self.domain = domain; self.range = range
    }

    public func callAsFunction(_ v: Double) -> Double {
        let a = log10(domain.lowerBound), b = log10(domain.upperBound)
        let t = b > a ? (log10(max(v, 1e-300)) - a) / (b - a) : 0.5
        return range.0 + t * (range.1 - range.0)
    }

    /// Decades spanned by the domain.
    public var decades: Double { log10(domain.upperBound) - log10(domain.lowerBound) }

    public var ticks: [Tick] {
        let lo = domain.lowerBound, hi = domain.upperBound
        let eps = 1e-9
        let d0 = Int(floor(log10(lo) + eps)), d1 = Int(ceil(log10(hi) - eps))
        func within(_ v: Double) -> Bool { v >= lo * (1 - eps) && v <= hi * (1 + eps) }
        var out: [Tick] = []
        if decades >= 2 {
            let every = decades > 8 ? 2 : 1
            for d in d0...d1 {
                let p = pow(10, Double(d))
                if within(p) { out.append(Tick(p, (d - d0) % every == 0 ? TickFormat.label(p) : "", major: (d - d0) % every == 0)) }
                if d < d1 {
                    for m in 2...9 { let v = Double(m) * p; if within(v) { out.append(Tick(v, "", major: false)) } }
                }
            }
        } else {
            let multipliers: [Double] = decades >= 0.6 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9]
            for d in (d0 - 1)...d1 {
                let p = pow(10, Double(d))
                for m in multipliers {
                    let v = m * p
                    if within(v) { out.append(Tick(v, TickFormat.label(v))) }
                }
            }
        }
        return out
    }
}
