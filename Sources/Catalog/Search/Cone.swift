import Foundation

/// The cone's bounding box, computed in Swift so the store's `(key, num)` index narrows the
/// candidates before the exact great-circle test runs in SQL (`SQLBuilder`).
///
/// Dec: `[δ−r, δ+r]` clipped to ±90. If that reaches a pole, every RA is in. Otherwise the
/// circle's RA half-width is `Δα = asin(sin r / cos δ)` (exact), and `[α−Δα, α+Δα]` wraps at
/// 0/360 into two intervals. Always two RA intervals (the second empty when not needed) so the
/// SQL text never depends on the values.
public struct ConeBox: Sendable, Equatable {
    public var decMin: Double
    public var decMax: Double
    public var ra1: ClosedRange<Double>
    /// `1...0`-like empty interval when unused: bound as (1, 0), which `BETWEEN` never matches.
    public var ra2: (Double, Double)

    public static func == (a: ConeBox, b: ConeBox) -> Bool {
        a.decMin == b.decMin && a.decMax == b.decMax && a.ra1 == b.ra1 && a.ra2 == b.ra2
    }

    /// Widening of the box (degrees) so rounding never drops a point the exact test keeps.
    static let slack = 1e-9

    public init(ra: Double, dec: Double, radius: Double) {
        decMin = max(-90, dec - radius - Self.slack)
        decMax = min(90, dec + radius + Self.slack)
        let none = (1.0, 0.0)
        guard decMin > -90, decMax < 90 else {
            ra1 = 0...360; ra2 = none; return
        }
        let ratio = sin(radius * .pi / 180) / cos(dec * .pi / 180)
        guard ratio < 1 else { ra1 = 0...360; ra2 = none; return }
        let half = asin(ratio) * 180 / .pi + Self.slack
        guard half < 180 else { ra1 = 0...360; ra2 = none; return }
        let lo = ra - half, hi = ra + half
        if lo < 0 {
            ra1 = (lo + 360)...360; ra2 = (0, hi)
        } else if hi >= 360 {
            ra1 = lo...360; ra2 = (0, hi - 360)
        } else {
            ra1 = lo...hi; ra2 = none
        }
    }

    /// The haversine great-circle test as SQL over `raColumn`/`decColumn` against bound centre and
    /// radius placeholders; the argument of `asin` is capped at 1 (rounding can push it past,
    /// which would make `asin` NaN and drop an antipodal point).
    static func distanceTest(ra: String, dec: String, centreRA: String, centreDec: String, radius: String, dialect: SQLDialect) -> String {
        let least = dialect == .sqlite ? "min" : "LEAST"
        return "2 * asin(\(least)(1.0, sqrt(power(sin(radians(\(dec) - \(centreDec)) / 2), 2) + cos(radians(\(dec))) * cos(radians(\(centreDec))) * power(sin(radians(\(ra) - \(centreRA)) / 2), 2)))) <= radians(\(radius))"
    }
}
