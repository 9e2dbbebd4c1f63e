import Testing
@testable import Gateway

/// What a key's last segment decides: its media type, and whether the gateway may
/// generate the document instead of serving the stored bytes.
@Suite struct KeyNameTests {
    @Test func mediaTypeFollowsTheLastSegment() {
        #expect(ContentType.of("img/0/zarr.json") == "application/json")
        #expect(ContentType.of(".zarray") == "application/json")
        #expect(ContentType.of("img/OME/METADATA.ome.xml") == "application/xml")
        #expect(ContentType.of("img/0/c/0/0") == "application/octet-stream")
        #expect(ContentType.of("img/.zarray/0") == "application/octet-stream")
    }

    @Test func onlyConsolidatedDocumentsMayBeGenerated() {
        #expect(ConsolidatedMetadata.mayGenerate("img/.zmetadata") && ConsolidatedMetadata.mayGenerate("zarr.json"))
        #expect(!ConsolidatedMetadata.mayGenerate("img/zarr.jsonx") && !ConsolidatedMetadata.mayGenerate("zarr.json/0"))
        #expect(!ConsolidatedMetadata.mayGenerate("img/x.zmetadata"))
    }
}
