//! Uptime from a monitor's state changes and stored hours, for status pages and the monthly
//! uptime report.
//!
//! Only the changes are stored (never a row per check), so a day's uptime is the share of
//! the day the monitor was not down, counting only the time it was watched: paused and
//! maintenance time count neither for nor against it, and so does time before it existed.
//!
//! The monthly report ([`UptimeFigures`]) reads an active check's time per state from its
//! stored hours ([`hours_in_period`]) and a heartbeat's from its state changes
//! ([`state_times`]), since heartbeats have no hourly rows; outages always come from the state
//! changes ([`outages`]).

use crate::monitor::MonitorState;
use crate::monitor_history::PackedMinutes;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// One state change: from `at` (milliseconds since the epoch) the monitor was `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub at: i64,
    pub state: MonitorState,
}

/// A state change as stored (`monitor_events`): at `at`, from `from` to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: i64,
    pub from: MonitorState,
    pub to: MonitorState,
}

/// Stored transitions in the order they happened. Sorted by time; transitions sharing an
/// instant (one batch written within a millisecond; the database returns those in any order)
/// are chained so that each starts from the state the one before it ended in.
pub fn in_order(mut transitions: Vec<Transition>) -> Vec<Transition> {
    transitions.sort_by_key(|t| t.at);
    let mut out: Vec<Transition> = Vec::with_capacity(transitions.len());
    let mut rest = transitions.as_slice();
    while let Some(first) = rest.first() {
        let same = rest.iter().take_while(|t| t.at == first.at).count();
        let mut group = rest[..same].to_vec();
        rest = &rest[same..];
        let mut state = out.last().map(|t| t.to);
        while !group.is_empty() {
            let follows = state.and_then(|s| group.iter().position(|t| t.from == s));
            // Without a state to follow, start where no other transition of the instant leads.
            let head = || {
                group.iter().enumerate().position(|(i, t)| {
                    !group
                        .iter()
                        .enumerate()
                        .any(|(j, o)| j != i && o.to == t.from)
                })
            };
            let next = group.remove(follows.or_else(head).unwrap_or(0));
            state = Some(next.to);
            out.push(next);
        }
    }
    out
}

/// A monitor's changes over a period that starts at `start`, for [`state_times`] and
/// [`outages`]: the state it was in when the period began (`before`, the last stored change
/// before it; up when there was none, as every monitor begins up), or its creation when that
/// came later, followed by the transitions inside the period (in order, see [`in_order`]).
pub fn period_changes(
    created: i64,
    start: i64,
    before: Option<MonitorState>,
    inside: &[Transition],
) -> Vec<Change> {
    let first = if created >= start {
        Change {
            at: created,
            state: MonitorState::Up,
        }
    } else {
        Change {
            at: start,
            state: before.unwrap_or(MonitorState::Up),
        }
    };
    std::iter::once(first)
        .chain(inside.iter().filter(|t| t.at >= first.at).map(|t| Change {
            at: t.at,
            state: t.to,
        }))
        .collect()
}

/// Time spent in each state, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateTimes {
    pub up: i64,
    pub degraded: i64,
    pub down: i64,
    pub maintenance: i64,
    pub paused: i64,
}

impl StateTimes {
    pub fn add(&mut self, state: MonitorState, ms: i64) {
        let slot = match state {
            MonitorState::Up => &mut self.up,
            MonitorState::Degraded => &mut self.degraded,
            MonitorState::Down => &mut self.down,
            MonitorState::Maintenance => &mut self.maintenance,
            MonitorState::Paused => &mut self.paused,
        };
        *slot += ms;
    }

    pub fn merge(&mut self, other: &StateTimes) {
        self.up += other.up;
        self.degraded += other.degraded;
        self.down += other.down;
        self.maintenance += other.maintenance;
        self.paused += other.paused;
    }

    /// The time that counts for uptime: up, degraded and down. Maintenance and pauses
    /// count neither way.
    pub fn watched(&self) -> i64 {
        self.up + self.degraded + self.down
    }

    /// The share of the watched time that was not down, between 0 and 1; `None` when
    /// nothing was watched.
    pub fn uptime(&self) -> Option<f64> {
        let watched = self.watched();
        (watched > 0).then(|| 1.0 - self.down as f64 / watched as f64)
    }
}

