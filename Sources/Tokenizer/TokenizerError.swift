import Foundation

/// Every failure of the tokenizer library: a bad vocabulary file, an id outside the vocabulary, a file that
/// cannot encode, a missing file, a vocabulary that does not fit a model. The description is one line that
/// names the file (or the input) and what is wrong with it.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    /// What kind of failure, for callers and tests that branch on it.
    public enum Kind: String, Sendable {
        case unreadable        // the file cannot be read
        case malformed         // a line or record that does not parse (garbled base64, bad rank, truncation, bad magic)
        case inconsistent      // parses, but the ranks / ids do not form a vocabulary (duplicates, gaps, missing bytes)
        case idOutOfRange      // an id < 0 or >= the vocabulary size
        case decodeOnly        // encoding asked of a file that carries no merge ranks (llm.c's .bin)
        case notFound          // no tokenizer file where it was looked for
        case sizeMismatch      // the tokenizer's vocabulary differs from a model's V
        case emptyText         // a prompt text that encodes to no tokens
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        // One line, whatever a caller put in.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { message }

    /// `path`'s last component, the way messages name a file when the full path is also given once.
    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }
}
