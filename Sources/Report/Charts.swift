// The report's charts, each a function from one section's data to an <svg> element, drawn with SVG.swift and
// Scales.swift. Every chart has axes with ticks and units, axis labels and a legend; every text is escaped
// by the writer. Sizes are for a page about 1400 px wide (charts ~860 px beside a ~440 px table).
import Bench
import Foundation

/// Colours: a categorical palette (Tableau 10, then darker tones) and one colour per forward-pass op.
public enum Palette {
    public static let categorical = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948",
                                     "#9c755f", "#ff9da7", "#bab0ac", "#2f4b7c", "#a05195", "#665191", "#d45087"]
    /// Op keys in forward-pass order, each with its colour (matmuls strong, small ops light).
    public static let ops: [(key: String, color: String)] = [
        ("encoder", "#d3d3d3"), ("ln1", "#c7e9c0"), ("qkv", "#4e79a7"), ("attention", "#e15759"), ("attproj", "#76b7b2"),
        ("residual1", "#e0e0e0"), ("ln2", "#a1d99b"), ("fc", "#f28e2b"), ("gelu", "#edc948"), ("fcproj", "#b07aa1"),
        ("residual2", "#cccccc"), ("lnf", "#74c476"), ("lmhead", "#9c755f"), ("softmax", "#ff9da7"),
    ]
    public static let glue = "#f3f3f3"
    public static func op(_ key: String) -> String {
        if let c = ops.first(where: { $0.key == key }) { return c.color }
        return categorical[stableIndex(key) % categorical.count]
    }
    public static func category(_ i: Int) -> String { categorical[((i % categorical.count) + categorical.count) % categorical.count] }
    /// FNV-1a of the name (stable across runs, unlike Hasher).
    static func stableIndex(_ s: String) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(h % 1_000_003)
    }
    public static let problem = "#d62728"
    public static let ink = "#222"
    public static let grid = "#e6e6e6"
}

/// A unit for durations in nanoseconds, chosen from a reference value.
public struct TimeUnit: Equatable, Sendable {
    public let scale: Double
    public let name: String
    public init(reference ns: Double) {
        switch ns {
        case ..<1e3: (scale, name) = (1, "ns")
        case ..<1e6: (scale, name) = (1e3, "µs")
        case ..<1e9: (scale, name) = (1e6, "ms")
        default: (scale, name) = (1e9, "s")
        }
    }
    public func value(_ ns: Double) -> Double { ns / scale }
    public func format(_ ns: Double) -> String { Fmt.sig(ns / scale, 4) + " " + name }
}

/// Number formatting for labels and tables.
public enum Fmt {
    /// `v` with `digits` significant digits, plain notation, no trailing zeros.
    public static func sig(_ v: Double, _ digits: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "–" : (v > 0 ? "∞" : "-∞") }
        if v == 0 { return "0" }
        let mag = Int(floor(log10(abs(v))))
        let decimals = max(0, digits - 1 - mag)
        return TickFormat.trimmed(String(format: "%.\(min(decimals, 8))f", v))
    }
    public static func pct(_ v: Double?, _ decimals: Int = 1) -> String {
        v.map { String(format: "%.\(decimals)f%%", $0) } ?? "–"
    }
    public static func bytes(_ n: Int) -> String {
        if n >= 1 << 30 && n % (1 << 30) == 0 { return "\(n >> 30) GiB" }
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        return "\(n) B"
    }
}

/// The plot rectangle inside a chart's margins.
struct PlotArea {
    var x: Double, y: Double, width: Double, height: Double
    var right: Double { x + width }
    var bottom: Double { y + height }
    var box: Box { Box(x: x, y: y, width: width, height: height) }
}

/// A legend entry: a swatch, a line (optionally dashed) or a marker, and its text.
struct LegendItem {
    enum Kind { case swatch, line(dash: String?), marker(MarkerShape), ring }
    var label: String
    var color: String
    var kind: Kind
}

enum MarkerShape: CaseIterable {
    case circle, square, triangle, diamond
    static func forIndex(_ i: Int) -> MarkerShape { allCases[i % allCases.count] }
}

