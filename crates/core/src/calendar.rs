//! Business calendars for SLA clocks.
//!
//! An SLA such as "respond within 8 business hours" only means something
//! relative to when the municipality's service desk actually works. This
//! module owns that notion of time: public holidays of Norway and Denmark
//! (computed from rules, so no yearly table has to be maintained), the
//! desk's weekly opening hours, recurring half-days and local closures, and
//! the arithmetic that turns "now + 8 business hours" into an instant.
//!
//! Instants are always [`Timestamp`]s (UTC). Opening hours are civil times in
//! the calendar's [`TimeZone`], and every day is converted separately, so a
//! day on which the clocks change counts its real, physical hours: the SLA
//! promise is about how long the customer waits, not about wall-clock
//! readings.
//!
//! Holiday names are deliberately absent: each holiday carries a stable
//! machine id, and display names are resolved by the translation catalogue,
//! so this module never has to know about languages.

use core::fmt;
use core::ops::ControlFlow;
use core::str::FromStr;
use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

/// How many consecutive days without any opening the clock searches before
/// giving up.
///
/// A calendar can be configured (by mistake or by a very long closure list)
/// so that it never opens again; without a bound, an SLA computation would
/// then spin forever. Three years is far beyond any real closure period but
/// still cheap to walk.
pub const SEARCH_HORIZON_DAYS: u32 = 3 * 366;

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Everything that can go wrong when configuring a calendar or doing
/// business-time arithmetic.
///
/// Typed rather than stringly so that the web layer can map each case to a
/// translated message pointing at the offending form field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A country code other than `NO` or `DK`.
    #[error("unknown country code {0:?}; expected \"NO\" or \"DK\"")]
    UnknownCountry(String),
    /// A time zone name that the bundled tz database does not know.
    #[error("unknown time zone {name:?}")]
    UnknownTimeZone {
        /// The name as given.
        name: String,
    },
    /// An opening interval whose end is not after its start.
    #[error("opening interval {start}-{end} does not end after it starts")]
    EmptyInterval {
        /// Start of the rejected interval.
        start: Time,
        /// End of the rejected interval.
        end: Time,
    },
    /// Two opening intervals of the same weekday overlap.
    #[error("opening intervals {first} and {second} overlap on {weekday:?}")]
    OverlappingIntervals {
        /// The weekday being configured.
        weekday: Weekday,
        /// The interval starting first.
        first: OpeningInterval,
        /// The interval starting inside `first`.
        second: OpeningInterval,
    },
    /// A fixed-date rule naming a day that exists in no year (e.g. 31 April).
    #[error("month {month}, day {day} is not a day of any year")]
    InvalidFixedDate {
        /// Month as given.
        month: i8,
        /// Day as given.
        day: i8,
    },
    /// An Easter-relative rule so far from Easter that it could leave the
    /// Easter year (see [`DayRule::EasterOffset`]).
    #[error(
        "Easter offset {days} days is outside {}..={}",
        DayRule::MIN_EASTER_OFFSET,
        DayRule::MAX_EASTER_OFFSET
    )]
    EasterOffsetOutOfRange {
        /// Offset as given.
        days: i16,
    },
    /// Business time cannot be subtracted by adding a negative amount.
    #[error("business time to add must not be negative, got {0:?}")]
    NegativeAmount(SignedDuration),
    /// No weekday has any opening hours, so the clock can never run.
    #[error("the calendar has no opening hours on any weekday")]
    NoOpeningHours,
    /// The clock found no opening for [`SEARCH_HORIZON_DAYS`] days in a row.
    #[error("no opening hours within {days} days after {after}")]
    NoOpeningWithin {
        /// The instant the search was running from.
        after: Timestamp,
        /// The number of consecutive closed days searched.
        days: u32,
    },
    /// The computation reached the end of the representable calendar
    /// (year 9999).
    #[error("date or time outside the supported range")]
    OutOfRange,
}

/// Countries whose public holidays Drifta knows.
///
/// Serialised as the ISO 3166-1 alpha-2 code because that is what
/// municipality records and configuration files already use.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Country {
    /// Norway.
    #[serde(rename = "NO")]
    No,
    /// Denmark.
    #[serde(rename = "DK")]
    Dk,
}

impl Country {
    /// Every supported country, for pickers and exhaustive tests.
    pub const ALL: [Country; 2] = [Country::No, Country::Dk];

    /// ISO 3166-1 alpha-2 code, the stable form used in storage and URLs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Country::No => "NO",
            Country::Dk => "DK",
        }
    }

    /// IANA zone name used when a municipality does not configure one; each
    /// country has a single zone on the mainland, which is where municipal
    /// service desks are.
    pub const fn default_time_zone_name(self) -> &'static str {
        match self {
            Country::No => "Europe/Oslo",
            Country::Dk => "Europe/Copenhagen",
        }
    }

    /// Lenient parse for configuration and forms: surrounding spaces and case are ignored.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok()
    }

    /// The interface language a new municipality in this country starts with.
    pub fn default_language(self) -> crate::Language {
        match self {
            Country::No => crate::Language::Nb,
            Country::Dk => crate::Language::Da,
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Country {
    type Err = CalendarError;

    /// Case-insensitive, because codes typed by administrators or imported
    /// from other systems are not reliably upper case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Country::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| CalendarError::UnknownCountry(s.to_owned()))
    }
}

/// A public holiday on a concrete date.
///
/// `id` is a stable machine id (e.g. `"easter_monday"`) meant as a key into
/// the translation catalogue and for audit records; it never changes once
/// published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Holiday {
    /// The civil date of the holiday.
    pub date: Date,
    /// Stable machine id.
    pub id: &'static str,
}

/// A rule selecting one day per year, used for half-days, recurring closures
/// and the public holidays themselves.
///
/// Most Nordic holidays and customary half-days hang off Easter, so a rule is
/// either a fixed month/day or an offset from Easter Sunday; that covers
/// Christmas Eve as well as Holy Saturday or Whitsun eve without a yearly
/// table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DayRule {
    /// The same month and day every year. 29 February only matches in leap
    /// years.
    Fixed {
        /// Month, 1–12.
        month: i8,
        /// Day of month, 1–31.
        day: i8,
    },
    /// A number of days after (or, if negative, before) Easter Sunday.
    ///
    /// Limited to [`DayRule::MIN_EASTER_OFFSET`]..=[`DayRule::MAX_EASTER_OFFSET`]
    /// so that the day always falls in the same calendar year as its Easter;
    /// that keeps "which Easter?" unambiguous for every date.
    EasterOffset {
        /// Days relative to Easter Sunday.
        days: i16,
    },
}

impl DayRule {
    /// Smallest offset that still lands in Easter's year (22 March − 80 days
    /// is 1 January in common years).
    pub const MIN_EASTER_OFFSET: i16 = -80;
    /// Largest offset that still lands in Easter's year (25 April + 250 days
    /// is 31 December).
    pub const MAX_EASTER_OFFSET: i16 = 250;

    /// Christmas Eve, 24 December: a customary half-day or closure.
    pub const CHRISTMAS_EVE: DayRule = DayRule::Fixed { month: 12, day: 24 };
    /// New Year's Eve, 31 December: a customary half-day or closure.
    pub const NEW_YEARS_EVE: DayRule = DayRule::Fixed { month: 12, day: 31 };
    /// Danish Constitution Day, 5 June: not a public holiday, but usually a
    /// half-day in Danish public administration.
    pub const DANISH_CONSTITUTION_DAY: DayRule = DayRule::Fixed { month: 6, day: 5 };
    /// Wednesday before Maundy Thursday: a half-day in Norwegian
    /// municipalities by collective agreement.
    pub const WEDNESDAY_BEFORE_MAUNDY_THURSDAY: DayRule = DayRule::EasterOffset { days: -4 };
    /// Holy Saturday (Easter eve).
    pub const HOLY_SATURDAY: DayRule = DayRule::EasterOffset { days: -1 };
    /// Whitsun eve (the Saturday before Whit Sunday).
    pub const WHITSUN_EVE: DayRule = DayRule::EasterOffset { days: 48 };

    /// A validated fixed-date rule.
    pub fn fixed(month: i8, day: i8) -> Result<Self, CalendarError> {
        let rule = DayRule::Fixed { month, day };
        rule.validate()?;
        Ok(rule)
    }

    /// A validated Easter-relative rule.
    pub fn easter_offset(days: i16) -> Result<Self, CalendarError> {
        let rule = DayRule::EasterOffset { days };
        rule.validate()?;
        Ok(rule)
    }

