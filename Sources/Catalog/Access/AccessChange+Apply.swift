extension DatasetRule {
    /// The rule after `change`: groups removed after added (a group named in both ends
    /// removed), owner group and public flag set when the change names them.
    public func applying(_ change: AccessChange) -> DatasetRule {
        var rule = self
        if let owner = change.ownerGroup { rule.ownerGroup = owner.map { StoredForm.text($0) } }
        if let isPublic = change.isPublic { rule.isPublic = isPublic }
        rule.accessGroups.formUnion(change.addGroups.map { StoredForm.text($0) })
        rule.accessGroups.subtract(change.removeGroups.map { StoredForm.text($0) })
        return rule
    }
}

/// One write of an access change, which each store runs in its own SQL inside the change's
/// transaction (`AccessChange.writes(for:updated:)` decides which, for both stores).
public enum AccessWrite: Sendable, Equatable {
    /// The dataset's owner group and public flag, and its `updated` time.
    case rule(id: Int64, ownerGroup: String?, isPublic: Bool, updated: Double)
    /// The dataset's access groups, replaced.
    case groups(id: Int64, Set<String>)
    /// The catalogue's access version, moved once when any rule changed.
    case bumpAccessVersion
}

extension AccessChange {
    /// The writes that apply this change to the datasets a selector found (read in the same
    /// transaction): a dataset whose rule the change leaves as it is is not written, its groups
    /// only when they change, and the access version moves only when a rule really changed.
    public func writes(for found: [DatasetRecord], updated: Double) -> [AccessWrite] {
        var writes = [AccessWrite]()
        for record in found {
            guard let id = record.id else { continue }
            let rule = record.access.applying(self)
            guard rule != record.access else { continue }
            writes.append(.rule(id: id, ownerGroup: rule.ownerGroup, isPublic: rule.isPublic, updated: updated))
            if rule.accessGroups != record.access.accessGroups { writes.append(.groups(id: id, rule.accessGroups)) }
        }
        if !writes.isEmpty { writes.append(.bumpAccessVersion) }
        return writes
    }
}
