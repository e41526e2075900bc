// Readable frame names: Swift symbols demangled by the runtime's own demangler (`swift_demangle`, exported by
// libswiftCore), then shortened the way Xcode/Instruments show them: parameter lists reduced to their labels,
// return and closure types dropped, private discriminators and `Swift.` qualifiers removed.
//
//   $s7Kernels18matmulForwardNaive...   (mangled, as in .symtab and perf)
//   Kernels.matmulForwardNaive(_: Swift.UnsafeMutablePointer<Swift.Float>, ..., columns: Swift.Range<Swift.Int>) -> ()
//   Kernels.matmulForwardNaive(_:_:weight:bias:T:C:OC:columns:)                          (what reports show)
import Foundation

@_silgen_name("swift_demangle")
private func _swift_demangle(_ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int,
                             _ outputBuffer: UnsafeMutablePointer<CChar>?,
                             _ outputBufferSize: UnsafeMutablePointer<Int>?, _ flags: UInt32) -> UnsafeMutablePointer<CChar>?

public enum Demangler {
    /// Whether `symbol` looks like a mangled Swift name ($s..., _$s..., $S..., _T0..., $e...).
    public static func isSwiftMangled(_ symbol: String) -> Bool {
        for p in ["$s", "_$s", "$S", "_$S", "_T0", "$e", "_$e"] where symbol.hasPrefix(p) { return true }
        return false
    }

    /// The runtime's full demangling of `symbol`, or nil if it is not a Swift symbol. A compiler suffix
    /// such as `.llvm.1234` or `.cold.1` is kept, after the demangled name.
    public static func demangle(_ symbol: String) -> String? {
        guard isSwiftMangled(symbol) else { return nil }
        if let d = runtimeDemangle(symbol) { return d }
        // Compiler suffixes (`.llvm.NNN`, `.cold`, `.1`) can make the whole name undemanglable.
        if let dot = symbol.firstIndex(of: "."), let d = runtimeDemangle(String(symbol[..<dot])) {
            return d + " [" + symbol[symbol.index(after: dot)...] + "]"
        }
        return nil
    }

    /// The runtime reads the name with strlen (isSwiftSymbol) whatever the length says: pass a C string.
    private static func runtimeDemangle(_ s: String) -> String? {
        if s.utf8.contains(0) { return nil }
        return s.withCString { c -> String? in
            guard let out = _swift_demangle(c, strlen(c), nil, nil, 0) else { return nil }
            defer { free(out) }
            return String(cString: out)
        }
    }

    /// The name reports show: Swift symbols demangled and simplified; other names unchanged.
    public static func readable(_ symbol: String) -> String {
        guard let full = demangle(symbol) else { return symbol }
        return simplify(full)
    }

    /// Shortens a demangled Swift name: `f(a: A, _: B) -> C` becomes `f(a:_:)`, closure signatures and
    /// generic arguments go, `(name in _ABC123)` becomes `name`, specializations become `specialized `,
    /// `Swift.` qualifiers go. Text it cannot parse is returned with only the qualifiers removed.
    public static func simplify(_ demangled: String) -> String {
        var s = demangled
        // "generic specialization <Swift.Float> of f" / "function signature specialization <Arg[0] = Dead> of f"
        // (The demangler's own text for these is not always balanced: cut at the first "> of ".)
        for kind in ["generic specialization <", "function signature specialization <", "generic partial specialization <"] {
            while let r = s.range(of: kind), let of = s.range(of: "> of ", range: r.upperBound..<s.endIndex) {
                s = String(s[..<r.lowerBound]) + "specialized " + s[of.upperBound...]
            }
        }
        while s.contains("specialized specialized ") { s = s.replacingOccurrences(of: "specialized specialized ", with: "specialized ") }
        if let r = s.range(of: " with unmangled suffix ") { s = String(s[..<r.lowerBound]) }
        // "reabstraction thunk helper from <type> to <type>": the types say nothing useful in a profile.
        if let r = s.range(of: "reabstraction thunk helper from ") { s = String(s[..<r.lowerBound]) + "reabstraction thunk" }
        guard let out = Simplifier(s).run() else { return dropSwiftQualifiers(s) }
        return dropSwiftQualifiers(out)
    }