    /// Checks that the rule selects a real day. The variants are public (so
    /// rules can be written as constants and pattern-matched), so the
    /// calendar re-validates every rule it is given.
    pub fn validate(self) -> Result<(), CalendarError> {
        match self {
            DayRule::Fixed { month, day } => {
                // 2000 is a leap year, so 29 February is accepted.
                Date::new(2000, month, day)
                    .map(|_| ())
                    .map_err(|_| CalendarError::InvalidFixedDate { month, day })
            }
            DayRule::EasterOffset { days } => {
                if (Self::MIN_EASTER_OFFSET..=Self::MAX_EASTER_OFFSET).contains(&days) {
                    Ok(())
                } else {
                    Err(CalendarError::EasterOffsetOutOfRange { days })
                }
            }
        }
    }

    /// The date the rule selects in `year`, if any (29 February in a common
    /// year, or a year outside jiff's −9999..=9999, selects nothing).
    pub fn date_in(self, year: i16) -> Option<Date> {
        match self {
            DayRule::Fixed { month, day } => Date::new(year, month, day).ok(),
            DayRule::EasterOffset { days } => {
                let span = Span::new().try_days(i64::from(days)).ok()?;
                easter_sunday(year)?.checked_add(span).ok()
            }
        }
    }

    /// Whether the rule selects `date`. Rules that fail validation select
    /// nothing.
    pub fn matches(self, date: Date) -> bool {
        self.matches_day(&DayFacts::of(date))
    }

    fn matches_day(self, facts: &DayFacts) -> bool {
        match self {
            DayRule::Fixed { month, day } => facts.month == month && facts.day == day,
            DayRule::EasterOffset { days } => {
                (Self::MIN_EASTER_OFFSET..=Self::MAX_EASTER_OFFSET).contains(&days)
                    && facts.easter_offset == Some(days)
            }
        }
    }
}

/// The facts about a date that rule matching needs, computed once per date
/// because the clock evaluates several rules for every day it walks.
struct DayFacts {
    year: i16,
    month: i8,
    day: i8,
    /// Days after this year's Easter Sunday (negative before it).
    easter_offset: Option<i16>,
}

impl DayFacts {
    fn of(date: Date) -> Self {
        DayFacts {
            year: date.year(),
            month: date.month(),
            day: date.day(),
            easter_offset: easter_sunday(date.year()).map(|e| date.day_of_year() - e.day_of_year()),
        }
    }
}

struct HolidayDef {
    id: &'static str,
    rule: DayRule,
    /// Last year the holiday was observed, for abolished holidays.
    last_year: Option<i16>,
}

const fn fixed(id: &'static str, month: i8, day: i8) -> HolidayDef {
    HolidayDef {
        id,
        rule: DayRule::Fixed { month, day },
        last_year: None,
    }
}

const fn easter(id: &'static str, days: i16) -> HolidayDef {
    HolidayDef {
        id,
        rule: DayRule::EasterOffset { days },
        last_year: None,
    }
}

// The order of these tables is the tie-break when two holidays fall on the
// same date (e.g. Labour Day and Ascension Day on 2008-05-01 in Norway):
// fixed-date holidays that share a date with a movable one come first.

/// Norway, Act relating to public holidays (helligdagsloven) and the Act of
/// 26 April 1947 for 1 and 17 May.
static NORWAY: &[HolidayDef] = &[
    fixed("new_years_day", 1, 1),
    easter("maundy_thursday", -3),
    easter("good_friday", -2),
    easter("easter_sunday", 0),
    easter("easter_monday", 1),
    fixed("labour_day", 5, 1),
    fixed("constitution_day", 5, 17),
    easter("ascension_day", 39),
    easter("whit_sunday", 49),
    easter("whit_monday", 50),
    fixed("christmas_day", 12, 25),
    fixed("boxing_day", 12, 26),
];

/// Denmark, helligdagsloven. Store bededag was abolished by Act no. 140 of
/// 28 February 2023 with effect from 2024, so 2023 is its last year.
static DENMARK: &[HolidayDef] = &[
    fixed("new_years_day", 1, 1),
    easter("maundy_thursday", -3),
    easter("good_friday", -2),
    easter("easter_sunday", 0),
    easter("easter_monday", 1),
    HolidayDef {
        id: "store_bededag",
        rule: DayRule::EasterOffset { days: 26 },
        last_year: Some(2023),
    },
    easter("ascension_day", 39),
    easter("whit_sunday", 49),
    easter("whit_monday", 50),
    fixed("christmas_day", 12, 25),
    fixed("boxing_day", 12, 26),
];

/// A free function rather than a method so that nothing here depends on
/// `Country` beyond its two variants.
fn holiday_table(country: Country) -> &'static [HolidayDef] {
    match country {
        Country::No => NORWAY,
        Country::Dk => DENMARK,
    }
}

impl HolidayDef {
    fn observed_in(&self, year: i16) -> bool {
        self.last_year.is_none_or(|last| year <= last)
    }
}

/// Western (Gregorian) Easter Sunday of `year`.
///
/// Uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher), which is
/// exact for every Gregorian year; Euclidean division keeps it total for
/// proleptic negative years. `None` only for years jiff cannot represent.
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = i8::try_from(n.div_euclid(31)).ok()?;
    let day = i8::try_from(n.rem_euclid(31) + 1).ok()?;
    Date::new(year, month, day).ok()
}

/// All public holidays of `country` in `year`, sorted by date.
///
/// Today's rules are applied to every year (no historical law changes other
/// than Store bededag's abolition), because SLA clocks only ever look at
/// recent and near-future years. When two holidays share a date both are
/// listed. Years jiff cannot represent yield an empty list.
pub fn public_holidays(country: Country, year: i16) -> Vec<Holiday> {
    let mut out: Vec<Holiday> = holiday_table(country)
        .iter()
        .filter(|def| def.observed_in(year))
        .filter_map(|def| {
            def.rule
                .date_in(year)
                .map(|date| Holiday { date, id: def.id })
        })
        .collect();
    // Stable, so same-date holidays keep the table's tie-break order.
    out.sort_by_key(|h| h.date);
    out
}

/// The id of the public holiday on `date`, if it is one.
///
/// When two holidays coincide, the one listed first by [`public_holidays`]
/// is returned.
pub fn is_public_holiday(country: Country, date: Date) -> Option<&'static str> {
    holiday_on(country, &DayFacts::of(date))
}

fn holiday_on(country: Country, facts: &DayFacts) -> Option<&'static str> {
    holiday_table(country)
        .iter()
        .find(|def| def.observed_in(facts.year) && def.rule.matches_day(facts))
        .map(|def| def.id)
}

/// One stretch of opening hours within a day, `[start, end)` in local time.
///
/// A desk staffed until midnight (or around the clock) needs an end of
/// 24:00, which `civil::Time` cannot express, so an `end` of 00:00 means
/// "midnight at the end of the day". Hence `00:00–00:00` is the whole day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpeningInterval {
    start: Time,
    end: Time,
}

impl OpeningInterval {
    /// An interval from `start` to `end`; `end` of 00:00 means midnight at
    /// the end of the day. Fails unless `end` is after `start`.
    pub fn new(start: Time, end: Time) -> Result<Self, CalendarError> {
        let interval = OpeningInterval { start, end };
        if interval.end_nanos() > interval.start_nanos() {
            Ok(interval)
        } else {
            Err(CalendarError::EmptyInterval { start, end })
        }
    }

    /// Open from `start` until midnight.
    pub fn until_midnight(start: Time) -> Self {
        OpeningInterval {
            start,
            end: Time::midnight(),
        }
    }

    /// Open the whole day.
    pub fn whole_day() -> Self {
        Self::until_midnight(Time::midnight())
    }

    /// Local opening time.
    pub fn start(self) -> Time {
        self.start
    }

    /// Local closing time; 00:00 means midnight at the end of the day.
    pub fn end(self) -> Time {
        self.end
    }

    /// Whether the interval runs until midnight (`end` is 24:00).
    pub fn ends_at_midnight(self) -> bool {
        self.end == Time::midnight()
    }

    fn start_nanos(self) -> i64 {
        nanos_of_day(self.start)
    }

    fn end_nanos(self) -> i64 {
        if self.ends_at_midnight() {
            NANOS_PER_DAY
        } else {
            nanos_of_day(self.end)
        }
    }

    /// The part of the interval before `closes_at` (a half-day's early
    /// closing), or `None` if nothing is left.
    fn cut_at(self, closes_at: Time) -> Option<Self> {
        let cut = nanos_of_day(closes_at);
        if cut <= self.start_nanos() {
            None
        } else if cut < self.end_nanos() {
            Some(OpeningInterval {
                start: self.start,
                end: closes_at,
            })
        } else {
            Some(self)
        }
    }
}

