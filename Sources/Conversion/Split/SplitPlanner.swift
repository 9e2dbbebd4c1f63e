import ImageSources
import ZarrCore

// STUB (plan branch): the contract's signature, so `tessera plan` builds before the split
// engineer's SplitPlanner lands on main. It never splits (one region: the whole image);
// the lead replaces this file with the real one at merge.
public enum SplitPlanner {
    /// Level-0 regions for `parts` pieces of roughly equal pixel bytes, aligned to the
    /// objects (shards or chunks) of levels 0..<regionLevels; regionLevels >= 1.
    public static func regions(for image: ImageDescription, options: ConvertOptions, parts: Int) throws -> (regions: [Region], regionLevels: Int) {
        ([Region(shape: image.shape)], 1)
    }
}
