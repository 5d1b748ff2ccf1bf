//! A monitor's history as it is stored: one record per hour with the hour's totals and its
//! sixty minutes packed into 600 bytes.
//!
//! Why packed: a row per minute costs ~100 bytes with its key and index entry, which at 1,000
//! monitors is 140 MB a day; a row per hour with the minutes inside is ~0.7 kB, 17 MB a day,
//! and the per-minute detail stays available for latency charts and incident reviews.

use crate::monitor::{HourRollup, MinuteRollup};
use jiff::{SignedDuration, Timestamp};

/// Bytes per packed minute: four state durations, the check count, a flags byte and two
/// latency percentiles.
pub const MINUTE_BYTES: usize = 10;
/// Bytes of one hour's packed minutes.
pub const HOUR_BYTES: usize = MINUTE_BYTES * 60;

const HAS_LATENCY: u8 = 1;

/// One minute as stored. Durations are whole seconds (at most 60), latencies milliseconds
/// saturated at 65,535 (a check slower than that has timed out long before).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredMinute {
    pub up_secs: u8,
    pub degraded_secs: u8,
    pub down_secs: u8,
    pub maintenance_secs: u8,
    pub checks: u8,
    pub latency_p50: Option<u16>,
    pub latency_p95: Option<u16>,
}

impl StoredMinute {
    pub fn from_rollup(minute: &MinuteRollup) -> Self {
        let secs = |s: u32| u8::try_from(s.min(60)).unwrap_or(60);
        let ms = |v: Option<u32>| v.map(|v| u16::try_from(v).unwrap_or(u16::MAX));
        StoredMinute {
            up_secs: secs(minute.up_seconds),
            degraded_secs: secs(minute.degraded_seconds),
            down_secs: secs(minute.down_seconds),
            maintenance_secs: secs(minute.maintenance_seconds),
            checks: u8::try_from(minute.checks).unwrap_or(u8::MAX),
            latency_p50: ms(minute.latency_p50()),
            latency_p95: ms(minute.latency_p95()),
        }
    }

    /// Nothing was recorded in this minute (the monitor was paused, or not yet created).
    pub fn is_empty(&self) -> bool {
        *self == StoredMinute::default()
    }

    /// Uptime of this minute in percent; `None` when nothing was measured.
    pub fn uptime_percent(&self) -> Option<f64> {
        let available = u32::from(self.up_secs) + u32::from(self.degraded_secs);
        let total = available + u32::from(self.down_secs);
        (total > 0).then(|| f64::from(available) * 100.0 / f64::from(total))
    }
}

/// The sixty minutes of one hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedMinutes([StoredMinute; 60]);

impl Default for PackedMinutes {
    fn default() -> Self {
        PackedMinutes([StoredMinute::default(); 60])
    }
}

/// Stored minutes that cannot be read back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("packed minutes are {found} bytes long; expected {HOUR_BYTES}")]
pub struct PackedLengthError {
    pub found: usize,
}

impl PackedMinutes {
    /// Puts a closed minute into its slot (the minute of the hour), replacing what was there.
    pub fn set(&mut self, minute: &MinuteRollup) {
        self.0[minute_of_hour(minute.minute)] = StoredMinute::from_rollup(minute);
    }

