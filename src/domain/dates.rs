//! Calendar dates as typed into `<input type="date">` ("YYYY-MM-DD"), and numbers as Vietnamese
//! writes them.

use std::fmt;

/// On the wire and in storage as its fields (compact in postcard), not as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// As Vietnamese write a date: "30/06/2026".
    pub fn vi(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// Parses a date as Vietnamese write it, "30/06/2026" or "30/6/2026" (what [`Date::vi`]
    /// writes, or people type), checking the day exists in that month.
    pub fn parse_vi(s: &str) -> Option<Date> {
        let mut parts = s.split('/');
        let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
        let short = |p: &str| (1..=2).contains(&p.len());
        if parts.next().is_some() || !short(d) || !short(m) || y.len() != 4 {
            return None;
        }
        Date::parse(&format!("{y}-{m:0>2}-{d:0>2}"))
    }

    /// Parses the ISO form `YYYY-MM-DD`, checking the day exists in that month.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year: year as u16, month: month as u8, day: day as u8 })
    }

    /// The calendar date in Vietnam (UTC+7 all year, no daylight saving) of a moment given in
    /// milliseconds since the Unix epoch: a step recorded at 23:30 on 30/6 in Hà Nội belongs to
    /// June's half-year report, whatever time zone the device or the server runs in.
    pub fn in_vietnam(epoch_ms: i64) -> Date {
        const VIETNAM_OFFSET_MS: i64 = 7 * 3_600_000;
        let days = (epoch_ms.saturating_add(VIETNAM_OFFSET_MS)).div_euclid(86_400_000);
        // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date { year: year.clamp(0, 9999) as u16, month, day }
    }

    /// Noon of this day in Vietnam, in milliseconds since the Unix epoch: a moment that
    /// [`Date::in_vietnam`] reads back as this day (for dated records brought in from files).
    pub fn noon_in_vietnam_ms(self) -> i64 {
        // H. Hinnant's days_from_civil, the inverse of the above.
        let (y, m, d) = (i64::from(self.year) - i64::from(self.month <= 2), i64::from(self.month), i64::from(self.day));
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400_000 + 5 * 3_600_000
    }

    pub fn first_of_year(year: u16) -> Date {
        Date { year, month: 1, day: 1 }
    }

    pub fn last_of_year(year: u16) -> Date {
        Date { year, month: 12, day: 31 }
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// "2025-03-01" → "01/03/2025", the way dates are written in Vietnam; other text is returned as is.
pub fn format_date_vi(iso: &str) -> String {
    match Date::parse(iso) {
        Some(d) => d.vi(),
        None => iso.to_string(),
    }
}

/// 5000 → "5.000": Vietnamese writes thousands with dots.
pub fn format_count_vi(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// 1234.5 → "1.234,5": dots group thousands, a comma marks decimals (up to 2 places, trimmed).
pub fn format_amount_vi(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let rounded = format!("{:.2}", v.abs());
    let (int, frac) = rounded.split_once('.').unwrap_or((&rounded, ""));
    let frac = frac.trim_end_matches('0');
    let int = format_count_vi(int.parse().unwrap_or(0));
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int},{frac}") }
}

/// A size in bytes as people read it, in Vietnamese conventions: "850 KB", "3,2 MB", "10 GB"
/// (one decimal at most, a comma before it; 1 KB = 1,024 bytes as the phone's settings count).
pub fn format_bytes_vi(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0) / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if bytes < 1024.0 {
        return format!("{} byte", format_count_vi(bytes.max(0.0) as usize));
    }
    let shown = if value >= 100.0 { value.round() } else { (value * 10.0).round() / 10.0 };
    format!("{} {}", format_amount_vi(shown), UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(format_bytes_vi(0.0), "0 byte");
        assert_eq!(format_bytes_vi(870.0), "870 byte");
        assert_eq!(format_bytes_vi(850.0 * 1024.0), "850 KB");
        assert_eq!(format_bytes_vi(3.2 * 1_048_576.0), "3,2 MB");
        assert_eq!(format_bytes_vi(10_243.2 * 1_048_576.0), "10 GB");
        assert_eq!(format_bytes_vi(1536.0 * 1_073_741_824.0), "1,5 TB");
        assert_eq!(format_bytes_vi(123.4 * 1_048_576.0), "123 MB");
    }

    #[test]
    fn noon_in_vietnam_reads_back_as_the_same_day() {
        for text in ["1970-01-01", "2000-02-29", "2009-12-31", "2015-06-30", "2026-03-01", "2100-12-31"] {
            let day = Date::parse(text).unwrap();
            assert_eq!(Date::in_vietnam(day.noon_in_vietnam_ms()), day, "{text}");
        }
        assert_eq!(Date::parse("1970-01-01").unwrap().noon_in_vietnam_ms(), 5 * 3_600_000);
    }

    #[test]
    fn parses_real_dates_only() {
        assert_eq!(Date::parse("2024-02-29"), Some(Date { year: 2024, month: 2, day: 29 }));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("1900-02-29"), None);
        assert_eq!(Date::parse("2000-02-29").map(|d| d.day), Some(29));
        assert_eq!(Date::parse("2024-04-31"), None);
        assert_eq!(Date::parse("2024-13-01"), None);
        assert_eq!(Date::parse("2024-1-01"), None);
        assert_eq!(Date::parse("2024-01-0a"), None);
        assert_eq!(Date::parse("+024-01-01"), None);
        assert_eq!(Date::parse(""), None);
    }

    #[test]
    fn parses_dates_written_the_vietnamese_way() {
        let d = Date { year: 2026, month: 6, day: 30 };
        assert_eq!(Date::parse_vi(&d.vi()), Some(d));
        assert_eq!(Date::parse_vi("1/2/2026"), Some(Date { year: 2026, month: 2, day: 1 }));
        assert_eq!(Date::parse_vi("29/02/2023"), None);
        assert_eq!(Date::parse_vi("32/13/2025"), None);
        assert_eq!(Date::parse_vi("001/02/2026"), None);
        assert_eq!(Date::parse_vi("1/2/26"), None);
        assert_eq!(Date::parse_vi("1/2/2026/3"), None);
        assert_eq!(Date::parse_vi("2026-02-01"), None);
    }

    #[test]
    fn orders_and_formats() {
        let a = Date::parse("2024-12-31").unwrap();
        let b = Date::parse("2025-01-01").unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "2025-01-01");
        assert_eq!(format_date_vi("2025-03-01"), "01/03/2025");
        assert_eq!(format_date_vi(""), "");
    }

    #[test]
    fn counts_use_dots_for_thousands() {
        assert_eq!(format_count_vi(0), "0");
        assert_eq!(format_count_vi(999), "999");
        assert_eq!(format_count_vi(1240), "1.240");
        assert_eq!(format_count_vi(5000), "5.000");
        assert_eq!(format_count_vi(1234567), "1.234.567");
        assert_eq!(format_amount_vi(1.5), "1,5");
        assert_eq!(format_amount_vi(2.0), "2");
        assert_eq!(format_amount_vi(1234.25), "1.234,25");
        assert_eq!(format_amount_vi(0.333), "0,33");
        assert_eq!(format_amount_vi(1_000_000.0), "1.000.000");
    }
}