extension SVG {
    /// A marker of `shape` centred at (x, y).
    mutating func marker(_ shape: MarkerShape, x: Double, y: Double, r: Double, fill: String, stroke: String = "#fff",
                         class cls: String? = nil, tooltip: String? = nil) {
        switch shape {
        case .circle: circle(cx: x, cy: y, r: r, fill: fill, stroke: stroke, class: cls, tooltip: tooltip)
        case .square: rect(x: x - r * 0.9, y: y - r * 0.9, width: 1.8 * r, height: 1.8 * r, fill: fill, stroke: stroke, class: cls, tooltip: tooltip)
        case .triangle: polygon([(x, y - r * 1.15), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)], fill: fill, stroke: stroke, class: cls, tooltip: tooltip)
        case .diamond: polygon([(x, y - r * 1.25), (x + r * 1.1, y), (x, y + r * 1.25), (x - r * 1.1, y)], fill: fill, stroke: stroke, class: cls, tooltip: tooltip)
        }
    }

    /// The x axis at the bottom of `area`: the axis line, ticks (labelled majors, short minors), light grid
    /// lines at the majors, and `label` centred under it.
    mutating func bottomAxis(_ scale: AxisScale, area: PlotArea, label: String, grid: Bool = true) {
        begin(class: "axis x")
        for t in scale.ticks {
            let x = scale(t.value)
            guard x >= area.x - 0.5 && x <= area.right + 0.5 else { continue }
            if grid && t.major { line(x1: x, y1: area.y, x2: x, y2: area.bottom, class: "grid") }
            line(x1: x, y1: area.bottom, x2: x, y2: area.bottom + (t.major ? 5 : 3), class: "tick")
            if !t.label.isEmpty { text(t.label, x: x, y: area.bottom + 18, anchor: .middle, class: "ticklabel") }
        }
        line(x1: area.x, y1: area.bottom, x2: area.right, y2: area.bottom, class: "axisline")
        text(label, x: area.x + area.width / 2, y: area.bottom + 38, anchor: .middle, class: "axislabel")
        end()
    }

    /// The y axis at the left of `area`, its label rotated.
    mutating func leftAxis(_ scale: AxisScale, area: PlotArea, label: String, grid: Bool = true, labelOffset: Double = 52) {
        begin(class: "axis y")
        for t in scale.ticks {
            let y = scale(t.value)
            guard y >= area.y - 0.5 && y <= area.bottom + 0.5 else { continue }
            if grid && t.major { line(x1: area.x, y1: y, x2: area.right, y2: y, class: "grid") }
            line(x1: area.x - (t.major ? 5 : 3), y1: y, x2: area.x, y2: y, class: "tick")
            if !t.label.isEmpty { text(t.label, x: area.x - 8, y: y + 4, anchor: .end, class: "ticklabel") }
        }
        line(x1: area.x, y1: area.y, x2: area.x, y2: area.bottom, class: "axisline")
        let cx = area.x - labelOffset, cy = area.y + area.height / 2
        text(label, x: cx, y: cy, anchor: .middle, class: "axislabel", rotate: -90)
        end()
    }

    /// A one-row (wrapping) legend starting at (x, y); returns the height used.
    @discardableResult
    mutating func legend(_ items: [LegendItem], x: Double, y: Double, maxWidth: Double) -> Double {
        begin(class: "legend")
        var cx = x, cy = y
        for item in items {
            let w = 22 + SVG.textWidth(item.label) + 14
            if cx + w > x + maxWidth && cx > x { cx = x; cy += 18 }
            switch item.kind {
            case .swatch: rect(x: cx, y: cy - 9, width: 14, height: 10, fill: item.color, stroke: "#888")
            case .line(let dash): line(x1: cx, y1: cy - 4, x2: cx + 16, y2: cy - 4, stroke: item.color, class: "legendline", dash: dash)
            case .marker(let m): self.marker(m, x: cx + 7, y: cy - 4, r: 5, fill: item.color, stroke: "#555")
            case .ring:
                circle(cx: cx + 7, cy: cy - 4, r: 6, fill: "none", stroke: item.color, class: "ring")
            }
            text(item.label, x: cx + 22, y: cy, class: "legendtext")
            cx += w
        }
        end()
        return cy - y + 18
    }
}

public enum Charts {
    // MARK: op breakdown

    /// Horizontal 100 % bars, one per phase and source (timers, samples), segments coloured by op, the share
    /// printed in every segment wide enough; untimed glue in light grey.
    public static func opBreakdown(_ section: OpSection, width: Double = 860) -> String {
        struct Bar { var label: String; var segments: [(key: String, name: String, pct: Double, tip: String)] }
        var bars: [Bar] = []
        for ph in section.phases {
            let timed = ph.rows.filter { $0.timerPercent != nil }
            if !timed.isEmpty {
                var segs = timed.map { r in
                    (r.key, r.name, r.timerPercent!, "\(ph.label), timers: \(r.name) \(Fmt.pct(r.timerPercent))" + (r.timerMs.map { " (\(Fmt.sig($0, 4)) ms)" } ?? ""))
                }
                let sum = segs.reduce(0) { $0 + $1.2 }
                if sum < 99.95 { segs.append(("glue", "untimed glue", 100 - sum, "\(ph.label), timers: untimed glue \(Fmt.pct(100 - sum)) (between the timed ops)")) }
                bars.append(Bar(label: "\(ph.label) · timers", segments: segs))
            }
            let sampled = ph.rows.filter { $0.sampledPercent != nil && ($0.samples ?? 1) > 0 }
            if !sampled.isEmpty {
                let segs = sampled.map { r in
                    (r.key, r.name, r.sampledPercent!, "\(ph.label), samples: \(r.name) \(Fmt.pct(r.sampledPercent)) ± \(Fmt.sig(r.sampledStdErr ?? 0, 2)) pts" + (r.samples.map { " (\($0) samples)" } ?? ""))
                }
                bars.append(Bar(label: "\(ph.label) · samples", segments: segs))
            }
        }
        // One op order for every bar: the forward pass's (ops the palette does not know last, by name), glue last.
        var names: [String: String] = [:]
        for b in bars { for s in b.segments where s.key != "glue" { names[s.key] = s.name } }
        let known = Palette.ops.map(\.key)
        let order = names.keys.sorted { a, b in
            let ia = known.firstIndex(of: a) ?? known.count, ib = known.firstIndex(of: b) ?? known.count
            return ia != ib ? ia < ib : a < b
        }
        let rank = Dictionary(uniqueKeysWithValues: (order + ["glue"]).enumerated().map { ($1, $0) })

        let labelW = 190.0, rowH = bars.count <= 6 ? 40.0 : 30.0, gap = 10.0
        let legendItems = order.map { LegendItem(label: names[$0] ?? $0, color: Palette.op($0), kind: .swatch) }
            + [LegendItem(label: "untimed glue", color: Palette.glue, kind: .swatch)]
        let legendRows = estimateLegendRows(legendItems, maxWidth: width - labelW - 20)
        let area = PlotArea(x: labelW, y: 16, width: width - labelW - 24, height: max(rowH, Double(bars.count) * (rowH + gap) - gap))
        let height = area.bottom + 48 + Double(legendRows) * 18 + 8
        var svg = SVG(width: width, height: height, title: "Op breakdown: share of each op in the forward passes, timers vs samples")
        let x = LinearScale(exact: 0...100, range: (area.x, area.right), step: 10)
        svg.bottomAxis(x, area: area, label: "share of the forward passes (%): timers of wall time, samples of those inside forward passes")
        for (i, b) in bars.enumerated() {
            let y = area.y + Double(i) * (rowH + gap)
            svg.text(fit(b.label, width: labelW - 16), x: area.x - 10, y: y + rowH / 2 + 4, anchor: .end, class: "rowlabel", tooltip: b.label)
            var cx = 0.0
            for s in b.segments.sorted(by: { rank[$0.key, default: 999] < rank[$1.key, default: 999] }) {
                let x0 = x(cx), x1 = x(min(100, cx + s.pct))
                let color = s.key == "glue" ? Palette.glue : Palette.op(s.key)
                svg.rect(x: x0, y: y, width: x1 - x0, height: rowH, fill: color, stroke: "#fff", class: "seg", tooltip: s.tip)
                let txt = s.pct >= 9.5 ? String(format: "%.0f%%", s.pct) : String(format: "%.1f%%", s.pct)
                if x1 - x0 >= SVG.textWidth(txt, size: 11) + 6 {
                    svg.text(txt, x: (x0 + x1) / 2, y: y + rowH / 2 + 4, anchor: .middle, class: "seglabel")
                }
                cx += s.pct
            }
        }
        svg.legend(legendItems, x: area.x, y: area.bottom + 62, maxWidth: width - area.x - 10)
        return svg.render()
    }

