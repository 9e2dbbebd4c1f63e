/// The DICOM tags Tessera reads, as `group << 16 | element`, with the value
/// representation each has (needed for files in implicit VR, where the file does not say).
enum DICOMTag {
    static let mediaStorageSOPClassUID: UInt32 = 0x0002_0002
    static let transferSyntaxUID: UInt32 = 0x0002_0010
    static let imageType: UInt32 = 0x0008_0008
    static let sopClassUID: UInt32 = 0x0008_0016
    static let sopInstanceUID: UInt32 = 0x0008_0018
    static let modality: UInt32 = 0x0008_0060
    static let sliceThickness: UInt32 = 0x0018_0050
    static let spacingBetweenSlices: UInt32 = 0x0018_0088
    static let studyInstanceUID: UInt32 = 0x0020_000D
    static let seriesInstanceUID: UInt32 = 0x0020_000E
    static let instanceNumber: UInt32 = 0x0020_0013
    static let imagePositionPatient: UInt32 = 0x0020_0032
    static let imageOrientationPatient: UInt32 = 0x0020_0037
    static let planePositionSequence: UInt32 = 0x0020_9113
    static let planeOrientationSequence: UInt32 = 0x0020_9116
    static let dimensionOrganizationType: UInt32 = 0x0020_9311
    static let samplesPerPixel: UInt32 = 0x0028_0002
    static let photometricInterpretation: UInt32 = 0x0028_0004
    static let planarConfiguration: UInt32 = 0x0028_0006
    static let numberOfFrames: UInt32 = 0x0028_0008
    static let rows: UInt32 = 0x0028_0010
    static let columns: UInt32 = 0x0028_0011
    static let pixelSpacing: UInt32 = 0x0028_0030
    static let bitsAllocated: UInt32 = 0x0028_0100
    static let bitsStored: UInt32 = 0x0028_0101
    static let highBit: UInt32 = 0x0028_0102
    static let pixelRepresentation: UInt32 = 0x0028_0103
    static let rescaleIntercept: UInt32 = 0x0028_1052
    static let rescaleSlope: UInt32 = 0x0028_1053
    static let rescaleType: UInt32 = 0x0028_1054
    static let pixelMeasuresSequence: UInt32 = 0x0028_9110
    static let pixelValueTransformationSequence: UInt32 = 0x0028_9145
    static let totalPixelMatrixColumns: UInt32 = 0x0048_0006
    static let totalPixelMatrixRows: UInt32 = 0x0048_0007
    static let planePositionSlideSequence: UInt32 = 0x0048_021A
    static let columnPositionInTotalImagePixelMatrix: UInt32 = 0x0048_021E
    static let rowPositionInTotalImagePixelMatrix: UInt32 = 0x0048_021F
    static let numberOfOpticalPaths: UInt32 = 0x0048_0302
    static let totalPixelMatrixFocalPlanes: UInt32 = 0x0048_0303
    static let sharedFunctionalGroupsSequence: UInt32 = 0x5200_9229
    static let perFrameFunctionalGroupsSequence: UInt32 = 0x5200_9230
    static let extendedOffsetTable: UInt32 = 0x7FE0_0001
    static let floatPixelData: UInt32 = 0x7FE0_0008
    static let doubleFloatPixelData: UInt32 = 0x7FE0_0009
    static let pixelData: UInt32 = 0x7FE0_0010

    static let item: UInt32 = 0xFFFE_E000
    static let itemDelimitation: UInt32 = 0xFFFE_E00D
    static let sequenceDelimitation: UInt32 = 0xFFFE_E0DD

