import Catalog
import Testing

@Suite struct FreeTextTests {
    @Test func splitsOnPunctuationAndFoldsCaseAndAccents() {
        #expect(FreeText.tokens("NGC_4242-b.fits Ångström Café") == ["ngc", "4242", "b", "fits", "angstrom", "cafe"])
    }

    @Test func sqlLookingTextIsJustWords() {
        #expect(FreeText.tokens("' OR 1=1 --") == ["or", "1", "1"])
        #expect(FreeText.tokens("\"; DROP TABLE dataset; --") == ["drop", "table", "dataset"])
        #expect(FreeText.tokens("%_\\*\"") == [])
    }

    @Test func longRunsAreCut() {
        let long = String(repeating: "a", count: 200)
        #expect(FreeText.tokens(long) == [String(repeating: "a", count: FreeText.maxTokenLength)])
    }

    @Test func bodyHoldsNameAndStringValuesOnce() {
        let rows = [MetaRow(scope: "hdu0", key: "OBJECT", type: .string, text: "M31 field"),
                    MetaRow(scope: "hdu0", key: "EXPTIME", type: .number, number: 30, text: "30"),
                    MetaRow(scope: "hdu1", key: "OBJECT", type: .string, text: "m31")]
        #expect(FreeText.body(name: "m31-a", rows: rows) == "m31 a field")
    }
}

@Suite struct DatasetRuleTests {
    @Test func ruleMatrix() {
        let rule = DatasetRule(ownerGroup: "owners", accessGroups: ["readers"], isPublic: false)
        #expect(rule.allows(.everyone))
        #expect(!rule.allows(.anonymous))
        #expect(rule.allows(.member(user: "a", groups: ["owners"])))
        #expect(rule.allows(.member(user: "b", groups: ["x", "readers"])))
        #expect(!rule.allows(.member(user: "c", groups: ["x"])))
        #expect(DatasetRule(isPublic: true).allows(.anonymous))
        #expect(Viewer.caller(user: "g", groups: ["globalaccess"], globalAccessGroup: "globalaccess") == .everyone)
    }
}

@Suite struct CatalogMigrationsTests {
    @Test func bothDialectsListTheSameMigrations() {
        #expect(CatalogMigrations.all(.sqlite).map(\.id) == CatalogMigrations.all(.postgres).map(\.id))
    }
}