    static func estimateLegendRows(_ items: [LegendItem], maxWidth: Double) -> Int {
        var rows = 1, cx = 0.0
        for i in items {
            let w = 22 + SVG.textWidth(i.label) + 14
            if cx + w > maxWidth && cx > 0 { rows += 1; cx = 0 }
            cx += w
        }
        return rows
    }

    // MARK: roofline

    /// Log-log roofline: arithmetic intensity vs GFLOP/s, a roof (bandwidth slope, then the FMA peak) for each
    /// thread count measured, one labelled point per variant x shape. A point above its roof is drawn in red
    /// with a ring and its label says so: that is a measurement problem, not a kernel faster than the machine.
    public static func roofline(_ r: RooflineSection, width: Double = 860, height: Double = 540) -> String {
        let xs = r.points.map(\.intensity).filter { $0 > 0 } + r.roofs.map(\.ridge).filter { $0.isFinite && $0 > 0 }
        let ysPoints = r.points.map(\.gflops).filter { $0 > 0 }
        let xmin = (xs.min() ?? 0.1) / 4, xmax = (xs.max() ?? 100) * 4
        let peaks = r.roofs.map(\.peakGFLOPS)
        let lowRoof = r.roofs.map { $0.attainable(intensity: xmin) }.min() ?? 1
        let ymin = min(ysPoints.min() ?? lowRoof, lowRoof) / 2
        let ymax = max(peaks.max() ?? 1, ysPoints.max() ?? 1) * 2.5
        var variants: [String] = [], shapes: [String] = []
        for p in r.points {
            if !variants.contains(p.variant) { variants.append(p.variant) }
            if !shapes.contains(p.shape) { shapes.append(p.shape) }
        }
        let anyAbove = r.points.contains(where: r.isAboveRoof)
        var legend: [LegendItem] = variants.enumerated().map { LegendItem(label: $1, color: Palette.category($0), kind: .swatch) }
        legend += shapes.enumerated().map { LegendItem(label: $1, color: "#999", kind: .marker(.forIndex($0))) }
        legend += r.roofs.enumerated().map { LegendItem(label: "roof, \($1.label)", color: Palette.ink, kind: .line(dash: $0 == 0 ? nil : "6 4")) }
        if anyAbove { legend.append(LegendItem(label: "above its roof: a measurement problem", color: Palette.problem, kind: .ring)) }
        let legendRows = estimateLegendRows(legend, maxWidth: width - 90)
        let top = 12 + Double(legendRows) * 18 + 8
        let area = PlotArea(x: 78, y: top, width: width - 78 - 20, height: height - top - 56)
        var svg = SVG(width: width, height: height, title: "Roofline: attainable vs measured GFLOP/s by arithmetic intensity (log-log)")
        svg.legend(legend, x: area.x, y: 22, maxWidth: width - area.x - 10)
        let x = LogScale(nice: xmin...xmax, range: (area.x, area.right))
        let y = LogScale(nice: ymin...ymax, range: (area.bottom, area.y))
        svg.bottomAxis(x, area: area, label: "arithmetic intensity (flop per byte of \(r.bytesCounted), log scale)")
        svg.leftAxis(y, area: area, label: "GFLOP/s (log scale)", labelOffset: 56)

        // Roofs, clipped to the plot: the bandwidth slope from the left edge to the ridge, then flat.
        let x0 = x.domain.lowerBound, x1 = x.domain.upperBound, yLo = y.domain.lowerBound
        var obstacles: [Box] = []
        for (i, roof) in r.roofs.enumerated() {
            let dash: String? = i == 0 ? nil : "6 4"
            let startX = max(x0, yLo / max(roof.bandwidthGBs, 1e-12))
            let pts = [(startX, roof.attainable(intensity: startX)), (roof.ridge, roof.peakGFLOPS), (x1, roof.peakGFLOPS)]
                .filter { $0.0 >= x0 && $0.0 <= x1 }
            svg.polyline(pts.map { (x($0.0), y($0.1)) }, stroke: Palette.ink, class: "roof", dash: dash,
                         tooltip: "roof \(roof.label): FMA peak \(Fmt.sig(roof.peakGFLOPS)) GFLOP/s, read bandwidth \(Fmt.sig(roof.bandwidthGBs)) GB/s, ridge at \(Fmt.sig(roof.ridge)) flop/byte")
            // Peak label on the flat part, bandwidth label along the slope.
            let py = y(roof.peakGFLOPS)
            let peakText = "FMA peak \(Fmt.sig(roof.peakGFLOPS)) GFLOP/s (\(roof.label))"
            svg.text(peakText, x: area.right - 4, y: py - 5, anchor: .end, class: "rooflabel")
            obstacles.append(Box(x: area.right - 4 - SVG.textWidth(peakText), y: py - 17, width: SVG.textWidth(peakText), height: 14))
            // The bandwidth label along the slope, a little left of the ridge (points of memory-bound shapes sit
            // further left); the first roof's above its line, the others below theirs (the slopes are parallel).
            let sx = max(max(x0, startX) * 1.3, roof.ridge / 12)
            if sx * 1.5 < roof.ridge {
                let ax = x(sx), ay = y(roof.attainable(intensity: sx))
                let bx = x(sx * 1.5), by = y(roof.attainable(intensity: sx * 1.5))
                let angle = atan2(by - ay, bx - ax) * 180 / .pi
                let bwText = "\(Fmt.sig(roof.bandwidthGBs)) GB/s (\(roof.label))"
                let off = i == 0 ? -6.0 : 15.0
                svg.text(bwText, x: ax, y: ay + off, class: "rooflabel", rotate: angle)
                // Its bounding box (rotated text), for the point labels to avoid.
                let w = SVG.textWidth(bwText, size: 11.5), a = angle * .pi / 180
                let ex = ax + w * cos(a), ey = ay + off + w * sin(a)
                obstacles.append(Box(x: min(ax, ex), y: min(ay + off, ey) - 12, width: abs(ex - ax), height: abs(ey - ay - off) + 14))
            }
            if roof.ridge > x0 && roof.ridge < x1 {
                svg.line(x1: x(roof.ridge), y1: py, x2: x(roof.ridge), y2: area.bottom, class: "ridge", dash: "2 3",
                         tooltip: "ridge (machine balance) \(Fmt.sig(roof.ridge)) flop/byte, \(roof.label)")
            }
        }
        // Points, then their labels (placed to avoid each other, the markers and the roof labels).
        let radius = 6.0
        var placer = LabelPlacer(bounds: Box(x: area.x + 2, y: area.y + 2, width: area.width - 4, height: area.height - 4))
        let positions = r.points.map { (x($0.intensity), y(max($0.gflops, 1e-12))) }
        placer.obstacles = obstacles + positions.map { Box(x: $0.0 - radius, y: $0.1 - radius, width: 2 * radius, height: 2 * radius) }
        svg.begin(class: "points")
        for (i, p) in r.points.enumerated() {
            let (px, py) = positions[i]
            let above = r.isAboveRoof(p)
            let color = Palette.category(variants.firstIndex(of: p.variant) ?? 0)
            let shape = MarkerShape.forIndex(shapes.firstIndex(of: p.shape) ?? 0)
            var tip = "\(p.variant), \(p.shape), \(p.threads) thread\(p.threads == 1 ? "" : "s"): \(Fmt.sig(p.gflops)) GFLOP/s at \(Fmt.sig(p.intensity)) flop/byte"
            if let pa = r.percentOfAttainable(p) { tip += ", \(Fmt.sig(pa)) % of its roof" }
            if above { tip += " (above the roof: a measurement problem)" }
            if above { svg.circle(cx: px, cy: py, r: radius + 4, fill: "none", stroke: Palette.problem, class: "ring") }
            svg.marker(shape, x: px, y: py, r: radius, fill: above ? Palette.problem : color, stroke: above ? "#000" : "#fff",
                       class: above ? "point above-roof" : "point", tooltip: tip)
        }
        for (i, p) in r.points.enumerated() {
            let above = r.isAboveRoof(p)
            let text = above ? "\(p.label): above the roof, a measurement problem" : p.label
            let (px, py) = positions[i]
            let spot = placer.place(text, x: px, y: py, r: radius + (above ? 4 : 0))
            // A label moved away from its point gets a thin line back to it.
            let b = placer.placed.last!
            let lx = min(max(px, b.x), b.x + b.width), ly = min(max(py, b.y), b.y + b.height)
            if hypot(lx - px, ly - py) > radius + 14 {
                svg.line(x1: px, y1: py, x2: lx, y2: ly, stroke: above ? Palette.problem : "#999", class: "leader")
            }
            svg.text(text, x: spot.x, y: spot.y, anchor: spot.anchor, class: above ? "pointlabel problem" : "pointlabel",
                     fill: above ? Palette.problem : nil)
        }
        svg.end()
        return svg.render()
    }

