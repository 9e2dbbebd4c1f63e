import Catalog
import Foundation
import ZarrCore

/// `/api/datasets` parameters → a validated `SearchQuery`, through the search engine's
/// `SearchQueryParser` with the configured elements (`catalog.search`, decoded here from the
/// YAML as written into `SearchConfiguration` and validated at start, naming the entry).
struct SearchParameters: Sendable {
    let configuration: SearchConfiguration
    let parser: SearchQueryParser

    init(configuration written: JSONValue?) throws {
        var configuration = SearchConfiguration()
        if let written, written != .null {
            do {
                let data = try JSONEncoder().encode(written)
                configuration = try JSONDecoder().decode(SearchConfiguration.self, from: data)
            } catch let error as DecodingError {
                throw ConfigurationError("catalog.search: \(Self.describe(error))")
            }
        }
        do { try configuration.validate() } catch { throw ConfigurationError("\(error)") }
        self.configuration = configuration
        parser = SearchQueryParser(configuration: configuration)
    }

    var elements: [SearchElement] { configuration.elements }

    func parse(_ parameters: [(name: String, value: String)]) throws(APIParameterError) -> SearchQuery {
        do { return try parser.parse(parameters) } catch { throw APIParameterError(parameter: error.parameter, message: error.message) }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String { path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context): return "missing '\(key.stringValue)' at \(at(context.codingPath))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
