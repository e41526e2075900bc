// The report's small SVG writer: an element builder that escapes every text and attribute it is given, and
// number formatting that keeps the files short and stable. Charts (Charts.swift) are drawn with it; scales and
// their ticks are in Scales.swift. Why hand-written, not a library: Notes/report.md.
//
//   var svg = SVG(width: 600, height: 300, title: "speedup vs threads")
//   svg.line(x1: 40, y1: 260, x2: 580, y2: 260, class: "axis")
//   svg.text("threads", x: 310, y: 290, anchor: .middle, class: "label")
//   let element = svg.render()        // <svg ...><title>speedup vs threads</title>...</svg>
import Foundation

/// XML/HTML escaping of text and attribute values: & < > " ' (so the same function serves both).
public enum XML {
    public static func escape(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default:
                // Control characters other than tab/newline are not allowed in XML 1.0: drop them.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { continue }
                o.unicodeScalars.append(ch)
            }
        }
        return o
    }
}

/// A number as an SVG coordinate: at most two decimals, no trailing zeros, never "nan" (0 instead).
@inline(__always)
func num(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (v * 100).rounded() / 100
    if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// An SVG document under construction. Every string given to it is escaped; `raw` is the only way to add
/// unescaped markup (used for a complete SVG element made elsewhere, e.g. the flame graph).
public struct SVG {
    public enum Anchor: String { case start, middle, end }

    public let width: Double
    public let height: Double
    public let title: String
    /// Short description for screen readers (aria-label); the title when empty.
    public var description: String
    public private(set) var body = ""

    public init(width: Double, height: Double, title: String, description: String = "") {
        self.width = width; self.height = height; self.title = title; self.description = description
    }

    /// ` name="value"` for each non-nil value (escaped), in the order given.
    static func attributes(_ pairs: [(String, String?)]) -> String {
        var s = ""
        for (k, v) in pairs { if let v { s += " \(k)=\"\(XML.escape(v))\"" } }
        return s
    }

    /// A `<title>` child (the native tooltip), or nothing.
    static func tooltip(_ t: String?) -> String { t.map { "<title>\(XML.escape($0))</title>" } ?? "" }

    private mutating func element(_ name: String, _ attrs: [(String, String?)], tooltip: String?) {
        if let tooltip {
            body += "<\(name)\(SVG.attributes(attrs))>\(SVG.tooltip(tooltip))</\(name)>\n"
        } else {
            body += "<\(name)\(SVG.attributes(attrs))/>\n"
        }
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String? = nil,
                              stroke: String? = nil, class cls: String? = nil, tooltip: String? = nil, rx: Double? = nil) {
        element("rect", [("x", num(x)), ("y", num(y)), ("width", num(max(0, width))), ("height", num(max(0, height))),
                         ("rx", rx.map(num)), ("fill", fill), ("stroke", stroke), ("class", cls)], tooltip: tooltip)
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String? = nil,
                              class cls: String? = nil, dash: String? = nil, tooltip: String? = nil) {
        element("line", [("x1", num(x1)), ("y1", num(y1)), ("x2", num(x2)), ("y2", num(y2)), ("stroke", stroke),
                         ("stroke-dasharray", dash), ("class", cls)], tooltip: tooltip)
    }

    /// A polyline through `points` (points with a non-finite coordinate are skipped).
    public mutating func polyline(_ points: [(Double, Double)], stroke: String? = nil, class cls: String? = nil,
                                  dash: String? = nil, tooltip: String? = nil) {
        let p = points.filter { $0.0.isFinite && $0.1.isFinite }.map { "\(num($0.0)),\(num($0.1))" }.joined(separator: " ")
        element("polyline", [("points", p), ("fill", "none"), ("stroke", stroke), ("stroke-dasharray", dash), ("class", cls)],
                tooltip: tooltip)
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String? = nil, stroke: String? = nil,
                                class cls: String? = nil, tooltip: String? = nil) {
        element("circle", [("cx", num(cx)), ("cy", num(cy)), ("r", num(r)), ("fill", fill), ("stroke", stroke), ("class", cls)],
                tooltip: tooltip)
    }

    /// A closed polygon (markers: diamonds, triangles).
    public mutating func polygon(_ points: [(Double, Double)], fill: String? = nil, stroke: String? = nil,
                                 class cls: String? = nil, tooltip: String? = nil) {
        let p = points.map { "\(num($0.0)),\(num($0.1))" }.joined(separator: " ")
        element("polygon", [("points", p), ("fill", fill), ("stroke", stroke), ("class", cls)], tooltip: tooltip)
    }

    /// Text at (x, y) (the baseline), optionally rotated about its anchor point.
    public mutating func text(_ s: String, x: Double, y: Double, anchor: Anchor = .start, class cls: String? = nil,
                              fill: String? = nil, rotate: Double? = nil, tooltip: String? = nil) {
        let transform = rotate.map { "rotate(\(num($0)) \(num(x)) \(num(y)))" }
        body += "<text\(SVG.attributes([("x", num(x)), ("y", num(y)), ("text-anchor", anchor == .start ? nil : anchor.rawValue), ("class", cls), ("fill", fill), ("transform", transform)]))>"
            + SVG.tooltip(tooltip) + XML.escape(s) + "</text>\n"
    }

    /// Opens a group (`<g>`); close it with `end()`.
    public mutating func begin(class cls: String? = nil, tooltip: String? = nil, data: [(String, String)] = []) {
        body += "<g\(SVG.attributes([("class", cls)] + data.map { ("data-" + $0.0, Optional($0.1)) }))>" + SVG.tooltip(tooltip) + "\n"
    }
    public mutating func end() { body += "</g>\n" }

    /// Markup added as is: only for complete elements produced by trusted code.
    public mutating func raw(_ markup: String) { body += markup }

    /// The `<svg>` element (no XML declaration: it is meant to be inlined in HTML; a standalone file works too).
    public func render(class cls: String = "chart") -> String {
        let label = description.isEmpty ? title : description
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"\(XML.escape(cls))\" width=\"\(num(width))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(XML.escape(label))\">"
            + "<title>\(XML.escape(title))</title>\n" + body + "</svg>"
    }

    /// Approximate width in pixels of `s` at the charts' 12 px sans-serif (0.6 em per character): good enough
    /// to keep labels from colliding, not to typeset.
    public static func textWidth(_ s: String, size: Double = 12) -> Double { Double(s.count) * size * 0.6 }
}

/// A rectangle, for label placement.
public struct Box: Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }
    public func intersects(_ o: Box) -> Bool {
        x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height
    }
    public func inside(_ o: Box) -> Bool {
        x >= o.x && y >= o.y && x + width <= o.x + o.width && y + height <= o.y + o.height
    }
}