    // MARK: distributions

    /// Five-number summary of samples: the quartiles (numpy's linear interpolation), whiskers at the most
    /// extreme samples within 1.5 IQR of the box, and the samples beyond them.
    public struct BoxStats: Equatable {
        public var q1: Double, median: Double, q3: Double
        public var whiskerLow: Double, whiskerHigh: Double
        public var outliers: [Double]
        public init?(_ values: [Double]) {
            let s = values.filter(\.isFinite).sorted()
            guard let q1 = Stats.percentileSorted(s, 0.25), let m = Stats.percentileSorted(s, 0.5),
                  let q3 = Stats.percentileSorted(s, 0.75) else { return nil }
            self.q1 = q1; median = m; self.q3 = q3
            let iqr = q3 - q1
            let lo = q1 - 1.5 * iqr, hi = q3 + 1.5 * iqr
            whiskerLow = s.first { $0 >= lo } ?? q1
            whiskerHigh = s.last { $0 <= hi } ?? q3
            outliers = s.filter { $0 < lo || $0 > hi }
        }
    }

    /// Horizontal box plots of each side's samples over its jittered sample dots; log time axis when the
    /// sides differ by more than 20x.
    public static func distributions(_ d: DistributionSection, width: Double = 860) -> String {
        let sides = d.sides.filter { $0.problem == nil && !$0.nanoseconds.isEmpty }
        let all = sides.flatMap(\.nanoseconds).filter { $0 > 0 && $0.isFinite }
        let medians = sides.compactMap { Stats.median($0.nanoseconds) }
        let unit = TimeUnit(reference: Stats.median(medians) ?? 1)
        let lo = all.min() ?? 1, hi = all.max() ?? 10
        let useLog = hi / max(lo, 1e-12) > 20
        let labelW = 200.0, rowH = 40.0
        let legendItems = [LegendItem(label: "box: quartiles, bar: median", color: "#bbb", kind: .swatch),
                           LegendItem(label: "whiskers: last sample within 1.5 IQR", color: Palette.ink, kind: .line(dash: nil)),
                           LegendItem(label: "outlier", color: Palette.ink, kind: .ring),
                           LegendItem(label: "one sample", color: "#888", kind: .marker(.circle))]
        let area = PlotArea(x: labelW, y: 14, width: width - labelW - 24, height: max(rowH, Double(sides.count) * rowH))
        let legendY = area.bottom + 62
        let height = legendY + Double(estimateLegendRows(legendItems, maxWidth: width - area.x - 10)) * 18 + 2
        var svg = SVG(width: width, height: height, title: "\(d.title): distribution of the timed samples")
        let xScale: AxisScale = useLog
            ? LogScale(nice: unit.value(lo) * 0.8...unit.value(hi) * 1.25, range: (area.x, area.right))
            : LinearScale(nice: max(0, unit.value(lo) - 0.08 * unit.value(hi - lo))...unit.value(hi) + 0.08 * unit.value(hi - lo), range: (area.x, area.right))
        svg.bottomAxis(xScale, area: area, label: "time per call (\(unit.name)\(useLog ? ", log scale" : ""))")
        for (i, s) in sides.enumerated() {
            let cy = area.y + (Double(i) + 0.5) * rowH
            let color = Palette.category(i)
            let name = s.name + (s.threads.map { " (\($0) thr)" } ?? "")
            svg.text(fit(name, width: labelW - 16), x: area.x - 10, y: cy + 4, anchor: .end, class: "rowlabel", tooltip: name)
            svg.begin(class: "dots")
            for (k, v) in s.nanoseconds.enumerated() where v > 0 && v.isFinite {
                let jitter = (Double(k) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) - 0.5
                svg.circle(cx: xScale(unit.value(v)), cy: cy + jitter * rowH * 0.55, r: 1.8, fill: color, class: "dot")
            }
            svg.end()
            guard let b = BoxStats(s.nanoseconds) else { continue }
            let bx0 = xScale(unit.value(b.q1)), bx1 = xScale(unit.value(b.q3)), mx = xScale(unit.value(b.median))
            let tip = "\(s.name): median \(unit.format(b.median)), quartiles \(unit.format(b.q1)) – \(unit.format(b.q3)), \(s.nanoseconds.count) samples"
            svg.line(x1: xScale(unit.value(b.whiskerLow)), y1: cy, x2: bx0, y2: cy, class: "whisker")
            svg.line(x1: bx1, y1: cy, x2: xScale(unit.value(b.whiskerHigh)), y2: cy, class: "whisker")
            for w in [b.whiskerLow, b.whiskerHigh] {
                let wx = xScale(unit.value(w))
                svg.line(x1: wx, y1: cy - 6, x2: wx, y2: cy + 6, class: "whisker")
            }
            svg.rect(x: bx0, y: cy - 10, width: max(1.5, bx1 - bx0), height: 20, fill: color, stroke: Palette.ink, class: "box", tooltip: tip)
            svg.line(x1: mx, y1: cy - 10, x2: mx, y2: cy + 10, class: "median")
            for o in b.outliers { svg.circle(cx: xScale(unit.value(o)), cy: cy, r: 3.5, fill: "none", stroke: Palette.ink, class: "outlier") }
        }
        svg.legend(legendItems, x: area.x, y: legendY, maxWidth: width - area.x - 10)
        return svg.render()
    }