    static func dropSwiftQualifiers(_ s: String) -> String {
        var t = s.replacingOccurrences(of: "Swift.", with: "")
        while t.contains("  ") { t = t.replacingOccurrences(of: "  ", with: " ") }
        return t.trimmingCharacters(in: .whitespaces)
    }

    /// Index just past the bracket that closes the one at `from` (which must be `open`), or nil.
    /// "->" is an arrow, not a closing angle bracket.
    static func skipBalanced(_ c: [Character], from: Int, open: Character, close: Character) -> Int? {
        guard from < c.count, c[from] == open else { return nil }
        var depth = 0, i = from
        while i < c.count {
            let ch = c[i]
            if ch == "-" && i + 1 < c.count && c[i + 1] == ">" { i += 2; continue }
            if ch == "(" || ch == "<" || ch == "[" { depth += 1 }
            if ch == ")" || ch == ">" || ch == "]" {
                depth -= 1
                if depth == 0 { return ch == close ? i + 1 : nil }
                if depth < 0 { return nil }
            }
            i += 1
        }
        return nil
    }
}

/// The rewriting pass of `Demangler.simplify` over one demangled name.
private struct Simplifier {
    let c: [Character]
    init(_ s: String) { c = Array(s) }

    static let typeKeywords: Set<String> = ["any", "some", "inout", "__owned", "__shared", "borrowing", "consuming",
                                            "sending", "isolated", "__isolated", "@escaping", "@Sendable",
                                            "@autoclosure", "@callee_guaranteed", "@convention(thin)",
                                            "@convention(c)", "@convention(block)", "@thick", "@thin",
                                            "@unowned", "@guaranteed", "@owned", "@in_guaranteed", "@in", "@out",
                                            "@inout", "@noescape", "@callee_owned"]

    func isIdent(_ ch: Character) -> Bool { ch.isLetter || ch.isNumber || ch == "_" || ch == "$" }

    func hasPrefix(_ p: String, at i: Int) -> Bool {
        var k = i
        for ch in p { guard k < c.count, c[k] == ch else { return false }; k += 1 }
        return true
    }

    /// Skips a type starting at i (after spaces); returns the index just after it.
    func skipType(_ start: Int) -> Int? {
        var i = start
        while i < c.count && c[i] == " " { i += 1 }
        var consumed = false
        while i < c.count {
            let ch = c[i]
            if ch == "(" || ch == "[" || ch == "<" {
                let close: Character = ch == "(" ? ")" : ch == "[" ? "]" : ">"
                guard let j = Demangler.skipBalanced(c, from: i, open: ch, close: close) else { return nil }
                i = j; consumed = true; continue
            }
            if isIdent(ch) || ch == "." || ch == "?" || ch == "!" || ch == "@" || ch == "#" {
                // A keyword followed by a space is part of the type (`inout Int`, `any Error`, `@escaping (...)`).
                var j = i
                while j < c.count && c[j] != " " && c[j] != "," && c[j] != ")" && c[j] != "(" && c[j] != "<" && c[j] != ">" && c[j] != "]" && c[j] != "[" { j += 1 }
                let word = String(c[i..<j])
                i = j; consumed = true
                if j < c.count && c[j] == "(" && word.hasPrefix("@") { continue } // @convention(c)
                if Simplifier.typeKeywords.contains(word) && j < c.count && c[j] == " " { i += 1 }
                continue
            }
            if hasPrefix(" -> ", at: i) { i += 4; consumed = false; while i < c.count && c[i] == " " { i += 1 }; continue }
            for kw in [" throws", " rethrows", " async"] where hasPrefix(kw, at: i) {
                let j = i + kw.count
                if j == c.count || c[j] == " " || c[j] == "(" || c[j] == "," || c[j] == ")" { i = j; break }
            }
            if i < c.count && c[i] == "(" { continue }  // throws(E)
            if hasPrefix(" & ", at: i) { i += 3; continue }
            break
        }
        return consumed || i > start ? i : nil
    }

