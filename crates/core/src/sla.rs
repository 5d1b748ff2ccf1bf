//! SLA clocks: how much of a ticket's response or resolution budget is used,
//! when it runs out, and what state a ticket list should show.
//!
//! A municipality promises "resolved within 16 hours" in terms of the desk's
//! working time, so the clock only runs inside the [`BusinessCalendar`]'s
//! opening hours. It also stops while a ticket waits for the requester:
//! the desk cannot act on it then, and counting that time would breach SLAs
//! the desk had no chance to meet. Those waits are recorded as [`Pause`]s.
//!
//! Everything here is a pure function of the calendar, the ticket's start,
//! its pauses and a caller-supplied `now`, so the same rules give the same
//! answer in the web view, the monitor and in tests at any instant.

use jiff::{SignedDuration, Timestamp};

use crate::calendar::{BusinessCalendar, CalendarError};

/// Everything that can be wrong with the inputs of an SLA computation.
///
/// Typed so that the import of ticket histories and the admin forms can say
/// exactly which pause or setting is at fault instead of showing a generic
/// failure.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SlaError {
    /// A closed pause whose end is before its start.
    #[error("pause {index} ends at {until}, before it starts at {from}")]
    PauseEndsBeforeStart {
        /// Position of the pause in the list.
        index: usize,
        /// Start of the pause.
        from: Timestamp,
        /// End of the pause.
        until: Timestamp,
    },
    /// A pause that starts before the pause listed before it.
    #[error("pause {index} starts before the pause listed before it")]
    PausesOutOfOrder {
        /// Position of the pause that is out of order.
        index: usize,
    },
    /// A pause that starts before the preceding pause has ended.
    #[error("pause {index} starts before the preceding pause has ended")]
    PausesOverlap {
        /// Position of the later of the two overlapping pauses.
        index: usize,
    },
    /// More than one pause without an end.
    #[error("{count} pauses are still open; at most one can be")]
    SeveralOpenPauses {
        /// How many pauses are open.
        count: usize,
    },
    /// A pause without an end that is followed by another pause.
    #[error("pause {index} is still open but another pause follows it")]
    OpenPauseNotLast {
        /// Position of the open pause.
        index: usize,
    },
    /// A budget below zero, which no SLA target can mean.
    #[error("SLA budget must not be negative, got {0:?}")]
    NegativeBudget(SignedDuration),
    /// A warning threshold outside `(0, 1]` (or NaN).
    #[error("warning fraction {0} is outside (0, 1]")]
    InvalidWarnFraction(f64),
    /// The calendar could not place the due instant (e.g. it never opens).
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// Which promise an SLA clock measures.
///
/// Serialised in snake_case because that is what the JSON API and stored
/// settings use.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    /// Time until the desk first answers the requester.
    FirstResponse,
    /// Time until the ticket is resolved.
    Resolution,
}

impl SlaKind {
    /// Every kind, for settings pages and exhaustive tests.
    pub const ALL: [SlaKind; 2] = [SlaKind::FirstResponse, SlaKind::Resolution];

    /// The same name serde uses, for storage columns and URLs that should
    /// not depend on a JSON round trip.
    pub const fn as_str(self) -> &'static str {
        match self {
            SlaKind::FirstResponse => "first_response",
            SlaKind::Resolution => "resolution",
        }
    }
}

/// The business-time budgets promised for a ticket (typically chosen by
/// priority). `None` means no promise is made, which is common for the
/// lowest priorities, so absence is not the same as a zero budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SlaTarget {
    /// Budget until the first response.
    pub first_response: Option<SignedDuration>,
    /// Budget until resolution.
    pub resolution: Option<SignedDuration>,
}

impl SlaTarget {
    /// The budget for `kind`, so callers can iterate over [`SlaKind::ALL`]
    /// instead of matching on fields.
    pub const fn budget(self, kind: SlaKind) -> Option<SignedDuration> {
        match kind {
            SlaKind::FirstResponse => self.first_response,
            SlaKind::Resolution => self.resolution,
        }
    }
}

/// An interval `[from, until)` during which the ticket waited for the
/// requester and its SLA clocks were stopped.
///
/// `until` is `None` while the ticket is still waiting: the end is not
/// known yet, and inventing one would make the due instant wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pause {
    /// When the wait began.
    pub from: Timestamp,
    /// When the wait ended, or `None` if it still goes on.
    pub until: Option<Timestamp>,
}

impl Pause {
    /// A wait that has ended.
    pub const fn closed(from: Timestamp, until: Timestamp) -> Self {
        Pause {
            from,
            until: Some(until),
        }
    }

    /// A wait that is still going on.
    pub const fn open(from: Timestamp) -> Self {
        Pause { from, until: None }
    }

