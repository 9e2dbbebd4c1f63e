@testable import Catalog
import Testing

/// What the two date readers accept, side by side: a search parameter (`QueryValues.date`,
/// `observed.from`/`observed.to`) and a harvested string value (`ValueTyping.date`). They share
/// one ISO 8601 grammar and differ only where written below: a search also takes a space for
/// the `T` and at most nine fraction digits, and not year 0000; the harvest also takes FITS's
/// old `DD/MM/YY` and TIFF's `YYYY:MM:DD hh:mm:ss`.
@Suite struct DateGrammarTests {
    static let day = 1_614_816_000.0            // 2021-03-04
    static let time = 1_614_834_367.0           // 2021-03-04T05:06:07
    static let minute = 1_614_834_360.0         // 2021-03-04T05:06

    /// input → (search parameter, harvested value); `nil` is "not a date".
    static let table: [(String, Double?, Double?)] = [
        ("1970-01-01", 0, 0),
        ("2021-03-04", day, day),
        ("2000-02-29", 951_782_400, 951_782_400),
        ("1969-12-31T23:59:59", -1, -1),
        ("0001-01-01", -62_135_596_800, -62_135_596_800),
        ("9999-12-31T23:59:59", 253_402_300_799, 253_402_300_799),
        ("0000-01-01", nil, -62_167_219_200),
        ("2021-03-04T05:06", minute, minute),
        ("2021-03-04T05:06Z", minute, minute),
        ("2021-03-04T05:06+01:00", minute - 3600, minute - 3600),
        ("2021-03-04T05:06:07", time, time),
        ("2021-03-04T05:06:07Z", time, time),
        ("2021-03-04T05:06:07+01:30", time - 5400, time - 5400),
        ("2021-03-04T05:06:07-02:00", time + 7200, time + 7200),
        ("2021-03-04T05:06:07+23:59", time - 86340, time - 86340),
        ("2021-03-04T05:06:07.25", time + 0.25, time + 0.25),
        ("2021-03-04T05:06:07.5Z", time + 0.5, time + 0.5),
        ("2021-03-04T05:06:07.0625-01:00", time + 3600.0625, time + 3600.0625),
        ("2021-03-04T05:06:07.500000000", time + 0.5, time + 0.5),
        ("2021-03-04T05:06:07.5000000000", nil, time + 0.5),
        ("2021-03-04T05:06:07.50000000000000000000000000000000001", nil, time + 0.5),
        ("2021-03-04 05:06:07", time, nil),
        ("2021-03-04 05:06", minute, nil),
        ("2021-03-04 05:06:07.25Z", time + 0.25, nil),
        ("04/03/98", nil, 888_969_600),
        ("2021:03:04 05:06:07", nil, time),
        // Neither.
        ("", nil, nil), ("T", nil, nil), ("20210304", nil, nil), ("1614834367", nil, nil),
        ("2021-3-04", nil, nil), ("2021-03-4", nil, nil), ("+2021-03-04", nil, nil), (" 2021-03-04", nil, nil),
        ("2021-03-04 ", nil, nil), ("2021-03-04Z", nil, nil), ("2021-13-01", nil, nil), ("2021-00-01", nil, nil),
        ("2021-01-00", nil, nil), ("2021-02-29", nil, nil), ("1900-02-29", nil, nil), ("2021-04-31", nil, nil),
        ("2021-03-04T", nil, nil), ("2021-03-04T05", nil, nil), ("2021-03-04t05:06", nil, nil),
        ("2021-03-04T24:00", nil, nil), ("2021-03-04T05:60", nil, nil), ("2021-03-04T05:06:60", nil, nil),
        ("2021-03-04T05:06:7", nil, nil), ("2021-03-04T05:06.5", nil, nil), ("2021-03-04T05:06:07.", nil, nil),
        ("2021-03-04T05:06:07.25.5", nil, nil), ("2021-03-04T05:06:07.5 ", nil, nil),
        ("2021-03-04T05:06:07+1:00", nil, nil), ("2021-03-04T05:06:07+0100", nil, nil),
        ("2021-03-04T05:06:07+24:00", nil, nil), ("2021-03-04T05:06:07+01:60", nil, nil),
        ("2021-03-04T05:06:07+01:00:00", nil, nil), ("2021-03-04T05:06:07ZZ", nil, nil),
        ("2021-03-04T05:06:07Z+01:00", nil, nil), ("2021-03-04T05:06:07 Z", nil, nil),
        ("٢٠٢١-03-04", nil, nil), ("2021:03:04", nil, nil), ("2021:02:29 00:00:00", nil, nil),
        ("2021:03:04T05:06:07", nil, nil), ("32/01/98", nil, nil), ("00/01/98", nil, nil), ("04/13/98", nil, nil),
        ("1/3/98", nil, nil), ("04/03/1998", nil, nil),
    ]

    @Test func bothReadersAgreeWithTheTable() {
        for (text, query, harvest) in Self.table {
            #expect(QueryValues.date(text) == query, "search parameter \(text)")
            #expect(ValueTyping.date(text) == harvest, "harvested value \(text)")
        }
    }
}
