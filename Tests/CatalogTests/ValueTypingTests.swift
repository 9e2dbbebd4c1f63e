import Catalog
import Testing

@Suite struct ValueTypingTests {
    @Test func isoDatesInEveryPrecision() {
        #expect(ValueTyping.date("1970-01-01") == 0)
        #expect(ValueTyping.date("2021-03-04") == 1_614_816_000)
        #expect(ValueTyping.date("2021-03-04T05:06") == Double(1_614_816_000 + 5 * 3600 + 6 * 60))
        #expect(ValueTyping.date("2021-03-04T05:06:07") == 1_614_834_367)
        #expect(ValueTyping.date("2021-03-04T05:06:07Z") == 1_614_834_367)
        #expect(ValueTyping.date("2021-03-04T05:06:07.25") == 1_614_834_367.25)
        #expect(ValueTyping.date("2021-03-04T05:06:07+01:30") == Double(1_614_834_367 - 5400))
        #expect(ValueTyping.date("2021-03-04T05:06:07-02:00") == Double(1_614_834_367 + 7200))
        #expect(ValueTyping.date("1969-12-31T23:59:59") == -1)
        #expect(ValueTyping.date("2000-02-29") == 951_782_400)
    }

    @Test func fitsOldAndTIFFForms() {
        #expect(ValueTyping.date("04/03/98") == ValueTyping.date("1998-03-04"))
        #expect(ValueTyping.date("2021:03:04 05:06:07") == 1_614_834_367)
    }

    @Test func nearMissesAreNotDates() {
        for text in ["2021-3-04", "2021-03-4", "2021-13-01", "2021-02-29", "2021-03-04 05:06:07", "2021-03-04T25:00",
                     "2021-03-04T05:06:60", "2021-03-04T05:06:07.", "2021-03-04T05:06:07+1:00", "2021-03-04T05:06:07ZZ",
                     "20210304", "1614834367", "2021:03:04", "32/01/98", "1/3/98", "2021-03-04T05", "", "T"] {
            #expect(ValueTyping.date(text) == nil, "\(text)")
        }
    }

    @Test func sexagesimalAngles() {
        #expect(ValueTyping.sexagesimal("05:35:17.3", as: .rightAscension)! == (5 + 35.0 / 60 + 17.3 / 3600) * 15)
        #expect(ValueTyping.sexagesimal("05 35 17.3", as: .rightAscension) == ValueTyping.sexagesimal("05:35:17.3", as: .rightAscension))
        #expect(ValueTyping.sexagesimal("-05:23:28", as: .declination)! == -(5 + 23.0 / 60 + 28.0 / 3600))
        #expect(ValueTyping.sexagesimal("+89:59:59.9", as: .declination)! > 89.99)
        for bad in ["24:00:00", "05:60:00", "05:35", "05:35:17:1", "5h35m", "05:35 17", "abc"] {
            #expect(ValueTyping.sexagesimal(bad, as: .rightAscension) == nil, "\(bad)")
        }
        #expect(ValueTyping.sexagesimal("91:00:00", as: .declination) == nil)
        #expect(ValueTyping.sexagesimal("-05:23:28", as: .rightAscension) == nil)
    }

    @Test func angleKeys() {
        #expect(ValueTyping.angleKind("RA") == .rightAscension)
        #expect(ValueTyping.angleKind("RA_OBJ") == .rightAscension)
        #expect(ValueTyping.angleKind("OBJCTRA") == .rightAscension)
        #expect(ValueTyping.angleKind("DEC") == .declination)
        #expect(ValueTyping.angleKind("OBJCTDEC") == .declination)
        #expect(ValueTyping.angleKind("EXPTIME") == nil)
    }

    @Test func textualNumbersAreJSONNumbersOnly() {
        #expect(ValueTyping.textualNumber("0.25") == 0.25)
        #expect(ValueTyping.textualNumber("-12") == -12)
        #expect(ValueTyping.textualNumber("1e-3") == 0.001)
        for bad in ["+1", "01", " 1", "1.", ".5", "1e", "nan", "inf", "1e400", "0x10", "1,5", ""] {
            #expect(ValueTyping.textualNumber(bad) == nil, "\(bad)")
        }
    }
}