    /// Half-open like opening hours, so that back-to-back pauses and the
    /// instant a pause ends (when the clock runs again) are unambiguous.
    fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

/// Checks the invariants the clock arithmetic relies on: pauses are sorted,
/// disjoint, well-formed, and only the last one may be open.
///
/// Touching pauses (one ends when the next starts) and empty pauses are
/// allowed because status changes within the same instant produce them.
fn validate_pauses(pauses: &[Pause]) -> Result<(), SlaError> {
    let open = pauses.iter().filter(|p| p.until.is_none()).count();
    if open > 1 {
        return Err(SlaError::SeveralOpenPauses { count: open });
    }
    for (index, pause) in pauses.iter().enumerate() {
        if let Some(until) = pause.until
            && until < pause.from
        {
            return Err(SlaError::PauseEndsBeforeStart {
                index,
                from: pause.from,
                until,
            });
        }
        let Some(previous) = index.checked_sub(1).and_then(|i| pauses.get(i)) else {
            continue;
        };
        let Some(previous_until) = previous.until else {
            return Err(SlaError::OpenPauseNotLast { index: index - 1 });
        };
        if pause.from < previous.from {
            return Err(SlaError::PausesOutOfOrder { index });
        }
        if pause.from < previous_until {
            return Err(SlaError::PausesOverlap { index });
        }
    }
    Ok(())
}

/// One stretch `[start, end)` during which the clock runs (in business
/// hours); `end` is `None` when nothing stops it.
#[derive(Clone, Copy)]
struct Window {
    start: Timestamp,
    end: Option<Timestamp>,
}

/// The SLA clock of one ticket: started at `started`, stopped during
/// `pauses`, ticking only in the calendar's opening hours.
///
/// Borrows its inputs because a ticket list evaluates several clocks per
/// ticket against one shared calendar; the fields are private so that every
/// clock has validated pauses.
#[derive(Clone, Copy, Debug)]
pub struct SlaClock<'a> {
    calendar: &'a BusinessCalendar,
    started: Timestamp,
    pauses: &'a [Pause],
}

impl<'a> SlaClock<'a> {
    /// A clock for a ticket created at `started` with the given pauses,
    /// which must be sorted, non-overlapping, and have at most one open
    /// pause, as the last one.
    ///
    /// Pauses (or parts of them) before `started` are ignored rather than
    /// rejected: they cannot affect a clock that was not running yet.
    pub fn new(
        calendar: &'a BusinessCalendar,
        started: Timestamp,
        pauses: &'a [Pause],
    ) -> Result<Self, SlaError> {
        validate_pauses(pauses)?;
        Ok(SlaClock {
            calendar,
            started,
            pauses,
        })
    }

    /// The calendar whose opening hours the clock runs in.
    pub fn calendar(&self) -> &'a BusinessCalendar {
        self.calendar
    }

    /// When the clock started (usually ticket creation).
    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// The validated pauses.
    pub fn pauses(&self) -> &'a [Pause] {
        self.pauses
    }

    /// Whether the clock is stopped at `now` because a pause covers it.
    ///
    /// A pause whose recorded end lies after `now` counts as well: at `now`
    /// the ticket is still waiting.
    pub fn is_paused(&self, now: Timestamp) -> bool {
        self.pauses.iter().any(|p| p.contains(now))
    }

    /// Business time used from `started` to `now`, not counting business
    /// time inside pauses (an open pause counts up to `now`).
    ///
    /// Infallible, like [`BusinessCalendar::business_duration`], because it
    /// is what every ticket view displays; zero when `now <= started`.
    pub fn elapsed(&self, now: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        for window in self.running_windows() {
            if window.start >= now {
                break;
            }
            let end = window.end.map_or(now, |end| end.min(now));
            total = total.saturating_add(self.calendar.business_duration(window.start, end));
        }
        total
    }

    /// Business time between `started` and `now` that the pauses took out
    /// of the clock, so a ticket view can explain a due date that moved.
    ///
    /// `elapsed(now) + paused_time(now)` is exactly the business time
    /// between `started` and `now`.
    pub fn paused_time(&self, now: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        for pause in self.pauses {
            let from = pause.from.max(self.started);
            let until = pause.until.map_or(now, |until| until.min(now));
            total = total.saturating_add(self.calendar.business_duration(from, until));
        }
        total
    }

    /// The instant at which `budget` business time will have elapsed, given
    /// the pauses recorded so far; business time spent paused moves it later
    /// by exactly that much business time.
    ///
    /// `Ok(None)` while the clock is stopped at `now`: how long the requester
    /// takes to answer is unknown, so there is no honest due instant. For the
    /// same reason it is `None` when a recorded open pause starting after
    /// `now` stops the clock before the budget is used up. Once a breach has
    /// happened the (past) due instant is still returned while running, so
    /// "overdue since" can be shown.
    ///
    /// The result is the earliest instant `t` with `elapsed(t) == budget`; a
    /// zero budget is due at `started`. Fails for a negative budget or when
    /// the calendar cannot place the instant (it never opens again).
    pub fn due(
        &self,
        budget: SignedDuration,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, SlaError> {
        if budget.is_negative() {
            return Err(SlaError::NegativeBudget(budget));
        }
        if self.is_paused(now) {
            return Ok(None);
        }
        if budget.is_zero() {
            return Ok(Some(self.started));
        }
        let mut left = budget;
        for window in self.running_windows() {
            if let Some(end) = window.end {
                let available = self.calendar.business_duration(window.start, end);
                if left > available {
                    left = left.saturating_sub(available);
                    continue;
                }
            }
            // The budget runs out inside this window, whose business time
            // is then measured from its start exactly as `elapsed` does.
            return Ok(Some(self.calendar.add_business_time(window.start, left)?));
        }
        Ok(None)
    }

    /// Business time left until `budget` is used up at `now`; negative when
    /// overdue, so the view can show "2 h overdue" with the same number.
    pub fn remaining(&self, budget: SignedDuration, now: Timestamp) -> SignedDuration {
        budget.saturating_sub(self.elapsed(now))
    }

    /// The stretches in which the clock runs, in order. A handful per ticket,
    /// so building them per call is cheaper to read than an iterator state
    /// machine and costs nothing next to the calendar walks.
    fn running_windows(&self) -> Vec<Window> {
        let mut windows = Vec::with_capacity(self.pauses.len() + 1);
        let mut cursor = self.started;
        for pause in self.pauses {
            if pause.from > cursor {
                windows.push(Window {
                    start: cursor,
                    end: Some(pause.from),
                });
            }
            match pause.until {
                // `max` because a pause may end before the clock started.
                Some(until) => cursor = cursor.max(until),
                None => return windows,
            }
        }
        windows.push(Window {
            start: cursor,
            end: None,
        });
        windows
    }
}

