// The gate's output: a plain-text table for the terminal and CI log, and a Markdown summary fit for a
// pull-request comment (`workbench gate --markdown FILE`).
import Foundation

extension GateRow {
    /// The baseline value as shown ("0.0312 x", "12.4 %", "-"; exact metrics show "-").
    public var baselineText: String { baseline.map { GateFormat.value($0, unit: unit) } ?? "-" }
    public var nowText: String { now.map { GateFormat.value($0, unit: unit) } ?? "-" }
    /// "+12.3%", "-1.2 pts", "+3.1e-06", "-".
    public var changeText: String {
        guard let c = change else { return "-" }
        switch kind {
        case .ratio, .time, .instructions: return c.isFinite ? String(format: "%+.1f%%", c * 100) : "+inf"
        case .share: return String(format: "%+.2f pts", c)
        case .checksum, .bound: return String(format: "%+.2g", c)
        case .exact: return "-"
        }
    }
    /// "+10.0%", "+2.00 pts", "±1e-03", "<= 1e-04", "equal".
    public var thresholdText: String {
        guard let t = threshold else { return "-" }
        switch kind {
        case .ratio, .time, .instructions: return t.relative.map { String(format: "+%.1f%%", $0 * 100) } ?? "-"
        case .share: return t.absolute.map { String(format: "+%.2f pts", $0) } ?? "-"
        case .checksum: return t.absolute.map { String(format: "±%.1e", $0) } ?? "-"
        case .bound: return t.absolute.map { String(format: "<= %.1e", $0) } ?? "-"
        case .exact: return "equal"
        }
    }
    /// The verdict word, with the number of measurements when it was re-measured.
    public var verdictText: String { verdict.label + (attempts > 1 ? " (\(attempts) runs)" : "") }
}

public enum GateFormat {
    /// A value with its unit, 4 significant digits.
    public static func value(_ v: Double, unit: String) -> String {
        let n: String
        if unit == "instructions" { n = String(format: "%.0f", v) }
        else if v != 0 && (abs(v) >= 1e6 || abs(v) < 1e-3) { n = String(format: "%.3e", v) }
        else { n = String(format: "%.4g", v) }
        switch unit {
        case "": return n
        case "%": return n + "%"
        case "x": return n + "x"
        default: return n + " " + unit
        }
    }

