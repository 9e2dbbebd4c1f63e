#if canImport(Glibc)
import Glibc
#endif

/// A root inside another root is served twice: at its own name and as a folder of the
/// outer root, under the outer root's rule. If that rule lets in anyone the inner rule
/// keeps out (a public `data/` around a private `data/priv`), the inner rule is void.
/// Such configurations are refused at start, naming both roots; nesting that cannot
/// weaken a rule (a stricter or equal rule outside) stays allowed.
///
/// Locations are compared as resolved paths (symlinks followed, so a root reached through
/// a link is still found inside the other) or as S3 bucket and key-prefix folders.
enum NestedRoots {
    static func check(_ roots: [RootConfiguration]) throws {
        let places = roots.map { (root: $0, place: Place($0.location)) }
        for outer in places {
            for inner in places where inner.root.name != outer.root.name && outer.place.contains(inner.place) {
                let outerRule = outer.root.access ?? .everyone, innerRule = inner.root.access ?? .everyone
                guard !admitsOnlyWhom(outerRule, alsoAdmits: innerRule) else { continue }
                throw ConfigurationError(
                    "root '\(outer.root.name)' (\(outer.root.location)) contains root '\(inner.root.name)' (\(inner.root.location)) "
                        + "and would serve it under weaker rules (\(describe(outerRule)) instead of \(describe(innerRule))); "
                        + "serve them from separate locations, or give '\(outer.root.name)' a rule at least as strict"
                )
            }
        }
    }

    /// Whether everybody `outer` admits is also admitted by `inner`.
    static func admitsOnlyWhom(_ outer: RootConfiguration.Access, alsoAdmits inner: RootConfiguration.Access) -> Bool {
        switch (outer, inner) {
        case (_, .everyone): true
        case (.everyone, .groups): false
        case let (.groups(o), .groups(i)): Set(o).isSubset(of: Set(i))
        }
    }

    private static func describe(_ access: RootConfiguration.Access) -> String {
        switch access {
        case .everyone: "public"
        case let .groups(groups): "groups " + groups.joined(separator: ", ")
        }
    }

    /// Where a root's objects live, as a list of folder names under a namespace (the
    /// local file system, or one S3 bucket).
    struct Place: Equatable {
        let namespace: String
        let components: [Substring]

        init(_ location: String) {
            if location.hasPrefix("s3://") {
                let rest = location.dropFirst(5)
                let bucket = rest.prefix { $0 != "/" }
                namespace = "s3://" + bucket
                components = rest.dropFirst(bucket.count).split(separator: "/")
            } else {
                namespace = "file"
                components = Self.resolved(location).split(separator: "/")
            }
        }

        /// `other` is this place or lies below it.
        func contains(_ other: Place) -> Bool {
            namespace == other.namespace && other.components.starts(with: components)
        }

        /// The path with every symlink resolved; as given when it cannot be resolved (the
        /// root then fails to open, with its own message).
        private static func resolved(_ path: String) -> String {
            guard let real = realpath(path, nil) else { return path }
            defer { free(real) }
            return String(cString: real)
        }
    }
}