/// What a ticket list shows for one SLA.
///
/// Serialised in snake_case for the JSON API: the unit variants as plain
/// strings (`"running"`), `Met` as `{"met":{"on_time":true}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Within budget and below the warning threshold.
    Running,
    /// At or above the warning threshold but not over budget, so someone
    /// can still act in time.
    Warning,
    /// Over budget and not yet met.
    Breached,
    /// Stopped while waiting for the requester, and not breached.
    Paused,
    /// The response or resolution happened; `on_time` records whether it
    /// was within budget, which is what SLA reports count.
    Met {
        /// Whether the business time used was within budget.
        on_time: bool,
    },
}

/// The state of `clock` against `budget` at `now`.
///
/// `met_at` is when the promise was fulfilled (first response sent, ticket
/// resolved); once met, the state never changes again, whatever `now` is.
/// A breach is shown even while paused: pausing must not hide that the
/// desk already ran out of time. `warn_fraction` (e.g. 0.75) is the share
/// of the budget at which the state turns to [`SlaState::Warning`].
///
/// Fails for a negative budget or a `warn_fraction` outside `(0, 1]`, since
/// both are configuration mistakes that would otherwise show silently
/// wrong colours.
pub fn evaluate(
    clock: &SlaClock<'_>,
    budget: SignedDuration,
    now: Timestamp,
    met_at: Option<Timestamp>,
    warn_fraction: f64,
) -> Result<SlaState, SlaError> {
    if warn_fraction.is_nan() || warn_fraction <= 0.0 || warn_fraction > 1.0 {
        return Err(SlaError::InvalidWarnFraction(warn_fraction));
    }
    if budget.is_negative() {
        return Err(SlaError::NegativeBudget(budget));
    }
    if let Some(met_at) = met_at {
        return Ok(SlaState::Met {
            on_time: clock.elapsed(met_at) <= budget,
        });
    }
    let elapsed = clock.elapsed(now);
    let state = if elapsed > budget {
        SlaState::Breached
    } else if clock.is_paused(now) {
        SlaState::Paused
    } else if reached_fraction(elapsed, budget, warn_fraction) {
        SlaState::Warning
    } else {
        SlaState::Running
    };
    Ok(state)
}

