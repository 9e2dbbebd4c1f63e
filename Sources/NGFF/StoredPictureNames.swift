import Storage

/// The names of the pictures `tessera convert --thumbnails` stores beside an image's
/// metadata (Render's `StoredPictures` writes and reads them; `--overwrite` knows them).
public enum StoredPictureNames {
    public static let thumbnail = StoreKey.bookkeepingPrefix + "-thumbnail.png"
    public static let quicklook = StoreKey.bookkeepingPrefix + "-quicklook.jpg"
    /// The record of the source versions they were drawn from.
    public static let record = StoreKey.bookkeepingPrefix + "-pictures.json"
    public static let all: Set<String> = [thumbnail, quicklook, record]
}
