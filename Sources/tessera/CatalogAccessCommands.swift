import ArgumentParser
import Catalog
import Foundation

/// `tessera catalog grant`: adds access groups, sets the owner group or the public flag.
struct CatalogGrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Let a group (or everyone) see datasets.",
        discussion: "Applies to every DATASET or to none: a name not in the catalogue changes nothing. Gateways see the change within their catalog.refreshSeconds."
    )

    @Argument(help: "Datasets: uid or location.") var datasets: [String]
    @Option(name: .customLong("group"), help: "An access group to add (repeatable).") var groups: [String] = []
    @Option(help: "Set the owner group.") var ownerGroup: String?
    @Flag(help: "Make the datasets public (anonymous callers see them).") var `public` = false
    @Flag(help: "Make the datasets private again.") var `private` = false
    @OptionGroup var options: CatalogOptions

    func validate() throws {
        guard !datasets.isEmpty else { throw ValidationError("name at least one DATASET (uid or location)") }
        guard !(self.public && self.private) else { throw ValidationError("--public and --private contradict each other") }
        guard !groups.isEmpty || ownerGroup != nil || self.public || self.private else {
            throw ValidationError("say what to grant: --group G, --owner-group G, --public or --private")
        }
        try checkGroupNames(groups + (ownerGroup.map { [$0] } ?? []))
    }

    func run() async throws {
        let change = AccessChange(ownerGroup: ownerGroup.map { .some($0) }, addGroups: Set(groups),
                                  isPublic: self.public ? true : (self.private ? false : nil))
        try await applyAccess(change, to: datasets, options: options)
    }
}

/// `tessera catalog revoke`: removes access groups.
struct CatalogRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Stop a group from seeing datasets (through that group).",
        discussion: "The owner group and the public flag are changed with grant (--owner-group, --private)."
    )

    @Argument(help: "Datasets: uid or location.") var datasets: [String]
    @Option(name: .customLong("group"), help: "An access group to remove (repeatable).") var groups: [String] = []
    @OptionGroup var options: CatalogOptions

    func validate() throws {
        guard !datasets.isEmpty else { throw ValidationError("name at least one DATASET (uid or location)") }
        guard !groups.isEmpty else { throw ValidationError("say which group to revoke: --group G") }
        try checkGroupNames(groups)
    }

    func run() async throws {
        try await applyAccess(AccessChange(removeGroups: Set(groups)), to: datasets, options: options)
    }
}

/// Group names are the strings tokens carry; an empty one or one with control characters is a typo.
func checkGroupNames(_ names: [String]) throws {
    for name in names where name.isEmpty || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        throw ValidationError("group name \(name.debugDescription) is empty or has control characters")
    }
}

func applyAccess(_ change: AccessChange, to names: [String], options: CatalogOptions) async throws {
    try await withCatalog(options) { store in
        let found = try await findDatasets(names, in: store)
        for record in found {
            _ = try await store.changeAccess(.uid(record.uid), change)
            let now = try await store.dataset(uid: record.uid, visibleTo: .everyone)
            print("\(record.uid)  \(record.location)  \(DatasetText.access(now?.access ?? record.access))")
        }
    }
}
