//! A municipality's service-desk settings as people type them: opening hours per weekday,
//! half-days and local closures, turned into a [`BusinessCalendar`] with errors that name
//! the field and line.

use crate::calendar::{BusinessCalendar, Country, DayRule, HalfDay, OpeningInterval};
use jiff::civil::{Date, Time, Weekday};

pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// Field names, in weekday order, as forms and errors use them.
pub const HOUR_FIELDS: [&str; 7] = [
    "hours_mon",
    "hours_tue",
    "hours_wed",
    "hours_thu",
    "hours_fri",
    "hours_sat",
    "hours_sun",
];

#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DeskSettings {
    /// Per weekday (Monday first): "08:00-11:30, 12:00-15:30", or empty when closed.
    pub hours: [String; 7],
    /// One per line: "12-24 12:00" (fixed day) or "easter-4 12:00" (days from Easter Sunday).
    pub half_days: String,
    /// One date per line: "2026-08-14", optionally followed by "# why".
    pub closures: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}, line {line}: {message}")]
pub struct SettingsError {
    pub field: &'static str,
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

fn err(
    field: &'static str,
    line: usize,
    code: &'static str,
    message: impl Into<String>,
) -> SettingsError {
    SettingsError {
        field,
        line,
        code,
        message: message.into(),
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if h == 24 && m == 0 {
        return Some(Time::midnight());
    }
    Time::new(h, m, 0, 0).ok()
}

fn format_rule(rule: DayRule) -> String {
    match rule {
        DayRule::Fixed { month, day } => format!("{month:02}-{day:02}"),
        DayRule::EasterOffset { days } if days < 0 => format!("easter{days}"),
        DayRule::EasterOffset { days } => format!("easter+{days}"),
    }
}

fn parse_rule(text: &str) -> Option<DayRule> {
    if let Some(offset) = text.strip_prefix("easter") {
        let days: i16 = if offset.is_empty() {
            0
        } else {
            offset.trim_start_matches('+').parse().ok()?
        };
        return DayRule::easter_offset(days).ok();
    }
    let (m, d) = text.split_once('-')?;
    DayRule::fixed(m.parse().ok()?, d.parse().ok()?).ok()
}

/// Lines that carry content: comments after '#' and blank lines are dropped; numbered from 1.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
}

impl DeskSettings {
    /// The country's defaults, written out so people can see and edit them.
    pub fn defaults(country: Country) -> DeskSettings {
        let calendar = BusinessCalendar::new(country, jiff::tz::TimeZone::UTC);
        let hours = WEEKDAYS.map(|wd| {
            calendar
                .hours(wd)
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        });
        let half_days = calendar
            .half_days()
            .iter()
            .map(|h| format!("{} {}", format_rule(h.rule), h.closes_at.strftime("%H:%M")))
            .collect::<Vec<_>>()
            .join("\n");
        DeskSettings {
            hours,
            half_days,
            closures: String::new(),
        }
    }