    /// Speedups with their intervals (a forest plot): the point, the interval as a bar, a line at 1x.
    public static func speedups(_ d: DistributionSection, width: Double = 860) -> String {
        let rows = d.speedups.filter { $0.speedup.isFinite && $0.speedup > 0 }
        let values = rows.flatMap { [$0.speedup, $0.low ?? $0.speedup, $0.high ?? $0.speedup] }.filter { $0 > 0 && $0.isFinite } + [1]
        let lo = values.min() ?? 0.5, hi = values.max() ?? 2
        let labelW = 200.0, rowH = 28.0
        let area = PlotArea(x: labelW, y: 12, width: width - labelW - 190, height: max(rowH, Double(rows.count) * rowH))
        let height = area.bottom + 62 + 6
        var svg = SVG(width: width, height: height, title: "\(d.title): speedups with their \(Int((rows.first?.confidence ?? 0.95) * 100)) % intervals")
        let x = LogScale(nice: lo / 1.3...hi * 1.3, range: (area.x, area.right))
        svg.bottomAxis(x, area: area, label: "speedup = median(A) / median(B) (x, log scale; right of 1 = B faster)")
        svg.line(x1: x(1), y1: area.y - 4, x2: x(1), y2: area.bottom, class: "unity", dash: "4 3", tooltip: "1x: no change")
        for (i, s) in rows.enumerated() {
            let cy = area.y + (Double(i) + 0.5) * rowH
            svg.text(fit("\(s.b) vs \(s.a)", width: labelW - 16), x: area.x - 10, y: cy + 4, anchor: .end, class: "rowlabel", tooltip: "\(s.b) vs \(s.a)")
            let color = s.verdict == "faster" ? Palette.category(2) : s.verdict == "slower" ? Palette.problem : "#888"
            if let l = s.low, let h = s.high {
                svg.line(x1: x(l), y1: cy, x2: x(h), y2: cy, stroke: color, class: "interval")
                for v in [l, h] { svg.line(x1: x(v), y1: cy - 5, x2: x(v), y2: cy + 5, stroke: color, class: "interval") }
            }
            let ci = s.low.flatMap { l in s.high.map { "[\(Fmt.sig(l)), \(Fmt.sig($0))]" } } ?? "[no interval]"
            svg.marker(.diamond, x: x(s.speedup), y: cy, r: 6, fill: color, stroke: Palette.ink,
                       tooltip: "\(s.b) vs \(s.a): \(Fmt.sig(s.speedup))x \(ci), \(s.verdict)" + (s.p.map { ", Mann-Whitney p = \(Fmt.sig($0, 2))" } ?? ""))
            svg.text("\(Fmt.sig(s.speedup))x \(ci)", x: area.right + 10, y: cy + 4, class: "valuelabel")
        }
        svg.legend([LegendItem(label: "B faster (p < 0.05)", color: Palette.category(2), kind: .marker(.diamond)),
                    LegendItem(label: "B slower", color: Palette.problem, kind: .marker(.diamond)),
                    LegendItem(label: "no significant difference", color: "#888", kind: .marker(.diamond)),
                    LegendItem(label: "bootstrap interval", color: Palette.ink, kind: .line(dash: nil))],
                   x: area.x, y: area.bottom + 62, maxWidth: width - area.x - 10)
        return svg.render()
    }

