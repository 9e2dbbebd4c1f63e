// swift-tools-version:6.0
import PackageDescription

/// A Debian system library exposed to Swift through a module map and a shim header.
/// Every C dependency is declared here even before its first user, so the link
/// layout is settled in one place (Docs/design.md, "C interop").
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "ZarrCore", targets: ["ZarrCore", "Storage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // MD5 of S3 part tags (a multipart object's ETag); already in the graph through jwt-kit.
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // The gateway: HTTP server, JWT verification, Prometheus exposition, YAML config.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        // The gateway's event-loop fast path works on NIO's HTTP parts directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.26.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        // The catalog's two stores: SQLite (Debian's libsqlite3, FTS5) embedded, PostgreSQL for
        // facilities with several gateways or ingest hosts (Docs/catalog.md).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The gateway's browse page: server-rendered HTML templates that escape by default.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        systemLibrary("CBlosc", pkgConfig: "blosc", apt: "libblosc-dev"),
        systemLibrary("CZstd", pkgConfig: "libzstd", apt: "libzstd-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("CCurl", pkgConfig: "libcurl", apt: "libcurl4-openssl-dev"),
        systemLibrary("CTIFF", pkgConfig: "libtiff-4", apt: "libtiff-dev"),
        systemLibrary("CHDF5", pkgConfig: "hdf5", apt: "libhdf5-dev"),
        systemLibrary("CFITSIO", pkgConfig: "cfitsio", apt: "libcfitsio-dev"),
        systemLibrary("COpenSlide", pkgConfig: "openslide", apt: "libopenslide-dev"),
        systemLibrary("CTurboJPEG", pkgConfig: "libturbojpeg", apt: "libturbojpeg0-dev"),
        systemLibrary("COpenJPEG", pkgConfig: "libopenjp2", apt: "libopenjp2-7-dev"),
        // Whole-buffer deflate for the render's own PNG writer (3.7x libpng+zlib at level 1).
        systemLibrary("CDeflate", pkgConfig: "libdeflate", apt: "libdeflate-dev"),
        // No pkg-config file: the module map names the libraries itself.
        .systemLibrary(name: "CHDF4", providers: [.apt(["libhdf4-alt-dev"])]),

        // Process-level C knobs Swift's Glibc module does not expose (allocator tuning).
        .target(name: "CPlatform"),
        // Keys → bytes in a folder, a bucket or memory; knows nothing of Zarr.
        .target(name: "Storage", dependencies: ["CCurl", "CPlatform", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "ZarrCore", dependencies: ["Storage", "CBlosc", "CZstd", "CZlib", "CPlatform", "CTurboJPEG"]),
        .target(name: "NGFF", dependencies: ["ZarrCore"]),
        // GDCM's frame codecs (JPEG, JPEG-LS, JPEG 2000) behind a pure-C header; GDCM ships
        // only a CMake config, so its include folder and libraries are named here.
        .target(
            name: "CGDCMBridge",
            cxxSettings: [.unsafeFlags(["-I/usr/include/gdcm-3.0"])],
            linkerSettings: [.linkedLibrary("gdcmMSFF"), .linkedLibrary("gdcmDSED"), .linkedLibrary("gdcmDICT"),
                             .linkedLibrary("gdcmIOD"), .linkedLibrary("gdcmCommon")]
        ),
        .target(name: "ImageSources", dependencies: ["ZarrCore", "CPlatform", "CTIFF", "CHDF5", "CFITSIO", "Storage",
                                                    "COpenSlide", "CHDF4", "CGDCMBridge"]),
        .target(name: "Pyramid", dependencies: ["ZarrCore"]),
        .target(name: "Conversion", dependencies: ["ZarrCore", "NGFF", "ImageSources", "Pyramid", "Storage"]),
        // Pictures from NGFF images: region -> window -> composite -> PNG/JPEG/npy (Docs/render.md).
        .target(name: "Render", dependencies: ["ZarrCore", "Storage", "NGFF", "CDeflate", "CTIFF", "CHDF5", "CPlatform"]),
        // Bulk jobs: plan a collection into a manifest, run one task's share, merge reports.
        .target(name: "Batch", dependencies: ["Conversion", "ImageSources", "ZarrCore", "Storage"]),
        // The facility catalog: datasets, harvested metadata, search, access rules. The model,
        // the query language and the SQL live here; each store is its own target so the
        // gateway depends on the protocol only.
        .target(name: "Catalog", dependencies: ["ZarrCore"]),
        .target(name: "CatalogSQLite", dependencies: ["Catalog", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "CatalogPostgres",
            dependencies: ["Catalog", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Opens a catalog by its URL (sqlite:… or postgres://…): the one place both stores meet.
        .target(name: "CatalogStores", dependencies: ["Catalog", "CatalogSQLite", "CatalogPostgres"]),
        // `tessera watch`: polling scan, stability rule, claims in the catalogue's ledger.
        .target(name: "Ingest", dependencies: ["Catalog", "Conversion", "ImageSources"]),
        .target(
            name: "Gateway",
            dependencies: [
                "ZarrCore", "Storage", "CPlatform", "Catalog", "Render",
                "ImageSources", // an upload's format check (SourceOpener.recognises)
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "Storage", "ZarrCore", "NGFF", "Conversion", "ImageSources", "Pyramid", "Gateway", "Batch", "Render",
                "Catalog", "CatalogStores", "Ingest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "tessera-bench",
            dependencies: ["ZarrCore", "Storage", "Render",
                           "Catalog", "CatalogSQLite", "CatalogPostgres", "CatalogStores"],  // catalog search latency
            path: "Benchmarks/TesseraBench"
        ),
        // What several test targets share: the seeded generator (SplitMix64) of random cases.
        .target(name: "TestSupport", dependencies: ["Storage"], path: "Tests/TestSupport"),
        // Links every C module once so a broken install of any of them fails the
        // test build, not the first feature that happens to use it.
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CBlosc", "CZstd", "CZlib", "CCurl", "CTIFF", "CHDF5", "CFITSIO",
                           "COpenSlide", "CTurboJPEG", "COpenJPEG", "CHDF4", "CDeflate"]
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "ZarrCoreTests", dependencies: ["ZarrCore", "Storage", "TestSupport"]),
        .testTarget(name: "NGFFTests", dependencies: ["NGFF", "ZarrCore"]),
        .testTarget(name: "ImageSourcesTests", dependencies: ["ImageSources", "ZarrCore", "CTIFF"]),
        .testTarget(name: "PyramidTests", dependencies: ["Pyramid", "ZarrCore"]),
        .testTarget(name: "ConversionTests", dependencies: ["Conversion", "ZarrCore", "Storage", "ImageSources", "NGFF", "TestSupport"]),
        .testTarget(name: "RenderTests", dependencies: ["Render", "ZarrCore", "Storage", "NGFF", "TestSupport"]),
        .testTarget(name: "BatchTests", dependencies: ["Batch", "Conversion", "ZarrCore", "Storage", "ImageSources", "TestSupport"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "CatalogStores", "CatalogSQLite", "CatalogPostgres", "TestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Catalog"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "ZarrCore", "Storage", "Render", .product(name: "NIOEmbedded", package: "swift-nio"),
                           "Catalog", .product(name: "JWTKit", package: "jwt-kit")]
        ),
    ]
)
