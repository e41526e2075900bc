// An SVG flame graph drawn here (FlameGraph's layout): the root at the bottom, each frame a box as wide as
// its share of samples, children above their parent, hottest first from the left; colours hashed from the
// name (warm tones; kernel frames orange, unknown frames grey). Every box has a <title> tooltip
// "name (N samples, P%)". No script: it opens in any browser or image viewer.
import Foundation

public enum FlameGraph {
    /// The SVG text of `profile`. Frames narrower than `minWidth` pixels are not drawn (their samples still
    /// widen their parents).
    public static func svg(_ profile: StackProfile, title: String, subtitle: String = "", width: Double = 1200,
                           frameHeight: Double = 16, minWidth: Double = 0.3) -> String {
        let root = CallTreeNode.build(profile, rootName: "all")
        let depth = maxDepth(root)
        let top = subtitle.isEmpty ? 36.0 : 52.0, pad = 10.0
        let height = top + Double(depth + 1) * frameHeight + 2 * pad
        let scale = root.total > 0 ? (width - 2 * pad) / Double(root.total) : 0
        var s = """
        <?xml version="1.0" standalone="no"?>
        <svg version="1.1" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" xmlns="http://www.w3.org/2000/svg">
        <style>text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; } .t { font-size: 17px; } .st { font-size: 12px; fill: #555; } rect:hover { stroke: #000; stroke-width: 0.5; }</style>
        <rect x="0" y="0" width="100%" height="100%" fill="#f8f8f8"/>
        <text class="t" x="\(fmt(width / 2))" y="24" text-anchor="middle">\(escape(title))</text>

        """
        if !subtitle.isEmpty {
            s += "<text class=\"st\" x=\"\(fmt(width / 2))\" y=\"42\" text-anchor=\"middle\">\(escape(subtitle))</text>\n"
        }
        func draw(_ node: CallTreeNode, x: Double, level: Int) {
            let w = Double(node.total) * scale
            guard w >= minWidth else { return }
            let y = height - pad - Double(level + 1) * frameHeight
            let pct = root.total > 0 ? 100 * Double(node.total) / Double(root.total) : 0
            let tip = "\(node.name) (\(node.total) samples, \(String(format: "%.2f", pct))%)"
            s += "<g><title>\(escape(tip))</title><rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(frameHeight - 1))\" fill=\"\(color(node.name))\" rx=\"2\"/>"
            let chars = Int((w - 6) / 7)
            if chars >= 3 {
                let label = node.name.count <= chars ? node.name : String(node.name.prefix(chars - 2)) + ".."
                s += "<text x=\"\(fmt(x + 3))\" y=\"\(fmt(y + frameHeight - 4.5))\">\(escape(label))</text>"
            }
            s += "</g>\n"
            var cx = x
            for c in node.children {
                draw(c, x: cx, level: level + 1)
                cx += Double(c.total) * scale
            }
        }
        draw(root, x: pad, level: 0)
        s += "</svg>\n"
        return s
    }

    /// Writes the SVG of `profile` to `path`. Throws `ProfilingError`.
    public static func write(_ profile: StackProfile, to path: String, title: String, subtitle: String = "") throws {
        do { try Data(svg(profile, title: title, subtitle: subtitle).utf8).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }

    static func maxDepth(_ n: CallTreeNode) -> Int { n.children.map { 1 + maxDepth($0) }.max() ?? 0 }

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

    /// A stable warm colour per name (FNV-1a hash), orange for kernel frames, grey for unknown ones.
    static func color(_ name: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        let v1 = Double(h & 0xff) / 255, v2 = Double((h >> 8) & 0xff) / 255, v3 = Double((h >> 16) & 0xff) / 255
        if name == "all" { return "rgb(200,200,200)" }
        if name.hasPrefix("[unknown]") { return "rgb(190,190,190)" }
        if name.hasSuffix(" [kernel]") { return "rgb(\(Int(220 + 35 * v1)),\(Int(130 + 50 * v2)),\(Int(40 * v3)))" }
        return "rgb(\(Int(205 + 50 * v3)),\(Int(230 * v1)),\(Int(55 * v2)))"
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
