import Catalog
import Testing
import ZarrCore

@Suite struct FlattenerTests {
    func scope(_ name: String, textual: Bool = false, _ entries: [(String, JSONValue)]) -> JSONValue {
        var s: [String: JSONValue] = ["scope": .string(name), "entries": .array(entries.map { .array([.string($0.0), $0.1]) })]
        if textual { s["textual"] = true }
        return .object(s)
    }

    @Test func fitsCardsKeepOrderRepeatsAndTypes() {
        let metadata: JSONValue = ["format": "fits", "scopes": [scope("hdu0", [
            ("SIMPLE", true), ("NAXIS", 2), ("EXPTIME", 1.0e-05), ("OBJECT", "M31 'core'"),
            ("DATE-OBS", "2021-03-04T05:06:07"), ("RA", "05:35:17.3"), ("COMMENT", "first"), ("COMMENT", "second"),
            ("UNDEF", nil), ("BIG", .uint(18_446_744_073_709_551_615)),
        ])]]
        let r = MetadataFlattener.flatten(metadata)
        #expect(r.rows.map(\.key) == ["SIMPLE", "NAXIS", "EXPTIME", "OBJECT", "DATE-OBS", "RA", "COMMENT", "COMMENT", "UNDEF", "BIG"])
        #expect(r.rows[0] == MetaRow(scope: "hdu0", key: "SIMPLE", type: .bool, number: 1, text: "true"))
        #expect(r.rows[1] == MetaRow(scope: "hdu0", key: "NAXIS", type: .number, number: 2, text: "2"))
        #expect(r.rows[2].number == 1.0e-05 && r.rows[2].type == .number)
        #expect(r.rows[3].type == .string && r.rows[3].text == "M31 'core'")
        #expect(r.rows[4].type == .date && r.rows[4].number == 1_614_834_367)
        #expect(r.rows[5].type == .number && r.rows[5].text == "05:35:17.3")
        #expect(r.rows[6].index == 0 && r.rows[7].index == 1 && r.rows[7].text == "second")
        #expect(r.rows[8] == MetaRow(scope: "hdu0", key: "UNDEF", type: .string, text: ""))
        #expect(r.rows[9].type == .number && r.rows[9].number == nil && r.rows[9].text == "18446744073709551615")
        #expect(!r.truncated)
        #expect(r.document["format"] == "fits")
        #expect(r.document["scopes"]?["hdu0"]?.arrayValue?.count == 10)
    }

    @Test func arraysCountUpAndNestedArraysFlattenInCOrder() {
        let r = MetadataFlattener.flatten(["scopes": [scope("/entry", [("m", [[1, 2], [3, 4]]), ("s", ["a", "b"])])]])
        #expect(r.rows.map(\.index) == [0, 1, 2, 3, 0, 1])
        #expect(r.rows.prefix(4).map(\.number) == [1, 2, 3, 4])
        #expect(r.rows.allSatisfy { $0.scope == "/entry" })
    }

    @Test func objectMembersBecomeDottedKeys() {
        let r = MetadataFlattener.flatten(["scopes": [scope("dm", [("Root", ["b": 2, "a": ["c": "x"]])])]])
        #expect(r.rows.map(\.key) == ["Root.a.c", "Root.b"])
    }

    @Test func textualScopesTypeNumberStrings() {
        let r = MetadataFlattener.flatten(["scopes": [
            scope("openslide", textual: true, [("openslide.mpp-x", "0.2497"), ("aperio.AppMag", "20"), ("vendor", "aperio")]),
            scope("hdu0", [("VERSION", "20")]),
        ]])
        #expect(r.rows.map(\.type) == [.number, .number, .string, .string])
        #expect(r.rows[0].number == 0.2497 && r.rows[0].text == "0.2497")
    }

    @Test func limitsCutAndSayTruncated() {
        let long = String(repeating: "é", count: 1000) // 2000 bytes
        let key = String(repeating: "K", count: 300)
        let r = MetadataFlattener.flatten(["scopes": [scope("s", [("LONG", .string(long)), (key, 1)])]])
        #expect(r.rows[0].text.utf8.count <= MetaRow.maxTextBytes && r.rows[0].text.utf8.count >= MetaRow.maxTextBytes - 1)
        #expect(r.rows[1].key.utf8.count == MetaRow.maxKeyBytes)
        #expect(r.truncated && r.document["truncated"] == true)
        // The document keeps the whole value.
        #expect(r.document["scopes"]?["s"]?.arrayValue?.first?["value"] == .string(long))
    }

    @Test func longArraysKeepTheirFirstElements() {
        let values = JSONValue.array((0..<3000).map { .int(Int64($0)) })
        let r = MetadataFlattener.flatten(["scopes": [scope("s", [("A", values)])]])
        #expect(r.rows.count == MetadataFlattener.maxArrayElements && r.truncated)
    }

    @Test func rowCapHolds() {
        let entries = (0..<(MetaRow.maxRowsPerDataset / 1000 + 2)).map { ("K\($0)", JSONValue.array((0..<1000).map { .int(Int64($0)) })) }
        let r = MetadataFlattener.flatten(["scopes": [scope("s", entries)]])
        #expect(r.rows.count == MetaRow.maxRowsPerDataset && r.truncated)
    }

    @Test func observationTimeTakesTheFirstPresentKey() {
        let rows = MetadataFlattener.flatten(["scopes": [
            scope("hdu0", [("MJD-OBS", 59000.5), ("DATE", "2020-01-01")]),
            scope("hdu1", [("DATE-OBS", "2021-03-04T05:06:07")]),
        ]]).rows
        #expect(ObservationTime.find(in: rows) == 1_614_834_367)
        let mjdOnly = MetadataFlattener.flatten(["scopes": [scope("hdu0", [("MJD-OBS", 40588.5)])]]).rows
        #expect(ObservationTime.find(in: mjdOnly) == 1.5 * 86400)
        #expect(ObservationTime.find(in: []) == nil)
    }

    @Test func harvesterRecords() {
        let d = DatasetRecord(name: "m31", location: "/data/m31.ome.zarr", format: "fits")
        let start = Harvester.starting(d, now: 10)
        #expect(start.status == .converting && start.created == 10 && !start.uid.isEmpty)
        let (ready, harvest) = Harvester.finished(d, metadata: ["format": "fits", "scopes": [scope("hdu0", [("DATE-OBS", "1970-01-02")])]], now: 11)
        #expect(ready.status == .ready && ready.observed == 86400)
        #expect(harvest.rows.count == 1 && harvest.text.contains("m31"))
        #expect(Harvester.failed(d, error: "boom").error == "boom")
    }
}
