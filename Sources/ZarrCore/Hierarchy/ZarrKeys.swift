/// The names of Zarr's metadata documents, written once: every reader, writer, walker and
/// guard that looks for them names them through here.
public enum ZarrKeys {
    /// A Zarr v3 node (array or group).
    public static let v3 = "zarr.json"
    /// A Zarr v2 array.
    public static let array = ".zarray"
    /// A Zarr v2 group.
    public static let group = ".zgroup"
    /// A Zarr v2 node's attributes.
    public static let attributes = ".zattrs"
    /// Zarr v2 consolidated metadata (zarr-python's `consolidate_metadata`).
    public static let consolidated = ".zmetadata"

    /// The documents whose presence makes a folder a node.
    public static let nodeDocuments: Set<String> = [v3, array, group]
    /// The documents that describe a node.
    public static let nodeMetadata: Set<String> = [v3, array, group, attributes]
    /// Every metadata document name, consolidated metadata included.
    public static let all: Set<String> = [v3, array, group, attributes, consolidated]
}