/// `elapsed >= fraction * budget`, compared in nanoseconds so that a
/// fraction of 1.0 means exactly the budget; the float conversion is
/// monotonic, so a later instant can never leave the warning state.
fn reached_fraction(elapsed: SignedDuration, budget: SignedDuration, fraction: f64) -> bool {
    elapsed.as_nanos() as f64 >= fraction * budget.as_nanos() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Country, OpeningInterval};
    use jiff::civil::Weekday;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }

    fn oslo() -> BusinessCalendar {
        BusinessCalendar::for_country(Country::No).unwrap()
    }

    fn copenhagen() -> BusinessCalendar {
        BusinessCalendar::for_country(Country::Dk).unwrap()
    }

    fn oslo_around_the_clock() -> BusinessCalendar {
        use Weekday::*;
        BusinessCalendar::closed(Country::No, TimeZone::get("Europe/Oslo").unwrap())
            .with_hours_on(
                &[
                    Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
                ],
                &[OpeningInterval::whole_day()],
            )
            .unwrap()
    }

    fn clock<'a>(cal: &'a BusinessCalendar, started: &str, pauses: &'a [Pause]) -> SlaClock<'a> {
        SlaClock::new(cal, ts(started), pauses).unwrap()
    }

    fn closed(from: &str, until: &str) -> Pause {
        Pause::closed(ts(from), ts(until))
    }

    /// Long after every instant used in these tests and outside all pauses,
    /// for asking "when is it due" without being inside a pause.
    fn far() -> Timestamp {
        ts("2100-01-01T00:00:00Z")
    }

    // ---- Examples with the default Norwegian calendar (Mon–Fri 08:00–15:30)

    #[test]
    fn friday_afternoon_ticket_is_due_monday_late_morning() {
        let cal = oslo();
        let target = SlaTarget {
            first_response: Some(hours(1)),
            resolution: Some(hours(4)),
        };
        let c = clock(&cal, "2025-01-10T15:00:00+01:00", &[]);
        let budget = target.budget(SlaKind::Resolution).unwrap();
        // 30 min on Friday until 15:30, then 3 h 30 min from Monday 08:00.
        let due = c.due(budget, c.started()).unwrap().unwrap();
        assert_eq!(due, ts("2025-01-13T11:30:00+01:00"));
        assert_eq!(c.elapsed(due), hours(4));
        assert_eq!(c.remaining(budget, due), SignedDuration::ZERO);
        assert_eq!(c.remaining(budget, c.started()), hours(4));
        // Saturday: only Friday's half hour has been used.
        assert_eq!(c.elapsed(ts("2025-01-11T12:00:00+01:00")), mins(30));
        // First response: 30 min Friday, 30 min Monday.
        let first = target.budget(SlaKind::FirstResponse).unwrap();
        assert_eq!(
            c.due(first, c.started()).unwrap(),
            Some(ts("2025-01-13T08:30:00+01:00"))
        );
    }

    #[test]
    fn friday_before_whitsun_is_due_tuesday_morning() {
        // Whit Monday 2025-06-09 is a holiday, so Monday does not count.
        let cal = oslo();
        let c = clock(&cal, "2025-06-06T15:00:00+02:00", &[]);
        assert_eq!(
            c.due(hours(4), c.started()).unwrap(),
            Some(ts("2025-06-10T11:30:00+02:00"))
        );
    }

    #[test]
    fn pause_outside_business_hours_changes_nothing() {
        let cal = oslo();
        let pauses = [
            closed("2025-01-10T15:30:00+01:00", "2025-01-11T10:00:00+01:00"),
            closed("2025-01-12T09:00:00+01:00", "2025-01-13T08:00:00+01:00"),
        ];
        let paused = clock(&cal, "2025-01-10T15:00:00+01:00", &pauses);
        let plain = clock(&cal, "2025-01-10T15:00:00+01:00", &[]);
        let now = ts("2025-01-13T09:00:00+01:00");
        assert_eq!(
            paused.due(hours(4), now).unwrap(),
            Some(ts("2025-01-13T11:30:00+01:00"))
        );
        assert_eq!(paused.due(hours(4), now), plain.due(hours(4), now));
        assert_eq!(paused.elapsed(now), mins(90));
        assert_eq!(paused.paused_time(now), SignedDuration::ZERO);
    }

    #[test]
    fn pause_in_business_hours_pushes_due_by_the_paused_business_time() {
        let cal = oslo();
        let started = "2025-01-13T09:00:00+01:00";
        let now = ts("2025-01-15T12:00:00+01:00");
        // Within one day: 1 h 15 min paused.
        let short = [closed(
            "2025-01-13T10:00:00+01:00",
            "2025-01-13T11:15:00+01:00",
        )];
        assert_eq!(
            clock(&cal, started, &short).due(hours(4), now).unwrap(),
            Some(ts("2025-01-13T14:15:00+01:00"))
        );
        // Used up exactly when the pause begins: due at its start, not its end.
        assert_eq!(
            clock(&cal, started, &short).due(hours(1), now).unwrap(),
            Some(ts("2025-01-13T10:00:00+01:00"))
        );
        // Overnight: 30 min Monday plus 1 h Tuesday are business time.
        let overnight = [closed(
            "2025-01-13T15:00:00+01:00",
            "2025-01-14T09:00:00+01:00",
        )];
        let plain_due = clock(&cal, started, &[])
            .due(hours(8), now)
            .unwrap()
            .unwrap();
        assert_eq!(plain_due, ts("2025-01-14T09:30:00+01:00"));
        let c = clock(&cal, started, &overnight);
        let due = c.due(hours(8), now).unwrap().unwrap();
        assert_eq!(due, ts("2025-01-14T11:00:00+01:00"));
        assert_eq!(c.paused_time(now), mins(90));
        assert_eq!(cal.add_business_time(plain_due, mins(90)).unwrap(), due);
        assert_eq!(c.elapsed(due), hours(8));
    }

    #[test]
    fn open_pause_stops_the_clock() {
        let cal = oslo();
        let pauses = [Pause::open(ts("2025-01-13T10:00:00+01:00"))];
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &pauses);
        for now in ["2025-01-13T12:00:00+01:00", "2025-01-14T15:00:00+01:00"] {
            let now = ts(now);
            assert!(c.is_paused(now));
            assert_eq!(c.due(hours(4), now).unwrap(), None);
            assert_eq!(c.elapsed(now), hours(1));
            assert_eq!(c.remaining(hours(4), now), hours(3));
            assert_eq!(
                evaluate(&c, hours(4), now, None, 0.75).unwrap(),
                SlaState::Paused
            );
        }
        // Before the recorded pause begins the clock runs, but it will stop
        // before a 4 h budget is used up; a 30 min budget runs out first.
        let before = ts("2025-01-13T09:15:00+01:00");
        assert!(!c.is_paused(before));
        assert_eq!(c.due(hours(4), before).unwrap(), None);
        assert_eq!(
            c.due(mins(30), before).unwrap(),
            Some(ts("2025-01-13T09:30:00+01:00"))
        );
        // Used up exactly as the pause begins: due then, not "never".
        assert_eq!(
            c.due(hours(1), before).unwrap(),
            Some(ts("2025-01-13T10:00:00+01:00"))
        );
        // Once the requester answers on Tuesday 08:00, 3 h are left.
        let resumed = [closed(
            "2025-01-13T10:00:00+01:00",
            "2025-01-14T08:00:00+01:00",
        )];
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &resumed);
        let now = ts("2025-01-14T09:00:00+01:00");
        assert_eq!(
            c.due(hours(4), now).unwrap(),
            Some(ts("2025-01-14T11:00:00+01:00"))
        );
        assert_eq!(
            evaluate(&c, hours(4), now, None, 0.75).unwrap(),
            SlaState::Running
        );
        // The instant a pause ends, the clock runs again.
        assert!(!c.is_paused(ts("2025-01-14T08:00:00+01:00")));
        assert!(c.is_paused(ts("2025-01-14T07:59:59+01:00")));
    }

    #[test]
    fn breach_while_paused_stays_breached() {
        let cal = oslo();
        // 3 h used before the requester was asked something.
        let pauses = [Pause::open(ts("2025-01-13T12:00:00+01:00"))];
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &pauses);
        let now = ts("2025-01-14T10:00:00+01:00");
        assert_eq!(
            evaluate(&c, hours(2), now, None, 0.75).unwrap(),
            SlaState::Breached
        );
        assert_eq!(c.remaining(hours(2), now), -hours(1));
        assert_eq!(c.due(hours(2), now).unwrap(), None);
        // Exactly used up is not a breach.
        assert_eq!(
            evaluate(&c, hours(3), now, None, 0.75).unwrap(),
            SlaState::Paused
        );
    }

    #[test]
    fn met_on_time_and_late() {
        let cal = oslo();
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &[]);
        let later = ts("2025-01-20T12:00:00+01:00");
        let met = |at: &str| evaluate(&c, hours(4), later, Some(ts(at)), 0.75).unwrap();
        assert_eq!(
            met("2025-01-13T12:59:00+01:00"),
            SlaState::Met { on_time: true }
        );
        assert_eq!(
            met("2025-01-13T13:00:00+01:00"),
            SlaState::Met { on_time: true }
        );
        assert_eq!(
            met("2025-01-13T13:00:01+01:00"),
            SlaState::Met { on_time: false }
        );
        // Met overnight: Monday 09:00–15:30 and Tuesday 08:00–09:00 is 7.5 h.
        assert_eq!(
            met("2025-01-14T09:00:00+01:00"),
            SlaState::Met { on_time: false }
        );
        // With an hour paused, 14:00 is still on time.
        let pauses = [closed(
            "2025-01-13T10:00:00+01:00",
            "2025-01-13T11:00:00+01:00",
        )];
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &pauses);
        let met = |at: &str| evaluate(&c, hours(4), later, Some(ts(at)), 0.75).unwrap();
        assert_eq!(
            met("2025-01-13T14:00:00+01:00"),
            SlaState::Met { on_time: true }
        );
        assert_eq!(
            met("2025-01-13T14:00:01+01:00"),
            SlaState::Met { on_time: false }
        );
    }

    #[test]
    fn running_warning_breached_boundaries() {
        let cal = oslo();
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &[]);
        let state = |now: &str, fraction: f64| evaluate(&c, hours(4), ts(now), None, fraction);
        assert_eq!(
            state("2025-01-13T11:59:59+01:00", 0.75),
            Ok(SlaState::Running)
        );
        assert_eq!(
            state("2025-01-13T12:00:00+01:00", 0.75),
            Ok(SlaState::Warning)
        );
        assert_eq!(
            state("2025-01-13T13:00:00+01:00", 0.75),
            Ok(SlaState::Warning)
        );
        assert_eq!(
            state("2025-01-13T13:00:00.000000001+01:00", 0.75),
            Ok(SlaState::Breached)
        );
        assert_eq!(
            state("2025-01-13T12:00:00+01:00", 1.0),
            Ok(SlaState::Running)
        );
        assert_eq!(
            state("2025-01-13T13:00:00+01:00", 1.0),
            Ok(SlaState::Warning)
        );
        // Before the ticket exists nothing has been used.
        assert_eq!(
            state("2025-01-13T08:00:00+01:00", 0.75),
            Ok(SlaState::Running)
        );
    }

    #[test]
    fn created_before_easter_is_due_after_easter_monday() {
        // Tue 2025-04-15 14:00–15:30 (1 h 30 min), Wed 16 April is a half-day
        // 08:00–12:00 (4 h), Maundy Thursday to Easter Monday are closed, so
        // the last 2 h 30 min run on Tue 22 April.
        let cal = oslo();
        let c = clock(&cal, "2025-04-15T14:00:00+02:00", &[]);
        let due = c.due(hours(8), c.started()).unwrap().unwrap();
        assert_eq!(due, ts("2025-04-22T10:30:00+02:00"));
        assert_eq!(c.elapsed(due), hours(8));
        assert_eq!(c.elapsed(ts("2025-04-21T23:00:00+02:00")), mins(330));
        // An hour paused on the short Wednesday pushes it an hour on Tuesday.
        let pauses = [closed(
            "2025-04-16T08:00:00+02:00",
            "2025-04-16T09:00:00+02:00",
        )];
        let c = clock(&cal, "2025-04-15T14:00:00+02:00", &pauses);
        assert_eq!(
            c.due(hours(8), far()).unwrap(),
            Some(ts("2025-04-22T11:30:00+02:00"))
        );
    }

    #[test]
    fn dst_weekends_with_default_hours() {
        let cal = oslo();
        // Spring forward on Sun 2025-03-30: Monday opens at 08:00 CEST.
        let c = clock(&cal, "2025-03-28T14:00:00+01:00", &[]);
        assert_eq!(
            c.due(hours(4), c.started()).unwrap(),
            Some(ts("2025-03-31T10:30:00+02:00"))
        );
        // A pause over the whole DST weekend changes nothing.
        let pauses = [closed(
            "2025-03-28T15:30:00+01:00",
            "2025-03-31T08:00:00+02:00",
        )];
        let c = clock(&cal, "2025-03-28T14:00:00+01:00", &pauses);
        assert_eq!(
            c.due(hours(4), far()).unwrap(),
            Some(ts("2025-03-31T10:30:00+02:00"))
        );
        // Fall back on Sun 2025-10-26: Monday opens at 08:00 CET.
        let c = clock(&cal, "2025-10-24T14:00:00+02:00", &[]);
        assert_eq!(
            c.due(hours(4), c.started()).unwrap(),
            Some(ts("2025-10-27T10:30:00+01:00"))
        );
    }

    #[test]
    fn dst_day_pause_takes_out_its_real_23_hours() {
        let cal = oslo_around_the_clock();
        let started = "2025-03-29T12:00:00+01:00";
        let monday_noon = ts("2025-03-31T12:00:00+02:00");
        // Without a pause 24 physical hours pass by Sunday 13:00 CEST.
        assert_eq!(
            clock(&cal, started, &[])
                .due(hours(24), monday_noon)
                .unwrap(),
            Some(ts("2025-03-30T13:00:00+02:00"))
        );
        // Pausing all of the 23-hour Sunday leaves Saturday's 12 h and
        // Monday's first 12 h.
        let pauses = [closed(
            "2025-03-30T00:00:00+01:00",
            "2025-03-31T00:00:00+02:00",
        )];
        let c = clock(&cal, started, &pauses);
        assert_eq!(c.paused_time(monday_noon), hours(23));
        assert_eq!(c.elapsed(monday_noon), hours(24));
        assert_eq!(c.due(hours(24), monday_noon).unwrap(), Some(monday_noon));
        assert_eq!(
            cal.business_duration(c.started(), monday_noon),
            hours(12 + 23 + 12)
        );
    }

    #[test]
    fn pauses_before_the_start_are_clipped() {
        let cal = oslo();
        let pauses = [
            closed("2025-01-10T09:00:00+01:00", "2025-01-10T10:00:00+01:00"),
            closed("2025-01-13T08:00:00+01:00", "2025-01-13T10:00:00+01:00"),
        ];
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &pauses);
        // Only Monday 10:00 onwards counts.
        assert_eq!(c.elapsed(ts("2025-01-13T12:00:00+01:00")), hours(2));
        assert_eq!(c.paused_time(ts("2025-01-13T12:00:00+01:00")), hours(1));
        assert_eq!(
            c.due(hours(1), far()).unwrap(),
            Some(ts("2025-01-13T11:00:00+01:00"))
        );
        // A zero budget is due when the clock was started.
        assert_eq!(
            c.due(SignedDuration::ZERO, far()).unwrap(),
            Some(c.started())
        );
    }

    #[test]
    fn invalid_pauses_are_rejected() {
        let cal = oslo();
        let t = |h: i8| ts(&format!("2025-01-13T{h:02}:00:00+01:00"));
        let check = |pauses: &[Pause]| SlaClock::new(&cal, t(8), pauses).map(|_| ());
        assert_eq!(
            check(&[Pause::closed(t(11), t(10))]),
            Err(SlaError::PauseEndsBeforeStart {
                index: 0,
                from: t(11),
                until: t(10)
            })
        );
        assert_eq!(
            check(&[Pause::closed(t(12), t(13)), Pause::closed(t(9), t(10))]),
            Err(SlaError::PausesOutOfOrder { index: 1 })
        );
        assert_eq!(
            check(&[Pause::closed(t(9), t(11)), Pause::closed(t(10), t(12))]),
            Err(SlaError::PausesOverlap { index: 1 })
        );
        assert_eq!(
            check(&[Pause::open(t(9)), Pause::open(t(10))]),
            Err(SlaError::SeveralOpenPauses { count: 2 })
        );
        assert_eq!(
            check(&[Pause::open(t(9)), Pause::closed(t(10), t(11))]),
            Err(SlaError::OpenPauseNotLast { index: 0 })
        );
        // Touching, empty and a final open pause are fine.
        assert_eq!(
            check(&[
                Pause::closed(t(9), t(10)),
                Pause::closed(t(10), t(10)),
                Pause::closed(t(10), t(11)),
                Pause::open(t(11)),
            ]),
            Ok(())
        );
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn invalid_budget_fraction_and_calendar_are_errors() {
        let cal = oslo();
        let c = clock(&cal, "2025-01-13T09:00:00+01:00", &[]);
        let now = ts("2025-01-13T10:00:00+01:00");
        assert_eq!(
            c.due(-hours(1), now),
            Err(SlaError::NegativeBudget(-hours(1)))
        );
        assert_eq!(
            evaluate(&c, -hours(1), now, None, 0.75),
            Err(SlaError::NegativeBudget(-hours(1)))
        );
        for bad in [0.0, -0.5, 1.000_001, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                evaluate(&c, hours(4), now, None, bad),
                Err(SlaError::InvalidWarnFraction(_))
            ));
        }
        assert!(evaluate(&c, hours(4), now, None, 1.0).is_ok());
        assert!(evaluate(&c, hours(4), now, None, f64::MIN_POSITIVE).is_ok());
        let never = BusinessCalendar::closed(Country::No, TimeZone::get("Europe/Oslo").unwrap());
        let c = clock(&never, "2025-01-13T09:00:00+01:00", &[]);
        assert_eq!(
            c.due(hours(1), now),
            Err(SlaError::Calendar(CalendarError::NoOpeningHours))
        );
        assert_eq!(c.elapsed(now), SignedDuration::ZERO);
    }

    #[test]
    fn json_names_are_snake_case() {
        let json = |s: SlaState| serde_json::to_string(&s).unwrap();
        assert_eq!(json(SlaState::Running), r#""running""#);
        assert_eq!(json(SlaState::Warning), r#""warning""#);
        assert_eq!(json(SlaState::Breached), r#""breached""#);
        assert_eq!(json(SlaState::Paused), r#""paused""#);
        assert_eq!(
            json(SlaState::Met { on_time: true }),
            r#"{"met":{"on_time":true}}"#
        );
        for s in [
            SlaState::Running,
            SlaState::Warning,
            SlaState::Breached,
            SlaState::Paused,
            SlaState::Met { on_time: false },
        ] {
            assert_eq!(serde_json::from_str::<SlaState>(&json(s)).unwrap(), s);
        }
        for k in SlaKind::ALL {
            let text = serde_json::to_string(&k).unwrap();
            assert_eq!(text, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<SlaKind>(&text).unwrap(), k);
        }
        assert_eq!(SlaKind::FirstResponse.as_str(), "first_response");
        assert!(serde_json::from_str::<SlaKind>(r#""FirstResponse""#).is_err());
    }

    // ---- Properties ------------------------------------------------------

    fn calendar(which: u8) -> BusinessCalendar {
        match which {
            0 => oslo(),
            1 => copenhagen(),
            _ => oslo_around_the_clock(),
        }
    }

    /// 2024-01-01 to 2028-01-01, nanosecond resolution.
    fn instant() -> impl Strategy<Value = Timestamp> {
        (1_704_067_200i64..1_830_297_600, 0i32..1_000_000_000)
            .prop_map(|(s, n)| Timestamp::new(s, n).unwrap())
    }

    /// Up to 150 hours, nanosecond resolution.
    fn budget() -> impl Strategy<Value = SignedDuration> {
        (0i64..150 * 3600, 0i32..1_000_000_000).prop_map(|(s, n)| SignedDuration::new(s, n))
    }

    /// Gaps and lengths (in seconds) of up to five pauses; the first may
    /// begin a day before the clock starts, to exercise clipping.
    fn pause_shape() -> impl Strategy<Value = Vec<(i64, i64)>> {
        prop::collection::vec((0i64..4 * 86_400, 0i64..3 * 86_400), 0..6)
    }

    fn build_pauses(started: Timestamp, shape: &[(i64, i64)], open_last: bool) -> Vec<Pause> {
        let mut cursor = started.checked_sub(SignedDuration::from_hours(24)).unwrap();
        let mut pauses = Vec::new();
        for &(gap, length) in shape {
            let from = cursor.checked_add(SignedDuration::from_secs(gap)).unwrap();
            let until = from.checked_add(SignedDuration::from_secs(length)).unwrap();
            pauses.push(Pause::closed(from, until));
            cursor = until;
        }
        if open_last && let Some(last) = pauses.last_mut() {
            last.until = None;
        }
        pauses
    }

    proptest! {
        #[test]
        fn elapsed_at_due_is_the_budget(
            which in 0u8..3, started in instant(), b in budget(), shape in pause_shape(),
        ) {
            let cal = calendar(which);
            let pauses = build_pauses(started, &shape, false);
            let c = SlaClock::new(&cal, started, &pauses).unwrap();
            let due = c.due(b, far()).unwrap().unwrap();
            prop_assert!(due >= started);
            prop_assert_eq!(c.elapsed(due), b);
            prop_assert_eq!(c.remaining(b, due), SignedDuration::ZERO);
            if !b.is_zero() {
                // And it is the earliest such instant.
                let just_before = due.checked_sub(SignedDuration::from_nanos(1)).unwrap();
                prop_assert!(c.elapsed(just_before) < b);
            }
        }

        #[test]
        fn due_is_monotonic_in_budget(
            which in 0u8..3, started in instant(), b1 in budget(), b2 in budget(),
            shape in pause_shape(),
        ) {
            let (b1, b2) = if b1 <= b2 { (b1, b2) } else { (b2, b1) };
            let cal = calendar(which);
            let pauses = build_pauses(started, &shape, false);
            let c = SlaClock::new(&cal, started, &pauses).unwrap();
            prop_assert!(c.due(b1, far()).unwrap() <= c.due(b2, far()).unwrap());
        }

        #[test]
        fn adding_a_pause_never_makes_due_earlier(
            which in 0u8..3, started in instant(), b in budget(), shape in pause_shape(),
            drop in any::<prop::sample::Index>(),
        ) {
            prop_assume!(!shape.is_empty());
            let cal = calendar(which);
            let with = build_pauses(started, &shape, false);
            let mut without = with.clone();
            without.remove(drop.index(with.len()));
            let due_with = SlaClock::new(&cal, started, &with).unwrap().due(b, far()).unwrap();
            let due_without =
                SlaClock::new(&cal, started, &without).unwrap().due(b, far()).unwrap();
            prop_assert!(due_without.unwrap() <= due_with.unwrap());
            let no_pauses = SlaClock::new(&cal, started, &[]).unwrap().due(b, far()).unwrap();
            prop_assert!(no_pauses.unwrap() <= due_with.unwrap());
        }

        #[test]
        fn elapsed_is_monotonic_and_splits_business_time(
            which in 0u8..3, started in instant(), shape in pause_shape(),
            open_last in any::<bool>(), a in 0i64..40 * 86_400, d in 0i64..40 * 86_400,
        ) {
            let cal = calendar(which);
            let pauses = build_pauses(started, &shape, open_last);
            let c = SlaClock::new(&cal, started, &pauses).unwrap();
            let base = started.checked_sub(SignedDuration::from_hours(24)).unwrap();
            let t1 = base.checked_add(SignedDuration::from_secs(a)).unwrap();
            let t2 = t1.checked_add(SignedDuration::from_secs(d)).unwrap();
            prop_assert!(c.elapsed(t1) <= c.elapsed(t2));
            for now in [t1, t2] {
                let total = cal.business_duration(started, now);
                prop_assert!(c.elapsed(now) <= total);
                prop_assert_eq!(c.elapsed(now) + c.paused_time(now), total);
            }
        }

        #[test]
        fn paused_clock_has_no_due_and_shows_paused_or_breached(
            which in 0u8..3, started in instant(), b in budget(), shape in pause_shape(),
            open_last in any::<bool>(), a in 0i64..40 * 86_400,
        ) {
            let cal = calendar(which);
            let pauses = build_pauses(started, &shape, open_last);
            let c = SlaClock::new(&cal, started, &pauses).unwrap();
            let now = started.checked_add(SignedDuration::from_secs(a)).unwrap();
            let state = evaluate(&c, b, now, None, 0.75).unwrap();
            prop_assert_eq!(state == SlaState::Breached, c.remaining(b, now).is_negative());
            if c.is_paused(now) {
                prop_assert_eq!(c.due(b, now).unwrap(), None);
                prop_assert!(matches!(state, SlaState::Paused | SlaState::Breached));
            } else {
                prop_assert!(state != SlaState::Paused);
                if let Some(due) = c.due(b, now).unwrap() {
                    prop_assert_eq!(c.elapsed(due), b);
                    // Due can be in the past without a breach when no
                    // business time has passed since (e.g. after closing).
                    prop_assert!(state != SlaState::Breached || due < now);
                }
            }
        }
    }
}