/// Time in each state inside `[start, end)` (milliseconds), cut at `now`. `changes` must be
/// sorted by time; the first one is when the monitor began (or the state it was in when the
/// span began, see [`period_changes`]).
pub fn state_times(changes: &[Change], (start, end): (i64, i64), now: i64) -> StateTimes {
    let end = end.min(now);
    let mut times = StateTimes::default();
    for (i, change) in changes.iter().enumerate() {
        let until = changes.get(i + 1).map_or(now, |next| next.at);
        let (from, to) = (change.at.max(start), until.min(end));
        if to > from {
            times.add(change.state, to - from);
        }
    }
    times
}

/// Uptime of each span `[start, end)` in milliseconds, as a share between 0 and 1, or
/// `None` when none of the span was watched (in the future, before the first change, or
/// all paused or in maintenance). `changes` must be sorted by time; the first one is when
/// the monitor began.
pub fn uptime_per_span(changes: &[Change], spans: &[(i64, i64)], now: i64) -> Vec<Option<f64>> {
    spans
        .iter()
        .map(|&span| state_times(changes, span, now).uptime())
        .collect()
}

/// Outages over a period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outages {
    /// Changes into down (from any other state) inside the period. An outage that began
    /// before the period belongs to the period it began in.
    pub began: u32,
    /// The longest continuous time down inside the period, in milliseconds: an outage that
    /// crosses the period's start or end (or is still going on) counts with its part inside.
    pub longest: i64,
}

/// Outages inside `[start, end)`, cut at `now`, from changes as for [`state_times`]. The
/// first change is the state the period began in, so a monitor already down then adds to
/// the longest outage but not to the number that began.
pub fn outages(changes: &[Change], (start, end): (i64, i64), now: i64) -> Outages {
    let end = end.min(now);
    let inside = |from: i64, to: i64| (to.min(end) - from.max(start)).max(0);
    let mut out = Outages::default();
    let mut down_since: Option<i64> = None;
    for (i, change) in changes.iter().enumerate() {
        if change.state == MonitorState::Down {
            if down_since.is_none() {
                down_since = Some(change.at);
                if i > 0 && (start..end).contains(&change.at) {
                    out.began += 1;
                }
            }
        } else if let Some(since) = down_since.take() {
            out.longest = out.longest.max(inside(since, change.at));
        }
    }
    if let Some(since) = down_since {
        out.longest = out.longest.max(inside(since, now));
    }
    out
}

/// The nearest-rank percentile of values that each stand for `weight` samples: the
/// smallest value at or below which at least `p` % of the weight lies. With every weight 1
/// this is `monitor::percentile`. Values of no weight are ignored.
pub fn weighted_percentile(values: impl IntoIterator<Item = (i64, u64)>, p: u8) -> Option<i64> {
    let mut values: Vec<(i64, u64)> = values.into_iter().filter(|(_, w)| *w > 0).collect();
    values.sort_unstable();
    let total: u128 = values.iter().map(|(_, w)| u128::from(*w)).sum();
    let rank = (u128::from(p.min(100)) * total).div_ceil(100).max(1);
    let mut seen = 0u128;
    for (value, weight) in &values {
        seen += u128::from(*weight);
        if seen >= rank {
            return Some(*value);
        }
    }
    values.last().map(|(v, _)| *v)
}

/// Latency percentiles of a period, from the stored hours' (or minutes') own percentiles:
/// the raw check latencies are not kept, so the period's figures are estimated.
///
/// * p50 is the median of the hourly p50s, each hour weighted by its number of checks: a
///   quarter or more of the period's checks were at most this fast and a quarter or more at
///   least this slow, and it equals the true median when hours are alike.
/// * p95 is the 95th percentile of the hourly p95s, weighted the same way: at least 90 %
///   (95 % of 95 %) of the checks were at most this slow, and it is never above the worst
///   hour's p95. Unlike the worst hour's, one slow hour does not decide a whole month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// (checks, p50, p95) per hour or minute.
    parts: Vec<(u64, i64, i64)>,
}