    /// Pads or truncates nothing: left-aligns `s` in `w` columns.
    static func left(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func right(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}

extension GateReport {
    /// The header lines: suite, baseline, machine, availability.
    public var headerLines: [String] {
        var lines = ["suite \(suite); baseline \(baselinePath) (\(baselineDate)\(baselineCommit.map { ", commit \($0.prefix(12))" } ?? ""))"]
        lines += notes
        switch mode {
        case .baseline:
            if let m = environmentMismatch {
                lines.append("other machine: \(m); times and instruction counts are not compared, only ratios, shares and correctness")
            } else {
                lines.append("same machine as the baseline: every metric compared")
            }
        case .ab:
            if let p = abPolicy { lines.append("verdicts: \(p.text)") }
        }
        if let l = loadBefore { lines.append("load before: \(l.text)\(l.busy ? " (busy)" : "")") }
        if let l = loadDuring { lines.append("load during: \(l.text)\(l.busy ? " (busy)" : "")") }
        lines += availability.map { "metrics: \($0)" }
        return lines
    }

    /// The verdict in one line: "PASS: 96 metrics hold (3 improved, 2 new)" or "FAIL: 2 regressions, 1 incorrect ...".
    public var summaryLine: String {
        let reg = count(.regression), inc = count(.incorrect)
        var extras: [String] = []
        for v in [GateVerdict.improvement, .new, .dropped, .skipped, .inconclusive] where count(v) > 0 { extras.append("\(count(v)) \(v.rawValue)") }
        if reruns > 0 { extras.append("\(reruns) re-measurement\(reruns == 1 ? "" : "s")") }
        let tail = extras.isEmpty ? "" : " (\(extras.joined(separator: ", ")))"
        if reg + inc == 0, let why = inconclusiveReason {
            return "INCONCLUSIVE (\(why)): no regression found in \(rows.count) metrics\(tail)"
        }
        if reg + inc == 0 { return "PASS: \(rows.count) metrics, none regressed\(tail)" }
        var parts: [String] = []
        if reg > 0 { parts.append("\(reg) regression\(reg == 1 ? "" : "s")") }
        if inc > 0 { parts.append("\(inc) incorrect") }
        return "FAIL: \(parts.joined(separator: ", ")) of \(rows.count) metrics\(tail)"
    }

    /// The plain-text table (every row, in suite order), then the failures' details and the summary line.
    /// The table's columns: A/B runs show the interval and the p-value instead of the threshold.
    var columns: [String] {
        mode == .ab ? ["metric", "base", "new", "change", "interval", "p", "verdict"]
            : ["metric", "baseline", "now", "change", "threshold", "verdict"]
    }
    func cells(_ r: GateRow) -> [String] {
        mode == .ab ? [r.name, r.baselineText, r.nowText, r.changeText, r.intervalText, r.pText, r.verdictText]
            : [r.name, r.baselineText, r.nowText, r.changeText, r.thresholdText, r.verdictText]
    }

    public func table() -> String {
        let head = columns
        let cells = rows.map(cells)
        var widths = head.map(\.count)
        for c in cells { for i in 0..<c.count { widths[i] = max(widths[i], c[i].count) } }
        let last = head.count - 1
        func line(_ c: [String]) -> String {
            var s = GateFormat.left(c[0], widths[0])
            for i in 1..<last { s += "  " + GateFormat.right(c[i], widths[i]) }
            return s + "  " + c[last]
        }
        var out = headerLines.joined(separator: "\n") + "\n\n" + line(head) + "\n"
        out += String(repeating: "-", count: widths.reduce(0, +) + 2 * last) + "\n"
        for c in cells { out += line(c) + "\n" }
        let explained = rows.filter { ($0.verdict.fails || $0.verdict == .dropped || $0.verdict == .inconclusive) && $0.detail != nil }
        if !explained.isEmpty {
            out += "\n"
            for r in explained { out += "\(r.name): \(r.verdict.label): \(r.detail!)\n" }
        }
        out += "\n" + summaryLine + "\n"
        return out
    }

    /// A Markdown summary for a pull-request comment: the verdict, the failing and improved rows in a table,
    /// and every row in a collapsed section.
    public func markdown() -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        func table(_ rs: [GateRow]) -> String {
            let head = columns
            var s = "| " + head.joined(separator: " | ") + " |\n|---|" + String(repeating: "---:|", count: head.count - 2) + "---|\n"
            for r in rs {
                var c = cells(r).map(esc)
                c[0] = "`\(c[0])`"
                if r.verdict.fails { c[c.count - 1] = "**\(c[c.count - 1])**" }
                s += "| " + c.joined(separator: " | ") + " |\n"
            }
            return s
        }
        let icon = exitCode == .success ? "✅" : exitCode == .inconclusive ? "⚠️" : "❌"
        var s = "### \(icon) workbench gate: \(summaryLine)\n\n"
        for l in headerLines { s += "- \(esc(l))\n" }
        let notable = rows.filter { $0.verdict.fails || $0.verdict == .improvement || $0.verdict == .new || $0.verdict == .dropped || $0.verdict == .inconclusive }
        if !notable.isEmpty {
            s += "\n" + table(notable.sorted { ($0.verdict.fails ? 0 : 1) < ($1.verdict.fails ? 0 : 1) })
            let details = notable.filter { $0.detail != nil && $0.verdict.fails }
            if !details.isEmpty {
                s += "\n"
                for r in details { s += "- `\(esc(r.name))`: \(esc(r.detail!))\n" }
            }
        }
        s += "\n<details><summary>All \(rows.count) metrics</summary>\n\n" + table(rows) + "\n</details>\n"
        return s
    }
}
