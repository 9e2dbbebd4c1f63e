import Storage

/// A request's query string as `[(name, value)]` in order (repeated names kept), each part
/// `+`→space and percent-decoded once into valid UTF-8. A part that does not decode is
/// refused (400 naming it) rather than passed on as sent.
enum QueryString {
    static func parse(_ query: Substring?) throws(APIParameterError) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var out = [(name: String, value: String)]()
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = part.firstIndex(of: "=")
            let rawName = eq.map { part[..<$0] } ?? part
            let rawValue = eq.map { part[part.index(after: $0)...] } ?? ""
            guard let name = decode(rawName) else {
                throw APIParameterError(parameter: String(rawName.prefix(64)), message: "parameter name is not valid percent-encoded UTF-8")
            }
            guard let value = decode(rawValue) else {
                throw APIParameterError(parameter: String(name.prefix(64)), message: "value is not valid percent-encoded UTF-8")
            }
            out.append((name, value))
        }
        return out
    }

    static func decode(_ text: Substring) -> String? {
        PercentDecoding.queryText(text)
    }
}
