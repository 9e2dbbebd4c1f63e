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
