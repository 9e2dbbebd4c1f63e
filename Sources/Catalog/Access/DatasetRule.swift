/// Who may see a dataset: the owner group, the access groups, everyone when public.
/// The same rule is written once more in SQL by `SQLBuilder.visibility` so searches filter
/// in the store; a unit test holds the two to each other.
public struct DatasetRule: Sendable, Equatable, Hashable {
    public var ownerGroup: String?
    public var accessGroups: Set<String>
    public var isPublic: Bool

    public init(ownerGroup: String? = nil, accessGroups: Set<String> = [], isPublic: Bool = false) {
        self.ownerGroup = ownerGroup; self.accessGroups = accessGroups; self.isPublic = isPublic
    }

    public func allows(_ viewer: Viewer) -> Bool {
        if isPublic { return true }
        switch viewer {
        case .everyone: return true
        case .anonymous: return false
        case let .member(_, groups):
            if let ownerGroup, groups.contains(ownerGroup) { return true }
            return !accessGroups.isDisjoint(with: groups)
        }
    }
}

/// Who is asking. The gateway makes one from the caller's token: a member of the
/// configured global-access group (default `globalaccess`) and the command line are
/// `.everyone`.
public enum Viewer: Sendable, Equatable, Hashable {
    case everyone
    case anonymous
    case member(user: String?, groups: Set<String>)

    /// The viewer for a caller with these groups, given the catalog's global-access group.
    public static func caller(user: String?, groups: Set<String>, globalAccessGroup: String) -> Viewer {
        groups.contains(globalAccessGroup) ? .everyone : .member(user: user, groups: groups)
    }
}

/// One dataset's access as the gateway's object routes need it: which keys (the location) and
/// the rule, and whether the dataset is ready (a converting or failed dataset is not served
/// under a root whose objects follow the catalogue).
public struct AccessEntry: Sendable, Equatable {
    public var uid: String
    public var root: String?
    public var location: String
    public var rule: DatasetRule
    public var status: DatasetStatus

    public init(uid: String, root: String?, location: String, rule: DatasetRule, status: DatasetStatus) {
        self.uid = uid; self.root = root; self.location = location; self.rule = rule; self.status = status
    }
}

/// Every dataset's access at one version of the catalogue (`catalog_state.access_version`,
/// bumped by every change of access or status).
public struct AccessSnapshot: Sendable, Equatable {
    public var version: Int64
    public var entries: [AccessEntry]
    public init(version: Int64, entries: [AccessEntry]) { self.version = version; self.entries = entries }
}

/// Which datasets a grant or revoke applies to.
public enum DatasetSelector: Sendable, Equatable {
    case uid(String)
    case location(String)
}

/// A change of access: groups added or removed, owner group or public flag set.
public struct AccessChange: Sendable, Equatable {
    public var ownerGroup: String??
    public var addGroups: Set<String>
    public var removeGroups: Set<String>
    public var isPublic: Bool?

    public init(ownerGroup: String?? = nil, addGroups: Set<String> = [], removeGroups: Set<String> = [], isPublic: Bool? = nil) {
        self.ownerGroup = ownerGroup; self.addGroups = addGroups; self.removeGroups = removeGroups; self.isPublic = isPublic
    }
}
