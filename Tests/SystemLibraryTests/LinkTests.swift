import CBlosc
import CCurl
import CDeflate
import CFITSIO
import CHDF4
import COpenJPEG
import COpenSlide
import CTurboJPEG
@preconcurrency import CHDF5
import CTIFF
import CZlib
import CZstd
import Testing

/// Each C library links and answers a version call; a missing or broken -dev package
/// fails here rather than in the first feature that uses it.
@Suite struct LinkTests {
    @Test func bloscVersion() { #expect(String(cString: blosc_get_version_string()).hasPrefix("1.")) }
    @Test func zstdVersion() { #expect(ZSTD_versionNumber() >= 10400) }
    @Test func zlibVersion() { #expect(String(cString: CZlib.zlibVersion()).hasPrefix("1.")) }
    @Test func curlVersion() { #expect(String(cString: curl_version()).contains("libcurl")) }
    @Test func tiffVersion() { #expect(String(cString: TIFFGetVersion()).contains("LIBTIFF")) }
    @Test func hdf5Version() {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        #expect(H5get_libversion(&major, &minor, &release) >= 0)
        #expect(major == 1)
        #expect(tessera_h5t_native_uint16() > 0, "H5T_NATIVE_* resolves at run time")
    }
    @Test func cfitsioVersion() {
        var version: Float = 0
        ffvers(&version)
        #expect(version >= 3)
    }
    @Test func openslideVersion() { #expect(openslide_get_version() != nil) }
    @Test func turbojpegInitialises() {
        let handle = tjInitDecompress()
        #expect(handle != nil)
        if let handle { tjDestroy(handle) }
    }
    @Test func deflateCompressesAndChecksums() {
        let compressor = libdeflate_alloc_compressor(1)
        #expect(compressor != nil)
        if let compressor { libdeflate_free_compressor(compressor) }
        // CRC-32 of "IEND", the constant every PNG ends with.
        let crc = Array("IEND".utf8).withUnsafeBytes { libdeflate_crc32(0, $0.baseAddress, 4) }
        #expect(crc == 0xAE42_6082)
    }
    @Test func openjpegVersion() { #expect(String(cString: opj_version()).hasPrefix("2.")) }
    @Test func hdf4Version() {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        var text = [CChar](repeating: 0, count: 81)
        #expect(Hgetlibversion(&major, &minor, &release, &text) == 0)
        #expect(major == 4)
    }
}
