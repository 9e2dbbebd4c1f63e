import Catalog
import Testing

/// The one decision both stores' grants and revokes run (`AccessChange.writes`): which
/// datasets are written, when their groups are, and when the access version moves.
@Suite struct AccessWritesTests {
    func found(_ id: Int64?, _ rule: DatasetRule) -> DatasetRecord {
        DatasetRecord(id: id, uid: "u\(id ?? 0)", name: "n", location: "/x/\(id ?? 0)", access: rule, status: .ready, created: 1)
    }

    @Test func aChangeThatChangesNothingWritesNothing() {
        let rule = DatasetRule(ownerGroup: "lab", accessGroups: ["a"], isPublic: false)
        let same = AccessChange(ownerGroup: .some("lab"), addGroups: ["a"], removeGroups: ["b"], isPublic: false)
        #expect(same.writes(for: [found(1, rule)], updated: 5) == [])
        #expect(AccessChange(isPublic: true).writes(for: [], updated: 5) == [])
    }

    @Test func theRuleIsWrittenAndItsGroupsOnlyWhenTheyChange() {
        let rule = DatasetRule(ownerGroup: nil, accessGroups: ["a"], isPublic: false)
        #expect(AccessChange(ownerGroup: .some("lab")).writes(for: [found(1, rule)], updated: 5)
            == [.rule(id: 1, ownerGroup: "lab", isPublic: false, updated: 5), .bumpAccessVersion])
        #expect(AccessChange(ownerGroup: .some(nil), addGroups: ["b"]).writes(for: [found(2, DatasetRule(ownerGroup: "lab"))], updated: 6)
            == [.rule(id: 2, ownerGroup: nil, isPublic: false, updated: 6), .groups(id: 2, ["b"]), .bumpAccessVersion])
        // Removed after added: a group named in both ends removed.
        #expect(AccessChange(addGroups: ["a", "c"], removeGroups: ["a"]).writes(for: [found(3, rule)], updated: 7)
            == [.rule(id: 3, ownerGroup: nil, isPublic: false, updated: 7), .groups(id: 3, ["c"]), .bumpAccessVersion])
    }

    @Test func everyFoundDatasetWithAnIdIsConsideredAndTheVersionMovesOnce() {
        let open = DatasetRule(isPublic: true), closed = DatasetRule()
        let writes = AccessChange(isPublic: true).writes(for: [found(1, closed), found(nil, closed), found(2, open), found(3, closed)],
                                                         updated: 8)
        #expect(writes == [.rule(id: 1, ownerGroup: nil, isPublic: true, updated: 8),
                           .rule(id: 3, ownerGroup: nil, isPublic: true, updated: 8), .bumpAccessVersion])
    }
}