impl Latency {
    /// Adds an hour (or minute) of `checks` checks; one without a count weighs as one check.
    pub fn add(&mut self, checks: i64, p50: i64, p95: i64) {
        let weight = u64::try_from(checks).unwrap_or(0).max(1);
        self.parts.push((weight, p50, p95));
    }

    pub fn p50(&self) -> Option<i64> {
        weighted_percentile(self.parts.iter().map(|(w, p50, _)| (*p50, *w)), 50)
    }

    pub fn p95(&self) -> Option<i64> {
        weighted_percentile(self.parts.iter().map(|(w, _, p95)| (*p95, *w)), 95)
    }
}

/// One stored hour of an active check as the report reads it (`monitor_history`): the
/// start (milliseconds), the hour's totals, and its packed minutes when the period's start or
/// end cuts through the hour (never in a zone whose offsets are whole hours, as every Nordic
/// one is).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredHour {
    pub start: i64,
    pub up_secs: i64,
    pub degraded_secs: i64,
    pub down_secs: i64,
    pub maintenance_secs: i64,
    pub checks: i64,
    pub latency_p50: Option<i64>,
    pub latency_p95: Option<i64>,
    pub minutes: Option<PackedMinutes>,
}

/// Time per state and latency of the stored hours inside `[start, end)`: an hour wholly
/// inside by its totals, an hour the period's edge cuts through by its minutes inside (or,
/// without its minutes, wholly when it starts inside and not at all otherwise).
pub fn hours_in_period(hours: &[StoredHour], (start, end): (i64, i64)) -> (StateTimes, Latency) {
    let mut times = StateTimes::default();
    let mut latency = Latency::default();
    let mut add = |up: i64, degraded: i64, down: i64, maintenance: i64| {
        times.add(MonitorState::Up, up * 1000);
        times.add(MonitorState::Degraded, degraded * 1000);
        times.add(MonitorState::Down, down * 1000);
        times.add(MonitorState::Maintenance, maintenance * 1000);
    };
    for hour in hours {
        let hour_end = hour.start + HOUR_MS;
        if hour_end <= start || hour.start >= end {
            continue;
        }
        let whole = hour.start >= start && hour_end <= end;
        match &hour.minutes {
            Some(minutes) if !whole => {
                for (i, m) in minutes.iter().enumerate() {
                    let at = hour.start + i as i64 * MINUTE_MS;
                    if !(start..end).contains(&at) {
                        continue;
                    }
                    add(
                        i64::from(m.up_secs),
                        i64::from(m.degraded_secs),
                        i64::from(m.down_secs),
                        i64::from(m.maintenance_secs),
                    );
                    if let (Some(p50), Some(p95)) = (m.latency_p50, m.latency_p95) {
                        latency.add(i64::from(m.checks), i64::from(p50), i64::from(p95));
                    }
                }
            }
            _ if whole || hour.start >= start => {
                add(
                    hour.up_secs,
                    hour.degraded_secs,
                    hour.down_secs,
                    hour.maintenance_secs,
                );
                if let (Some(p50), Some(p95)) = (hour.latency_p50, hour.latency_p95) {
                    latency.add(hour.checks, p50, p95);
                }
            }
            _ => {}
        }
    }
    (times, latency)
}

/// `available / watched` in percent, rounded *down* to three decimals (so any downtime at
/// all shows below 100 %); `None` when nothing was watched. Exact: integer arithmetic.
pub fn uptime_percent(available: i64, watched: i64) -> Option<f64> {
    if watched <= 0 {
        return None;
    }
    let thousandths = i128::from(available.clamp(0, watched)) * 100_000 / i128::from(watched);
    Some(thousandths as f64 / 1000.0)
}

/// A monitor's figures for a period (one row of the monthly uptime report), or a
/// municipality's summary of its monitors ([`UptimeFigures::summary`]). Times in milliseconds.
///
/// **Uptime** = (up + degraded) / (up + degraded + down) × 100, over the time the monitor
/// was measured in the period: an active check's stored hours, a heartbeat's time between its
/// state changes. Degraded counts as up (reachable, only slow). Maintenance, pauses, time
/// before the monitor existed and time nothing was measured (the check engine not running)
/// count neither way. Rounded down to three decimals; `None` when nothing counted (no data,
/// or maintenance only).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UptimeFigures {
    /// Anything measured at all (up, degraded, down or maintenance time).
    pub has_data: bool,
    pub uptime_percent: Option<f64>,
    pub up_ms: i64,
    pub degraded_ms: i64,
    pub down_ms: i64,
    pub maintenance_ms: i64,
    /// Outages that began in the period (see [`Outages`]).
    pub outages: u32,
    pub longest_outage_ms: i64,
    /// Estimated from hourly percentiles (see [`Latency`]); `None` for heartbeats and
    /// summaries.
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