/// Places point labels without overlaps where it can: each label tries positions around its point (right,
/// left, above, below, then further out) and takes the first that stays in the plot and hits no label placed
/// before it (nor any point marker). Labels that fit nowhere go to their first candidate and are reported.
public struct LabelPlacer {
    public var bounds: Box
    public private(set) var placed: [Box] = []
    /// Marker boxes labels must avoid.
    public var obstacles: [Box] = []
    public init(bounds: Box) { self.bounds = bounds }

    /// Where to write `text` for a marker at (x, y) of radius r: the text's anchor point and alignment.
    public mutating func place(_ text: String, x: Double, y: Double, r: Double = 5, size: Double = 12) -> (x: Double, y: Double, anchor: SVG.Anchor, overlaps: Bool) {
        let w = SVG.textWidth(text, size: size), h = size + 2
        var candidates: [(Double, Double, SVG.Anchor)] = []
        for step in [0.0, 1, 2, 3] {
            let d = r + 4 + step * (h + 2)
            candidates += [(x + d, y + size * 0.35, .start), (x - d, y + size * 0.35, .end),
                           (x, y - d, .middle), (x, y + d + size * 0.7, .middle),
                           (x + d, y - d, .start), (x + d, y + d + size * 0.7, .start),
                           (x - d, y - d, .end), (x - d, y + d + size * 0.7, .end)]
        }
        func box(_ c: (Double, Double, SVG.Anchor)) -> Box {
            let left = c.2 == .start ? c.0 : c.2 == .middle ? c.0 - w / 2 : c.0 - w
            return Box(x: left, y: c.1 - size * 0.85, width: w, height: h)
        }
        for c in candidates {
            let b = box(c)
            if b.inside(bounds) && !placed.contains(where: b.intersects) && !obstacles.contains(where: b.intersects) {
                placed.append(b)
                return (c.0, c.1, c.2, false)
            }
        }
        let c = candidates[0]
        placed.append(box(c))
        return (c.0, c.1, c.2, true)
    }
}
