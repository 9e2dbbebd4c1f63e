extension Colormap {
    /// The 256-entry RGB table of a colour map; nil for `gray`, which is drawn as one
    /// gray sample (8 or 16 bits) rather than RGB.
    var table: [UInt8]? {
        switch self {
        case .gray: return nil
        case .viridis: return ColormapTables.viridis
        case .magma: return ColormapTables.magma
        case .inferno: return ColormapTables.inferno
        case .plasma: return ColormapTables.plasma
        case .cividis: return ColormapTables.cividis
        }
    }
}
