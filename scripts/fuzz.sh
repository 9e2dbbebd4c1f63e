#!/usr/bin/env bash
# `make fuzz`: builds Fuzz/ZarrFuzz with ZarrCore's (and Storage's) sources, and the DM
# parser's, under libFuzzer (Swift's
# -sanitize=fuzzer, with AddressSanitizer) and runs it for a fixed number of inputs,
# starting from the committed seed corpus (Fuzz/corpus). New inputs it finds go to
# .build-fuzz/corpus, never into the committed seeds. Exits non-zero on a finding
# (crash, leak, timeout, or an allocation above the malloc limit) and leaves the input
# that caused it in .build-fuzz/.
#   FUZZ_RUNS=200000 make fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${FUZZ_RUNS:-100000}"
OUT=.build-fuzz
SWIFTC="${SWIFTC:-swiftc}"
CLANG="${CLANG:-clang}"
mkdir -p "$OUT/modules/CPlatform" "$OUT/corpus"

# CPlatform is a SwiftPM C target: give swiftc a module map for its header.
cat > "$OUT/modules/CPlatform/module.modulemap" <<MAP
module CPlatform { header "$PWD/Sources/CPlatform/include/cplatform.h" export * }
MAP
"$CLANG" -O1 -c Sources/CPlatform/cplatform.c -I Sources/CPlatform/include -o "$OUT/cplatform.o"

# ZarrCore imports Storage (the stores): built first as a module of its own. The S3 store
# (and the opener that names it) stays out: it needs swift-crypto, a SwiftPM package
# swiftc alone cannot see, and nothing fuzzed here reaches S3.
mapfile -t STORAGE < <(find Sources/Storage -name '*.swift' -not -path 'Sources/Storage/S3/*' -not -name StoreOpener.swift | sort)
"$SWIFTC" -O -g -sanitize=address -parse-as-library -module-name Storage -emit-library -static \
    -emit-module -emit-module-path "$OUT/modules/Storage.swiftmodule" \
    -I Sources/CCurl -I "$OUT/modules/CPlatform" "${STORAGE[@]}" -o "$OUT/libStorage.a"

# The DM parser's pure-Swift files (no imports) join them: the rest of ImageSources needs its C libraries.
mapfile -t SOURCES < <(find Sources/ZarrCore Fuzz/ZarrFuzz -name '*.swift' | sort; \
    printf '%s\n' Sources/ImageSources/DM/DMTag.swift Sources/ImageSources/DM/DMParser.swift Sources/ImageSources/DM/DMImageEntry.swift)
"$SWIFTC" -O -g -sanitize=fuzzer,address -parse-as-library -module-name ZarrFuzz \
    -I Sources/CBlosc -I Sources/CZstd -I Sources/CZlib -I Sources/CCurl -I "$OUT/modules/CPlatform" -I "$OUT/modules" \
    "${SOURCES[@]}" "$OUT/cplatform.o" -L "$OUT" -lStorage -lcurl -lblosc -lzstd -lz -o "$OUT/zarr-fuzz"

# A fixed number of inputs, at most 4 KiB each past the seeds' sizes; 1 GiB of RSS and
# 512 MiB per allocation are findings (a chunk here decodes to 512 bytes).
"$OUT/zarr-fuzz" "$OUT/corpus" Fuzz/corpus \
    -runs="$RUNS" -seed="${FUZZ_SEED:-1}" -max_len=65536 -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
    -artifact_prefix="$OUT/" -print_final_stats=1 2>&1 | tee "$OUT/last-run.log" | grep -E "^#|Done|stat::|ERROR|SUMMARY|==" | tail -25
status=${PIPESTATUS[0]}
echo "fuzz: $(grep -m1 -o 'Done [0-9]* runs' "$OUT/last-run.log" || echo 'no completed run'), exit $status (log: $OUT/last-run.log)"
exit "$status"