impl UptimeFigures {
    pub fn new(times: StateTimes, outages: Outages, latency: &Latency) -> UptimeFigures {
        UptimeFigures {
            has_data: times.watched() + times.maintenance > 0,
            uptime_percent: uptime_percent(times.up + times.degraded, times.watched()),
            up_ms: times.up,
            degraded_ms: times.degraded,
            down_ms: times.down,
            maintenance_ms: times.maintenance,
            outages: outages.began,
            longest_outage_ms: outages.longest,
            latency_p50_ms: latency.p50(),
            latency_p95_ms: latency.p95(),
        }
    }

    /// The monitors of a municipality together: times and outages added up, the longest
    /// outage of any, and uptime over the pooled time (every measured minute of every
    /// monitor weighs the same). Latency is left out: different services' latencies do not
    /// combine into one meaningful figure.
    pub fn summary<'a>(rows: impl IntoIterator<Item = &'a UptimeFigures>) -> UptimeFigures {
        let mut times = StateTimes::default();
        let mut outages = Outages::default();
        for row in rows {
            times.merge(&StateTimes {
                up: row.up_ms,
                degraded: row.degraded_ms,
                down: row.down_ms,
                maintenance: row.maintenance_ms,
                paused: 0,
            });
            outages.began += row.outages;
            outages.longest = outages.longest.max(row.longest_outage_ms);
        }
        UptimeFigures::new(times, outages, &Latency::default())
    }
}