    /// Skips ` async`, ` throws`, ` throws(E)`, ` rethrows` and a ` -> T` return type after a parameter list.
    func skipEffectsAndReturn(_ start: Int) -> Int {
        var i = start
        var progressed = true
        while progressed {
            progressed = false
            for kw in [" async", " throws", " rethrows"] where hasPrefix(kw, at: i) {
                let j = i + kw.count
                if j == c.count || c[j] == " " || c[j] == "(" || c[j] == ")" || c[j] == "," {
                    i = j
                    if i < c.count && c[i] == "(", let k = Demangler.skipBalanced(c, from: i, open: "(", close: ")") { i = k }
                    progressed = true
                }
            }
        }
        if hasPrefix(" -> ", at: i), let j = skipType(i + 4) { i = j }
        return i
    }

    /// The labels of a parameter list's contents: "a: A, _: B" -> "a:_:".
    func labels(_ inner: ArraySlice<Character>) -> String {
        var parts: [String] = []
        var depth = 0, cur = ""
        var k = inner.startIndex
        while k < inner.endIndex {
            let ch = inner[k]
            if ch == "-" && k + 1 < inner.endIndex && inner[k + 1] == ">" { cur += "->"; k += 2; continue }
            if ch == "(" || ch == "<" || ch == "[" { depth += 1 }
            if ch == ")" || ch == ">" || ch == "]" { depth -= 1 }
            if ch == "," && depth == 0 { parts.append(cur); cur = "" } else { cur.append(ch) }
            k += 1
        }
        if !cur.trimmingCharacters(in: .whitespaces).isEmpty || !parts.isEmpty { parts.append(cur) }
        return parts.map { p -> String in
            let t = p.trimmingCharacters(in: .whitespaces)
            if let colon = t.range(of: ": ") {
                let label = t[..<colon.lowerBound]
                if !label.isEmpty && label.allSatisfy({ isIdent($0) }) { return label + ":" }
            }
            return "_:"
        }.joined()
    }

    func run() -> String? {
        var out = ""
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == "<" {
                // Generic arguments/parameters of a name: dropped.
                guard let j = Demangler.skipBalanced(c, from: i, open: "<", close: ">") else { return nil }
                i = j; continue
            }
            if ch == "(" {
                guard let j = Demangler.skipBalanced(c, from: i, open: "(", close: ")") else { return nil }
                let inner = c[(i + 1)..<(j - 1)]
                let innerText = String(inner)
                // (name in _0123ABCD): a private declaration's discriminator.
                if let r = innerText.range(of: " in _"), !innerText[..<r.lowerBound].contains(" "),
                   innerText[r.upperBound...].allSatisfy({ $0.isHexDigit }) {
                    out += innerText[..<r.lowerBound]
                    i = j; continue
                }
                // "(extension in Swift):Swift.Sequence.f()": which module extends the type; dropped.
                if innerText.hasPrefix("extension in "), j < c.count, c[j] == ":" {
                    i = j + 1; continue
                }
                if let last = out.last, isIdent(last) || last == "`" {
                    // A declaration's parameter list: keep the labels, drop effects and the return type.
                    out += "(" + labels(inner) + ")"
                    i = skipEffectsAndReturn(j); continue
                }
                // A type in name position (closure signature, thunk types): dropped with its return type.
                i = skipEffectsAndReturn(j); continue
            }
            if ch == "@" {
                // A type attribute (`tiledKernel@Sendable (A) -> ()`, `closure #1 @Sendable (A) -> () in`):
                // the start of a type, dropped with it. Other `@` words (`@objc closure`) stay.
                var j = i
                while j < c.count && c[j] != " " && c[j] != "(" { j += 1 }
                let word = String(c[i..<j])
                if Simplifier.typeKeywords.contains(word) || word.hasPrefix("@convention") {
                    if let k = skipType(i) {
                        while out.last == " " { out.removeLast() }
                        i = k; continue
                    }
                }
            }
            if hasPrefix(" : ", at: i) {
                // `x.getter : T`, `static Foo.bar : T`: drop the type.
                if let j = skipType(i + 3) { i = j; continue }
            }
            if hasPrefix(" -> ", at: i) {
                if let j = skipType(i + 4) { i = j; continue }
            }
            out.append(ch)
            i += 1
        }
        return out
    }
}
