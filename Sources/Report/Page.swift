// The HTML page: one self-contained file (inline CSS, inline SVG, one small inline script; no network, no
// external files), readable at 1400 px wide, with a print stylesheet. Every section is a picture with its
// numbers beside it and, at its foot, the commands that reproduce it.
//
// The script only records errors and readiness on <html> (data-errors, data-ready) so a headless browser
// can check the page; the flame graph may bring its own script (the profiling library's).
import Foundation

public enum ReportPage {
    /// The page for `doc`. `flameGraph` turns one profile into an inline <svg> element (the profiling
    /// library's flame graph: ReportInputs.flameGraphElement).
    public static func html(_ doc: ReportDocument, flameGraph: (ProfileSection, Int) -> String = ReportInputs.flameGraphElement) -> String {
        var sections: [(id: String, title: String, html: String)] = []
        if let m = doc.machine { sections.append(("machine", "Machine", machine(m))) }
        for (i, p) in doc.profiles.enumerated() {
            sections.append(("flame\(i == 0 ? "" : "-\(i + 1)")", doc.profiles.count > 1 ? "Flame graph \(i + 1)" : "Flame graph", profile(p, svg: flameGraph(p, i))))
        }
        if let o = doc.ops, !o.phases.isEmpty { sections.append(("ops", "Op breakdown", ops(o))) }
        if let r = doc.roofline, !r.points.isEmpty { sections.append(("roofline", "Roofline", roofline(r))) }
        for (i, d) in doc.distributions.enumerated() {
            sections.append(("compare\(i == 0 ? "" : "-\(i + 1)")", "Compare: \(d.title)", distribution(d)))
        }
        for (i, s) in doc.scaling.enumerated() {
            sections.append(("scaling\(i == 0 ? "" : "-\(i + 1)")", doc.scaling.count > 1 ? "Scaling: \(s.workload)" : "Scaling", scaling(s)))
        }
        if let g = doc.gate { sections.append(("gate", "Gate", gate(g))) }
        sections.append(("provenance", "How this was made", provenance(doc)))

        let p = doc.provenance
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="workbench report">
        <title>\(XML.escape(doc.title))</title>
        <script>
        (function () {
          var n = 0;
          function mark() { document.documentElement.setAttribute('data-errors', String(n)); }
          window.addEventListener('error', function (e) { n++; mark(); if (console && console.log) console.log('report error: ' + e.message); });
          window.addEventListener('DOMContentLoaded', function () { mark(); document.documentElement.setAttribute('data-ready', '1'); });
          // Printing shows every table, the collapsed ones too.
          window.addEventListener('beforeprint', function () { var d = document.querySelectorAll('details'); for (var i = 0; i < d.length; i++) d[i].open = true; });
        })();
        </script>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <header>
        <h1>\(XML.escape(doc.title))</h1>
        <p class="sub">\(XML.escape(subtitle(doc)))</p>
        <nav><ul>
        """
        for s in sections { out += "<li><a href=\"#\(s.id)\">\(XML.escape(s.title))</a></li>" }
        out += "</ul></nav>\n</header>\n<main>\n"
        if !doc.notes.isEmpty {
            out += "<aside class=\"notes\"><ul>" + doc.notes.map { "<li>\(XML.escape($0))</li>" }.joined() + "</ul></aside>\n"
        }
        for s in sections {
            out += "<section id=\"\(s.id)\">\n<h2>\(XML.escape(s.title))</h2>\n\(s.html)\n</section>\n"
        }
        out += "</main>\n<footer>workbench report · \(XML.escape(p.date))" + (p.toolCommit.map { " · commit \(XML.escape(String($0.prefix(12))))\(p.dirty == true ? " (with uncommitted changes)" : "")" } ?? "") + "</footer>\n</body>\n</html>\n"
        return out
    }

    static func subtitle(_ doc: ReportDocument) -> String {
        var parts = [doc.provenance.date, doc.provenance.mode]
        if let m = doc.machine { parts.append("\(m.cpuModel), \(m.usableCores) usable cores") }
        return parts.joined(separator: " · ")
    }

    // MARK: pieces

    /// A table: header cells and rows of cells (already text; escaped here). `numeric` columns align right.
    static func table(_ head: [String], _ rows: [[String]], numeric: Set<Int> = [], classes: [String?] = [], caption: String? = nil) -> String {
        var s = "<table>"
        if let caption { s += "<caption>\(XML.escape(caption))</caption>" }
        s += "<thead><tr>" + head.enumerated().map { "<th\(numeric.contains($0.offset) ? " class=\"num\"" : "")>\(XML.escape($0.element))</th>" }.joined() + "</tr></thead><tbody>"
        for (i, r) in rows.enumerated() {
            let cls = i < classes.count ? classes[i] : nil
            s += "<tr\(cls.map { " class=\"\(XML.escape($0))\"" } ?? "")>" + r.enumerated().map { "<td\(numeric.contains($0.offset) ? " class=\"num\"" : "")>\(XML.escape($0.element))</td>" }.joined() + "</tr>"
        }
        return s + "</tbody></table>"
    }

    static func row(figure: String, aside: String) -> String {
        "<div class=\"row\"><figure>\(figure)</figure><div class=\"numbers\">\(aside)</div></div>"
    }

    static func source(_ s: SectionSource) -> String {
        var out = "<div class=\"source\">"
        if !s.detail.isEmpty { out += "<p>\(XML.escape(s.detail))</p>" }
        if !s.commands.isEmpty {
            out += "<p class=\"label\">Reproduce:</p><pre>" + s.commands.map { "$ " + XML.escape($0) }.joined(separator: "\n") + "</pre>"
        }
        if !s.files.isEmpty { out += "<p class=\"label\">Read from:</p><pre>" + s.files.map(XML.escape).joined(separator: "\n") + "</pre>" }
        return out + "</div>"
    }

    // MARK: sections

    static func machine(_ m: MachineSection) -> String {
        let n = max(1, m.usableCores)
        var rows: [[String]] = [
            ["CPU", m.cpuModel], ["architecture", m.architecture],
            ["cores", "\(m.logicalCores) logical, \(m.usableCores) usable"],
            ["SIMD", m.simdFlags.isEmpty ? "–" : m.simdFlags.joined(separator: " ")],
        ]
        if !m.caches.isEmpty {
            rows.append(["caches", m.caches.map { c in
                "L\(c.level)\(c.type == "Data" ? "d" : c.type == "Instruction" ? "i" : "") \(Fmt.bytes(c.bytes))" + (c.sharedBy > 1 ? " (×\(c.sharedBy) CPUs)" : "")
            }.joined(separator: ", ")])
        }
        rows += [
            ["FP32 FMA peak", "\(Fmt.sig(m.fmaPeakGFLOPS)) GFLOP/s on 1 core, \(Fmt.sig(m.peakGFLOPS(threads: n))) on \(n)"],
            ["read bandwidth", "\(Fmt.sig(m.readBandwidthGBs)) GB/s 1 thread, \(Fmt.sig(m.readBandwidthAllGBs)) GB/s \(m.bandwidthThreads) threads"],
            ["balance", "\(Fmt.sig(m.fmaPeakGFLOPS / max(1e-9, m.readBandwidthGBs))) flop/byte on 1 core"],
            ["measured", "\(m.measuredAt) (\(m.build) build)"],
        ]
        var aside = table(["fact", "value"], rows)
        for w in m.warnings { aside += "<p class=\"warn\">\(XML.escape(w))</p>" }
        return row(figure: Charts.machine(m), aside: aside) + source(m.source)
    }

    static func profile(_ p: ProfileSection, svg: String) -> String {
        var s = "<figure class=\"wide flame\">\(svg)</figure>"
        let rows = p.top.filter { $0.selfPercent > 0 }.map { [$0.name, Fmt.pct($0.selfPercent), "±" + Fmt.sig($0.stdErr, 2), Fmt.pct($0.totalPercent)] }
        s += "<div class=\"numbers wide\">" + table(["frame (hottest by self samples)", "self", "± se (pts)", "total"], rows, numeric: [1, 2, 3],
                                                     caption: "\(p.samples) samples" + (p.seconds.map { " in \(Fmt.sig($0)) s" } ?? "") + "; self = the frame itself, total = it or its callees") + "</div>"
        return s + source(p.source)
    }

    static func ops(_ o: OpSection) -> String {
        var aside = ""
        for ph in o.phases {
            let hasSamples = ph.rows.contains { $0.sampledPercent != nil }
            func share(_ r: OpPhase.Row) -> Double { max(r.timerPercent ?? 0, r.sampledPercent ?? 0) }
            let sorted = ph.rows.sorted { ($0.timerPercent ?? $0.sampledPercent ?? 0, share($0)) > ($1.timerPercent ?? $1.sampledPercent ?? 0, share($1)) }
            // Ops under half a percent both ways go into one row.
            let shown = sorted.filter { share($0) >= 0.5 }, small = sorted.filter { share($0) < 0.5 }
            var rows = shown.map { r -> [String] in
                var c = [r.name, Fmt.pct(r.timerPercent)]
                if hasSamples {
                    c += [Fmt.pct(r.sampledPercent), r.sampledStdErr.map { $0 > 0 ? "±" + Fmt.sig($0, 2) : "" } ?? "–"]
                    if let t = r.timerPercent, let sp = r.sampledPercent { c.append(signed(sp - t)) } else { c.append("–") }
                }
                return c
            }
            if !small.isEmpty {
                let t = small.compactMap(\.timerPercent).reduce(0, +), sp = small.compactMap(\.sampledPercent).reduce(0, +)
                var c = ["\(small.count) smaller op\(small.count == 1 ? "" : "s")", Fmt.pct(t)]
                if hasSamples { c += [Fmt.pct(sp), "", signed(sp - t)] }
                rows.append(c)
            }
            var cap = ph.label
            if let f = ph.forwards, let ms = ph.forwardMs { cap += ": \(f) forward pass\(f == 1 ? "" : "es"), \(Fmt.sig(ms, 4)) ms" }
            if let tg = ph.taggedSamples { cap += ", \(tg) samples inside them" + (ph.untaggedSamples.map { " (\($0) outside)" } ?? "") }
            let head = hasSamples ? ["op", "timer", "sampled", "± se", "Δ pts"] : ["op", "timer"]
            aside += table(head, rows, numeric: Set(1..<head.count), caption: cap)
        }
        aside += "<p class=\"hint\">timer = share of the forward passes' wall time; sampled = share of the samples taken inside forward passes (any thread). A gap of more than about two standard errors means the timers and the sampler disagree (timer overhead, or work another thread does after the timer stopped).</p>"
        return row(figure: Charts.opBreakdown(o), aside: aside) + source(o.source)
    }

    /// "+1.2", "-0.3", "0.0" (never "-0.0").
    static func signed(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == 0 ? "0.0" : String(format: "%+.1f", r)
    }

    static func roofline(_ r: RooflineSection) -> String {
        let rows = r.points.map { p -> [String] in
            [p.variant, p.shape, "\(p.threads)", Fmt.sig(p.intensity), Fmt.sig(p.gflops), Fmt.pct(r.percentOfAttainable(p), 0),
             r.isAboveRoof(p) ? "above roof" : ""]
        }
        let classes = r.points.map { r.isAboveRoof($0) ? "problem" : nil }
        var aside = table(["variant", "shape", "thr", "flop/B", "GFLOP/s", "of roof", ""], rows, numeric: [2, 3, 4, 5], classes: classes)
        aside += table(["roof", "peak GFLOP/s", "GB/s", "ridge flop/B"], r.roofs.map { [$0.label, Fmt.sig($0.peakGFLOPS), Fmt.sig($0.bandwidthGBs), Fmt.sig($0.ridge)] },
                       numeric: [1, 2, 3])
        let above = r.points.filter(r.isAboveRoof)
        if !above.isEmpty {
            aside += "<p class=\"warn\">\(above.count) point\(above.count == 1 ? " is" : "s are") above \(above.count == 1 ? "its" : "their") roof by more than \(Int((r.tolerance * 100).rounded())) % (the noise margin): no kernel beats the machine, so the measurement is off. Usual causes: the weights stayed in a cache between calls (a shape whose weights fit in L2/L3 is not memory-bound), a flop or byte count that does not match the kernel, or machine facts measured on a busy machine or another host (`workbench machine --refresh`).</p>"
        }
        let flagged = r.points.flatMap { p in p.problems.map { "\(p.variant) \(p.shape): \($0)" } }
        if !flagged.isEmpty {
            aside += "<ul class=\"warn\">" + flagged.map { "<li>\(XML.escape($0))</li>" }.joined() + "</ul>"
        }
        aside += "<p class=\"hint\">Intensity counts each weight byte once (as `workbench compare` does); a point's roof is the one for its thread count.</p>"
        return row(figure: Charts.roofline(r), aside: aside) + source(r.source)
    }

    static func distribution(_ d: DistributionSection) -> String {
        let medians = d.sides.compactMap { BoxStatsRow($0) }
        var aside = table(["side", "n", "median", "q1", "q3"], medians.map { r in
            let unit = TimeUnit(reference: r.median)
            return [r.name, "\(r.n)", unit.format(r.median), unit.format(r.q1), unit.format(r.q3)]
        }, numeric: [1, 2, 3, 4])
        let problems = d.sides.filter { $0.problem != nil }
        for p in problems { aside += "<p class=\"warn\">\(XML.escape(p.name)): \(XML.escape(p.problem!))</p>" }
        if !d.speedups.isEmpty {
            aside += table(["B vs A", "speedup", "interval", "p", "verdict"], d.speedups.map { s in
                ["\(s.b) vs \(s.a)", Fmt.sig(s.speedup) + "x",
                 s.low.flatMap { l in s.high.map { "[\(Fmt.sig(l)), \(Fmt.sig($0))]" } } ?? "–",
                 s.p.map { Fmt.sig($0, 2) } ?? "–", s.verdict == "no significant difference" ? "not significant" : s.verdict]
            }, numeric: [1, 3], caption: "speedup = median(A) / median(B), \(Int((d.speedups.first?.confidence ?? 0.95) * 100)) % bootstrap interval; verdict from a two-sided Mann-Whitney U test")
        }
        for n in d.notes { aside += "<p class=\"hint\">\(XML.escape(n))</p>" }
        var fig = Charts.distributions(d)
        if !d.speedups.isEmpty { fig += Charts.speedups(d) }
        return row(figure: fig, aside: aside) + source(d.source)
    }

    struct BoxStatsRow {
        var name: String, n: Int, median: Double, q1: Double, q3: Double
        init?(_ s: DistributionSection.Side) {
            guard s.problem == nil, let b = Charts.BoxStats(s.nanoseconds) else { return nil }
            name = s.name + (s.threads.map { " (\($0) thr)" } ?? ""); n = s.nanoseconds.count; median = b.median; q1 = b.q1; q3 = b.q3
        }
    }

    static func scaling(_ s: ScalingSection) -> String {
        let pts = s.points.filter { !$0.seconds.isEmpty }.sorted { $0.threads < $1.threads }
        let t1 = pts.first.flatMap { median($0.seconds) } ?? .nan
        let rows = pts.map { p -> [String] in
            let med = median(p.seconds) ?? .nan
            let sp = t1 / med
            let am = s.serialFraction.map { Fmt.sig(1 / ($0 + (1 - $0) / Double(p.threads))) + "x" } ?? "–"
            return ["\(p.threads)", Fmt.sig(med * 1e3, 4), Fmt.sig(sp) + "x", Fmt.pct(100 * sp / Double(p.threads), 0), am]
        }
        var aside = "<p class=\"lead\">\(XML.escape(s.workload))<br>\(XML.escape(s.engine))</p>"
        aside += table(["threads", "median ms", "speedup", "efficiency", "Amdahl fit"], rows, numeric: [0, 1, 2, 3, 4])
        var facts: [[String]] = []
        if let f = s.serialFraction { facts.append(["Amdahl serial fraction", "\(Fmt.sig(f, 3)) (at most \(f > 0 ? Fmt.sig(1 / f) : "∞")x)"]) }
        if let u = s.usableCores { facts.append(["usable cores (probe)", Fmt.sig(u, 3)]) }
        if let c = s.cpusReported { facts.append(["CPUs the OS reports", "\(c)"]) }
        if !facts.isEmpty { aside += table(["fit", "value"], facts) }
        for w in s.warnings { aside += "<p class=\"warn\">\(XML.escape(w))</p>" }
        return row(figure: Charts.scaling(s), aside: aside) + source(s.source)
    }

    static func median(_ x: [Double]) -> Double? {
        let s = x.sorted()
        guard !s.isEmpty else { return nil }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func gate(_ g: GateSection) -> String {
        var s = "<p class=\"lead \(g.passed ? "pass" : "fail")\">\(XML.escape(g.summary))</p>"
        s += "<ul class=\"gatehead\">" + g.header.map { "<li>\(XML.escape($0))</li>" }.joined() + "</ul>"
        s += "<figure>\(Charts.gateMargins(g))</figure>"
        let head = ["metric", "baseline", "now", "change", "threshold", "verdict"]
        func cells(_ r: GateSection.Row) -> [String] { [r.name, r.baseline, r.now, r.change, r.threshold, r.verdict] }
        let notable = g.rows.filter { $0.fails || $0.status != "pass" }
        if !notable.isEmpty {
            s += table(head, notable.map(cells), numeric: [1, 2, 3, 4], classes: notable.map { $0.fails ? "problem" : nil },
                       caption: "metrics that failed, improved, are new or were dropped")
            let details = notable.filter { $0.fails && $0.detail != nil }
            if !details.isEmpty { s += "<ul class=\"details\">" + details.map { "<li><code>\(XML.escape($0.name))</code>: \(XML.escape($0.detail!))</li>" }.joined() + "</ul>" }
        }
        s += "<details><summary>All \(g.rows.count) metrics</summary>"
            + table(head, g.rows.map(cells), numeric: [1, 2, 3, 4], classes: g.rows.map { $0.fails ? "problem" : nil }) + "</details>"
        return s + source(g.source)
    }

    static func provenance(_ doc: ReportDocument) -> String {
        let p = doc.provenance
        var rows: [[String]] = [
            ["date", p.date],
            ["command", p.command.joined(separator: " ")],
            ["data", p.mode],
            ["tool commit", (p.toolCommit ?? "unknown (not in a git checkout)") + (p.dirty == true ? " + uncommitted changes" : "")],
            ["built with", p.compiler + " (\(p.build) build)"],
        ]
        if let v = p.swiftVersion { rows.append(["swift on PATH", v]) }
        var s = table(["what", "value"], rows)
        var per: [[String]] = []
        func add(_ name: String, _ src: SectionSource) {
            per.append([name, (src.commands + src.files).joined(separator: "\n"), src.detail])
        }
        if let m = doc.machine { add("machine", m.source) }
        for p in doc.profiles { add("flame graph", p.source) }
        if let o = doc.ops { add("op breakdown", o.source) }
        if let r = doc.roofline { add("roofline", r.source) }
        for d in doc.distributions { add("compare: \(d.title)", d.source) }
        for sc in doc.scaling { add("scaling", sc.source) }
        if let g = doc.gate { add("gate", g.source) }
        s += table(["section", "commands / files", "how"], per, classes: [], caption: "what produced each section")
        return s
    }

    // MARK: style

    static let css = """
    :root { --ink: #222; --muted: #666; --line: #ddd; --bg: #fff; --accent: #4e79a7; --problem: #d62728; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 1380px; padding: 16px 24px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
    h1 { font-size: 26px; margin: 8px 0 2px; }
    h2 { font-size: 20px; margin: 0 0 10px; padding-top: 6px; border-top: 2px solid var(--accent); }
    .sub { color: var(--muted); margin: 0 0 8px; }
    nav ul { list-style: none; padding: 0; margin: 0 0 12px; display: flex; flex-wrap: wrap; gap: 6px 16px; }
    nav a { color: var(--accent); text-decoration: none; }
    section { margin: 26px 0 34px; }
    .row { display: grid; grid-template-columns: minmax(0, 840px) minmax(340px, 1fr); gap: 22px; align-items: start; }
    figure { margin: 0; }
    figure svg { display: block; max-width: 100%; height: auto; }
    figure svg + svg { margin-top: 10px; }
    .wide { width: 100%; }
    .flame svg { width: 100%; height: auto; }
    .numbers { font-size: 13px; overflow-x: auto; }
    table { border-collapse: collapse; margin: 0 0 12px; width: 100%; }
    caption { text-align: left; color: var(--muted); font-size: 12px; padding: 2px 0 4px; caption-side: top; }
    th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; white-space: pre-line; }
    th { font-weight: 600; background: #f6f6f6; }
    .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .numbers td, .numbers th { padding: 3px 6px; }
    .numbers td:not(:last-child), .numbers th { white-space: nowrap; }
    tr.problem td { color: var(--problem); font-weight: 600; }
    .warn { color: var(--problem); }
    .hint, .source p { color: var(--muted); font-size: 12.5px; }
    .lead { margin: 0 0 8px; }
    .lead.pass { color: #2e7d32; font-weight: 600; }
    .lead.fail { color: var(--problem); font-weight: 600; }
    .source { margin-top: 8px; }
    .source .label { margin: 6px 0 2px; }
    pre { background: #f6f8fa; border: 1px solid #e5e5e5; padding: 6px 10px; margin: 0; font-size: 12.5px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
    .notes { border-left: 4px solid #edc948; background: #fffbea; padding: 4px 12px; margin: 8px 0 16px; }
    details summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
    footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
    svg.chart { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; font-size: 12px; background: #fff; }
    svg.chart text { fill: var(--ink); }
    svg.chart .grid { stroke: #ececec; }
    svg.chart .tick, svg.chart .axisline { stroke: #444; }
    svg.chart .ticklabel { font-size: 11px; fill: #333; }
    svg.chart .axislabel { font-size: 12.5px; fill: #222; }
    svg.chart .rowlabel { font-size: 12px; }
    svg.chart .seg { stroke-width: 0.8; }
    svg.chart .seglabel { font-size: 11px; fill: #111; }
    svg.chart .seglabel.light { fill: #fff; font-weight: 600; }
    svg.chart .legendtext { font-size: 12px; }
    svg.chart .legendline { stroke-width: 2.2; }
    svg.chart .roof { stroke-width: 2.2; }
    svg.chart .rooflabel { font-size: 11.5px; fill: #333; }
    svg.chart .ridge { stroke: #999; }
    svg.chart .pointlabel { font-size: 11.5px; }
    svg.chart .pointlabel.problem { font-weight: 600; }
    svg.chart .ring { stroke-width: 2; }
    svg.chart .whisker { stroke: #333; stroke-width: 1.3; }
    svg.chart .median { stroke: #000; stroke-width: 3; }
    svg.chart .box { fill-opacity: 0.55; }
    svg.chart .dot { fill-opacity: 0.45; }
    svg.chart .interval { stroke-width: 2; }
    svg.chart .unity { stroke: #555; }
    svg.chart .ideal, svg.chart .amdahl, svg.chart .measured { stroke-width: 2.2; }
    svg.chart .range { stroke-width: 2; stroke-opacity: 0.6; }
    svg.chart .usable { stroke-width: 2; }
    svg.chart .valuelabel { font-size: 11.5px; fill: #333; }
    svg.chart .hinttext { font-size: 11.5px; fill: #666; }
    svg.chart .machinehead { font-size: 13px; font-weight: 600; }
    svg.chart .boxtitle { font-size: 12.5px; font-weight: 600; }
    svg.chart .boxvalue { font-size: 12px; }
    svg.chart .cachetext { font-size: 11.5px; }
    svg.chart .arrow { stroke-width: 3; }
    @media (max-width: 1200px) { .row { grid-template-columns: 1fr; } }
    @page { margin: 12mm; }
    @media print {
      body { max-width: none; padding: 0; font-size: 10pt; }
      nav, details summary { display: none; }
      details > table { display: table; }
      section { break-inside: avoid-page; page-break-inside: avoid; margin: 0 0 14pt; }
      .flame, .wide { break-inside: avoid-page; }
      .row { grid-template-columns: 1fr; }
      .numbers { overflow: visible; font-size: 9pt; }
      .numbers td:not(:last-child), .numbers th { white-space: normal; }
      figure svg { max-width: 100%; height: auto; }
      a { color: inherit; text-decoration: none; }
      pre { white-space: pre-wrap; }
      .notes { background: none; }
    }
    """
}
