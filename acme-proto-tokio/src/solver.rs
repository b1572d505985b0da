//! Putting challenges in place: the [`Solver`] trait an order is issued with.

use std::future::Future;

use acme_proto::client::ChallengeOffer;

pub use acme_proto_support::SolverError;

/// Puts challenges in place and removes them.
///
/// For each authorization of an order, [`choose`](Solver::choose) picks one offer,
/// [`present`](Solver::present) puts it in place, and once the order is over (issued
/// or failed) [`cleanup`](Solver::cleanup) removes it. Cleanup runs for every offer
/// that was presented, however the order ends.
///
/// The methods return `impl Future + Send` (write them as `async fn` in the impl):
/// static dispatch with no boxing, and futures that can be spawned on a multi-threaded
/// runtime. The cost is that `dyn Solver` is not possible; wrap several solvers in an
/// enum or a struct that dispatches on the challenge type instead.
pub trait Solver: Sync {
    /// The offer to answer among those of one authorization, or `None` when none can be
    /// answered (the order then ends with
    /// [`DriverError::NoChallengeChosen`](crate::DriverError::NoChallengeChosen)).
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer>;

    /// Puts `offer` in place; when this returns `Ok`, the server is asked to validate.
    fn present(
        &self,
        offer: &ChallengeOffer,
    ) -> impl Future<Output = Result<(), SolverError>> + Send;

    /// Removes what [`present`](Solver::present) put in place. A failure is logged and
    /// does not change the order's outcome.
    fn cleanup(
        &self,
        offer: &ChallengeOffer,
    ) -> impl Future<Output = Result<(), SolverError>> + Send;
}

impl<S: Solver> Solver for &S {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        (**self).choose(offers)
    }

    fn present(
        &self,
        offer: &ChallengeOffer,
    ) -> impl Future<Output = Result<(), SolverError>> + Send {
        (**self).present(offer)
    }

    fn cleanup(
        &self,
        offer: &ChallengeOffer,
    ) -> impl Future<Output = Result<(), SolverError>> + Send {
        (**self).cleanup(offer)
    }
}
