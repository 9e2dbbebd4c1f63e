// A pure-C face on GDCM's frame codecs. Only single frames cross this line: the DICOM
// data set is walked by Tessera itself (Sources/ImageSources/DICOM), which checks every
// length before handing bytes here, because GDCM's readers assert (abort the process)
// on some inputs and return partial pixels for truncated files.
#include "gdcm_bridge.h"

#include <gdcmDataElement.h>
#include <gdcmFragment.h>
#include <gdcmJPEG2000Codec.h>
#include <gdcmJPEGCodec.h>
#include <gdcmJPEGLSCodec.h>
#include <gdcmPhotometricInterpretation.h>
#include <gdcmPixelFormat.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmVersion.h>

#include <cstring>
#include <exception>
#include <mutex>
#include <string>

namespace {

void copy_text(const std::string &text, char *dst, size_t capacity) {
    if (dst == nullptr || capacity == 0) return;
    size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
    std::memcpy(dst, text.data(), n);
    dst[n] = 0;
}

// GDCM's Trace streams are process-wide and unsynchronised: silence them once rather
// than redirect them per call from several threads.
void quiet_gdcm() {
    static std::once_flag once;
    std::call_once(once, [] {
        gdcm::Trace::WarningOff();
        gdcm::Trace::ErrorOff();
        gdcm::Trace::DebugOff();
    });
}

int decode(gdcm::ImageCodec &codec, const gdcm::DataElement &in, uint32_t columns, uint32_t rows,
           const gdcm::PixelFormat &pf, const gdcm::PhotometricInterpretation &pi, uint8_t *out, size_t out_length,
           int *out_planar, char *out_photometric, size_t photometric_capacity, char *error, size_t error_capacity) {
    unsigned int dims[3] = {columns, rows, 1};
    // The order GDCM's own Bitmap uses: JPEGCodec::SetPixelFormat creates its 8/12/16-bit
    // codec from the interpretation set so far (left unknown, it asserts on colour).
    codec.SetNumberOfDimensions(2);
    codec.SetDimensions(dims);
    codec.SetPlanarConfiguration(0);
    codec.SetPhotometricInterpretation(pi);
    codec.SetPixelFormat(pf);
    codec.SetNeedByteSwap(false);
    gdcm::DataElement decoded;
    if (!codec.Decode(in, decoded)) {
        copy_text("GDCM could not decode the frame", error, error_capacity);
        return 1;
    }
    const gdcm::ByteValue *bv = decoded.GetByteValue();
    if (bv == nullptr) {
        copy_text("GDCM decoded no bytes", error, error_capacity);
        return 1;
    }
    // Codecs pad odd lengths to even: accept one spare byte, nothing short.
    size_t got = bv->GetLength();
    if (got < out_length || got > out_length + 1) {
        copy_text("GDCM decoded " + std::to_string(got) + " bytes where the header declares " + std::to_string(out_length) +
                      " (" + std::to_string(codec.GetPixelFormat().GetBitsAllocated()) + " bits allocated after decoding)",
                  error, error_capacity);
        return 1;
    }
    std::memcpy(out, bv->GetPointer(), out_length);
    if (out_planar) *out_planar = (int)codec.GetPlanarConfiguration();
    const char *name = gdcm::PhotometricInterpretation::GetPIString(codec.GetPhotometricInterpretation());
    copy_text(name ? name : "", out_photometric, photometric_capacity);
    return 0;
}

}  // namespace

extern "C" int tessera_gdcm_can_decode(const char *transfer_syntax) {
    try {
        gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(transfer_syntax);
        gdcm::JPEGCodec jpeg;
        gdcm::JPEGLSCodec jpegls;
        gdcm::JPEG2000Codec j2k;
        return (jpeg.CanDecode(ts) || jpegls.CanDecode(ts) || j2k.CanDecode(ts)) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" const char *tessera_gdcm_version(void) { return gdcm::Version::GetVersion(); }

extern "C" int tessera_gdcm_decode_frame(const char *transfer_syntax, const uint8_t *data, size_t length,
                                         uint32_t columns, uint32_t rows, uint16_t samples, uint16_t bits_allocated,
                                         uint16_t bits_stored, uint16_t pixel_representation, const char *photometric,
                                         uint8_t *out, size_t out_length, int *out_planar,
                                         char *out_photometric, size_t photometric_capacity,
                                         char *error, size_t error_capacity) {
    try {
        quiet_gdcm();
        if (length == 0 || length > 0xFFFFFFF0u) {
            copy_text("a compressed frame of " + std::to_string(length) + " bytes cannot be decoded", error, error_capacity);
            return 1;
        }
        gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(transfer_syntax);
        gdcm::PixelFormat pf(samples, bits_allocated, bits_stored, (unsigned short)(bits_stored - 1), pixel_representation);
        // GDCM matches the padded form DICOM stores ("RGB "): pad odd names as the file would.
        std::string padded = photometric ? photometric : "";
        if (padded.size() % 2 == 1) padded += ' ';
        gdcm::PhotometricInterpretation pi = gdcm::PhotometricInterpretation::GetPIType(padded.c_str());
        // Its codecs assert (abort) on an unknown interpretation or an invalid pixel format.
        if (pi == gdcm::PhotometricInterpretation::UNKNOWN) {
            copy_text(std::string("GDCM does not know the photometric interpretation ") + padded, error, error_capacity);
            return 1;
        }
        if (bits_stored == 0 || bits_stored > bits_allocated || (samples != 1 && samples != 3)) {
            copy_text("invalid pixel format for GDCM", error, error_capacity);
            return 1;
        }
        gdcm::SmartPointer<gdcm::SequenceOfFragments> fragments = new gdcm::SequenceOfFragments;
        gdcm::Fragment fragment;
        fragment.SetByteValue(reinterpret_cast<const char *>(data), (uint32_t)length);
        fragments->AddFragment(fragment);
        gdcm::DataElement in(gdcm::Tag(0x7fe0, 0x0010));
        in.SetValue(*fragments);
        in.SetVLToUndefined();
        gdcm::JPEGCodec jpeg;
        if (jpeg.CanDecode(ts))
            return decode(jpeg, in, columns, rows, pf, pi, out, out_length, out_planar, out_photometric, photometric_capacity, error, error_capacity);
        gdcm::JPEGLSCodec jpegls;
        if (jpegls.CanDecode(ts))
            return decode(jpegls, in, columns, rows, pf, pi, out, out_length, out_planar, out_photometric, photometric_capacity, error, error_capacity);
        gdcm::JPEG2000Codec j2k;
        if (j2k.CanDecode(ts))
            return decode(j2k, in, columns, rows, pf, pi, out, out_length, out_planar, out_photometric, photometric_capacity, error, error_capacity);
        copy_text(std::string("GDCM has no decoder for transfer syntax ") + transfer_syntax, error, error_capacity);
        return 1;
    } catch (const std::exception &e) {
        copy_text(std::string("GDCM failed: ") + e.what(), error, error_capacity);
        return 1;
    } catch (...) {
        copy_text("GDCM failed with an unknown exception", error, error_capacity);
        return 1;
    }
}
