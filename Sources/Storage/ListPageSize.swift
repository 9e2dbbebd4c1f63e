import Foundation

/// How many entries a paged listing hands over at a time. 1,000 is S3's own page (its
/// ListObjectsV2 maximum) and what a folder walk gathers before handing a page over; so a
/// listing of any size holds one page of entries. `TESSERA_LIST_PAGE_SIZE` (1...1000)
/// asks for smaller pages — how tests make a small store span many pages.
public enum ListPageSize {
    public static let standard = 1000

    /// The page size `env` asks for, or nil for the store's default.
    public static func requested(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        guard let n = env["TESSERA_LIST_PAGE_SIZE"].flatMap(Int.init), (1...standard).contains(n) else { return nil }
        return n
    }
}