    // MARK: scaling

    /// Measured speedup vs threads (median, with the min-max range of the runs), the ideal line, the Amdahl
    /// fit curve, and the usable-core estimate as a vertical line.
    public static func scaling(_ s: ScalingSection, width: Double = 860, height: Double = 440) -> String {
        let pts = s.points.filter { !$0.seconds.isEmpty }.sorted { $0.threads < $1.threads }
        let t1 = pts.first.flatMap { Stats.median($0.seconds) } ?? 1
        let N = max(2, pts.last?.threads ?? 2)
        let measured = pts.map { p -> (k: Int, med: Double, lo: Double, hi: Double) in
            let med = Stats.median(p.seconds) ?? .nan
            return (p.threads, t1 / med, t1 / (p.seconds.max() ?? med), t1 / (p.seconds.min() ?? med))
        }
        let ymax = max(Double(N), measured.map(\.hi).max() ?? 1, s.usableCores ?? 0) * 1.08
        var legend = [LegendItem(label: "measured (median; bar: fastest to slowest run)", color: Palette.category(0), kind: .marker(.circle)),
                      LegendItem(label: "ideal: speedup = threads", color: "#777", kind: .line(dash: "5 4"))]
        if let f = s.serialFraction {
            legend.append(LegendItem(label: "Amdahl fit, serial fraction \(Fmt.sig(f, 2))", color: Palette.category(1), kind: .line(dash: nil)))
        }
        if s.usableCores != nil { legend.append(LegendItem(label: "usable cores (CPU-bound probe)", color: Palette.category(2), kind: .line(dash: "2 3"))) }
        let legendRows = estimateLegendRows(legend, maxWidth: width - 90)
        let top = 12 + Double(legendRows) * 18 + 8
        let area = PlotArea(x: 70, y: top, width: width - 70 - 24, height: height - top - 56)
        var svg = SVG(width: width, height: height, title: "Scaling: speedup vs threads, \(s.workload)")
        svg.legend(legend, x: area.x, y: 22, maxWidth: width - area.x - 10)
        let pad = 0.3
        let x = LinearScale(exact: (1 - pad)...(Double(N) + pad), range: (area.x, area.right),
                            step: Double(max(1, Int(LinearScale.niceStep(span: Double(N), target: 10)))))
        let y = LinearScale(nice: 0...ymax, range: (area.bottom, area.y))
        // Integer ticks only (threads), starting at 1.
        struct IntTicks: AxisScale {
            let base: LinearScale
            var domain: ClosedRange<Double> { base.domain }
            var range: (Double, Double) { base.range }
            func callAsFunction(_ v: Double) -> Double { base(v) }
            var ticks: [Tick] {
                let step = max(1, Int(base.step))
                return stride(from: 1, through: Int(base.domain.upperBound), by: step).map { Tick(Double($0), "\($0)") }
            }
        }
        svg.bottomAxis(IntTicks(base: x), area: area, label: "threads (workers, the calling thread included)")
        svg.leftAxis(y, area: area, label: "speedup over 1 thread (x)", labelOffset: 46)
        svg.polyline([(x(1), y(1)), (x(Double(N)), y(Double(N)))], stroke: "#777", class: "ideal", dash: "5 4", tooltip: "ideal: speedup = threads")
        if let f = s.serialFraction {
            let curve = stride(from: 1.0, through: Double(N), by: max(0.02, Double(N - 1) / 120)).map { k in
                (x(k), y(1 / (f + (1 - f) / k)))
            } + [(x(Double(N)), y(1 / (f + (1 - f) / Double(N))))]
            svg.polyline(curve, stroke: Palette.category(1), class: "amdahl",
                         tooltip: "Amdahl fit: S(k) = 1 / (f + (1 - f) / k), f = \(Fmt.sig(f, 3)); at most \(f > 0 ? Fmt.sig(1 / f) : "∞")x")
        }
        if let u = s.usableCores, u.isFinite {
            let ux = x(min(max(u, x.domain.lowerBound), x.domain.upperBound))
            svg.line(x1: ux, y1: area.y, x2: ux, y2: area.bottom, stroke: Palette.category(2), class: "usable", dash: "2 3",
                     tooltip: "usable cores \(Fmt.sig(u, 3)) (N workers of CPU-bound work vs one)")
            let label = "usable cores \(Fmt.sig(u, 3))" + (u > x.domain.upperBound ? " →" : "")
            svg.text(label, x: ux + 5, y: area.y + 14, class: "usablelabel", fill: Palette.category(2))
        }
        svg.polyline(measured.map { (x(Double($0.k)), y($0.med)) }, stroke: Palette.category(0), class: "measured")
        for m in measured {
            let px = x(Double(m.k))
            svg.line(x1: px, y1: y(m.lo), x2: px, y2: y(m.hi), stroke: Palette.category(0), class: "range")
            let eff = 100 * m.med / Double(m.k)
            svg.circle(cx: px, cy: y(m.med), r: 5, fill: Palette.category(0), stroke: "#fff", class: "point",
                       tooltip: "\(m.k) thread\(m.k == 1 ? "" : "s"): \(Fmt.sig(m.med))x (runs \(Fmt.sig(m.lo))x – \(Fmt.sig(m.hi))x), efficiency \(Fmt.sig(eff)) %")
            svg.text("\(Fmt.sig(m.med))x", x: px + 8, y: y(m.med) - 8, class: "valuelabel")
        }
        return svg.render()
    }

