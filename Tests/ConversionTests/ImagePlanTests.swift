@testable import Conversion
import Testing

/// `ImagePlan`: how level 0 is cut into the blocks a conversion reads.
@Suite struct ImagePlanTests {
    @Test func blocksSplitDeepShardsButNeverASourceTile() {
        // 256-deep shard of 64³ chunks, u16: 32 MiB → halved along z to 16 MiB.
        #expect(ImagePlan.block(object: [256, 256, 256], unit: [64, 64, 64], source: [1, 256, 256], shape: [512, 2048, 2048], elementSize: 2) == [128, 256, 256])
        // Full-width strips: x stays whole and nothing goes below one chunk, even past the limit.
        #expect(ImagePlan.block(object: [64, 64, 64], unit: [64, 64, 64], source: [1, 16, 4000], shape: [64, 4000, 4000], elementSize: 2, limit: 8 << 20)
            == [64, 64, 4032])
    }
}
