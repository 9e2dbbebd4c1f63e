/// When the data was taken, from the first observation key a dataset has (Docs/catalog.md):
/// the catalogue's `observed` column, which the `observed` sort and date searches use.
public enum ObservationTime {
    public enum Reading: Sendable, Equatable {
        /// A date row (unix seconds).
        case date
        /// A number row holding a Modified Julian Date.
        case mjd
    }

    /// The keys tried in order: FITS (DATE-OBS, DATE, MJD-OBS), TIFF/EXIF (DateTimeOriginal,
    /// DateTime), OME (AcquisitionDate).
    public static let defaultKeys: [(key: String, reading: Reading)] = [
        ("DATE-OBS", .date), ("DATE", .date), ("MJD-OBS", .mjd),
        ("DateTimeOriginal", .date), ("DateTime", .date), ("AcquisitionDate", .date),
    ]

    /// Unix seconds of the first key present with a value of the right type, in row order
    /// within a key (so the primary HDU wins over extensions).
    public static func find(in rows: [MetaRow], keys: [(key: String, reading: Reading)] = defaultKeys) -> Double? {
        for (key, reading) in keys {
            for row in rows where row.key == key {
                switch (reading, row.type) {
                case (.date, .date): if let n = row.number { return n }
                case (.mjd, .number): if let n = row.number { return (n - 40587) * 86400 }
                default: continue
                }
            }
        }
        return nil
    }
}
