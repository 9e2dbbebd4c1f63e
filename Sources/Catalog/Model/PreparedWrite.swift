/// One dataset's write as both stores take it: the record in its stored form and the
/// harvest's text forms, prepared before the store's transaction opens so that the
/// transaction holds its lock only for the statements.
public struct PreparedWrite: Sendable {
    public var given: DatasetRecord
    public var document: String?
    public var rows: [MetaRow]?
    public var body: String?
    public var dimensions: String?

    public init(_ dataset: DatasetRecord, harvest: Harvest?) throws {
        given = dataset.storedForm
        document = try harvest.map { try StoredForm.documentText($0.document) }
        rows = harvest.map { StoredForm.rows($0.rows) }
        body = harvest.map { StoredForm.text($0.text) }
        dimensions = try StoredForm.dimensionsText(given.dimensions)
    }
}
