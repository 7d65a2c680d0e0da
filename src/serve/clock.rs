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
        self.start_at(chrono::Utc::now().timestamp_millis())
    }

    /// [`Self::start`] with the system clock reading `now` (ms).
    fn start_at(&self, now: i64) -> Ticket<'_> {
        let mut s = self.state();
        let time = s.last.max(now);
        s.last = time;
        *s.in_flight.entry(time).or_default() += 1;
        Ticket { clock: self, time }
    }

    /// A time such that every recording with an earlier record time has finished, and every
    /// later one gets this time or later.
    pub fn settled(&self) -> i64 {
        self.settled_at(chrono::Utc::now().timestamp_millis())
    }

    /// [`Self::settled`] with the system clock reading `now` (ms).
    fn settled_at(&self, now: i64) -> i64 {
        let mut s = self.state();
        let now = s.last.max(now);
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
    fn the_transfer_is_held_back_to_the_oldest_recording_in_flight() {
        let clock = Clock::default();
        let first = clock.start_at(1_000);
        let second = clock.start_at(2_000);
        let third = clock.start_at(3_000);
        assert_eq!((first.time, second.time, third.time), (1_000, 2_000, 3_000));
        // Not past the oldest recording still in flight, whatever the clock says.
        assert_eq!(clock.settled_at(5_000), 1_000);
        // The oldest finishes: the next one holds it back.
        drop(first);
        assert_eq!(clock.settled_at(5_000), 2_000);
        // One finishing out of order holds nothing back while an older one is in flight.
        drop(third);
        assert_eq!(clock.settled_at(5_000), 2_000);
        drop(second);
        assert_eq!(clock.settled_at(5_000), 5_000);
    }

    #[test]
    fn two_recordings_at_the_same_millisecond_both_hold_the_transfer_back() {
        let clock = Clock::default();
        let a = clock.start_at(7_000);
        let b = clock.start_at(7_000);
        drop(a);
        assert_eq!(clock.settled_at(9_000), 7_000);
        drop(b);
        assert_eq!(clock.settled_at(9_000), 9_000);
    }

    #[test]
    fn times_never_go_back_below_what_was_settled_or_handed_out() {
        let clock = Clock::default();
        assert_eq!(clock.settled_at(10_000), 10_000);
        // The system clock steps back: a new recording still gets a time after the transfer.
        assert_eq!(clock.start_at(4_000).time, 10_000);
        clock.not_before(20_000);
        assert_eq!(clock.start_at(15_000).time, 20_000);
        assert_eq!(clock.settled_at(15_000), 20_000);
    }
}
