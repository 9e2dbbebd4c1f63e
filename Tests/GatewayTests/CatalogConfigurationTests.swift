import Foundation
import Testing
@testable import Gateway

/// The `catalog:` section and `datasets:` per root: decoded from YAML, refused with the entry named.
@Suite struct CatalogConfigurationTests {
    func load(_ yaml: String) throws -> GatewayConfiguration {
        let path = NSTemporaryDirectory() + "tessera-catalog-config-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GatewayConfiguration.load(yamlFile: path)
    }

    @Test func decodesTheSectionAndTheRootSetting() throws {
        let c = try load("""
        roots:
          - {name: data, location: /tmp, datasets: catalog}
          - {name: other, location: /var}
        catalog:
          store: sqlite:/tmp/cat.sqlite
          refreshSeconds: 2
          search:
            maxPageSize: 100
            elements:
              - {name: object, type: text, keys: [OBJECT]}
        """).validated()
        #expect(c.roots?[0].datasets == .catalog)
        #expect(c.roots?[1].datasets == nil)
        #expect(c.catalog?.store == "sqlite:/tmp/cat.sqlite")
        #expect(c.catalog?.resolvedGlobalAccessGroup == "globalaccess")
        #expect(c.catalog?.refreshInterval == .seconds(2))
        guard case let .object(search)? = c.catalog?.search else { Issue.record("search kept"); return }
        #expect(search["maxPageSize"] == 100)
    }

    @Test func refusalsNameTheEntry() throws {
        func refusal(_ yaml: String) -> String {
            do { _ = try load(yaml).validated(); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal("roots: [{name: api, location: /tmp}]").contains("'api'"))
        #expect(refusal("roots: [{name: d, location: /tmp, datasets: catalog}]").contains("root 'd': datasets: catalog needs a catalog"))
        #expect(refusal("roots: [{name: d, location: /tmp}]\ncatalog: {refreshSeconds: 0}").contains("catalog.refreshSeconds"))
        #expect(refusal("roots: [{name: d, location: /tmp}]\ncatalog: {globalAccessGroup: ''}").contains("catalog.globalAccessGroup"))
        #expect(refusal("roots: [{name: d, location: /tmp}]\ncatalog: {search: [1]}").contains("catalog.search"))
        #expect(throws: (any Error).self) { try load("roots: [{name: d, location: /tmp, datasets: sometimes}]") }
        // The search engine's own validation, reached from the gateway's YAML.
        #expect(refusal("roots: [{name: d, location: /tmp}]\ncatalog: {search: {elements: [{name: limit, type: range, keys: [X]}]}}")
            .contains("catalog.search.elements[0] (limit)"))
    }

    @Test func aCatalogSectionNeedsAStore() async throws {
        var c = GatewayConfiguration()
        c.roots = [RootConfiguration(name: "d", location: NSTemporaryDirectory())]
        c.catalog = CatalogConfiguration()
        await #expect(throws: ConfigurationError.self) { _ = try await Gateway(configuration: c) }
    }
}