    pub fn get(&self, index: usize) -> Option<&StoredMinute> {
        self.0.get(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = &StoredMinute> {
        self.0.iter()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HOUR_BYTES);
        for m in &self.0 {
            let flags = if m.latency_p50.is_some() {
                HAS_LATENCY
            } else {
                0
            };
            out.extend_from_slice(&[
                m.up_secs,
                m.degraded_secs,
                m.down_secs,
                m.maintenance_secs,
                m.checks,
                flags,
            ]);
            out.extend_from_slice(&m.latency_p50.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&m.latency_p95.unwrap_or(0).to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PackedLengthError> {
        if bytes.len() != HOUR_BYTES {
            return Err(PackedLengthError { found: bytes.len() });
        }
        let mut packed = PackedMinutes::default();
        for (slot, chunk) in packed.0.iter_mut().zip(bytes.chunks_exact(MINUTE_BYTES)) {
            let has_latency = chunk[5] & HAS_LATENCY != 0;
            let p50 = u16::from_le_bytes([chunk[6], chunk[7]]);
            let p95 = u16::from_le_bytes([chunk[8], chunk[9]]);
            *slot = StoredMinute {
                up_secs: chunk[0].min(60),
                degraded_secs: chunk[1].min(60),
                down_secs: chunk[2].min(60),
                maintenance_secs: chunk[3].min(60),
                checks: chunk[4],
                latency_p50: has_latency.then_some(p50),
                latency_p95: has_latency.then_some(p95),
            };
        }
        Ok(packed)
    }
}

fn minute_of_hour(at: Timestamp) -> usize {
    usize::try_from(at.as_second().rem_euclid(3600) / 60).unwrap_or(0)
}

/// The start of the hour containing `at`.
pub fn hour_start(at: Timestamp) -> Timestamp {
    let second = at.as_second().div_euclid(3600) * 3600;
    Timestamp::from_second(second).unwrap_or(at)
}

/// An hour being recorded: running totals for the row's columns and its minutes.
#[derive(Clone, Debug)]
pub struct HourRecord {
    pub totals: HourRollup,
    pub minutes: PackedMinutes,
}

impl HourRecord {
    pub fn new(at: Timestamp) -> Self {
        HourRecord {
            totals: HourRollup::new(at),
            minutes: PackedMinutes::default(),
        }
    }

    /// Continues an hour stored before a restart: its totals carry on, its latency samples
    /// are gone, so the percentiles are the stored ones until new checks arrive.
    pub fn resume(hour: Timestamp, minutes: PackedMinutes) -> Self {
        let mut totals = HourRollup::new(hour);
        for m in minutes.iter() {
            totals.up_seconds += u32::from(m.up_secs);
            totals.degraded_seconds += u32::from(m.degraded_secs);
            totals.down_seconds += u32::from(m.down_secs);
            totals.maintenance_seconds += u32::from(m.maintenance_secs);
            totals.checks += u32::from(m.checks);
            if let Some(p50) = m.latency_p50 {
                totals.latency_samples.push(u32::from(p50));
            }
        }
        HourRecord { totals, minutes }
    }

    pub fn hour(&self) -> Timestamp {
        self.totals.hour
    }

    /// True while `at` falls in this record's hour.
    pub fn covers(&self, at: Timestamp) -> bool {
        let end = self
            .totals
            .hour
            .checked_add(SignedDuration::from_hours(1))
            .unwrap_or(Timestamp::MAX);
        self.totals.hour <= at && at < end
    }

    /// Adds a closed minute of this hour. A minute of another hour is refused.
    pub fn add(&mut self, minute: &MinuteRollup) -> Result<(), crate::monitor::RollupError> {
        self.totals.merge(minute)?;
        self.minutes.set(minute);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{CheckOutcome, MonitorState, RollupRecorder};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn packing_round_trips_every_field() {
        let mut minutes = PackedMinutes::default();
        let mut m = MinuteRollup::new(at("2026-11-23T10:07:00Z"));
        m.add_seconds(MonitorState::Up, 40);
        m.add_seconds(MonitorState::Down, 20);
        m.add_check(&CheckOutcome::ok(at("2026-11-23T10:07:10Z"), 120));
        m.add_check(&CheckOutcome::ok(at("2026-11-23T10:07:30Z"), 70_000));
        minutes.set(&m);
        let bytes = minutes.to_bytes();
        assert_eq!(bytes.len(), HOUR_BYTES);
        let back = PackedMinutes::from_bytes(&bytes).unwrap();
        assert_eq!(back, minutes);
        let seventh = back.get(7).unwrap();
        assert_eq!(seventh.up_secs, 40);
        assert_eq!(seventh.down_secs, 20);
        assert_eq!(seventh.checks, 2);
        assert_eq!(seventh.latency_p50, Some(120));
        // Saturated rather than wrapped.
        assert_eq!(seventh.latency_p95, Some(u16::MAX));
        assert!(back.get(8).unwrap().is_empty());
        assert_eq!(seventh.uptime_percent().map(|u| u.round()), Some(67.0));
    }

    #[test]
    fn a_minute_without_checks_has_no_latency() {
        let mut minutes = PackedMinutes::default();
        let mut m = MinuteRollup::new(at("2026-11-23T10:00:00Z"));
        m.add_seconds(MonitorState::Maintenance, 60);
        minutes.set(&m);
        let back = PackedMinutes::from_bytes(&minutes.to_bytes()).unwrap();
        assert_eq!(back.get(0).unwrap().latency_p50, None);
        assert_eq!(back.get(0).unwrap().maintenance_secs, 60);
        assert_eq!(back.get(0).unwrap().uptime_percent(), None);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert_eq!(
            PackedMinutes::from_bytes(&[0; 599]),
            Err(PackedLengthError { found: 599 })
        );
        assert!(PackedMinutes::from_bytes(&[]).is_err());
    }

    #[test]
    fn an_hour_sums_its_minutes_and_refuses_others() {
        let mut recorder = RollupRecorder::new();
        let start = at("2026-11-23T10:00:00Z");
        recorder.record(start, MonitorState::Up, None);
        recorder.record(at("2026-11-23T10:30:00Z"), MonitorState::Down, None);
        let mut hour = HourRecord::new(start);
        for minute in recorder.flush(at("2026-11-23T11:00:00Z")) {
            hour.add(&minute).unwrap();
        }
        assert_eq!(hour.totals.up_seconds, 1800);
        assert_eq!(hour.totals.down_seconds, 1800);
        assert_eq!(hour.minutes.get(29).unwrap().up_secs, 60);
        assert_eq!(hour.minutes.get(30).unwrap().down_secs, 60);
        assert!(hour.covers(at("2026-11-23T10:59:59Z")));
        assert!(!hour.covers(at("2026-11-23T11:00:00Z")));
        let other = MinuteRollup::new(at("2026-11-23T11:00:00Z"));
        assert!(hour.add(&other).is_err());

        let resumed = HourRecord::resume(start, hour.minutes.clone());
        assert_eq!(resumed.totals.up_seconds, 1800);
        assert_eq!(resumed.totals.down_seconds, 1800);
    }

    #[test]
    fn hour_start_floors() {
        assert_eq!(
            hour_start(at("2026-11-23T10:59:59.9Z")),
            at("2026-11-23T10:00:00Z")
        );
    }
}
