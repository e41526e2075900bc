// Interactive SVG flame graphs in FlameGraph's layout (flamegraph.pl): the root at the bottom, each frame a box
// as wide as its share of samples, children above their parent in alphabetical order (as flamegraph.pl draws
// sorted folded lines), colours hashed from the name (warm tones; kernel frames `_[k]` orange, unsymbolised
// frames grey). Self-contained: one inline <style> and one inline <script>, no network.
//
//   click a frame       zoom: it fills the width, its callees are redrawn to scale, its callers stay (dimmed)
//   "Reset Zoom"        back to the whole graph
//   "Search" (or Ctrl-F, "/")  a regular expression: matching frames turn magenta, "Matched: P%" is the share of
//                       samples under a match (nested matches counted once); click again to reset
//   hover               the frame's name, samples, share and module below the graph (and a native tooltip)
//   URL ?zoom=NAME&search=REGEX   the same actions on load (the widest frame called NAME); the state is written
//                       into the DOM (data-zoom, data-matched, data-matches on the <svg>) for scripts and tests
//
// Inverted (`--inverted`): an icicle of the callers of the hot leaves: every stack reversed (leaf first) and
// drawn from the top down. Differential (`diffSVG`): B's shape, each frame coloured by the change of its self
// share from A to B (red grew, blue shrank, white unchanged, the deepest colour for the largest change), as
// difffolded.pl + flamegraph.pl draw it; shares are normalised to each profile's total samples.
//
// `svg(_:_:)` returns one <svg> element that also works inline in an HTML page: every id starts with
// `Options.idPrefix` (default: derived from the content), the style is scoped to that id, the script only
// touches its own element, and without `standalone` there is no XML declaration. The script exposes
// `element.flamegraph = { zoom(name), reset(), search(regex), resetSearch() }`.
import Foundation

public enum FlameGraph {
    /// Frames narrower than this are not drawn (their samples still widen their parents).
    public enum MinWidth: Equatable, Sendable, CustomStringConvertible {
        case pixels(Double)
        /// Percent of all samples.
        case percent(Double)

        /// "0.5" (pixels) or "0.5%" (of all samples), as flamegraph.pl's --minwidth. Throws `ProfilingError`.
        public init(parsing text: String) throws {
            let t = text.trimmingCharacters(in: .whitespaces)
            let isPercent = t.hasSuffix("%")
            guard let v = Double(isPercent ? String(t.dropLast()) : t), v >= 0, v.isFinite, !isPercent || v <= 100 else {
                throw ProfilingError("--min-width must be pixels (0.1) or a percentage (0.5%), got '\(text)'")
            }
            self = isPercent ? .percent(v) : .pixels(v)
        }
        /// The width in pixels on a graph `width` pixels wide.
        public func pixels(of width: Double) -> Double {
            switch self { case .pixels(let p): return p; case .percent(let q): return q / 100 * width }
        }
        public var description: String {
            switch self { case .pixels(let p): return "\(p) px"; case .percent(let q): return "\(q)%" }
        }
    }

    public struct Options: Sendable {
        public var title = "Flame Graph"
        public var subtitle = ""
        /// Image width in pixels.
        public var width = 1200.0
        public var frameHeight = 16.0
        public var minWidth = MinWidth.pixels(0.1)
        /// Icicle of callers: stacks reversed, drawn top-down.
        public var inverted = false
        /// Start with an XML declaration (a file of its own); false for an element inlined in HTML.
        public var standalone = true
        /// The prefix of every id in the SVG (letters, digits, '-', '_'); nil: derived from the content.
        public var idPrefix: String?
        /// Module of each frame name (shown on hover), e.g. `SampleProfile.modules`.
        public var modules: [String: String] = [:]
        /// What a sample is called in tooltips.
        public var countName = "samples"
        public init(title: String = "Flame Graph", subtitle: String = "", width: Double = 1200, minWidth: MinWidth = .pixels(0.1),
                    inverted: Bool = false, standalone: Bool = true, idPrefix: String? = nil, modules: [String: String] = [:]) {
            self.title = title; self.subtitle = subtitle; self.width = width; self.minWidth = minWidth; self.inverted = inverted
            self.standalone = standalone; self.idPrefix = idPrefix; self.modules = modules
        }
    }

