//! The schedule of one wait on a resource that is still `pending` or `processing`: when
//! to poll next, and when to give up because the server makes no progress.
//!
//! One wait is patient for [`Policy::poll_patience`] without the server asking for more
//! time; a `Retry-After` on a poll is honoured (up to [`Policy::max_retry_after`]) and
//! restarts the patience from the time it named. The operation's deadline stays the
//! outer bound.

use core::time::Duration;

use super::Policy;
use crate::error::Error;
use crate::time::UnixTime;

/// The soonest a `Retry-After` on a poll is taken to mean: the header counts in whole
/// seconds, so one naming now or the past (`Retry-After: 0`) means one second, and a
/// server repeating it cannot make the client poll faster than once a second.
pub(crate) const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// One wait's polls so far.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Polling {
    /// Polls scheduled in this wait.
    polls: u32,
    /// Since when the server has not asked for more time (the wait's start, or the end
    /// of the last `Retry-After`).
    since: Option<UnixTime>,
    /// A `Retry-After` the server sent before the wait began (on the response to a
    /// challenge), for its first poll.
    hint: Option<UnixTime>,
    /// What this wait is for: a wait for something else starts a new schedule, with its
    /// own patience.
    what: Option<&'static str>,
    /// The time the server named for the poll scheduled last, before any cap; `None`
    /// when it named none.
    asked: Option<UnixTime>,
}

impl Polling {
    /// Forgets the wait: the next [`Polling::next`] starts a new one. A hint is kept.
    pub(crate) fn restart(&mut self) {
        *self = Self {
            hint: self.hint,
            ..Self::default()
        };
    }

    /// Keeps a `Retry-After` from a response that is not a poll (a challenge's, which
    /// RFC 8555 §8.2 lets the server send) for the first poll of the next wait; of
    /// several, the latest time wins.
    pub(crate) fn hint(&mut self, retry_after: Option<UnixTime>) {
        self.hint = self.hint.max(retry_after);
    }

    /// The time the server named (`Retry-After`) for the poll [`Polling::next`] scheduled
    /// last, before the cap: a wait that ends past the deadline ends the operation.
    pub(crate) fn asked(&self) -> Option<UnixTime> {
        self.asked
    }

    /// When to poll next, after a poll at `now` found the resource still waiting.
    ///
    /// The server's `Retry-After` wins, never sooner than [`MIN_RETRY_AFTER`] and never
    /// later than `max_retry_after`; without one, the policy's growing interval, and never past
    /// the patience: once that is spent, a [`Error::Timeout`] naming `what`. A wait for
    /// another `what` than the last starts a new one.
    pub(crate) fn next(
        &mut self,
        policy: &Policy,
        now: UnixTime,
        retry_after: Option<UnixTime>,
        what: &'static str,
    ) -> Result<UnixTime, Error> {
        if self.what != Some(what) {
            self.restart();
            self.what = Some(what);
        }
        self.polls = self.polls.saturating_add(1);
        self.asked = retry_after.or(self.hint.take());
        if let Some(at) = self.asked {
            let at = at
                .max(now.saturating_add(MIN_RETRY_AFTER))
                .min(now.saturating_add(policy.max_retry_after));
            self.since = Some(at);
            return Ok(at);
        }
        let since = *self.since.get_or_insert(now);
        let limit = since.saturating_add(policy.poll_patience);
        if now >= limit {
            return Err(Error::Timeout { operation: what });
        }
        Ok(now.saturating_add(policy.poll_wait(self.polls)).min(limit))
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(1_000_000 + secs)
    }

    /// Polls a resource that never changes, from `start`, until the schedule gives up.
    fn polls_until_timeout(policy: &Policy, retry_after: impl Fn(u64) -> Option<u64>) -> u64 {
        let mut polling = Polling::default();
        let mut now = at(0);
        for _ in 0..10_000 {
            let asked = retry_after(now.as_secs() - 1_000_000)
                .map(|s| now.saturating_add(Duration::from_secs(s)));
            match polling.next(policy, now, asked, "the test's wait") {
                Ok(next) => {
                    assert!(next > now, "the schedule must move forward");
                    now = next;
                }
                Err(Error::Timeout { operation }) => {
                    assert_eq!(operation, "the test's wait");
                    return now.as_secs() - 1_000_000;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        panic!("never gave up");
    }

    #[test]
    fn a_wait_without_retry_after_gives_up_after_the_patience() {
        let policy = Policy::default();
        let gave_up = polls_until_timeout(&policy, |_| None);
        assert_eq!(Duration::from_secs(gave_up), policy.poll_patience);
        assert!(gave_up <= 45);
    }

    #[test]
    fn retry_after_is_honoured_and_restarts_the_patience() {
        let policy = Policy::default();
        // The server asks for 30 s at every poll during the first 300 s, then stops asking.
        let gave_up = polls_until_timeout(&policy, |t| (t < 300).then_some(30));
        assert_eq!(gave_up, 300 + policy.poll_patience.as_secs());
    }

    #[test]
    fn retry_after_zero_polls_at_most_once_a_second() {
        let policy = Policy::default();
        let mut polling = Polling::default();
        let mut now = at(0);
        let mut polls = 0u64;
        while now < at(60) {
            // The server names the present moment every time.
            now = polling
                .next(&policy, now, Some(now), "wait")
                .unwrap_or(at(3600));
            polls += 1;
        }
        assert_eq!(polls, 60);
    }

    #[test]
    fn a_whole_wait_without_retry_after_costs_few_polls() {
        let policy = Policy::default();
        let mut polling = Polling::default();
        let mut now = at(0);
        let mut polls = 0;
        while let Ok(next) = polling.next(&policy, now, None, "wait") {
            now = next;
            polls += 1;
            assert!(polls < 100);
        }
        // 40 s of patience: a quick look, then intervals from 0.5 s growing to 10 s.
        assert_eq!(polls, 11);
    }

    #[test]
    fn retry_after_is_capped_at_max_retry_after() {
        let policy = Policy::default();
        let mut polling = Polling::default();
        let next = polling
            .next(&policy, at(0), Some(at(86_400)), "wait")
            .unwrap_or(at(0));
        assert_eq!(next, at(policy.max_retry_after.as_secs()));
    }

    #[test]
    fn a_restart_begins_a_new_wait() {
        let policy = Policy::default();
        let mut polling = Polling::default();
        let mut now = at(0);
        while let Ok(next) = polling.next(&policy, now, None, "wait") {
            now = next;
        }
        polling.restart();
        assert_eq!(
            polling.next(&policy, now, None, "wait").ok(),
            Some(now.saturating_add(policy.poll_initial))
        );
    }
}
