//! Record times: handed out to recordings, and the time up to which every recording has
//! finished, so that a transfer never passes a trace still being written.

use std::collections::BTreeMap;

/// Record times handed out, and the recordings still in flight.
#[derive(Debug, Default)]
pub struct Clock {
    state: std::sync::Mutex<ClockState>,
}

#[derive(Debug, Default)]
struct ClockState {
    /// The latest time handed out (times never go back, even when the system clock does).
    last: i64,
    /// Record times of recordings in flight, with their number.
    in_flight: BTreeMap<i64, usize>,
}

/// A recording in flight, with its record time; it leaves the clock when dropped.
#[derive(Debug)]
pub struct Ticket<'a> {
    clock: &'a Clock,
    /// The record time (ms).
    pub time: i64,
}

impl Clock {
    fn state(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // A panic while holding this lock leaves nothing half-done: use the state as it is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Never hand out a time below `ms` (a transfer cursor read at start-up).
    pub fn not_before(&self, ms: i64) {
        let mut s = self.state();
        s.last = s.last.max(ms);
    }

    /// A record time for a new recording, registered as in flight.
    pub fn start(&self) -> Ticket<'_> {
        let mut s = self.state();
        let time = s.last.max(chrono::Utc::now().timestamp_millis());
        s.last = time;
        *s.in_flight.entry(time).or_default() += 1;
        Ticket { clock: self, time }
    }

    /// A time such that every recording with an earlier record time has finished, and every
    /// later one gets this time or later.
    pub fn settled(&self) -> i64 {
        let mut s = self.state();
        let now = s.last.max(chrono::Utc::now().timestamp_millis());
        s.last = now;
        s.in_flight.keys().next().map_or(now, |&t| t.min(now))
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut s = self.clock.state();
        if let Some(n) = s.in_flight.get_mut(&self.time) {
            *n -= 1;
            if *n == 0 {
                s.in_flight.remove(&self.time);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_holds_the_transfer_back_until_recordings_finish() {
        let clock = Clock::default();
        clock.not_before(i64::MAX / 2);
        let first = clock.start();
        let second = clock.start();
        assert_eq!(first.time, i64::MAX / 2);
        assert_eq!(clock.settled(), first.time);
        drop(first);
        assert_eq!(clock.settled(), second.time);
        drop(second);
        let settled = clock.settled();
        assert!(clock.start().time >= settled);
    }
}
