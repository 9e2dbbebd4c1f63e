import CPlatform
import CTIFF
import Foundation
import Synchronization

/// Open libtiff handles for one file. A `TIFF*` is not thread-safe and switching
/// directories re-parses an IFD, so each worker borrows its own handle and the handle
/// remembers which directory it is on.
final class TIFFHandlePool: @unchecked Sendable {
    final class Handle: @unchecked Sendable {
        let tif: OpaquePointer
        var directory: UInt64 = 0
        init(tif: OpaquePointer, directory: UInt64) {
            self.tif = tif
            self.directory = directory
        }
    }

    let path: String
    private let idle = Mutex<[Handle]>([])

    private static let installHandlers: Void = tessera_tiff_route_errors()

    init(path: String) { self.path = path }

    deinit {
        for h in idle.withLock({ $0 }) { TIFFClose(h.tif) }
    }

    /// Opens a new handle. "m" turns off memory mapping: mapped pages would count toward
    /// the process's resident memory, and conversions must stay bounded whatever the file size.
    func open() throws -> Handle {
        _ = Self.installHandlers
        tessera_clear_captured_error()
        guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        guard let tif = TIFFOpen(path, "rm") else {
            throw SourceError(path, "not a readable TIFF file" + TIFFHandlePool.lastError(prefix: ": "))
        }
        Self.decodeJPEGAsRGB(tif)
        return Handle(tif: tif, directory: TIFFCurrentDirOffset(tif))
    }

    /// YCbCr JPEG (what tifffile, scanners and slide formats write) decodes to RGB only when
    /// the JPEG codec is asked to convert. The setting is a pseudo-tag that libtiff resets on
    /// every directory read, so it is set again whenever a handle lands on a directory.
    static func decodeJPEGAsRGB(_ tif: OpaquePointer) {
        guard TIFFTags.u16(tif, TIFFTAG_COMPRESSION, defaulted: true) == UInt16(COMPRESSION_JPEG),
              TIFFTags.u16(tif, TIFFTAG_PHOTOMETRIC) == UInt16(PHOTOMETRIC_YCBCR) else { return }
        _ = tessera_tiff_set_int(tif, UInt32(TIFFTAG_JPEGCOLORMODE), JPEGCOLORMODE_RGB)
    }

    /// Runs `body` with a handle positioned on the directory at `offset`.
    func withDirectory<T>(_ offset: UInt64, _ body: (OpaquePointer) throws -> T) throws -> T {
        let handle = try idle.withLock { $0.popLast() } ?? open()
        defer { idle.withLock { $0.append(handle) } }
        if handle.directory != offset {
            tessera_clear_captured_error()
            guard TIFFSetSubDirectory(handle.tif, offset) == 1 else {
                throw SourceError(path, "cannot read the image directory at byte \(offset)" + TIFFHandlePool.lastError(prefix: ": "))
            }
            handle.directory = offset
            Self.decodeJPEGAsRGB(handle.tif)
        }
        return try body(handle.tif)
    }

    /// libtiff's last message on this thread, without the row, column and tile numbers
    /// libtiff puts in: those come from its scanline state, which block reads never set
    /// (they print as `scanline 4294967295` or as the previous block's row). Callers name
    /// the block and its rows themselves.
    static func lastError(prefix: String) -> String {
        let text = withoutLibTIFFPosition(String(cString: tessera_captured_error()))
        return text.isEmpty ? "" : prefix + text
    }

    static func withoutLibTIFFPosition(_ text: String) -> String {
        text.replacingOccurrences(of: #" (at|for) (scanline|row) \d+(, col \d+)?(, tile \d+)?"#, with: "",
                                  options: .regularExpression)
    }
}
