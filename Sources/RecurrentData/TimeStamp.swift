import Foundation

/// How a date column wrote its times; generated labels (filled gaps, forecasts) are written the same way.
public enum TimeStyle: String, Codable, Sendable {
    /// 1959Q3
    case quarter
    /// 2012-01
    case month
    /// 2012-01-31
    case day
    /// 2012-01-31T13:00:00
    case dateTime
}

/// A time read from a date column: seconds since 1970-01-01 (UTC; an offset like `+02:00` is applied),
/// with the calendar fields that monthly and quarterly steps need.
public struct TimeStamp: Hashable, Comparable, Codable, Sendable {
    /// Seconds since 1970-01-01 00:00 UTC.
    public var seconds: Int
    /// year·12 + (month − 1).
    public var monthIndex: Int
    /// Days since 1970-01-01.
    public var day: Int
    /// Seconds since midnight, 0..<86400.
    public var secondOfDay: Int

    public static func < (a: TimeStamp, b: TimeStamp) -> Bool { a.seconds < b.seconds }

    /// - Parameters: year in 0...9999 (which bounds every product below), month 1...12, day 1...31.
    public init?(year: Int, month: Int, day: Int = 1, secondOfDay: Int = 0) {
        guard (0...9999).contains(year), (1...12).contains(month), (1...TimeStamp.daysIn(year: year, month: month)).contains(day),
              (0..<86_400).contains(secondOfDay) else { return nil }
        monthIndex = year * 12 + month - 1
        self.day = day
        self.secondOfDay = secondOfDay
        seconds = TimeStamp.daysFromCivil(year, month, day) * 86_400 + secondOfDay
    }

    /// The calendar year.
    public var year: Int { monthIndex / 12 }
    /// The month, 1…12.
    public var month: Int { monthIndex % 12 + 1 }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `daysFromCivil`.
    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Parses 2012-01-31, 2012/01/31, 2012-01, 2012/1, 1959Q3, 1959-Q3, 2012-01-31T13:00[:00][Z|±hh:mm],
    /// 2012-01-31 13:00:00; nil for anything else (plain numbers included: a column of years is not taken
    /// for dates unless it is named with --date).
    public static func parse(_ text: String) -> (TimeStamp, TimeStyle)? {
        let s = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        guard s.count >= 6, s.count <= 40 else { return nil }
        var i = 0
        func number(_ maxDigits: Int) -> Int? {
            var n = 0, digits = 0
            while i < s.count, digits < maxDigits, s[i] >= 48, s[i] <= 57 { n = n * 10 + Int(s[i] - 48); i += 1; digits += 1 }
            return digits > 0 ? n : nil
        }
        func eat(_ c: UInt8) -> Bool { if i < s.count, s[i] == c { i += 1; return true }; return false }
        guard let year = number(4), i == 4 else { return nil }
        // Quarters: 1959Q3, 1959-Q3, 1959 Q3.
        if i < s.count, s[i] == 45 || s[i] == 32, i + 1 < s.count, s[i + 1] == 81 || s[i + 1] == 113 { i += 1 }
        if eat(81) || eat(113) {
            guard let q = number(1), (1...4).contains(q), i == s.count else { return nil }
            return TimeStamp(year: year, month: 3 * q - 2).map { ($0, .quarter) }
        }
        let separator = i < s.count ? s[i] : 0
        guard separator == 45 || separator == 47 else { return nil }
        i += 1
        guard let month = number(2) else { return nil }
        if i == s.count { return TimeStamp(year: year, month: month).map { ($0, .month) } }
        guard eat(separator), let day = number(2) else { return nil }
        if i == s.count { return TimeStamp(year: year, month: month, day: day).map { ($0, .day) } }
        guard eat(84) || eat(32), let hour = number(2), hour < 24, eat(58), let minute = number(2), minute < 60 else { return nil }
        var second = 0
        if eat(58) {
            guard let sec = number(2), sec < 61 else { return nil }
            second = min(sec, 59)
            if eat(46) { while i < s.count, s[i] >= 48, s[i] <= 57 { i += 1 } }
        }
        var offset = 0
        if eat(90) {
        } else if i < s.count, s[i] == 43 || s[i] == 45 {
            let sign = s[i] == 45 ? -1 : 1
            i += 1
            guard let oh = number(2), oh <= 14 else { return nil }
            _ = eat(58)
            let om = number(2) ?? 0
            offset = sign * (oh * 3600 + om * 60)
        }
        guard i == s.count, var stamp = TimeStamp(year: year, month: month, day: day, secondOfDay: hour * 3600 + minute * 60 + second) else { return nil }
        if offset != 0 { stamp = TimeStamp(seconds: stamp.seconds - offset) }
        return (stamp, .dateTime)
    }

