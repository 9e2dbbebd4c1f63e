/// The type a harvested value is stored as, so range queries compare numbers and dates as
/// numbers. Stored as its raw value (the `meta.vtype` column).
public enum MetaType: Int, Sendable, Codable, CaseIterable {
    case string = 0
    /// A number the source typed as one (FITS unquoted numeric, HDF5 integer/float, TIFF numeric).
    case number = 1
    /// A string matching the strict date grammar (Docs/catalog.md); `number` is unix seconds, UTC.
    case date = 2
    /// `number` is 0 or 1.
    case bool = 3

    public var name: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .date: "date"
        case .bool: "bool"
        }
    }
}

/// One source key/value, flattened: a FITS card of one HDU, one element of an HDF5 attribute,
/// a TIFF tag, a slide property. `scope` says where in the source it lives (`hdu1`, `/entry`,
/// `ifd0`, `openslide`); repeated keys (COMMENT, HISTORY, array elements) count up `index`.
public struct MetaRow: Sendable, Equatable, Hashable {
    public var scope: String
    public var key: String
    public var index: Int
    public var type: MetaType
    /// The value as a number for `number`, `date` and `bool` rows; `nil` for strings and for
    /// numbers a double cannot hold exactly enough to compare (documented: range queries skip them).
    public var number: Double?
    /// The value as the source wrote it (always set; cut at `MetaRow.maxTextBytes`).
    public var text: String

    public init(scope: String, key: String, index: Int = 0, type: MetaType, number: Double? = nil, text: String) {
        self.scope = scope; self.key = key; self.index = index; self.type = type; self.number = number; self.text = text
    }

    /// Longest `text` a row keeps; the whole value stays in the dataset's metadata document.
    public static let maxTextBytes = 1024
    /// Longest key kept.
    public static let maxKeyBytes = 256
    /// Most rows one dataset gets; past it the harvest says `truncated` in its document.
    public static let maxRowsPerDataset = 100_000
}