    // MARK: machine

    /// The machine as a diagram: cores with their FMA peak and private caches, shared caches, memory with its
    /// measured read bandwidth.
    public static func machine(_ m: MachineSection, width: Double = 860) -> String {
        let cores = max(1, m.usableCores)
        let shown = min(cores, 8)
        let dataCaches = m.caches.filter { $0.type != "Instruction" }.sorted { $0.level < $1.level }
        let privateCaches = dataCaches.filter { $0.sharedBy <= 1 }
        let sharedCaches = dataCaches.filter { $0.sharedBy > 1 }
        let left = 20.0, usable = width - 40
        let coreW = (usable - Double(shown - 1) * 12) / Double(shown)
        let coreH = 46.0 + Double(privateCaches.count) * 24
        let sharedH = 34.0
        let isa = wrap("ISA: " + (m.simdFlags.isEmpty ? "no SIMD flags listed" : m.simdFlags.joined(separator: " ")), width: usable, size: 11.5)
        let height = 30 + coreH + 16 + Double(sharedCaches.count) * (sharedH + 12) + 40 + 52 + Double(isa.count) * 16 + 6
        var svg = SVG(width: width, height: height, title: "Machine: cores, caches and memory with the measured limits")
        var y = 30.0
        svg.text("\(m.cpuModel) · \(m.architecture) · \(m.logicalCores) logical CPUs, \(m.usableCores) usable", x: left, y: 18, class: "machinehead")
        for i in 0..<shown {
            let x = left + Double(i) * (coreW + 12)
            svg.rect(x: x, y: y, width: coreW, height: coreH, fill: "#eef3f8", stroke: "#4e79a7", class: "core",
                     tooltip: "CPU \(i): FP32 FMA peak \(Fmt.sig(m.fmaPeakGFLOPS)) GFLOP/s", rx: 4)
            svg.text(shown < cores && i == shown - 1 ? "… \(cores - shown + 1) more cores" : "core \(i)", x: x + coreW / 2, y: y + 18, anchor: .middle, class: "boxtitle")
            svg.text("\(Fmt.sig(m.fmaPeakGFLOPS)) GFLOP/s FMA", x: x + coreW / 2, y: y + 36, anchor: .middle, class: "boxvalue")
            for (j, c) in privateCaches.enumerated() {
                let cy = y + 46 + Double(j) * 24
                svg.rect(x: x + 8, y: cy, width: coreW - 16, height: 18, fill: "#fff", stroke: "#9ab", class: "cache", rx: 2)
                svg.text("L\(c.level)\(c.type == "Data" ? "d" : "") \(Fmt.bytes(c.bytes))", x: x + coreW / 2, y: cy + 13, anchor: .middle, class: "cachetext")
            }
        }
        y += coreH + 16
        for c in sharedCaches {
            svg.rect(x: left, y: y, width: usable, height: sharedH, fill: "#f6f0fa", stroke: "#b07aa1", class: "cache", rx: 3)
            svg.text("L\(c.level) \(Fmt.bytes(c.bytes)), shared by \(c.sharedBy) CPUs", x: left + usable / 2, y: y + 22, anchor: .middle, class: "boxtitle")
            y += sharedH + 12
        }
        // The read path: arrow from memory up to the caches, labelled with both bandwidths.
        let ax = left + usable / 2
        svg.line(x1: ax, y1: y + 36, x2: ax, y2: y + 2, stroke: "#59a14f", class: "arrow")
        svg.polygon([(ax, y), (ax - 6, y + 10), (ax + 6, y + 10)], fill: "#59a14f")
        svg.text("read \(Fmt.sig(m.readBandwidthGBs)) GB/s with 1 thread, \(Fmt.sig(m.readBandwidthAllGBs)) GB/s with \(m.bandwidthThreads)",
                 x: ax + 12, y: y + 24, class: "boxvalue")
        y += 40
        svg.rect(x: left, y: y, width: usable, height: 44, fill: "#eef6ec", stroke: "#59a14f", class: "memory", rx: 3)
        svg.text("memory", x: left + usable / 2, y: y + 18, anchor: .middle, class: "boxtitle")
        svg.text("balance \(Fmt.sig(m.fmaPeakGFLOPS / max(m.readBandwidthGBs, 1e-9))) flop/byte on 1 core, \(Fmt.sig(m.peakGFLOPS(threads: cores) / max(m.bandwidthGBs(threads: cores), 1e-9))) on \(cores): below it a kernel is memory-bound",
                 x: left + usable / 2, y: y + 36, anchor: .middle, class: "cachetext")
        y += 52
        for (i, l) in isa.enumerated() { svg.text(l, x: left, y: y + 12 + Double(i) * 16, class: "cachetext") }
        return svg.render()
    }