impl fmt::Display for OpeningInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hm(f, self.start)?;
        f.write_str("-")?;
        if self.ends_at_midnight() {
            f.write_str("24:00")
        } else {
            write_hm(f, self.end)
        }
    }
}

fn write_hm(f: &mut fmt::Formatter<'_>, t: Time) -> fmt::Result {
    write!(f, "{:02}:{:02}", t.hour(), t.minute())?;
    if t.second() != 0 || t.subsec_nanosecond() != 0 {
        write!(f, ":{:02}", t.second())?;
    }
    Ok(())
}

fn nanos_of_day(t: Time) -> i64 {
    ((i64::from(t.hour()) * 60 + i64::from(t.minute())) * 60 + i64::from(t.second()))
        * 1_000_000_000
        + i64::from(t.subsec_nanosecond())
}

/// A day on which the desk closes early.
///
/// Opening hours of a matching day are cut at `closes_at`; a `closes_at` of
/// 00:00 therefore closes the whole day. When several half-days match the
/// same date the earliest closing wins, since closing is what staff will
/// actually do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HalfDay {
    /// Which day of the year.
    pub rule: DayRule,
    /// Local time at which the desk closes that day.
    pub closes_at: Time,
}

impl HalfDay {
    /// A half-day closing at `closes_at` on the day `rule` selects.
    pub fn new(rule: DayRule, closes_at: Time) -> Self {
        HalfDay { rule, closes_at }
    }
}

/// When a municipality's service desk works, and therefore when its SLA
/// clocks run.
///
/// Built with [`BusinessCalendar::new`] (country defaults) and adjusted with
/// the `with_*` methods. The fields are private so that every calendar in
/// existence has passed validation: the arithmetic relies on each weekday's
/// intervals being sorted and disjoint.
///
/// Closed days take precedence in this order: public holiday, local closure,
/// recurring closure; otherwise the weekday's hours apply, cut by any
/// matching half-day.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    country: Country,
    tz: TimeZone,
    /// Indexed by `Weekday::to_monday_zero_offset`; sorted, disjoint.
    weekly: [Vec<OpeningInterval>; 7],
    half_days: Vec<HalfDay>,
    recurring_closures: Vec<DayRule>,
    closures: BTreeSet<Date>,
}

/// How far a scan over opening windows may run.
#[derive(Clone, Copy)]
enum Horizon {
    /// Stop after this local date has been visited.
    ThroughDate(Date),
    /// Fail after this many consecutive days without an opening.
    IdleDays(u32),
}

const MON_TO_FRI: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];

fn weekday_index(weekday: Weekday) -> usize {
    // 0..=6, so the cast is lossless.
    weekday.to_monday_zero_offset() as usize
}

fn hm(hour: i8, minute: i8) -> Time {
    jiff::civil::time(hour, minute, 0, 0)
}

impl BusinessCalendar {
    /// A calendar with the typical hours of a municipal service desk in
    /// `country`, observing its public holidays, in time zone `tz`.
    ///
    /// Defaults, chosen to match common municipal working hours and
    /// collective agreements so that a new tenant gets sensible SLAs
    /// before anyone configures anything:
    ///
    /// - Norway: Monday–Friday 08:00–15:30 (the 37.5-hour week); closing at
    ///   12:00 on the Wednesday before Maundy Thursday, Christmas Eve and New
    ///   Year's Eve.
    /// - Denmark: Monday–Friday 08:00–16:00; closing at 12:00 on
    ///   Constitution Day (5 June), Christmas Eve and New Year's Eve.
    ///
    /// Weekends are closed and there are no local closures.
    pub fn new(country: Country, tz: TimeZone) -> Self {
        let (hours, half_days) = match country {
            Country::No => (
                OpeningInterval {
                    start: hm(8, 0),
                    end: hm(15, 30),
                },
                [
                    DayRule::WEDNESDAY_BEFORE_MAUNDY_THURSDAY,
                    DayRule::CHRISTMAS_EVE,
                    DayRule::NEW_YEARS_EVE,
                ],
            ),
            Country::Dk => (
                OpeningInterval {
                    start: hm(8, 0),
                    end: hm(16, 0),
                },
                [
                    DayRule::DANISH_CONSTITUTION_DAY,
                    DayRule::CHRISTMAS_EVE,
                    DayRule::NEW_YEARS_EVE,
                ],
            ),
        };
        let mut calendar = Self::closed(country, tz);
        for weekday in MON_TO_FRI {
            calendar.weekly[weekday_index(weekday)] = vec![hours];
        }
        calendar.half_days = half_days
            .into_iter()
            .map(|rule| HalfDay::new(rule, hm(12, 0)))
            .collect();
        calendar
    }

    /// A calendar with no opening hours at all, for configurations that are
    /// built from scratch (e.g. loaded from storage) rather than by
    /// adjusting the defaults.
    pub fn closed(country: Country, tz: TimeZone) -> Self {
        BusinessCalendar {
            country,
            tz,
            weekly: Default::default(),
            half_days: Vec::new(),
            recurring_closures: Vec::new(),
            closures: BTreeSet::new(),
        }
    }

    /// [`BusinessCalendar::new`] in the country's usual zone
    /// ([`Country::default_time_zone_name`]).
    pub fn for_country(country: Country) -> Result<Self, CalendarError> {
        Self::with_time_zone_name(country, country.default_time_zone_name())
    }

    /// [`BusinessCalendar::new`] in the IANA zone named `name`; the name is
    /// typically stored configuration, so an unknown one is an error rather
    /// than a silent fallback to UTC.
    pub fn with_time_zone_name(country: Country, name: &str) -> Result<Self, CalendarError> {
        let tz = time_zone(name)?;
        Ok(Self::new(country, tz))
    }

    /// Replaces the time zone.
    pub fn with_time_zone(mut self, tz: TimeZone) -> Self {
        self.tz = tz;
        self
    }

    /// Replaces the opening hours of `weekday`. An empty list closes it.
    ///
    /// Intervals may be given in any order; touching intervals (08–12 and
    /// 12–16) are allowed, overlapping ones are rejected because they would
    /// count the overlap twice.
    pub fn with_hours(
        mut self,
        weekday: Weekday,
        intervals: impl IntoIterator<Item = OpeningInterval>,
    ) -> Result<Self, CalendarError> {
        let intervals = validate_day(weekday, intervals.into_iter().collect())?;
        self.weekly[weekday_index(weekday)] = intervals;
        Ok(self)
    }

    /// Sets the same opening hours on each of `weekdays`.
    pub fn with_hours_on(
        mut self,
        weekdays: &[Weekday],
        intervals: &[OpeningInterval],
    ) -> Result<Self, CalendarError> {
        for &weekday in weekdays {
            self = self.with_hours(weekday, intervals.iter().copied())?;
        }
        Ok(self)
    }

    /// Adds a half-day rule.
    pub fn with_half_day(mut self, half_day: HalfDay) -> Result<Self, CalendarError> {
        half_day.rule.validate()?;
        self.half_days.push(half_day);
        Ok(self)
    }

    /// Removes all half-day rules, including the country defaults.
    pub fn without_half_days(mut self) -> Self {
        self.half_days.clear();
        self
    }

    /// Adds a day closed every year (e.g. Christmas Eve for a desk that does
    /// not work it at all).
    pub fn with_recurring_closure(mut self, rule: DayRule) -> Result<Self, CalendarError> {
        rule.validate()?;
        self.recurring_closures.push(rule);
        Ok(self)
    }

    /// Closes the desk on a specific local date (e.g. a staff day).
    pub fn with_closure(mut self, date: Date) -> Self {
        self.closures.insert(date);
        self
    }

    /// Closes the desk on each of `dates`.
    pub fn with_closures(mut self, dates: impl IntoIterator<Item = Date>) -> Self {
        self.closures.extend(dates);
        self
    }

    /// The country whose public holidays are observed.
    pub fn country(&self) -> Country {
        self.country
    }

    /// The zone in which opening hours are read.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Regular opening hours of `weekday`, sorted.
    pub fn hours(&self, weekday: Weekday) -> &[OpeningInterval] {
        &self.weekly[weekday_index(weekday)]
    }

    /// Configured half-day rules.
    pub fn half_days(&self) -> &[HalfDay] {
        &self.half_days
    }

    /// Configured recurring closures.
    pub fn recurring_closures(&self) -> &[DayRule] {
        &self.recurring_closures
    }

