import Catalog
import Foundation
import ZarrCore

/// A dataset as the API shows it (`GET /api/datasets/{id}` and each search result): what it
/// is, where the gateway serves it, and its access only to those who may manage it (its
/// owner group, or the global-access group).
enum DatasetSummary {
    static func json(_ record: DatasetRecord, viewer: Viewer, served: (root: String, prefix: String)?) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(record.uid), "name": .string(record.name), "status": .string(record.status.rawValue)]
        if let format = record.format { o["format"] = .string(format) }
        if let bytes = record.sourceBytes { o["sourceBytes"] = .int(bytes) }
        if let bytes = record.storedBytes { o["storedBytes"] = .int(bytes) }
        if let observed = record.observed { o["observed"] = .string(iso(observed)) }
        if let modified = record.fileModified { o["fileModified"] = .string(iso(modified)) }
        o["created"] = .string(iso(record.created))
        o["updated"] = .string(iso(record.updated))
        if let d = record.dimensions {
            o["shape"] = .array(d.shape.map { .int($0) })
            o["axes"] = .array(d.axes.map { .string($0) })
            o["dtype"] = .string(d.dataType)
            o["physicalSizes"] = .array(d.physical.map { size in
                guard let size else { return .null }
                var p: [String: JSONValue] = ["size": .double(size.size)]
                if let unit = size.unit { p["unit"] = .string(unit) }
                return .object(p)
            })
        }
        if let served {
            o["url"] = .string("/" + ([served.root] + (served.prefix.isEmpty ? [] : [served.prefix])).map(escape).joined(separator: "/") + "/")
        }
        if mayManage(record.access, viewer) {
            o["ownerGroup"] = record.access.ownerGroup.map(JSONValue.string) ?? .null
            o["accessGroups"] = .array(record.access.accessGroups.sorted().map { .string($0) })
            o["public"] = .bool(record.access.isPublic)
            // Provenance of an uploaded dataset: who uploaded it (Docs/catalog.md, "Uploads").
            if let uploader = record.uploader { o["uploader"] = .string(uploader) }
        }
        return .object(o)
    }

    /// Groups are shown to the global-access group and to members of the owner group only:
    /// a reader of a shared dataset does not learn who else may read it.
    static func mayManage(_ rule: DatasetRule, _ viewer: Viewer) -> Bool {
        switch viewer {
        case .everyone: true
        case .anonymous: false
        case let .member(_, groups): rule.ownerGroup.map(groups.contains) ?? false
        }
    }

    static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }

    /// A path segment percent-encoded for a URL path (keys are served decoded once).
    static func escape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#%"))) ?? String($0)
        }.joined(separator: "/")
    }
}