    /// The calendar these settings describe, on top of the country's public holidays.
    pub fn calendar(
        &self,
        country: Country,
        time_zone: &str,
    ) -> Result<BusinessCalendar, SettingsError> {
        let mut calendar = BusinessCalendar::with_time_zone_name(country, time_zone)
            .map_err(|e| err("time_zone", 1, "time-zone-unknown", e.to_string()))?
            .without_half_days();
        for (i, wd) in WEEKDAYS.iter().enumerate() {
            let field = HOUR_FIELDS[i];
            let mut intervals = Vec::new();
            for piece in self.hours[i]
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let (a, b) = piece.split_once('-').ok_or_else(|| {
                    err(
                        field,
                        1,
                        "hours-format",
                        format!("'{piece}' is not like 08:00-15:30"),
                    )
                })?;
                let (Some(start), Some(end)) = (parse_time(a), parse_time(b)) else {
                    return Err(err(
                        field,
                        1,
                        "hours-format",
                        format!("'{piece}' is not like 08:00-15:30"),
                    ));
                };
                let interval = if b.trim() == "24:00" {
                    Ok(OpeningInterval::until_midnight(start))
                } else {
                    OpeningInterval::new(start, end)
                };
                intervals.push(interval.map_err(|e| err(field, 1, "hours-order", e.to_string()))?);
            }
            calendar = calendar
                .with_hours(*wd, intervals)
                .map_err(|e| err(field, 1, "hours-overlap", e.to_string()))?;
        }
        for (line, text) in lines(&self.half_days) {
            let bad = || {
                err(
                    "half_days",
                    line,
                    "half-day-format",
                    format!("'{text}' is not like '12-24 12:00' or 'easter-4 12:00'"),
                )
            };
            let (rule, time) = text.split_once(char::is_whitespace).ok_or_else(bad)?;
            let rule = parse_rule(rule.trim()).ok_or_else(bad)?;
            let closes_at = parse_time(time).ok_or_else(bad)?;
            calendar = calendar
                .with_half_day(HalfDay::new(rule, closes_at))
                .map_err(|e| err("half_days", line, "half-day-format", e.to_string()))?;
        }
        for (line, text) in lines(&self.closures) {
            let date: Date = text.parse().map_err(|_| {
                err(
                    "closures",
                    line,
                    "closure-format",
                    format!("'{text}' is not a date like 2026-08-14"),
                )
            })?;
            calendar = calendar.with_closure(date);
        }
        Ok(calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    #[test]
    fn defaults_round_trip_to_the_country_calendar() {
        for country in Country::ALL {
            let settings = DeskSettings::defaults(country);
            let tz = country.default_time_zone_name();
            let from_text = settings.calendar(country, tz).unwrap();
            let direct = BusinessCalendar::for_country(country).unwrap();
            let a: Timestamp = "2026-03-30T06:00:00Z".parse().unwrap();
            let b: Timestamp = "2026-12-31T18:00:00Z".parse().unwrap();
            assert_eq!(
                from_text.business_duration(a, b),
                direct.business_duration(a, b),
                "{country}"
            );
        }
        let no = DeskSettings::defaults(Country::No);
        assert_eq!(no.hours[0], "08:00-15:30");
        assert_eq!(no.hours[6], "");
        assert!(
            no.half_days.contains("12-24 12:00") && no.half_days.contains("easter-4 12:00"),
            "{}",
            no.half_days
        );
    }

    #[test]
    fn a_local_closure_and_longer_hours_take_effect() {
        let mut s = DeskSettings::defaults(Country::No);
        s.hours[0] = "07:30-11:00, 11:30-16:00".into();
        s.closures = "2026-11-30 # staff day\n".into();
        let cal = s.calendar(Country::No, "Europe/Oslo").unwrap();
        let monday_30: Timestamp = "2026-11-30T09:00:00Z".parse().unwrap();
        assert!(!cal.is_open(monday_30), "closed for the staff day");
        let monday_23: Timestamp = "2026-11-23T15:30:00Z".parse().unwrap();
        assert!(!cal.is_open(monday_23));
        let monday_23_early: Timestamp = "2026-11-23T06:45:00Z".parse().unwrap();
        assert!(
            cal.is_open(monday_23_early),
            "07:45 Oslo is open with the new hours"
        );
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let mut s = DeskSettings::defaults(Country::Dk);
        s.hours[2] = "8-16".into();
        assert_eq!(
            s.calendar(Country::Dk, "Europe/Copenhagen")
                .unwrap_err()
                .field,
            "hours_wed"
        );
        s.hours[2] = "16:00-08:00".into();
        assert_eq!(
            s.calendar(Country::Dk, "Europe/Copenhagen")
                .unwrap_err()
                .code,
            "hours-order"
        );
        s.hours[2] = "08:00-12:00, 11:00-16:00".into();
        assert_eq!(
            s.calendar(Country::Dk, "Europe/Copenhagen")
                .unwrap_err()
                .code,
            "hours-overlap"
        );
        s.hours[2] = "08:00-16:00".into();
        s.half_days = "12-24 12:00\n\n13-40 12:00".into();
        let e = s.calendar(Country::Dk, "Europe/Copenhagen").unwrap_err();
        assert_eq!((e.field, e.line), ("half_days", 3));
        s.half_days = "easter+999 12:00".into();
        assert_eq!(
            s.calendar(Country::Dk, "Europe/Copenhagen")
                .unwrap_err()
                .field,
            "half_days"
        );
        s.half_days = String::new();
        s.closures = "2026-02-30".into();
        let e = s.calendar(Country::Dk, "Europe/Copenhagen").unwrap_err();
        assert_eq!((e.field, e.line, e.code), ("closures", 1, "closure-format"));
        assert!(e.to_string().contains("closures, line 1"));
        assert_eq!(
            DeskSettings::defaults(Country::No)
                .calendar(Country::No, "Mars/Base")
                .unwrap_err()
                .code,
            "time-zone-unknown"
        );
    }

    #[test]
    fn round_the_clock_desks_are_possible() {
        let mut s = DeskSettings::defaults(Country::No);
        s.hours = std::array::from_fn(|_| "00:00-24:00".to_string());
        s.half_days.clear();
        let cal = s.calendar(Country::No, "Europe/Oslo").unwrap();
        let sunday: Timestamp = "2026-11-22T02:00:00Z".parse().unwrap();
        assert!(cal.is_open(sunday));
    }
}