    /// What implicit-VR files leave unsaid for the tags above (and a few more that the
    /// metadata shows by name).
    static let implicitVR: [UInt32: String] = [
        mediaStorageSOPClassUID: "UI", transferSyntaxUID: "UI", imageType: "CS", sopClassUID: "UI", sopInstanceUID: "UI", modality: "CS",
        0x0008_0020: "DA", 0x0008_0030: "TM", 0x0008_103E: "LO", 0x0010_0010: "PN", 0x0010_0020: "LO",
        sliceThickness: "DS", spacingBetweenSlices: "DS", studyInstanceUID: "UI", seriesInstanceUID: "UI",
        instanceNumber: "IS", imagePositionPatient: "DS", imageOrientationPatient: "DS", 0x0020_0011: "IS",
        0x0020_0052: "UI", 0x0020_1041: "DS",
        planePositionSequence: "SQ", planeOrientationSequence: "SQ", dimensionOrganizationType: "CS",
        samplesPerPixel: "US", photometricInterpretation: "CS", planarConfiguration: "US", numberOfFrames: "IS",
        rows: "US", columns: "US", pixelSpacing: "DS", bitsAllocated: "US", bitsStored: "US", highBit: "US",
        pixelRepresentation: "US", rescaleIntercept: "DS", rescaleSlope: "DS", rescaleType: "LO",
        0x0028_1050: "DS", 0x0028_1051: "DS",
        pixelMeasuresSequence: "SQ", pixelValueTransformationSequence: "SQ",
        totalPixelMatrixColumns: "UL", totalPixelMatrixRows: "UL", planePositionSlideSequence: "SQ",
        columnPositionInTotalImagePixelMatrix: "SL", rowPositionInTotalImagePixelMatrix: "SL",
        numberOfOpticalPaths: "UL", totalPixelMatrixFocalPlanes: "UL",
        sharedFunctionalGroupsSequence: "SQ", perFrameFunctionalGroupsSequence: "SQ",
        0x0088_0200: "SQ", 0x0040_0555: "SQ", 0x0048_0105: "SQ", 0x0008_1115: "SQ", 0x0008_1140: "SQ",
        0x0020_9221: "SQ", 0x0020_9222: "SQ", 0x0022_0016: "SQ", 0x0040_0560: "SQ", 0x0040_0512: "LO",
    ]

    /// Names of the tags the metadata is most often searched for (the rest keep their number).
    static let keywords: [UInt32: String] = [
        imageType: "ImageType", sopClassUID: "SOPClassUID", sopInstanceUID: "SOPInstanceUID", modality: "Modality",
        0x0008_0020: "StudyDate", 0x0008_0030: "StudyTime", 0x0008_103E: "SeriesDescription",
        sliceThickness: "SliceThickness", spacingBetweenSlices: "SpacingBetweenSlices",
        studyInstanceUID: "StudyInstanceUID", seriesInstanceUID: "SeriesInstanceUID", instanceNumber: "InstanceNumber",
        imagePositionPatient: "ImagePositionPatient", imageOrientationPatient: "ImageOrientationPatient",
        dimensionOrganizationType: "DimensionOrganizationType", samplesPerPixel: "SamplesPerPixel",
        photometricInterpretation: "PhotometricInterpretation", planarConfiguration: "PlanarConfiguration",
        numberOfFrames: "NumberOfFrames", rows: "Rows", columns: "Columns", pixelSpacing: "PixelSpacing",
        bitsAllocated: "BitsAllocated", bitsStored: "BitsStored", highBit: "HighBit",
        pixelRepresentation: "PixelRepresentation", rescaleIntercept: "RescaleIntercept", rescaleSlope: "RescaleSlope",
        rescaleType: "RescaleType", 0x0028_1050: "WindowCenter", 0x0028_1051: "WindowWidth",
        totalPixelMatrixColumns: "TotalPixelMatrixColumns", totalPixelMatrixRows: "TotalPixelMatrixRows",
        numberOfOpticalPaths: "NumberOfOpticalPaths", totalPixelMatrixFocalPlanes: "TotalPixelMatrixFocalPlanes",
    ]

    /// `(GGGG,EEEE)`, as DICOM writes tags in text.
    static func text(_ tag: UInt32) -> String { "(\(hex4(tag >> 16)),\(hex4(tag & 0xFFFF)))" }

    /// `GGGGEEEE`, the key of the DICOM JSON model.
    static func key(_ tag: UInt32) -> String { hex4(tag >> 16) + hex4(tag & 0xFFFF) }

    private static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
