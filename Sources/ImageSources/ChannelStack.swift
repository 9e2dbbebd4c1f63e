import ZarrCore

/// Several same-shaped images presented as one with a new c axis (FITS SCI/ERR/… HDUs
/// stacked as channels). Reads fan out to the members, one per channel in the region.
final class ChannelStack: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    private let members: [any ImageSource]
    /// Where c sits in the stacked axes.
    private let channelAxis: Int

    init(_ members: [any ImageSource], name: String, path: String) throws {
        let first = members[0].description
        for m in members.dropFirst() where m.description.shape != first.shape || m.description.dataType != first.dataType {
            throw SourceError(path, "'\(m.description.name)' (\(m.description.shape), \(m.description.dataType.rawValue)) cannot be stacked with '\(first.name)' (\(first.shape), \(first.dataType.rawValue))")
        }
        guard first.axisIndex("c") == nil else { throw SourceError(path, "images that already have channels cannot be stacked as channels") }
        let at = first.axes.firstIndex { $0.canonicalRank > 1 } ?? first.axes.count
        var axes = first.axes, shape = first.shape, spacing = first.spacing, origin = first.origin, block = first.readBlock
        axes.insert(ImageAxis(name: "c"), at: at)
        shape.insert(members.count, at: at)
        spacing.insert(1, at: at)
        origin.insert(0, at: at)
        block.insert(1, at: at)
        var metadata: [String: JSONValue] = ["channels": .array(members.map { $0.description.metadata })]
        // Where each channel came from (FITS HDU numbers), one entry per channel.
        let hdus = members.compactMap { $0.description.metadata["hdu"] }
        if hdus.count == members.count { metadata["hdu"] = .array(hdus) }
        self.description = ImageDescription(
            name: name, axes: axes, shape: shape, dataType: first.dataType, spacing: spacing, origin: origin,
            channels: members.map { ChannelInfo(name: $0.description.metadata["extname"]?.stringValue) },
            metadata: .object(metadata),
            readBlock: block, hasPhysicalSizes: first.hasPhysicalSizes)
        self.members = members
        self.channelAxis = at
    }

    func read(_ region: Region) throws -> NDBuffer {
        var memberRegion = region
        memberRegion.origin.remove(at: channelAxis)
        memberRegion.shape.remove(at: channelAxis)
        var out = NDBuffer(dataType: description.dataType, shape: region.shape, bytes: [UInt8](repeating: 0, count: region.elementCount * description.dataType.size))
        for k in 0..<region.shape[channelAxis] {
            let part = try members[region.origin[channelAxis] + k].read(memberRegion)
            var at = [Int](repeating: 0, count: region.shape.count)
            at[channelAxis] = k
            var size = region.shape
            size[channelAxis] = 1
            var expanded = part
            expanded.shape.insert(1, at: channelAxis)
            out.paste(expanded, from: [Int](repeating: 0, count: region.shape.count), to: at, size: size)
        }
        return out
    }
}
