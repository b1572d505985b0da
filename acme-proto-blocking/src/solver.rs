//! Putting challenges in place: the [`Solver`] trait an order is issued with.

use acme_proto::client::ChallengeOffer;

pub use acme_proto_support::SolverError;

/// Puts challenges in place and removes them.
///
/// For each authorization of an order, [`choose`](Solver::choose) picks one offer,
/// [`present`](Solver::present) puts it in place, and once the order is over (issued
/// or failed) [`cleanup`](Solver::cleanup) removes it. Cleanup runs for every offer
/// that was presented, however the order ends.
///
/// `Sync`, so that one solver (a responder) serves orders on several threads at once.
/// The trait is object safe: `&dyn Solver` works where solvers are chosen at run time.
pub trait Solver: Sync {
    /// The offer to answer among those of one authorization, or `None` when none can be
    /// answered (the order then ends with
    /// [`DriverError::NoChallengeChosen`](crate::DriverError::NoChallengeChosen)).
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer>;

    /// Puts `offer` in place; when this returns `Ok`, the server is asked to validate.
    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError>;

    /// Removes what [`present`](Solver::present) put in place. A failure is logged and
    /// does not change the order's outcome.
    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError>;
}

impl<S: Solver + ?Sized> Solver for &S {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        (**self).choose(offers)
    }

    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        (**self).present(offer)
    }

    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        (**self).cleanup(offer)
    }
}