/// A calendar month written `YYYY-MM` (as an HTML month input sends it), as its first day.
/// Anything else (`2026-13`, `2026-1`, `abc`) is `None`.
pub fn parse_month(text: &str) -> Option<Date> {
    let (year, month) = text.trim().split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    if !year
        .bytes()
        .chain(month.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()
}

/// A month in a zone as milliseconds `[start, end)`: local midnight of its first day to
/// local midnight of the next month's, so a month with a daylight-saving change is an hour
/// shorter or longer. `first` may be any day of the month.
pub fn month_span(first: Date, zone: &TimeZone) -> Option<(i64, i64)> {
    let first = first.first_of_month();
    let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
    let at = |d: Date| {
        d.to_zoned(zone.clone())
            .ok()
            .map(|z| z.timestamp().as_millisecond())
    };
    Some((at(first)?, at(next)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MonitorState::*;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    fn c(at: i64, state: MonitorState) -> Change {
        Change { at, state }
    }

    #[test]
    fn a_six_hour_outage_takes_a_quarter_of_its_day() {
        let changes = [c(0, Up), c(DAY + 6 * H, Down), c(DAY + 12 * H, Up)];
        let days = [(0, DAY), (DAY, 2 * DAY), (2 * DAY, 3 * DAY)];
        let up = uptime_per_span(&changes, &days, 3 * DAY);
        assert_eq!(up, vec![Some(1.0), Some(0.75), Some(1.0)]);
    }

    #[test]
    fn time_not_watched_counts_for_nothing() {
        // Created at noon on day 0, paused all of day 2, maintenance half of day 3 while down.
        let changes = [
            c(12 * H, Up),
            c(2 * DAY, Paused),
            c(3 * DAY, Maintenance),
            c(3 * DAY + 12 * H, Down),
        ];
        let days: Vec<(i64, i64)> = (0..5).map(|d| (d * DAY, (d + 1) * DAY)).collect();
        let up = uptime_per_span(&changes, &days, 4 * DAY + 6 * H);
        assert_eq!(up[0], Some(1.0), "half a day watched, all up");
        assert_eq!(up[1], Some(1.0));
        assert_eq!(up[2], None, "paused all day");
        assert_eq!(
            up[3],
            Some(0.0),
            "maintenance does not count; the rest was down"
        );
        assert_eq!(up[4], Some(0.0), "down until now");
        assert_eq!(
            uptime_per_span(&changes, &[(5 * DAY, 6 * DAY)], 4 * DAY),
            vec![None],
            "the future"
        );
        assert_eq!(uptime_per_span(&[], &days, 5 * DAY), vec![None; 5]);
    }

    #[test]
    fn degraded_is_up_and_shares_stay_between_zero_and_one() {
        let changes = [c(0, Degraded), c(H, Down), c(2 * H, Up)];
        let up = uptime_per_span(&changes, &[(0, 4 * H)], 4 * H);
        assert_eq!(up, vec![Some(0.75)]);
        for span in [(0, 1), (H / 2, H + 1), (-DAY, DAY)] {
            let share = uptime_per_span(&changes, &[span], 4 * H)[0].unwrap();
            assert!((0.0..=1.0).contains(&share), "{span:?}: {share}");
        }
    }

    fn t(at: i64, from: MonitorState, to: MonitorState) -> Transition {
        Transition { at, from, to }
    }

    #[test]
    fn state_times_add_up_and_pauses_are_kept_apart() {
        let changes = [
            c(0, Up),
            c(H, Degraded),
            c(2 * H, Down),
            c(3 * H, Maintenance),
            c(4 * H, Paused),
            c(5 * H, Up),
        ];
        let times = state_times(&changes, (0, 8 * H), 7 * H);
        assert_eq!(
            times,
            StateTimes {
                up: 3 * H,
                degraded: H,
                down: H,
                maintenance: H,
                paused: H,
            }
        );
        assert_eq!(times.watched(), 5 * H);
        assert_eq!(times.uptime(), Some(0.8));
        // A span inside one state, and one before the monitor began.
        assert_eq!(state_times(&changes, (H / 2, H), 7 * H).up, H / 2);
        assert_eq!(
            state_times(&changes[1..], (0, H), 7 * H),
            StateTimes::default()
        );
    }

    #[test]
    fn outages_count_where_they_begin_and_measure_inside_the_period() {
        // The period is [10 h, 20 h). Down from 8 h (before it) to 11 h, then 12–13 h,
        // then from 19 h into the next period until 23 h.
        let changes = [
            c(10 * H, Down),
            c(11 * H, Up),
            c(12 * H, Down),
            c(13 * H, Degraded),
            c(19 * H, Down),
            c(23 * H, Up),
        ];
        let o = outages(&changes, (10 * H, 20 * H), 30 * H);
        assert_eq!(o.began, 2, "the one carried in began in the period before");
        assert_eq!(o.longest, H, "each part inside is an hour");
        // The next period sees the one that crossed: three hours inside, none began.
        let next = outages(&changes[4..], (20 * H, 30 * H), 30 * H);
        assert_eq!(
            next,
            Outages {
                began: 0,
                longest: 3 * H
            }
        );
        // Still down now: measured until now; down to down is one outage.
        let ongoing = [c(0, Up), c(H, Down), c(2 * H, Down)];
        assert_eq!(
            outages(&ongoing, (0, 10 * H), 4 * H),
            Outages {
                began: 1,
                longest: 3 * H
            }
        );
        // Maintenance or a pause ends an outage.
        let ended = [c(0, Up), c(H, Down), c(2 * H, Maintenance), c(3 * H, Down)];
        assert_eq!(
            outages(&ended, (0, 10 * H), 5 * H),
            Outages {
                began: 2,
                longest: 2 * H
            }
        );
        assert_eq!(outages(&[], (0, H), H), Outages::default());
    }

    #[test]
    fn period_changes_start_from_the_state_carried_in_or_the_creation() {
        let inside = [t(5 * H, Down, Up), t(6 * H, Up, Down)];
        assert_eq!(
            period_changes(0, 4 * H, Some(Down), &inside),
            vec![c(4 * H, Down), c(5 * H, Up), c(6 * H, Down)]
        );
        assert_eq!(
            period_changes(0, 4 * H, None, &inside)[0],
            c(4 * H, Up),
            "no change before: the monitor has been up since it began"
        );
        assert_eq!(
            period_changes(5 * H + 1, 4 * H, Some(Down), &inside),
            vec![c(5 * H + 1, Up), c(6 * H, Down)],
            "created inside the period: up from then"
        );
    }

    #[test]
    fn transitions_at_one_instant_are_chained() {
        let order = in_order(vec![
            t(2, Paused, Up),
            t(1, Up, Down),
            t(2, Down, Paused),
            t(3, Up, Degraded),
        ]);
        assert_eq!(
            order,
            vec![
                t(1, Up, Down),
                t(2, Down, Paused),
                t(2, Paused, Up),
                t(3, Up, Degraded)
            ]
        );
        // Without an earlier state, the chain starts where nothing leads in.
        let order = in_order(vec![t(5, Down, Up), t(5, Up, Down)]);
        assert_eq!(order[0], t(5, Down, Up), "ambiguous cycle keeps the first");
        let order = in_order(vec![t(5, Degraded, Down), t(5, Up, Degraded)]);
        assert_eq!(order, vec![t(5, Up, Degraded), t(5, Degraded, Down)]);
        assert!(in_order(Vec::new()).is_empty());
    }

    #[test]
    fn weighted_percentiles_rank_by_weight() {
        assert_eq!(weighted_percentile([], 50), None);
        assert_eq!(weighted_percentile([(7, 0)], 50), None);
        assert_eq!(weighted_percentile([(100, 1), (900, 1)], 50), Some(100));
        // One slow hour of 60 checks in a month of 720 such hours is no 95th percentile.
        let mut month: Vec<(i64, u64)> = vec![(200, 60); 719];
        month.push((5000, 60));
        assert_eq!(weighted_percentile(month.clone(), 95), Some(200));
        // Forty slow hours are.
        month.extend(std::iter::repeat_n((4000, 60), 40));
        assert_eq!(weighted_percentile(month, 95), Some(4000));
        // Weight moves the median.
        assert_eq!(weighted_percentile([(100, 1), (300, 3)], 50), Some(300));
    }

    proptest::proptest! {
        #[test]
        fn weighted_percentile_of_single_samples_is_the_plain_one(
            samples in proptest::collection::vec(0u32..10_000, 1..60),
            p in 0u8..=100,
        ) {
            let weighted = weighted_percentile(samples.iter().map(|s| (i64::from(*s), 1)), p);
            let plain = crate::monitor::percentile(&samples, p).map(i64::from);
            proptest::prop_assert_eq!(weighted, plain);
        }
    }

    #[test]
    fn hours_count_whole_inside_and_by_the_minute_across_an_edge() {
        let hour = |start: i64, up: i64, down: i64| StoredHour {
            start,
            up_secs: up,
            down_secs: down,
            checks: 60,
            latency_p50: Some(100),
            latency_p95: Some(300),
            ..StoredHour::default()
        };
        let hours = [
            hour(-H, 0, 3600),
            hour(0, 3600, 0),
            hour(H, 1800, 1800),
            hour(2 * H, 0, 3600),
        ];
        let (times, latency) = hours_in_period(&hours, (0, 2 * H));
        assert_eq!((times.up, times.down), (5400 * 1000, 1800 * 1000));
        assert_eq!((latency.p50(), latency.p95()), (Some(100), Some(300)));

        // A period from half past (a zone offset by half an hour): the cut hour counts by
        // its minutes from minute 30 on.
        let mut minutes = PackedMinutes::default();
        let mut recorder = crate::monitor::RollupRecorder::new();
        let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap();
        recorder.record(at(0), Up, None);
        recorder.record(at(20 * MINUTE_MS), Down, None);
        recorder.record(at(40 * MINUTE_MS), Up, None);
        for m in recorder.flush(at(H)) {
            minutes.set(&m);
        }
        let cut = StoredHour {
            minutes: Some(minutes),
            ..hour(0, 2400, 1200)
        };
        let (times, _) = hours_in_period(std::slice::from_ref(&cut), (30 * MINUTE_MS, H));
        assert_eq!(
            (times.up, times.down),
            (20 * MINUTE_MS, 10 * MINUTE_MS),
            "minutes 30–39 down, 40–59 up"
        );
        // Without minutes, a cut hour counts where it starts.
        let bare = hour(0, 3600, 0);
        assert_eq!(
            hours_in_period(std::slice::from_ref(&bare), (30 * MINUTE_MS, 2 * H))
                .0
                .up,
            0
        );
        assert_eq!(
            hours_in_period(std::slice::from_ref(&bare), (0, 30 * MINUTE_MS))
                .0
                .up,
            3_600_000
        );
    }

    #[test]
    fn uptime_is_rounded_down_and_exact() {
        assert_eq!(uptime_percent(0, 0), None);
        assert_eq!(uptime_percent(10, 10), Some(100.0));
        // One second down in a 31-day month is not 100 %.
        let month = 31 * DAY;
        assert_eq!(uptime_percent(month - 1000, month), Some(99.999));
        assert_eq!(uptime_percent(999, 1000), Some(99.9));
        assert_eq!(uptime_percent(2, 3), Some(66.666));
        assert_eq!(uptime_percent(0, 3), Some(0.0));
    }

    #[test]
    fn figures_and_the_municipality_summary() {
        let times = StateTimes {
            up: 90 * H,
            degraded: 6 * H,
            down: 4 * H,
            maintenance: 2 * H,
            paused: 5 * H,
        };
        let mut latency = Latency::default();
        latency.add(60, 100, 250);
        let a = UptimeFigures::new(
            times,
            Outages {
                began: 2,
                longest: 3 * H,
            },
            &latency,
        );
        assert!(a.has_data);
        assert_eq!(a.uptime_percent, Some(96.0));
        assert_eq!((a.latency_p50_ms, a.latency_p95_ms), (Some(100), Some(250)));
        let empty = UptimeFigures::new(StateTimes::default(), Outages::default(), &latency);
        assert!(!empty.has_data);
        assert_eq!(empty.uptime_percent, None);
        let maintenance_only = UptimeFigures::new(
            StateTimes {
                maintenance: H,
                ..StateTimes::default()
            },
            Outages::default(),
            &Latency::default(),
        );
        assert!(maintenance_only.has_data);
        assert_eq!(maintenance_only.uptime_percent, None);
        let b = UptimeFigures::new(
            StateTimes {
                up: 100 * H,
                ..StateTimes::default()
            },
            Outages {
                began: 1,
                longest: 5 * H,
            },
            &Latency::default(),
        );
        let sum = UptimeFigures::summary([&a, &b, &empty]);
        assert_eq!(sum.uptime_percent, Some(98.0), "196 of 200 hours up");
        assert_eq!((sum.outages, sum.longest_outage_ms), (3, 5 * H));
        assert_eq!(sum.maintenance_ms, 2 * H);
        assert_eq!(sum.latency_p50_ms, None);
        assert!(!UptimeFigures::summary([]).has_data);
    }

    #[test]
    fn months_parse_strictly_and_span_local_midnights_across_dst() {
        assert_eq!(parse_month("2026-03"), Some(jiff::civil::date(2026, 3, 1)));
        assert_eq!(
            parse_month(" 2026-12 "),
            Some(jiff::civil::date(2026, 12, 1))
        );
        for bad in [
            "2026-13",
            "2026-00",
            "abc",
            "2026-1",
            "26-03",
            "2026-03-01",
            "",
            "-2026-03",
            "2026-+3",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
        let oslo = TimeZone::get("Europe/Oslo").unwrap();
        let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        // March 2026: summer time from 29 March, so 743 hours from 23:00 UTC the day before.
        let (start, end) = month_span(jiff::civil::date(2026, 3, 1), &oslo).unwrap();
        assert_eq!(start, ms("2026-02-28T23:00:00Z"));
        assert_eq!(end, ms("2026-03-31T22:00:00Z"));
        assert_eq!((end - start) / H, 743);
        let (start, end) = month_span(jiff::civil::date(2026, 10, 17), &oslo).unwrap();
        assert_eq!(start, ms("2026-09-30T22:00:00Z"));
        assert_eq!((end - start) / H, 745);
        let (start, end) = month_span(jiff::civil::date(2026, 12, 1), &TimeZone::UTC).unwrap();
        assert_eq!((start, end - start), (ms("2026-12-01T00:00:00Z"), 31 * DAY));
    }
}