    /// Configured local closures, in date order.
    pub fn closures(&self) -> impl Iterator<Item = Date> + '_ {
        self.closures.iter().copied()
    }

    /// The hours the desk actually keeps on local `date`, after holidays,
    /// closures and half-days: what a "today's opening hours" display should
    /// show, and exactly what the clock counts.
    pub fn opening_hours_on(&self, date: Date) -> Vec<OpeningInterval> {
        let (intervals, cut) = self.day_plan(date);
        intervals
            .iter()
            .filter_map(|iv| apply_cut(*iv, cut))
            .collect()
    }

    /// Whether the desk is open at `at`. Closing instants are not open:
    /// intervals are half-open so that back-to-back intervals never count
    /// an instant twice.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let last = self
            .local_date(at)
            .tomorrow()
            .unwrap_or(self.local_date(at));
        matches!(
            self.scan(at, Horizon::ThroughDate(last), |start, _| {
                ControlFlow::Break(start == at)
            }),
            Ok(Some(true))
        )
    }

    /// The first instant at or after `at` at which the desk is open (`at`
    /// itself if it is open), or `None` if it does not open within
    /// [`SEARCH_HORIZON_DAYS`] days.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.has_no_hours() {
            return None;
        }
        self.scan(at, Horizon::IdleDays(SEARCH_HORIZON_DAYS), |start, _| {
            ControlFlow::Break(start)
        })
        .ok()
        .flatten()
    }

    /// Business time between two instants: the length of the opening hours
    /// inside `[from, to)`. Zero if `to <= from`.
    ///
    /// Infallible on purpose: it is what an SLA clock displays, and the only
    /// failure (running past year 9999) simply contributes no business time.
    pub fn business_duration(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        let to_date = self.local_date(to);
        let last = to_date.tomorrow().unwrap_or(to_date);
        let mut total = SignedDuration::ZERO;
        // An error only means the walk hit the end of representable time;
        // what was counted until then is the answer.
        let _ = self.scan(from, Horizon::ThroughDate(last), |start, end| {
            if start >= to {
                return ControlFlow::Break(());
            }
            total = total.saturating_add(end.min(to).duration_since(start));
            if end >= to {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        total
    }

    /// The earliest instant `t >= from` with
    /// `business_duration(from, t) == amount`: when an SLA of `amount`
    /// business time started at `from` falls due.
    ///
    /// If `from` is outside opening hours the clock effectively starts at the
    /// next opening. For a positive `amount` the result is always inside
    /// opening hours or exactly at a closing time (never "Monday 00:00" for a
    /// deadline that expired at Friday's close). A zero amount returns
    /// `from` unchanged.
    ///
    /// Fails for a negative amount, a calendar without any opening hours, or
    /// when the desk stays closed for [`SEARCH_HORIZON_DAYS`] consecutive
    /// days, so that a misconfigured calendar cannot hang the caller.
    pub fn add_business_time(
        &self,
        from: Timestamp,
        amount: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if amount.is_negative() {
            return Err(CalendarError::NegativeAmount(amount));
        }
        if amount.is_zero() {
            return Ok(from);
        }
        if self.has_no_hours() {
            return Err(CalendarError::NoOpeningHours);
        }
        let mut remaining = amount;
        let found = self.scan(
            from,
            Horizon::IdleDays(SEARCH_HORIZON_DAYS),
            |start, end| {
                let length = end.duration_since(start);
                if remaining <= length {
                    ControlFlow::Break(start.checked_add(remaining))
                } else {
                    remaining -= length;
                    ControlFlow::Continue(())
                }
            },
        )?;
        match found {
            Some(Ok(due)) => Ok(due),
            // Not reachable with an idle-day horizon (it ends by Break or
            // error), but an error is a safer answer than a panic.
            Some(Err(_)) | None => Err(CalendarError::OutOfRange),
        }
    }

    fn has_no_hours(&self) -> bool {
        self.weekly.iter().all(Vec::is_empty)
    }

    fn local_date(&self, at: Timestamp) -> Date {
        self.tz.to_datetime(at).date()
    }

    /// The regular intervals of `date` and the half-day cut to apply to
    /// them; an empty slice for closed days.
    fn day_plan(&self, date: Date) -> (&[OpeningInterval], Option<Time>) {
        let intervals = self.weekly[weekday_index(date.weekday())].as_slice();
        if intervals.is_empty() {
            // Skip the holiday computation on days that are closed anyway.
            return (&[], None);
        }
        let facts = DayFacts::of(date);
        if holiday_on(self.country, &facts).is_some()
            || self.closures.contains(&date)
            || self
                .recurring_closures
                .iter()
                .any(|r| r.matches_day(&facts))
        {
            return (&[], None);
        }
        let cut = self
            .half_days
            .iter()
            .filter(|h| h.rule.matches_day(&facts))
            .map(|h| h.closes_at)
            .min();
        (intervals, cut)
    }

    /// Visits, in increasing order, the opening windows `[start, end)` as
    /// instants, clipped to begin no earlier than `from`; stops when `visit`
    /// breaks or the horizon is reached.
    ///
    /// Each local interval is converted to instants on its own date, so DST
    /// days have their real length. Civil times inside a spring-forward gap
    /// map to the later instant and ambiguous ones to the earlier (jiff's
    /// "compatible" disambiguation); the few intervals that this makes
    /// overlap or run backwards are clamped against the previous window, so
    /// the windows are always disjoint and every method here agrees on what
    /// "open" means.
    fn scan<B>(
        &self,
        from: Timestamp,
        horizon: Horizon,
        mut visit: impl FnMut(Timestamp, Timestamp) -> ControlFlow<B>,
    ) -> Result<Option<B>, CalendarError> {
        // Earlier days cannot reach past `from`: their windows end at or
        // before the instant of this date's 00:00, and with "compatible"
        // disambiguation that instant is never later than an instant whose
        // local date is this date. Not re-walking yesterday saves a day of
        // conversions on every SLA computation.
        let mut date = self.local_date(from);
        let mut floor = from;
        let mut idle_days = 0u32;
        loop {
            let mut opened = false;
            let (intervals, cut) = self.day_plan(date);
            for interval in intervals.iter().filter_map(|iv| apply_cut(*iv, cut)) {
                let (start, end) = self.window(date, interval)?;
                let start = start.max(floor);
                if end <= start {
                    continue;
                }
                floor = end;
                opened = true;
                if let ControlFlow::Break(b) = visit(start, end) {
                    return Ok(Some(b));
                }
            }
            match horizon {
                Horizon::ThroughDate(last) => {
                    if date >= last {
                        return Ok(None);
                    }
                }
                Horizon::IdleDays(max) => {
                    if opened {
                        idle_days = 0;
                    } else {
                        idle_days += 1;
                        if idle_days > max {
                            return Err(CalendarError::NoOpeningWithin {
                                after: from,
                                days: max,
                            });
                        }
                    }
                }
            }
            date = date.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
        }
    }

    fn window(
        &self,
        date: Date,
        interval: OpeningInterval,
    ) -> Result<(Timestamp, Timestamp), CalendarError> {
        let start = self
            .tz
            .to_timestamp(date.to_datetime(interval.start))
            .map_err(|_| CalendarError::OutOfRange)?;
        let end_dt = if interval.ends_at_midnight() {
            date.tomorrow()
                .map_err(|_| CalendarError::OutOfRange)?
                .to_datetime(Time::midnight())
        } else {
            date.to_datetime(interval.end)
        };
        let end = self
            .tz
            .to_timestamp(end_dt)
            .map_err(|_| CalendarError::OutOfRange)?;
        Ok((start, end))
    }
}

fn apply_cut(interval: OpeningInterval, cut: Option<Time>) -> Option<OpeningInterval> {
    match cut {
        Some(closes_at) => interval.cut_at(closes_at),
        None => Some(interval),
    }
}

fn time_zone(name: &str) -> Result<TimeZone, CalendarError> {
    TimeZone::get(name).map_err(|_| CalendarError::UnknownTimeZone {
        name: name.to_owned(),
    })
}

/// Sorts one weekday's intervals and rejects overlaps.
fn validate_day(
    weekday: Weekday,
    mut intervals: Vec<OpeningInterval>,
) -> Result<Vec<OpeningInterval>, CalendarError> {
    // `OpeningInterval::new` already rejects these; checking again keeps the
    // calendar's invariant independent of how an interval was made.
    for iv in &intervals {
        if iv.end_nanos() <= iv.start_nanos() {
            return Err(CalendarError::EmptyInterval {
                start: iv.start,
                end: iv.end,
            });
        }
    }
    intervals.sort_by_key(|iv| (iv.start_nanos(), iv.end_nanos()));
    for pair in intervals.windows(2) {
        if let [first, second] = pair
            && second.start_nanos() < first.end_nanos()
        {
            return Err(CalendarError::OverlappingIntervals {
                weekday,
                first: *first,
                second: *second,
            });
        }
    }
    Ok(intervals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn iv(sh: i8, sm: i8, eh: i8, em: i8) -> OpeningInterval {
        OpeningInterval::new(time(sh, sm, 0, 0), time(eh, em, 0, 0)).unwrap()
    }

    /// Index order of `BusinessCalendar::weekly`.
    const WEEKDAYS: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    fn days(n: i64) -> Span {
        Span::new().days(n)
    }

    fn oslo() -> BusinessCalendar {
        BusinessCalendar::for_country(Country::No).unwrap()
    }

    fn copenhagen() -> BusinessCalendar {
        BusinessCalendar::for_country(Country::Dk).unwrap()
    }

    /// Oslo, Mon–Fri 08:00–16:00, no half-days: round numbers for examples.
    fn oslo_8_to_16() -> BusinessCalendar {
        oslo()
            .with_hours_on(&MON_TO_FRI, &[iv(8, 0, 16, 0)])
            .unwrap()
            .without_half_days()
    }

    fn oslo_around_the_clock() -> BusinessCalendar {
        BusinessCalendar::closed(Country::No, time_zone("Europe/Oslo").unwrap())
            .with_hours_on(&WEEKDAYS, &[OpeningInterval::whole_day()])
            .unwrap()
    }

    // ---- Country -------------------------------------------------------

    #[test]
    fn country_codes_round_trip() {
        for c in Country::ALL {
            assert_eq!(c.as_str().parse::<Country>().unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!("no".parse::<Country>().unwrap(), Country::No);
        assert_eq!("Dk".parse::<Country>().unwrap(), Country::Dk);
        assert_eq!(
            "SE".parse::<Country>(),
            Err(CalendarError::UnknownCountry("SE".into()))
        );
        assert!("".parse::<Country>().is_err());
    }

    #[test]
    fn weekday_index_order_matches_weekdays_table() {
        for (i, wd) in WEEKDAYS.into_iter().enumerate() {
            assert_eq!(weekday_index(wd), i);
        }
    }

    // ---- Holidays ------------------------------------------------------

    /// Published Western Easter Sundays, independent of the algorithm.
    const EASTER: &[(i16, i8, i8)] = &[
        (2000, 4, 23),
        (2001, 4, 15),
        (2002, 3, 31),
        (2003, 4, 20),
        (2004, 4, 11),
        (2005, 3, 27),
        (2006, 4, 16),
        (2007, 4, 8),
        (2008, 3, 23),
        (2009, 4, 12),
        (2010, 4, 4),
        (2011, 4, 24),
        (2012, 4, 8),
        (2013, 3, 31),
        (2014, 4, 20),
        (2015, 4, 5),
        (2016, 3, 27),
        (2017, 4, 16),
        (2018, 4, 1),
        (2019, 4, 21),
        (2020, 4, 12),
        (2021, 4, 4),
        (2022, 4, 17),
        (2023, 4, 9),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2029, 4, 1),
        (2030, 4, 21),
        (2031, 4, 13),
        (2032, 3, 28),
        (2033, 4, 17),
        (2034, 4, 9),
        (2035, 3, 25),
        (2036, 4, 13),
        (2037, 4, 5),
        (2038, 4, 25),
        // Extremes of the possible range, 22 March and 25 April.
        (1818, 3, 22),
        (1886, 4, 25),
        (1943, 4, 25),
        (2285, 3, 22),
    ];

    #[test]
    fn easter_matches_published_dates() {
        for &(y, m, d) in EASTER {
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "Easter {y}");
        }
    }

    #[test]
    fn easter_holidays_follow_published_easter_in_both_countries() {
        for &(y, m, d) in EASTER {
            let e = date(y, m, d);
            for c in Country::ALL {
                let list = public_holidays(c, y);
                let on = |id: &str| list.iter().find(|h| h.id == id).unwrap().date;
                assert_eq!(on("easter_sunday"), e);
                assert_eq!(on("maundy_thursday"), e.checked_sub(days(3)).unwrap());
                assert_eq!(
                    on("good_friday"),
                    e.yesterday().unwrap().yesterday().unwrap()
                );
                assert_eq!(on("easter_monday"), e.tomorrow().unwrap());
                assert_eq!(on("ascension_day").weekday(), Weekday::Thursday);
                assert_eq!(on("whit_sunday").weekday(), Weekday::Sunday);
                assert_eq!(on("whit_monday").weekday(), Weekday::Monday);
                assert_eq!(is_public_holiday(c, e), Some("easter_sunday"));
            }
        }
    }

    fn list(c: Country, y: i16) -> Vec<(Date, &'static str)> {
        public_holidays(c, y)
            .into_iter()
            .map(|h| (h.date, h.id))
            .collect()
    }

    #[test]
    fn norway_2024() {
        assert_eq!(
            list(Country::No, 2024),
            vec![
                (date(2024, 1, 1), "new_years_day"),
                (date(2024, 3, 28), "maundy_thursday"),
                (date(2024, 3, 29), "good_friday"),
                (date(2024, 3, 31), "easter_sunday"),
                (date(2024, 4, 1), "easter_monday"),
                (date(2024, 5, 1), "labour_day"),
                (date(2024, 5, 9), "ascension_day"),
                (date(2024, 5, 17), "constitution_day"),
                (date(2024, 5, 19), "whit_sunday"),
                (date(2024, 5, 20), "whit_monday"),
                (date(2024, 12, 25), "christmas_day"),
                (date(2024, 12, 26), "boxing_day"),
            ]
        );
    }

    #[test]
    fn norway_2025() {
        assert_eq!(
            list(Country::No, 2025),
            vec![
                (date(2025, 1, 1), "new_years_day"),
                (date(2025, 4, 17), "maundy_thursday"),
                (date(2025, 4, 18), "good_friday"),
                (date(2025, 4, 20), "easter_sunday"),
                (date(2025, 4, 21), "easter_monday"),
                (date(2025, 5, 1), "labour_day"),
                (date(2025, 5, 17), "constitution_day"),
                (date(2025, 5, 29), "ascension_day"),
                (date(2025, 6, 8), "whit_sunday"),
                (date(2025, 6, 9), "whit_monday"),
                (date(2025, 12, 25), "christmas_day"),
                (date(2025, 12, 26), "boxing_day"),
            ]
        );
    }

    #[test]
    fn norway_2008_ascension_on_labour_day_lists_both() {
        let l = list(Country::No, 2008);
        assert_eq!(l.len(), 12);
        assert_eq!(l[5], (date(2008, 5, 1), "labour_day"));
        assert_eq!(l[6], (date(2008, 5, 1), "ascension_day"));
        assert_eq!(
            is_public_holiday(Country::No, date(2008, 5, 1)),
            Some("labour_day")
        );
        // Denmark has no Labour Day holiday, so Ascension is reported.
        assert_eq!(
            is_public_holiday(Country::Dk, date(2008, 5, 1)),
            Some("ascension_day")
        );
    }

    #[test]
    fn denmark_2023_has_store_bededag() {
        assert_eq!(
            list(Country::Dk, 2023),
            vec![
                (date(2023, 1, 1), "new_years_day"),
                (date(2023, 4, 6), "maundy_thursday"),
                (date(2023, 4, 7), "good_friday"),
                (date(2023, 4, 9), "easter_sunday"),
                (date(2023, 4, 10), "easter_monday"),
                (date(2023, 5, 5), "store_bededag"),
                (date(2023, 5, 18), "ascension_day"),
                (date(2023, 5, 28), "whit_sunday"),
                (date(2023, 5, 29), "whit_monday"),
                (date(2023, 12, 25), "christmas_day"),
                (date(2023, 12, 26), "boxing_day"),
            ]
        );
        assert_eq!(
            is_public_holiday(Country::Dk, date(2023, 5, 5)),
            Some("store_bededag")
        );
        assert_eq!(is_public_holiday(Country::No, date(2023, 5, 5)), None);
    }

    #[test]
    fn denmark_2024_has_no_store_bededag() {
        assert_eq!(
            list(Country::Dk, 2024),
            vec![
                (date(2024, 1, 1), "new_years_day"),
                (date(2024, 3, 28), "maundy_thursday"),
                (date(2024, 3, 29), "good_friday"),
                (date(2024, 3, 31), "easter_sunday"),
                (date(2024, 4, 1), "easter_monday"),
                (date(2024, 5, 9), "ascension_day"),
                (date(2024, 5, 19), "whit_sunday"),
                (date(2024, 5, 20), "whit_monday"),
                (date(2024, 12, 25), "christmas_day"),
                (date(2024, 12, 26), "boxing_day"),
            ]
        );
        // Easter 2024 + 26 days.
        assert_eq!(is_public_holiday(Country::Dk, date(2024, 4, 26)), None);
    }

    #[test]
    fn non_holidays_are_not_holidays() {
        for (c, d) in [
            (Country::Dk, date(2025, 6, 5)),   // Grundlovsdag
            (Country::Dk, date(2025, 5, 1)),   // not a Danish holiday
            (Country::Dk, date(2025, 12, 24)), // Christmas Eve
            (Country::No, date(2025, 12, 24)),
            (Country::No, date(2025, 12, 31)),
            (Country::Dk, date(2025, 12, 31)),
            (Country::No, date(2025, 4, 19)), // Holy Saturday
            (Country::Dk, date(2025, 5, 17)),
        ] {
            assert_eq!(is_public_holiday(c, d), None, "{c} {d}");
        }
        assert_eq!(
            is_public_holiday(Country::No, date(2025, 5, 17)),
            Some("constitution_day")
        );
    }

    #[test]
    fn holiday_lists_and_lookup_agree_for_many_years() {
        for c in Country::ALL {
            for y in 1990..=2060 {
                let holidays = public_holidays(c, y);
                let expected = match (c, y <= 2023) {
                    (Country::No, _) => 12,
                    (Country::Dk, true) => 11,
                    (Country::Dk, false) => 10,
                };
                assert_eq!(holidays.len(), expected, "{c} {y}");
                for h in &holidays {
                    assert!(is_public_holiday(c, h.date).is_some());
                }
                let mut d = date(y, 1, 1);
                let mut count = 0;
                while d.year() == y {
                    if is_public_holiday(c, d).is_some() {
                        count += 1;
                        assert!(holidays.iter().any(|h| h.date == d));
                    }
                    d = d.tomorrow().unwrap();
                }
                let distinct: BTreeSet<Date> = holidays.iter().map(|h| h.date).collect();
                assert_eq!(count, distinct.len());
            }
        }
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for y in [i16::MIN, -10_000, -9999, -1, 0, 1, 9999, 10_000, i16::MAX] {
            for c in Country::ALL {
                let _ = public_holidays(c, y);
            }
        }
        assert!(public_holidays(Country::No, 10_000).is_empty());
        assert_eq!(public_holidays(Country::No, 9999).len(), 12);
        assert_eq!(public_holidays(Country::No, -9999).len(), 12);
    }

    // ---- Configuration and validation --------------------------------

    #[test]
    fn defaults_per_country() {
        let no = oslo();
        assert_eq!(no.hours(Weekday::Monday), &[iv(8, 0, 15, 30)]);
        assert_eq!(no.hours(Weekday::Friday), &[iv(8, 0, 15, 30)]);
        assert!(no.hours(Weekday::Saturday).is_empty());
        assert!(no.hours(Weekday::Sunday).is_empty());
        assert_eq!(no.time_zone().iana_name(), Some("Europe/Oslo"));
        let dk = copenhagen();
        assert_eq!(dk.hours(Weekday::Wednesday), &[iv(8, 0, 16, 0)]);
        assert_eq!(dk.time_zone().iana_name(), Some("Europe/Copenhagen"));
        assert_eq!(dk.country(), Country::Dk);
        assert_eq!(dk.half_days().len(), 3);
        // Grundlovsdag 2025 is a Thursday: open until noon.
        assert_eq!(dk.opening_hours_on(date(2025, 6, 5)), vec![iv(8, 0, 12, 0)]);
        // Wednesday before Maundy Thursday 2025 in Norway.
        assert_eq!(
            no.opening_hours_on(date(2025, 4, 16)),
            vec![iv(8, 0, 12, 0)]
        );
        assert_eq!(
            dk.opening_hours_on(date(2025, 4, 16)),
            vec![iv(8, 0, 16, 0)]
        );
    }

    #[test]
    fn interval_validation() {
        assert_eq!(
            OpeningInterval::new(time(16, 0, 0, 0), time(8, 0, 0, 0)),
            Err(CalendarError::EmptyInterval {
                start: time(16, 0, 0, 0),
                end: time(8, 0, 0, 0)
            })
        );
        assert!(OpeningInterval::new(time(8, 0, 0, 0), time(8, 0, 0, 0)).is_err());
        let whole = OpeningInterval::new(Time::midnight(), Time::midnight()).unwrap();
        assert!(whole.ends_at_midnight());
        assert_eq!(whole.to_string(), "00:00-24:00");
        assert_eq!(iv(8, 0, 15, 30).to_string(), "08:00-15:30");
    }

    #[test]
    fn overlapping_intervals_are_rejected() {
        let err = oslo()
            .with_hours(Weekday::Tuesday, [iv(12, 0, 16, 0), iv(8, 0, 12, 30)])
            .unwrap_err();
        assert_eq!(
            err,
            CalendarError::OverlappingIntervals {
                weekday: Weekday::Tuesday,
                first: iv(8, 0, 12, 30),
                second: iv(12, 0, 16, 0),
            }
        );
        assert!(
            oslo()
                .with_hours(
                    Weekday::Sunday,
                    [
                        OpeningInterval::until_midnight(time(22, 0, 0, 0)),
                        iv(23, 0, 23, 30)
                    ]
                )
                .is_err()
        );
        // Touching intervals are fine and come back sorted.
        let cal = oslo()
            .with_hours(Weekday::Tuesday, [iv(12, 0, 16, 0), iv(8, 0, 12, 0)])
            .unwrap();
        assert_eq!(
            cal.hours(Weekday::Tuesday),
            &[iv(8, 0, 12, 0), iv(12, 0, 16, 0)]
        );
    }

    #[test]
    fn a_hand_built_empty_interval_is_rejected_too() {
        let bad = OpeningInterval {
            start: time(10, 0, 0, 0),
            end: time(9, 0, 0, 0),
        };
        assert!(matches!(
            oslo().with_hours(Weekday::Monday, [bad]),
            Err(CalendarError::EmptyInterval { .. })
        ));
    }

    #[test]
    fn unknown_time_zone_is_an_error() {
        assert_eq!(
            BusinessCalendar::with_time_zone_name(Country::No, "Europe/Atlantis").unwrap_err(),
            CalendarError::UnknownTimeZone {
                name: "Europe/Atlantis".into()
            }
        );
        assert!(BusinessCalendar::with_time_zone_name(Country::Dk, "Europe/Copenhagen").is_ok());
    }

    #[test]
    fn rule_validation() {
        assert_eq!(
            DayRule::fixed(4, 31),
            Err(CalendarError::InvalidFixedDate { month: 4, day: 31 })
        );
        assert!(DayRule::fixed(13, 1).is_err());
        assert!(DayRule::fixed(0, 1).is_err());
        assert!(DayRule::fixed(2, 29).is_ok());
        assert_eq!(
            DayRule::easter_offset(251),
            Err(CalendarError::EasterOffsetOutOfRange { days: 251 })
        );
        assert!(DayRule::easter_offset(-81).is_err());
        assert!(DayRule::easter_offset(-80).is_ok());
        assert!(
            oslo()
                .with_half_day(HalfDay::new(
                    DayRule::Fixed { month: 2, day: 30 },
                    time(12, 0, 0, 0)
                ))
                .is_err()
        );
        assert!(
            oslo()
                .with_recurring_closure(DayRule::EasterOffset { days: 400 })
                .is_err()
        );
        // Extremes of the allowed range stay inside Easter's year.
        for &(y, _, _) in EASTER {
            assert_eq!(
                DayRule::easter_offset(-80)
                    .unwrap()
                    .date_in(y)
                    .unwrap()
                    .year(),
                y
            );
            assert_eq!(
                DayRule::easter_offset(250)
                    .unwrap()
                    .date_in(y)
                    .unwrap()
                    .year(),
                y
            );
        }
        assert_eq!(
            DayRule::HOLY_SATURDAY.date_in(2025),
            Some(date(2025, 4, 19))
        );
        assert_eq!(DayRule::WHITSUN_EVE.date_in(2025), Some(date(2025, 6, 7)));
        assert!(DayRule::WHITSUN_EVE.matches(date(2025, 6, 7)));
        assert!(!DayRule::WHITSUN_EVE.matches(date(2024, 6, 7)));
        assert_eq!(DayRule::Fixed { month: 2, day: 29 }.date_in(2025), None);
    }

    // ---- Business-time examples ----------------------------------------

    #[test]
    fn friday_afternoon_plus_two_hours_lands_on_monday() {
        let cal = oslo_8_to_16();
        let due = cal
            .add_business_time(ts("2025-01-10T15:00:00+01:00"), hours(2))
            .unwrap();
        assert_eq!(due, ts("2025-01-13T09:00:00+01:00"));
        // Default Norwegian hours close at 15:30.
        let due = oslo()
            .add_business_time(ts("2025-01-10T15:00:00+01:00"), hours(2))
            .unwrap();
        assert_eq!(due, ts("2025-01-13T09:30:00+01:00"));
        assert_eq!(
            cal.business_duration(ts("2025-01-10T15:00:00+01:00"), due),
            SignedDuration::from_mins(150)
        );
    }

    #[test]
    fn before_easter_lands_after_easter_monday() {
        // Wed 2025-04-16 is the Wednesday before Maundy Thursday: open
        // 08:00–12:00 by default. Thu, Fri, weekend and Easter Monday are
        // closed, so the remaining 2 h run on Tuesday 22 April.
        let cal = oslo();
        let from = ts("2025-04-16T10:00:00+02:00");
        let due = cal.add_business_time(from, hours(4)).unwrap();
        assert_eq!(due, ts("2025-04-22T10:00:00+02:00"));
        assert_eq!(cal.business_duration(from, due), hours(4));
        // Danish desk: full Wednesday, then the same Easter closure.
        let due = copenhagen()
            .add_business_time(ts("2025-04-16T10:00:00+02:00"), hours(8))
            .unwrap();
        assert_eq!(due, ts("2025-04-22T10:00:00+02:00"));
    }

    #[test]
    fn christmas_eve_half_day() {
        let cal = copenhagen();
        // Wed 24 Dec 2025: 09–12 is 3 h, then 25/26 Dec and the weekend.
        let due = cal
            .add_business_time(ts("2025-12-24T09:00:00+01:00"), hours(5))
            .unwrap();
        assert_eq!(due, ts("2025-12-29T10:00:00+01:00"));
        assert_eq!(
            cal.business_duration(
                ts("2025-12-23T00:00:00+01:00"),
                ts("2025-12-27T00:00:00+01:00")
            ),
            hours(8 + 4)
        );
        assert!(!cal.is_open(ts("2025-12-24T12:00:00+01:00")));
        assert!(cal.is_open(ts("2025-12-24T11:59:59+01:00")));
        // A desk that does not work Christmas Eve at all.
        let closed = cal.with_recurring_closure(DayRule::CHRISTMAS_EVE).unwrap();
        assert_eq!(
            closed
                .add_business_time(ts("2025-12-24T09:00:00+01:00"), hours(5))
                .unwrap(),
            ts("2025-12-29T13:00:00+01:00")
        );
    }

    #[test]
    fn earliest_half_day_wins_and_midnight_cut_closes() {
        let cal = oslo_8_to_16()
            .with_half_day(HalfDay::new(DayRule::CHRISTMAS_EVE, time(14, 0, 0, 0)))
            .unwrap()
            .with_half_day(HalfDay::new(
                DayRule::fixed(12, 24).unwrap(),
                time(11, 0, 0, 0),
            ))
            .unwrap()
            .with_half_day(HalfDay::new(DayRule::NEW_YEARS_EVE, Time::midnight()))
            .unwrap();
        assert_eq!(
            cal.opening_hours_on(date(2025, 12, 24)),
            vec![iv(8, 0, 11, 0)]
        );
        assert!(cal.opening_hours_on(date(2025, 12, 31)).is_empty());
        // A cut between two intervals drops the later one entirely.
        let split = oslo_8_to_16()
            .with_hours(Weekday::Wednesday, [iv(8, 0, 11, 0), iv(12, 0, 16, 0)])
            .unwrap()
            .with_half_day(HalfDay::new(DayRule::CHRISTMAS_EVE, time(11, 30, 0, 0)))
            .unwrap();
        assert_eq!(
            split.opening_hours_on(date(2025, 12, 24)),
            vec![iv(8, 0, 11, 0)]
        );
    }

    #[test]
    fn local_closure_is_skipped() {
        let cal = oslo_8_to_16().with_closure(date(2025, 6, 13));
        let due = cal
            .add_business_time(ts("2025-06-12T15:00:00+02:00"), hours(2))
            .unwrap();
        assert_eq!(due, ts("2025-06-16T09:00:00+02:00"));
        assert!(!cal.is_open(ts("2025-06-13T10:00:00+02:00")));
        assert_eq!(
            cal.next_open(ts("2025-06-13T10:00:00+02:00")),
            Some(ts("2025-06-16T08:00:00+02:00"))
        );
        assert_eq!(cal.closures().collect::<Vec<_>>(), vec![date(2025, 6, 13)]);
        assert!(cal.opening_hours_on(date(2025, 6, 13)).is_empty());
    }

    #[test]
    fn weekday_calendar_across_dst_weekends() {
        let cal = oslo_8_to_16();
        // Spring forward on Sun 2025-03-30: Monday opens at 08:00 CEST.
        assert_eq!(
            cal.add_business_time(ts("2025-03-28T15:00:00+01:00"), hours(2))
                .unwrap(),
            ts("2025-03-31T09:00:00+02:00")
        );
        // Fall back on Sun 2025-10-26: Monday opens at 08:00 CET.
        assert_eq!(
            cal.add_business_time(ts("2025-10-24T15:00:00+02:00"), hours(2))
                .unwrap(),
            ts("2025-10-27T09:00:00+01:00")
        );
    }

    #[test]
    fn dst_days_count_real_hours() {
        let cal = oslo_around_the_clock();
        assert_eq!(
            cal.business_duration(
                ts("2025-03-30T00:00:00+01:00"),
                ts("2025-03-31T00:00:00+02:00")
            ),
            hours(23)
        );
        assert_eq!(
            cal.business_duration(
                ts("2025-10-26T00:00:00+02:00"),
                ts("2025-10-27T00:00:00+01:00")
            ),
            hours(25)
        );
        // 24 business hours from Saturday noon is Sunday 13:00 local.
        assert_eq!(
            cal.add_business_time(ts("2025-03-29T12:00:00+01:00"), hours(24))
                .unwrap(),
            ts("2025-03-30T13:00:00+02:00")
        );
        assert_eq!(
            cal.add_business_time(ts("2025-10-25T12:00:00+02:00"), hours(24))
                .unwrap(),
            ts("2025-10-26T11:00:00+01:00")
        );
        // Crossing the gap: 01:30 CET + 1 h is 03:30 CEST.
        assert_eq!(
            cal.add_business_time(ts("2025-03-30T01:30:00+01:00"), hours(1))
                .unwrap(),
            ts("2025-03-30T03:30:00+02:00")
        );
    }

    #[test]
    fn night_shift_over_dst_transition() {
        // Sunday 01:00–04:00 local: 2 real hours in spring, 4 in autumn.
        let cal = BusinessCalendar::closed(Country::No, time_zone("Europe/Oslo").unwrap())
            .with_hours(Weekday::Sunday, [iv(1, 0, 4, 0)])
            .unwrap();
        assert_eq!(
            cal.business_duration(ts("2025-03-29T12:00:00Z"), ts("2025-03-31T00:00:00Z")),
            hours(2)
        );
        assert_eq!(
            cal.business_duration(ts("2025-10-25T12:00:00Z"), ts("2025-10-27T00:00:00Z")),
            hours(4)
        );
        assert_eq!(
            cal.add_business_time(ts("2025-10-25T12:00:00Z"), hours(4))
                .unwrap(),
            ts("2025-10-26T04:00:00+01:00")
        );
        assert!(cal.is_open(ts("2025-10-26T02:30:00+02:00")));
        assert!(cal.is_open(ts("2025-10-26T02:30:00+01:00")));
    }

    #[test]
    fn intervals_that_dst_makes_overlap_are_counted_once() {
        // Spring 2025-03-30 (gap 02:00-03:00 local): 00:30-02:30 becomes
        // 23:30Z-01:30Z, 02:45-03:15 runs backwards (01:45Z-01:15Z) and is
        // dropped, 03:15-04:00 (01:15Z-02:00Z) overlaps and is clamped to
        // 01:30Z-02:00Z. Total 2 h 30 min.
        let cal = awkward();
        let spring = cal.business_duration(
            ts("2025-03-30T00:00:00+01:00"),
            ts("2025-03-31T00:00:00+02:00"),
        );
        assert_eq!(spring, SignedDuration::from_mins(150));
        // Autumn 2025-10-26 (02:00-03:00 local twice): 22:30Z-00:30Z,
        // 00:45Z-02:15Z, 02:15Z-03:00Z. Total 4 h 15 min.
        let autumn = cal.business_duration(
            ts("2025-10-26T00:00:00+02:00"),
            ts("2025-10-27T00:00:00+01:00"),
        );
        assert_eq!(autumn, SignedDuration::from_mins(255));
        let from = ts("2025-03-30T01:00:00+01:00");
        let due = cal.add_business_time(from, hours(2)).unwrap();
        // 1 h 30 min until 01:30Z, then the clamped 30 min.
        assert_eq!(due, ts("2025-03-30T04:00:00+02:00"));
        assert_eq!(cal.business_duration(from, due), hours(2));
    }

    #[test]
    fn open_and_next_open() {
        let cal = oslo_8_to_16();
        assert!(cal.is_open(ts("2025-01-13T08:00:00+01:00")));
        assert!(!cal.is_open(ts("2025-01-13T16:00:00+01:00")));
        assert!(!cal.is_open(ts("2025-01-13T07:59:59+01:00")));
        assert!(!cal.is_open(ts("2025-01-11T12:00:00+01:00")));
        assert_eq!(
            cal.next_open(ts("2025-01-13T09:00:00+01:00")),
            Some(ts("2025-01-13T09:00:00+01:00"))
        );
        assert_eq!(
            cal.next_open(ts("2025-01-13T16:00:00+01:00")),
            Some(ts("2025-01-14T08:00:00+01:00"))
        );
        // New Year's Day is closed.
        assert_eq!(
            cal.next_open(ts("2024-12-31T16:00:00+01:00")),
            Some(ts("2025-01-02T08:00:00+01:00"))
        );
        // From outside hours the clock starts at the next opening.
        assert_eq!(
            cal.add_business_time(ts("2025-01-11T12:00:00+01:00"), hours(1))
                .unwrap(),
            ts("2025-01-13T09:00:00+01:00")
        );
        // Exactly used up at closing time: due at the close, not next morning.
        assert_eq!(
            cal.add_business_time(ts("2025-01-13T08:00:00+01:00"), hours(8))
                .unwrap(),
            ts("2025-01-13T16:00:00+01:00")
        );
    }

    #[test]
    fn zero_negative_and_reversed() {
        let cal = oslo();
        let t = ts("2025-01-11T12:00:00+01:00");
        assert_eq!(cal.add_business_time(t, SignedDuration::ZERO), Ok(t));
        assert_eq!(
            cal.add_business_time(t, SignedDuration::from_secs(-1)),
            Err(CalendarError::NegativeAmount(SignedDuration::from_secs(-1)))
        );
        assert_eq!(
            cal.business_duration(t, ts("2025-01-01T00:00:00Z")),
            SignedDuration::ZERO
        );
        assert_eq!(cal.business_duration(t, t), SignedDuration::ZERO);
    }

    #[test]
    fn calendar_without_hours_fails_instead_of_looping() {
        let cal = BusinessCalendar::closed(Country::Dk, time_zone("Europe/Copenhagen").unwrap());
        let t = ts("2025-01-01T00:00:00Z");
        assert_eq!(
            cal.add_business_time(t, hours(1)),
            Err(CalendarError::NoOpeningHours)
        );
        assert_eq!(cal.next_open(t), None);
        assert!(!cal.is_open(t));
        assert_eq!(
            cal.business_duration(t, ts("2026-01-01T00:00:00Z")),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn calendar_closed_for_years_fails_instead_of_looping() {
        // Only Mondays, and every Monday for four years is closed.
        let start = date(2025, 1, 6);
        let mondays = (0..(4 * 53)).map(|w| start.checked_add(days(w * 7)).unwrap());
        let cal = BusinessCalendar::closed(Country::No, time_zone("Europe/Oslo").unwrap())
            .with_hours(Weekday::Monday, [iv(8, 0, 16, 0)])
            .unwrap()
            .with_closures(mondays);
        let t = ts("2025-01-01T00:00:00Z");
        assert!(matches!(
            cal.add_business_time(t, hours(1)),
            Err(CalendarError::NoOpeningWithin {
                days: SEARCH_HORIZON_DAYS,
                ..
            })
        ));
        assert_eq!(cal.next_open(t), None);
    }

    #[test]
    fn end_of_time_is_an_error_not_a_panic() {
        let cal = oslo_around_the_clock();
        let near_end = ts("9999-12-30T12:00:00Z");
        assert_eq!(
            cal.add_business_time(near_end, hours(24 * 10)),
            Err(CalendarError::OutOfRange)
        );
        let _ = cal.business_duration(near_end, Timestamp::MAX);
        let _ = cal.business_duration(
            Timestamp::MIN,
            Timestamp::MIN.checked_add(hours(48)).unwrap(),
        );
        let _ = cal.is_open(Timestamp::MAX);
        let _ = cal.next_open(Timestamp::MAX);
        let _ = cal.is_open(Timestamp::MIN);
        assert_eq!(
            cal.add_business_time(near_end, SignedDuration::MAX),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn many_sla_computations_stay_cheap() {
        // Not a benchmark; guards against accidental quadratic behaviour.
        let cal = oslo();
        let mut t = ts("2025-01-06T09:00:00+01:00");
        for _ in 0..2_000 {
            t = cal.add_business_time(t, hours(40)).unwrap();
        }
        assert!(t > ts("2050-01-01T00:00:00Z"));
    }

    // ---- Properties ----------------------------------------------------

    /// A deliberately awkward calendar: split days, a night interval inside
    /// the DST gap/fold hours (including one that runs backwards on the
    /// spring-forward day), an until-midnight evening, half-days, closures.
    fn awkward() -> BusinessCalendar {
        oslo()
            .with_hours_on(&MON_TO_FRI, &[iv(7, 45, 11, 30), iv(12, 0, 16, 15)])
            .unwrap()
            .with_hours(
                Weekday::Sunday,
                [iv(0, 30, 2, 30), iv(2, 45, 3, 15), iv(3, 15, 4, 0)],
            )
            .unwrap()
            .with_hours(
                Weekday::Saturday,
                [OpeningInterval::until_midnight(time(22, 0, 0, 0))],
            )
            .unwrap()
            .with_half_day(HalfDay::new(DayRule::HOLY_SATURDAY, time(23, 0, 0, 0)))
            .unwrap()
            .with_recurring_closure(DayRule::fixed(11, 11).unwrap())
            .unwrap()
            .with_closures([date(2024, 6, 14), date(2026, 2, 2), date(2027, 3, 28)])
    }

    fn calendar(which: u8) -> BusinessCalendar {
        match which {
            0 => oslo(),
            1 => copenhagen(),
            2 => oslo_around_the_clock(),
            _ => awkward(),
        }
    }

    /// 2020-01-01 to 2032-01-01, nanosecond resolution.
    fn instant() -> impl Strategy<Value = Timestamp> {
        (1_577_836_800i64..1_956_528_000, 0i32..1_000_000_000)
            .prop_map(|(s, n)| Timestamp::new(s, n).unwrap())
    }

    /// Up to 400 hours, nanosecond resolution.
    fn amount() -> impl Strategy<Value = SignedDuration> {
        (0i64..400 * 3600, 0i32..1_000_000_000).prop_map(|(s, n)| SignedDuration::new(s, n))
    }

    proptest! {
        #[test]
        fn add_then_measure_round_trips(which in 0u8..4, from in instant(), d in amount()) {
            let cal = calendar(which);
            let due = cal.add_business_time(from, d).unwrap();
            prop_assert!(due >= from);
            prop_assert_eq!(cal.business_duration(from, due), d);
        }

        #[test]
        fn duration_is_additive(which in 0u8..4, a in instant(), b in instant(), c in instant()) {
            let mut v = [a, b, c];
            v.sort();
            let [a, b, c] = v;
            let cal = calendar(which);
            prop_assert_eq!(
                cal.business_duration(a, b) + cal.business_duration(b, c),
                cal.business_duration(a, c)
            );
        }

        #[test]
        fn add_is_monotonic(which in 0u8..4, from in instant(), d1 in amount(), d2 in amount()) {
            let (d1, d2) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
            let cal = calendar(which);
            prop_assert!(
                cal.add_business_time(from, d1).unwrap() <= cal.add_business_time(from, d2).unwrap()
            );
        }

        #[test]
        fn due_instant_is_open_or_a_closing_time(which in 0u8..4, from in instant(), d in amount()) {
            prop_assume!(!d.is_zero());
            let cal = calendar(which);
            let due = cal.add_business_time(from, d).unwrap();
            let just_before = due.checked_sub(SignedDuration::from_nanos(1)).unwrap();
            prop_assert!(cal.is_open(due) || cal.is_open(just_before));
            // And it is the earliest such instant: one nanosecond earlier is short.
            prop_assert!(cal.business_duration(from, just_before) < d);
        }

        #[test]
        fn next_open_agrees_with_is_open(which in 0u8..4, at in instant()) {
            let cal = calendar(which);
            let next = cal.next_open(at).unwrap();
            prop_assert!(next >= at);
            prop_assert!(cal.is_open(next));
            prop_assert_eq!(next == at, cal.is_open(at));
            prop_assert_eq!(cal.business_duration(at, next), SignedDuration::ZERO);
        }
    }
}
