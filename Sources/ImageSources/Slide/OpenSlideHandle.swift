import COpenSlide
import CPlatform
import CTIFF
import Foundation

/// One `openslide_t`. OpenSlide reports a failure by putting the handle into an error state
/// that never clears (every later call fails too), so each call is followed by `check`, and
/// a handle in error is closed and never lent out again (`SlideHandlePool`).
final class OpenSlideHandle: @unchecked Sendable {
    let osr: OpaquePointer
    let path: String

    /// OpenSlide 3.4.1 leaves libtiff's handlers alone, so libtiff would print its warnings and
    /// errors on stderr; Tessera's process-wide handlers keep them for the error message instead.
    private static let routeLibTIFFMessages: Void = tessera_tiff_route_errors()

    init(path: String) throws {
        _ = Self.routeLibTIFFMessages
        tessera_clear_captured_error()
        guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        guard let osr = openslide_open(path) else {
            throw SourceError(path, "not a readable slide (OpenSlide could not open it)" + TIFFHandlePool.lastError(prefix: ": "))
        }
        self.osr = osr
        self.path = path
        try check("opening the slide")
    }

    deinit { openslide_close(osr) }

    /// The vendor OpenSlide recognises the file as (`aperio`, `hamamatsu`, `generic-tiff`, …),
    /// without opening it as a slide; nil when it is no slide OpenSlide knows.
    static func vendor(of path: String) -> String? {
        _ = routeLibTIFFMessages
        tessera_clear_captured_error()
        return openslide_detect_vendor(path).map { String(cString: $0) }
    }

    static var libraryVersion: String { openslide_get_version().map { String(cString: $0) } ?? "unknown" }

    /// The handle's error, if it has one (then it is dead for good).
    var error: String? { openslide_get_error(osr).map { String(cString: $0) } }

    func check(_ doing: @autoclosure () -> String) throws {
        if let error { throw SourceError(path, "OpenSlide failed \(doing()): \(error)") }
    }

    /// Every property, in OpenSlide's order (at most 100,000: the list comes from the file).
    func properties() throws -> [(name: String, value: String)] {
        let names = openslide_get_property_names(osr)
        try check("listing the slide's properties")
        guard let names else { return [] }
        var out = [(name: String, value: String)]()
        var i = 0
        while i < 100_000, let name = names[i] {
            let value = openslide_get_property_value(osr, name)
            try check("reading property \(String(cString: name))")
            out.append((String(cString: name), value.map { String(cString: $0) } ?? ""))
            i += 1
        }
        return out
    }

    func levelCount() throws -> Int {
        let n = openslide_get_level_count(osr)
        try check("counting the slide's levels")
        guard n >= 1 else { throw SourceError(path, "OpenSlide reports \(n) levels") }
        return Int(n)
    }

    /// Width and height of `level`, each at least 1 and at most 2^31 (larger is no real slide).
    func levelSize(_ level: Int) throws -> (width: Int, height: Int) {
        var w: Int64 = -1, h: Int64 = -1
        openslide_get_level_dimensions(osr, Int32(level), &w, &h)
        try check("reading the size of level \(level)")
        return try Self.bounded(width: w, height: h, what: "level \(level)", path: path)
    }

    func levelDownsample(_ level: Int) throws -> Double {
        let d = openslide_get_level_downsample(osr, Int32(level))
        try check("reading the downsample of level \(level)")
        guard d.isFinite, d >= 1 else { throw SourceError(path, "OpenSlide reports a downsample of \(d) for level \(level)") }
        return d
    }

    /// Premultiplied ARGB pixels of a `width`×`height` rectangle of `level` whose top left
    /// corner is (`x`, `y`) in level-0 pixels, into `dest` (`width`·`height` words).
    func readRegion(into dest: UnsafeMutablePointer<UInt32>, x: Int, y: Int, level: Int, width: Int, height: Int) throws {
        tessera_clear_captured_error()
        openslide_read_region(osr, dest, Int64(x), Int64(y), Int32(level), Int64(width), Int64(height))
        try check("reading level \(level) at x \(x), y \(y), \(width)×\(height) pixels")
    }

    func associatedImageNames() throws -> [String] {
        let names = openslide_get_associated_image_names(osr)
        try check("listing the associated images")
        guard let names else { return [] }
        var out = [String]()
        var i = 0
        while i < 1000, let name = names[i] {
            out.append(String(cString: name))
            i += 1
        }
        return out
    }

    func associatedImageSize(_ name: String) throws -> (width: Int, height: Int) {
        var w: Int64 = -1, h: Int64 = -1
        openslide_get_associated_image_dimensions(osr, name, &w, &h)
        try check("reading the size of associated image '\(name)'")
        return try Self.bounded(width: w, height: h, what: "associated image '\(name)'", path: path)
    }

    /// The whole associated image as premultiplied ARGB into `dest` (width·height words).
    func readAssociatedImage(_ name: String, into dest: UnsafeMutablePointer<UInt32>) throws {
        tessera_clear_captured_error()
        openslide_read_associated_image(osr, name, dest)
        try check("reading associated image '\(name)'")
    }

    static let maxSide = 1 << 31

    static func bounded(width: Int64, height: Int64, what: String, path: String) throws -> (width: Int, height: Int) {
        guard width >= 1, height >= 1, width <= maxSide, height <= maxSide else {
            throw SourceError(path, "OpenSlide reports \(what) as \(width)×\(height) pixels")
        }
        return (Int(width), Int(height))
    }
}