    // MARK: public entry points

    /// The SVG of `profile`.
    public static func svg(_ profile: StackProfile, _ options: Options = Options()) -> String {
        let p = options.inverted ? profile.mapStacks { Array($0.reversed()) } : profile
        let root = CallTreeNode.build(p, rootName: "all")
        let n = Double(max(1, root.total))
        return render(root, options, fingerprint: Folded.write(profile)) { node, _ in
            (color(node.name), [String(format: "%d %@ (%.2f%%)", node.total, options.countName, 100 * Double(node.total) / n)])
        }
    }

    /// The differential flame graph: `b`'s shape, coloured by each frame's self-share change from `a` to `b`
    /// (the same call path in both; shares of each profile's total). Frames only in `a` are not drawn (the
    /// text diff lists them).
    public static func diffSVG(before a: StackProfile, after b: StackProfile, _ options: Options = Options()) -> String {
        let ta = CallTreeNode.build(options.inverted ? a.mapStacks { Array($0.reversed()) } : a, rootName: "all")
        let tb = CallTreeNode.build(options.inverted ? b.mapStacks { Array($0.reversed()) } : b, rootName: "all")
        let na = Double(max(1, ta.total)), nb = Double(max(1, tb.total))
        // The A node on the same path as each B node, and the largest |self change|, first.
        var twin: [ObjectIdentifier: CallTreeNode] = [:]
        var maxDelta = 0.0
        func pair(_ x: CallTreeNode, _ y: CallTreeNode?) {
            if let y { twin[ObjectIdentifier(x)] = y }
            maxDelta = max(maxDelta, abs(Double(x.selfCount) / nb - Double(y?.selfCount ?? 0) / na))
            for c in x.children { pair(c, y?.child(named: c.name)) }
        }
        pair(tb, ta)
        var o = options
        if o.subtitle.isEmpty { o.subtitle = "B's shape; colour: self share B vs A (red grew, blue shrank)" }
        return render(tb, o, fingerprint: Folded.write(a) + "|" + Folded.write(b)) { node, _ in
            let x = twin[ObjectIdentifier(node)]
            let sa = Double(x?.selfCount ?? 0) / na, sb = Double(node.selfCount) / nb
            let tA = Double(x?.total ?? 0) / na, tB = Double(node.total) / nb
            let lines = [
                String(format: "B: %d %@ (%.2f%%); A: %d (%.2f%%)", node.total, o.countName, 100 * tB, x?.total ?? 0, 100 * tA),
                String(format: "self %.2f%% -> %.2f%% (%+.2f pts); total %+.2f pts", 100 * sa, 100 * sb, 100 * (sb - sa), 100 * (tB - tA)),
            ]
            return (diffColor(sb - sa, max: maxDelta), lines)
        }
    }

    /// Writes the SVG of `profile` to `path`. Throws `ProfilingError`.
    public static func write(_ profile: StackProfile, to path: String, _ options: Options) throws {
        try write(svg(profile, options), to: path)
    }