    /// The time `seconds` after 1970-01-01T00:00 (UTC).
    public init(seconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let (y, m, d) = TimeStamp.civil(fromDays: days)
        self.seconds = seconds
        monthIndex = y * 12 + m - 1
        day = d
        secondOfDay = seconds - days * 86_400
    }

    /// The label in `style`.
    public func label(_ style: TimeStyle) -> String {
        switch style {
        case .quarter: String(format: "%04dQ%d", year, (month - 1) / 3 + 1)
        case .month: String(format: "%04d-%02d", year, month)
        case .day: String(format: "%04d-%02d-%02d", year, month, day)
        case .dateTime: String(format: "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        }
    }
}

/// The spacing of a regular series: whole months (monthly, quarterly, yearly) or a fixed number of seconds.
public enum TimeStep: Hashable, Codable, Sendable, CustomStringConvertible {
    /// A step of this many calendar months (1 monthly, 3 quarterly, 12 yearly).
    case months(Int)
    /// A step of this many seconds (86 400 daily, 3 600 hourly).
    case seconds(Int)

    /// "monthly", "daily", "every 15 minutes"…
    public var description: String {
        switch self {
        case .months(1): "monthly"
        case .months(3): "quarterly"
        case .months(12): "yearly"
        case let .months(k): "every \(k) months"
        case .seconds(86_400): "daily"
        case .seconds(604_800): "weekly"
        case .seconds(3600): "hourly"
        case .seconds(60): "every minute"
        case let .seconds(k) where k % 86_400 == 0: "every \(k / 86_400) days"
        case let .seconds(k) where k % 3600 == 0: "every \(k / 3600) hours"
        case let .seconds(k) where k % 60 == 0: "every \(k / 60) minutes"
        case let .seconds(k): "every \(k) seconds"
        }
    }

    /// Steps from `a` to `b`: nil when `b` is not a whole number of steps after (or before) `a`.
    public func steps(from a: TimeStamp, to b: TimeStamp) -> Int? {
        switch self {
        case let .months(k):
            guard a.day == b.day, a.secondOfDay == b.secondOfDay else { return nil }
            let d = b.monthIndex - a.monthIndex
            return d % k == 0 ? d / k : nil
        case let .seconds(k):
            let d = b.seconds - a.seconds
            return d % k == 0 ? d / k : nil
        }
    }

    /// `a` advanced by `n` steps (months keep the day, clamped to the month's length).
    public func advance(_ a: TimeStamp, by n: Int) -> TimeStamp {
        switch self {
        case let .months(k):
            let index = min(max(a.monthIndex + k * n, 0), 9999 * 12 + 11)
            let (y, m) = (index / 12, index % 12 + 1)
            return TimeStamp(year: y, month: m, day: min(a.day, TimeStamp.daysIn(year: y, month: m)), secondOfDay: a.secondOfDay) ?? a
        case let .seconds(k):
            return TimeStamp(seconds: a.seconds + k * n)
        }
    }

    /// The step between most consecutive times (months when every time has the same day and time of day
    /// and the months differ); nil for fewer than two distinct times.
    public static func infer(_ times: [TimeStamp]) -> TimeStep? {
        let pairs = zip(times, times.dropFirst()).filter { $1.seconds > $0.seconds }
        guard !pairs.isEmpty else { return nil }
        func mode(_ values: [Int]) -> Int {
            var counts: [Int: Int] = [:]
            for v in values { counts[v, default: 0] += 1 }
            return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
        }
        let calendar = times.allSatisfy { $0.day == times[0].day && $0.secondOfDay == times[0].secondOfDay }
        if calendar {
            let m = mode(pairs.map { $1.monthIndex - $0.monthIndex })
            if m > 0 { return .months(m) }
        }
        return .seconds(mode(pairs.map { $1.seconds - $0.seconds }))
    }

    /// The usual season of this step for a series of `count` values, and why; nil where there is none.
    public func defaultSeason(count: Int) -> (season: Int, reason: String)? {
        switch self {
        case .months(1): (12, "monthly: 12")
        case .months(3): (4, "quarterly: 4")
        case .seconds(86_400):
            count >= 730 ? (365, "daily over two years or more: 365 (yearly; --season 7 for weekly)")
                : (7, "daily under two years: 7 (weekly; --season 365 for yearly)")
        case .seconds(3600): (24, "hourly: 24")
        case .seconds(604_800) where count >= 104: (52, "weekly: 52")
        default: nil
        }
    }
}