    /// Words of `text` in lines no wider than `width` pixels (estimated).
    static func wrap(_ text: String, width: Double, size: Double = 12) -> [String] {
        var lines: [String] = [], cur = ""
        for w in text.split(separator: " ") {
            let next = cur.isEmpty ? String(w) : cur + " " + w
            if SVG.textWidth(next, size: size) > width && !cur.isEmpty { lines.append(cur); cur = String(w) } else { cur = next }
        }
        if !cur.isEmpty { lines.append(cur) }
        return lines
    }

    /// `s` cut to about `width` pixels with an ellipsis.
    static func fit(_ s: String, width: Double, size: Double = 12) -> String {
        let n = Int(width / (size * 0.6))
        return s.count <= n ? s : String(s.prefix(max(1, n - 1))) + "…"
    }

    // MARK: gate

    static func gateColor(_ status: String) -> String {
        switch status {
        case "pass": return "#59a14f"
        case "improvement": return "#4e79a7"
        case "regression": return "#e15759"
        case "incorrect": return "#8b0000"
        case "new": return "#edc948"
        case "dropped": return "#9c755f"
        case "inconclusive": return "#f28e2b"
        default: return "#bab0ac"
        }
    }

    /// The gate's margins: one row per metric family, each metric a dot at the share of its threshold its
    /// change used (0 = as the baseline, 1 = at the threshold, beyond 1 = failed; left of 0 = better), coloured
    /// by verdict. Metrics compared as exact text or not compared are counted in the legend.
    public static func gateMargins(_ g: GateSection, width: Double = 860) -> String {
        var families: [String] = []
        for r in g.rows where r.used != nil && !families.contains(r.family) { families.append(r.family) }
        var counts: [(String, Int)] = []
        for r in g.rows {
            if let i = counts.firstIndex(where: { $0.0 == r.status }) { counts[i].1 += 1 } else { counts.append((r.status, 1)) }
        }
        let unplotted = g.rows.filter { $0.used == nil }.count
        var legend = counts.map { LegendItem(label: "\($0.0) (\($0.1))", color: gateColor($0.0), kind: .marker(.circle)) }
        let ab = g.mode == "ab"
        legend.append(LegendItem(label: ab ? "minimum effect" : "threshold", color: Palette.problem, kind: .line(dash: "5 3")))
        if g.rows.contains(where: { $0.usedLow != nil }) { legend.append(LegendItem(label: "95 % interval of the change", color: "#555", kind: .line(dash: nil))) }
        let labelW = 170.0, rowH = 26.0
        let used = g.rows.compactMap(\.used) + g.rows.compactMap(\.usedLow) + g.rows.compactMap(\.usedHigh)
        let lo = max(-3, min(-0.5, used.min() ?? 0)), hi = min(3, max(1.25, used.max() ?? 1))
        let area = PlotArea(x: labelW, y: 10, width: width - labelW - 30, height: max(rowH, Double(families.count) * rowH))
        let legendY = area.bottom + 62
        let note = unplotted > 0 ? "\(unplotted) metric\(unplotted == 1 ? "" : "s") not drawn: exact text (tokens), new, dropped, not compared here, or without a yardstick" : ""
        let height = legendY + Double(estimateLegendRows(legend, maxWidth: width - area.x - 10)) * 18 + (note.isEmpty ? 0 : 18) + 4
        var svg = SVG(width: width, height: height, title: "Gate: how much of its threshold each metric used (\(g.summary))")
        let x = LinearScale(nice: lo...hi, range: (area.x, area.right), target: 8)
        svg.bottomAxis(x, area: area, label: ab ? "change as a share of the minimum effect (A/B: 0 = as the base build, 1 = the smallest reported change; left = better)"
                                                : "change as a share of the threshold (0 = as the baseline, 1 = at the threshold; left = better)")
        svg.line(x1: x(1), y1: area.y, x2: x(1), y2: area.bottom, stroke: Palette.problem, class: "threshold", dash: "5 3", tooltip: ab ? "the minimum effect" : "the threshold")
        svg.line(x1: x(0), y1: area.y, x2: x(0), y2: area.bottom, stroke: "#777", class: "unity", tooltip: "the baseline")
        for (i, f) in families.enumerated() {
            let cy = area.y + (Double(i) + 0.5) * rowH
            svg.text(fit(f, width: labelW - 14), x: area.x - 10, y: cy + 4, anchor: .end, class: "rowlabel", tooltip: f)
            for (k, r) in g.rows.filter({ $0.family == f }).enumerated() {
                guard let u = r.used else { continue }
                let jitter = (Double(k) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) - 0.5
                func clamp(_ v: Double) -> Double { x(min(max(v, x.domain.lowerBound), x.domain.upperBound)) }
                let px = clamp(u), py = cy + jitter * rowH * 0.6
                if let lo = r.usedLow, let hi = r.usedHigh {
                    svg.line(x1: clamp(lo), y1: py, x2: clamp(hi), y2: py, stroke: gateColor(r.status), class: "interval")
                }
                svg.circle(cx: px, cy: py, r: r.fails ? 5 : 3.5, fill: gateColor(r.status), stroke: r.fails ? "#000" : "none",
                           class: "gatedot", tooltip: "\(r.name): \(r.verdict), change \(r.change) of threshold \(r.threshold)" + (r.detail.map { " (\($0))" } ?? ""))
            }
        }
        svg.legend(legend, x: area.x, y: legendY, maxWidth: width - area.x - 10)
        if !note.isEmpty { svg.text(note, x: area.x, y: height - 8, class: "hinttext") }
        return svg.render()
    }
}