    public static func write(_ svgText: String, to path: String) throws {
        do { try Data(svgText.utf8).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }

    /// The SVG text of `profile` (the former signature: title, subtitle, size; min width in pixels).
    public static func svg(_ profile: StackProfile, title: String, subtitle: String = "", width: Double = 1200,
                           frameHeight: Double = 16, minWidth: Double = 0.1) -> String {
        var o = Options(title: title, subtitle: subtitle, width: width, minWidth: .pixels(minWidth))
        o.frameHeight = frameHeight
        return svg(profile, o)
    }

    public static func write(_ profile: StackProfile, to path: String, title: String, subtitle: String = "") throws {
        try write(profile, to: path, Options(title: title, subtitle: subtitle))
    }

    // MARK: drawing

    /// Draws the tree: `style(node, level)` gives each frame's fill and its tooltip lines after the name.
    static func render(_ root: CallTreeNode, _ o: Options, fingerprint: String,
                       style: (CallTreeNode, Int) -> (fill: String, lines: [String])) -> String {
        let id = o.idPrefix.map(sanitizeID) ?? "fg" + String(fnv1a(fingerprint + o.title + (o.inverted ? "i" : "")) & 0xffff_ffff, radix: 16)
        let fh = o.frameHeight, pad = 10.0
        let top = (o.subtitle.isEmpty ? 36.0 : 52.0) + 8, bottom = 2.5 * fh
        let minPx = o.minWidth.pixels(of: o.width - 2 * pad)
        let scale = root.total > 0 ? (o.width - 2 * pad) / Double(root.total) : 0
        // Depth of what is drawn (frames wide enough).
        func depth(_ n: CallTreeNode) -> Int { n.children.filter { Double($0.total) * scale >= minPx }.map { 1 + depth($0) }.max() ?? 0 }
        let levels = depth(root) + 1
        let height = top + Double(levels) * fh + bottom
        func y(_ level: Int) -> Double { o.inverted ? top + Double(level) * fh : height - bottom - Double(level + 1) * fh }

        var s = o.standalone ? "<?xml version=\"1.0\" standalone=\"no\"?>\n" : ""
        s += """
        <svg id="\(id)" class="flamegraph" version="1.1" width="\(fmt(o.width))" height="\(fmt(height))" viewBox="0 0 \(fmt(o.width)) \(fmt(height))" xmlns="http://www.w3.org/2000/svg" data-total="\(root.total)" data-pad="\(fmt(pad))" data-zoom="" data-matched="" data-matches="">
        <style type="text/css"><![CDATA[
        #\(id) text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }
        #\(id) .t { font-size: 17px; } #\(id) .st { fill: #555; }
        #\(id) .f { cursor: pointer; } #\(id) .f:hover rect { stroke: #000; stroke-width: 0.5; }
        #\(id) .f text { pointer-events: none; } #\(id) .hide { display: none; } #\(id) .par rect { opacity: 0.5; }
        #\(id) .ctl { cursor: pointer; fill: #1f5fa8; } #\(id) .off { visibility: hidden; }
        ]]></style>
        <rect x="0" y="0" width="100%" height="100%" fill="#f8f8f8"/>
        <text class="t" x="\(fmt(o.width / 2))" y="24" text-anchor="middle">\(escape(o.title))</text>

        """
        if !o.subtitle.isEmpty {
            s += "<text class=\"st\" x=\"\(fmt(o.width / 2))\" y=\"42\" text-anchor=\"middle\">\(escape(o.subtitle))</text>\n"
        }
        s += "<text id=\"\(id)-unzoom\" class=\"ctl off\" x=\"\(fmt(pad))\" y=\"24\">Reset Zoom</text>\n"
        s += "<text id=\"\(id)-search\" class=\"ctl\" x=\"\(fmt(o.width - pad))\" y=\"24\" text-anchor=\"end\">Search</text>\n"
        s += "<text id=\"\(id)-details\" x=\"\(fmt(pad))\" y=\"\(fmt(height - bottom / 2 + 4))\"> </text>\n"
        s += "<text id=\"\(id)-matched\" x=\"\(fmt(o.width - pad))\" y=\"\(fmt(height - bottom / 2 + 4))\" text-anchor=\"end\"> </text>\n"
        s += "<g id=\"\(id)-frames\">\n"
        func draw(_ node: CallTreeNode, start: Int, level: Int) {
            let w = Double(node.total) * scale
            guard w >= minPx || level == 0 else { return }
            let x = pad + Double(start) * scale
            let (fill, lines) = style(node, level)
            var tip = [node.name] + lines
            if let m = o.modules[node.name] ?? FrameName.module(ofName: node.name) { tip.append("module: \(m)") }
            s += "<g class=\"f\" data-s=\"\(start)\" data-c=\"\(node.total)\" data-l=\"\(level)\"><title>\(escape(tip.joined(separator: "\n")))</title>"
            s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y(level)))\" width=\"\(fmt(w))\" height=\"\(fmt(fh - 1))\" fill=\"\(fill)\" rx=\"2\"/>"
            s += "<text x=\"\(fmt(x + 3))\" y=\"\(fmt(y(level) + fh - 4.5))\">\(escape(label(node.name, width: w)))</text></g>\n"
            var cx = start
            // flamegraph.pl's order: children sorted by name.
            for c in node.children.sorted(by: { $0.name < $1.name }) {
                draw(c, start: cx, level: level + 1)
                cx += c.total
            }
        }
        draw(root, start: 0, level: 0)
        s += "</g>\n<script type=\"text/ecmascript\"><![CDATA[\n"
        s += script.replacingOccurrences(of: "@ID@", with: id).replacingOccurrences(of: "@CHARW@", with: fmt(charWidth))
        s += "]]></script>\n</svg>\n"
        return s
    }

    /// Average glyph width of 12 px Verdana (flamegraph.pl's 0.59 x font size).
    static let charWidth = 7.0

    /// The label that fits in `width` pixels ("" when fewer than 3 characters fit; ".." when cut).
    static func label(_ name: String, width: Double) -> String {
        let chars = Int((width - 6) / charWidth)
        if chars < 3 { return "" }
        return name.count <= chars ? name : String(name.prefix(chars - 2)) + ".."
    }

    /// The interactive part (flamegraph.pl's behaviour, rewritten): zoom, reset, search, details, URL hooks.
    static let script = #"""
    (function () {
      var svg = document.getElementById("@ID@");
      if (!svg || svg.flamegraph) return;
      var pad = +svg.getAttribute("data-pad"), total = +svg.getAttribute("data-total");
      var W = +svg.getAttribute("width") - 2 * pad, CHARW = @CHARW@;
      var frames = Array.prototype.slice.call(svg.querySelectorAll("g.f"));
      var details = document.getElementById("@ID@-details"), matched = document.getElementById("@ID@-matched");
      var unzoomBtn = document.getElementById("@ID@-unzoom"), searchBtn = document.getElementById("@ID@-search");
      function num(g, k) { return +g.getAttribute("data-" + k); }
      function info(g) { return g.querySelector("title").textContent.split("\n"); }
      function name(g) { return info(g)[0]; }
      function fit(g, x, w) {
        var r = g.querySelector("rect"), t = g.querySelector("text"), n = name(g);
        var chars = Math.floor((w - 6) / CHARW);
        r.setAttribute("x", x.toFixed(2)); r.setAttribute("width", Math.max(0, w).toFixed(2));
        t.setAttribute("x", (x + 3).toFixed(2));
        t.textContent = chars < 3 ? "" : (n.length <= chars ? n : n.substring(0, chars - 2) + "..");
      }
      function zoom(g) {
        var s = num(g, "s"), c = num(g, "c"), l = num(g, "l");
        frames.forEach(function (f) {
          var fs = num(f, "s"), fc = num(f, "c"), fl = num(f, "l");
          f.classList.remove("hide"); f.classList.remove("par");
          if (fl >= l && fs >= s && fs + fc <= s + c) fit(f, pad + (fs - s) / c * W, fc / c * W);
          else if (fl < l && fs <= s && fs + fc >= s + c) { f.classList.add("par"); fit(f, pad, W); }
          else f.classList.add("hide");
        });
        svg.setAttribute("data-zoom", name(g));
        unzoomBtn.classList.remove("off");
      }
      function reset() {
        frames.forEach(function (f) {
          f.classList.remove("hide"); f.classList.remove("par");
          fit(f, pad + num(f, "s") / total * W, num(f, "c") / total * W);
        });
        svg.setAttribute("data-zoom", "");
        unzoomBtn.classList.add("off");
      }
      function zoomName(n) {
        var best = null;
        frames.forEach(function (f) { if (name(f) === n && (!best || num(f, "c") > num(best, "c"))) best = f; });
        if (best) zoom(best);
        return !!best;
      }
      var searching = false;
      function resetSearch() {
        frames.forEach(function (f) {
          var r = f.querySelector("rect");
          if (r.hasAttribute("data-fill")) r.setAttribute("fill", r.getAttribute("data-fill"));
        });
        matched.textContent = " "; searchBtn.textContent = "Search"; searching = false;
        svg.setAttribute("data-matched", ""); svg.setAttribute("data-matches", "");
      }
      function search(term) {
        var re;
        try { re = new RegExp(term); } catch (e) { matched.textContent = "bad regular expression: " + term; return; }
        resetSearch();
        var spans = [];
        frames.forEach(function (f) {
          if (num(f, "l") === 0 || !re.test(name(f))) return;
          var r = f.querySelector("rect");
          if (!r.hasAttribute("data-fill")) r.setAttribute("data-fill", r.getAttribute("fill"));
          r.setAttribute("fill", "rgb(230,0,230)");
          spans.push([num(f, "s"), num(f, "s") + num(f, "c")]);
        });
        spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
        var sum = 0, end = -1;
        spans.forEach(function (sp) {
          if (sp[0] >= end) { sum += sp[1] - sp[0]; end = sp[1]; }
          else if (sp[1] > end) { sum += sp[1] - end; end = sp[1]; }
        });
        var pct = total > 0 ? 100 * sum / total : 0;
        matched.textContent = "Matched: " + pct.toFixed(1) + "% (" + spans.length + " frames)";
        svg.setAttribute("data-matched", pct.toFixed(2)); svg.setAttribute("data-matches", String(spans.length));
        searchBtn.textContent = "Reset Search"; searching = true;
      }
      function ask() {
        if (searching) { resetSearch(); return; }
        var term = window.prompt("Search for (a regular expression):", "");
        if (term) search(term);
      }
      frames.forEach(function (f) {
        f.addEventListener("click", function () { zoom(f); });
        f.addEventListener("mouseover", function () { details.textContent = info(f).join("  |  "); });
        f.addEventListener("mouseout", function () { details.textContent = " "; });
      });
      unzoomBtn.addEventListener("click", reset);
      searchBtn.addEventListener("click", ask);
      if (document.documentElement === svg) {
        window.addEventListener("keydown", function (e) {
          if ((e.ctrlKey && e.key === "f") || e.key === "/") { e.preventDefault(); ask(); }
          if (e.key === "Escape") { reset(); resetSearch(); }
        });
      }
      svg.flamegraph = { zoom: zoomName, reset: reset, search: search, resetSearch: resetSearch };
      var q = new URLSearchParams(window.location.search);
      if (q.get("zoom")) zoomName(q.get("zoom"));
      if (q.get("search")) search(q.get("search"));
      svg.setAttribute("data-ready", "1");
    })();

    """#

    /// XML text escaping.
    public static func escape(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(ch)
            }
        }
        return o
    }

    /// A stable warm colour per name (FNV-1a hash), orange for kernel frames, grey for unsymbolised ones.
    static func color(_ name: String) -> String {
        let h = fnv1a(name)
        let v1 = Double(h & 0xff) / 255, v2 = Double((h >> 8) & 0xff) / 255, v3 = Double((h >> 16) & 0xff) / 255
        if name == "all" { return "rgb(200,200,200)" }
        if name.hasPrefix("[unknown]") || (FrameName.module(ofName: name) != nil && !FrameName.isKernel(name)) { return "rgb(190,190,190)" }
        if FrameName.isKernel(name) || name.hasSuffix(" [kernel]") { return "rgb(\(Int(220 + 35 * v1)),\(Int(130 + 50 * v2)),\(Int(40 * v3)))" }
        return "rgb(\(Int(205 + 50 * v3)),\(Int(230 * v1)),\(Int(55 * v2)))"
    }

    /// flamegraph.pl's differential scale: red for growth, blue for shrinkage, white for none; the deepest
    /// colour at `max`.
    static func diffColor(_ delta: Double, max: Double) -> String {
        guard max > 0, delta != 0 else { return "rgb(255,255,255)" }
        let fade = Int((210 * (max - abs(delta)) / max).rounded())
        return delta > 0 ? "rgb(255,\(fade),\(fade))" : "rgb(\(fade),\(fade),255)"
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    static func sanitizeID(_ s: String) -> String {
        let ok = s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" }
        let t = String(ok)
        return t.first?.isLetter == true ? t : "fg" + t
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
