import CFITSIO
import Foundation
import Synchronization
import ZarrCore

/// One image HDU of a FITS file, read with `fits_read_subset`, which applies BZERO and
/// BSCALE as FITS defines them. cfitsio shares one file structure between handles of the
/// same file, so every FITS read in the process goes through one lock.
final class FITSImage: ImageSource, @unchecked Sendable {
    static let libraryLock = Mutex(())

    let description: ImageDescription
    private let path: String
    private let hdu: Int
    private let file: UnsafeMutablePointer<fitsfile>
    /// cfitsio's datatype code for the output type (TUSHORT, TFLOAT, …).
    private let readType: Int32
    /// Whether BLANK pixels become NaN (integer images scaled to floats).
    private let blankToNaN: Bool

    init(path: String, hdu: Int, file: UnsafeMutablePointer<fitsfile>, readType: Int32, blankToNaN: Bool, description: ImageDescription) {
        self.path = path
        self.hdu = hdu
        self.file = file
        self.readType = readType
        self.blankToNaN = blankToNaN
        self.description = description
    }

    deinit {
        var status: Int32 = 0
        _ = Self.libraryLock.withLock { _ in tessera_fits_close(file, &status) }
    }

    func read(_ region: Region) throws -> NDBuffer {
        let rank = region.shape.count
        // FITS axis 1 is the fastest (x): the reverse of C order. Corners are 1-based, inclusive.
        var lower = [Int](repeating: 1, count: rank), upper = [Int](repeating: 1, count: rank), step = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            lower[rank - 1 - d] = region.origin[d] + 1
            upper[rank - 1 - d] = region.origin[d] + region.shape[d]
        }
        let byteCount = region.elementCount * description.dataType.size
        var bytes = [UInt8](repeating: 0, count: byteCount)
        guard byteCount > 0 else { return NDBuffer(dataType: description.dataType, shape: region.shape, bytes: bytes) }
        var status: Int32 = 0
        var anyNull: Int32 = 0
        Self.libraryLock.withLock { _ in
            var exttype: Int32 = 0
            _ = ffmahd(file, Int32(hdu), &exttype, &status)
            bytes.withUnsafeMutableBytes { out in
                if blankToNaN, description.dataType == .float32 {
                    var nan = Float.nan
                    _ = ffgsv(file, readType, &lower, &upper, &step, &nan, out.baseAddress, &anyNull, &status)
                } else if blankToNaN {
                    var nan = Double.nan
                    _ = ffgsv(file, readType, &lower, &upper, &step, &nan, out.baseAddress, &anyNull, &status)
                } else {
                    _ = ffgsv(file, readType, &lower, &upper, &step, nil, out.baseAddress, &anyNull, &status)
                }
            }
        }
        guard status == 0 else {
            throw SourceError(path, "HDU \(hdu): cannot read \(region): \(FITSOpener.message(status))")
        }
        return NDBuffer(dataType: description.dataType, shape: region.shape, bytes: bytes)
    }
}
