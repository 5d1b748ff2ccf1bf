//! Uptime per day from a monitor's state changes, for status pages and reports.
//!
//! Only the changes are stored (never a row per check), so a day's uptime is the share of
//! the day the monitor was not down, counting only the time it was watched: paused and
//! maintenance time count neither for nor against it, and so does time before it existed.

use crate::monitor::MonitorState;

/// One state change: from `at` (milliseconds since the epoch) the monitor was `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub at: i64,
    pub state: MonitorState,
}

/// Uptime of each span `[start, end)` in milliseconds, as a share between 0 and 1, or
/// `None` when none of the span was watched (in the future, before the first change, or
/// all paused or in maintenance). `changes` must be sorted by time; the first one is when
/// the monitor began.
pub fn uptime_per_span(changes: &[Change], spans: &[(i64, i64)], now: i64) -> Vec<Option<f64>> {
    spans
        .iter()
        .map(|&(start, end)| {
            let end = end.min(now);
            let (mut watched, mut down) = (0i64, 0i64);
            for (i, change) in changes.iter().enumerate() {
                let until = changes.get(i + 1).map_or(now, |next| next.at);
                let from = change.at.max(start);
                let to = until.min(end);
                if to <= from {
                    continue;
                }
                match change.state {
                    MonitorState::Paused | MonitorState::Maintenance => {}
                    MonitorState::Down => {
                        watched += to - from;
                        down += to - from;
                    }
                    MonitorState::Up | MonitorState::Degraded => watched += to - from,
                }
            }
            (watched > 0).then(|| 1.0 - down as f64 / watched as f64)
        })
        .collect()
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
}
