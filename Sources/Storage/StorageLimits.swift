/// What a store accepts from the other side before refusing (Docs/limits.md).
public enum StorageLimits {
    /// No stored object is read whole if it is larger than this, whatever the metadata
    /// allows (a chunk decodes to at most 2 GiB; this leaves room for a shard's index).
    public static let objectBytes = 4 << 30

    /// Any other answer of an object store — a listing page, an error document, the
    /// answer to a PUT — is kilobytes; a larger one is refused, not collected.
    public static let answerBytes = 64 << 20
}
