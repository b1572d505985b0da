//! The operations of both drivers' `AcmeClient`, written once: each driver expands
//! [`acme_client_operations!`](crate::acme_client_operations) inside its own
//! `impl AcmeClient`, with `async`/`.await` (tokio) or without (blocking).
//!
//! Names resolve where the macro is expanded (`macro_rules!` hygiene covers local
//! variables only), so the driver's `client.rs` imports what the bodies use, and
//! provides the part that differs: `run_mut` (drive an operation without events),
//! `drive_solving` (drive one with a solver's events), `roll_over` (drive a key
//! rollover: tokio's runs where the caller's cancellation cannot reach) and `cleanup`
//! (one cleanup, its failure logged), and the fields `account`
//! (`Arc<`[`Account`](crate::Account)`>`) and `transport`.
//!
//! Adding an operation: the core machine (`acme_proto::client`), one method here (its
//! docs are both drivers' docs), and one scenario in the driver suite (`driver-tests/`),
//! run for both drivers; see ARCHITECTURE.md, "Adding an operation".

/// The operations of `AcmeClient`, for `tokio` or `blocking`: see the module docs.
#[doc(hidden)]
#[macro_export]
#[allow(
    clippy::crate_in_macro_def,
    reason = "`crate::` is the driver expanding it: its DriverError, Solver and Transport"
)]
macro_rules! acme_client_operations {
    (tokio) => {
        $crate::acme_client_operations!(
            @emit [async] [.await] [crate::Solver] [$crate::SaveOrder + Send] [Send]
        );
    };
    (blocking) => {
        $crate::acme_client_operations!(
            @emit [] [] [crate::Solver + ?Sized] [$crate::SaveOrder] [Sized]
        );
    };
    (@emit [$($async:tt)*] [$($await:tt)*] [$($solver:tt)*] [$($saver:tt)*] [$send:ident]) => {
    /// A client for the CA at `directory_url` with the account key `key` (signing with
    /// ring where it can, see [`RingSigner`](crate::RingSigner)). Call
    /// [`create_account`](Self::create_account) or [`find_account`](Self::find_account)
    /// before ordering.
    pub fn new(
        directory_url: ::url::Url,
        key: ::acme_proto::crypto::AccountKey,
        transport: crate::Transport,
    ) -> Result<Self, crate::DriverError> {
        let account = $crate::Account::new(directory_url, key)?;
        Ok(Self {
            account: std::sync::Arc::new(account),
            transport,
        })
    }

    /// A client for an existing account, from credentials saved with
    /// [`credentials`](Self::credentials).
    pub fn from_credentials(
        credentials: ::acme_proto::client::AccountCredentials,
        transport: crate::Transport,
    ) -> Result<Self, crate::DriverError> {
        let account = $crate::Account::from_credentials(&credentials)?;
        Ok(Self {
            account: std::sync::Arc::new(account),
            transport,
        })
    }

    /// A client for the CA at `directory_url` whose account key is the caller's
    /// `signer` (an HSM's, a KMS's, any [`Signer`]). Once the account is created or
    /// found, save [`account_ref`](Self::account_ref) (the key stays where it is), and
    /// come back with [`from_account_ref`](Self::from_account_ref).
    pub fn with_signer(
        directory_url: ::url::Url,
        signer: impl ::acme_proto::crypto::Signer + Send + Sync + 'static,
        transport: crate::Transport,
    ) -> Result<Self, crate::DriverError> {
        let account = $crate::Account::with_signer(directory_url, signer)?;
        Ok(Self {
            account: std::sync::Arc::new(account),
            transport,
        })
    }

    /// A client for an existing account saved with [`account_ref`](Self::account_ref),
    /// signing with the caller's `signer`.
    pub fn from_account_ref(
        account: ::acme_proto::client::AccountRef,
        signer: impl ::acme_proto::crypto::Signer + Send + Sync + 'static,
        transport: crate::Transport,
    ) -> Result<Self, crate::DriverError> {
        let account = $crate::Account::from_account_ref(account, signer)?;
        Ok(Self {
            account: std::sync::Arc::new(account),
            transport,
        })
    }

    /// A client around a core [`Client`] set up by the caller (another
    /// [`Policy`](acme_proto::Policy),
    /// [`Limits`](acme_proto::Limits), an HSM signer, or
    /// [`Client::insecure_loopback`] for tests). [`credentials`](Self::credentials) is
    /// then `None`: the key is the caller's.
    pub fn from_client(client: ::acme_proto::Client, transport: crate::Transport) -> Self {
        let account = std::sync::Arc::new($crate::Account::from_client(client));
        Self { account, transport }
    }

    /// The account's credentials to save, once the account URL is known and the key
    /// was given to [`new`](Self::new), [`from_credentials`](Self::from_credentials) or
    /// [`change_key`](Self::change_key).
    pub fn credentials(&self) -> Option<::acme_proto::client::AccountCredentials> {
        self.account.credentials()
    }

    /// Where the account is (directory and account URLs), once it was created or found,
    /// whatever holds its key: what to save for a client made
    /// [`with_signer`](Self::with_signer) or [`from_client`](Self::from_client).
    pub fn account_ref(&self) -> Option<::acme_proto::client::AccountRef> {
        self.account.account_ref()
    }

    /// The transport.
    pub fn transport(&self) -> &crate::Transport {
        &self.transport
    }

    /// Creates the account (or finds it, if the key already has one).
    pub $($async)* fn create_account(
        &self,
        request: ::acme_proto::client::NewAccount,
    ) -> Result<::acme_proto::client::AccountInfo, crate::DriverError> {
        let op = self.account.lock().new_account(request);
        self.run(op) $($await)*
    }

    /// Finds the account of this key (`onlyReturnExisting`).
    pub $($async)* fn find_account(
        &self,
    ) -> Result<::acme_proto::client::AccountInfo, crate::DriverError> {
        let op = self.account.lock().find_account();
        self.run(op) $($await)*
    }

    /// Drives an operation that asks nothing of the caller (account changes, revocation,
    /// renewal information) to its end.
    pub $($async)* fn run<O: ::acme_proto::client::Operation<Event = ::acme_proto::NoEvent>>(
        &self,
        mut op: O,
    ) -> Result<O::Output, crate::DriverError> {
        self.run_mut(&mut op) $($await)*
    }

    /// Issues a certificate for `identifiers`, proving control with `solver`: a new
    /// P-256 key, a CSR naming exactly the identifiers (as SANs, with an empty subject),
    /// a new order.
    pub $($async)* fn issue<S: $($solver)*>(
        &self,
        identifiers: impl IntoIterator<Item = ::acme_proto::Identifier>,
        solver: &S,
    ) -> Result<$crate::Certificate, crate::DriverError> {
        let identifiers: Vec<::acme_proto::Identifier> = identifiers.into_iter().collect();
        self.issue_order(::acme_proto::client::NewOrder::new(identifiers), solver)
            $($await)*
    }

    /// Issues a certificate for `request` (with its profile, validity or `replaces`)
    /// with a new P-256 key and a CSR naming exactly the request's identifiers.
    pub $($async)* fn issue_order<S: $($solver)*>(
        &self,
        request: ::acme_proto::client::NewOrder,
        solver: &S,
    ) -> Result<$crate::Certificate, crate::DriverError> {
        let (csr, private_key_pem) = $crate::certificate_request(&request.identifiers)?;
        let mut flow = ::acme_proto::client::OrderFlow::new(request)?;
        let issued = self.order(&mut flow, csr, solver) $($await)*?;
        Ok($crate::Certificate::new(issued, private_key_pem))
    }

    /// Issues a certificate as [`issue_order`](Self::issue_order) does, saving the
    /// order through `saver` at every quiescent point (once created, after each
    /// challenge is presented or cleaned up, on each status change): after a crash,
    /// [`resume`](Self::resume) what was last saved. The certificate's key is in every
    /// save, so it is on disk before the CSR is sent.
    ///
    /// A save that fails ends the order with [`DriverError::Save`], its challenges
    /// cleaned up. Nothing is saved before the server created the order.
    pub $($async)* fn issue_saving<S: $($solver)*, V: $($saver)*>(
        &self,
        request: ::acme_proto::client::NewOrder,
        solver: &S,
        saver: V,
    ) -> Result<$crate::Certificate, crate::DriverError> {
        self.drive_saving($crate::SavingOrder::new(request, saver)?, solver)
            $($await)*
    }

    /// Resumes an order saved by [`issue_saving`](Self::issue_saving) (in this process
    /// or an earlier one, with the same account), saving it again through `saver` as it
    /// goes: the order and its authorizations are fetched again, and it carries on from
    /// where the server says it is. Never creates a second order. The challenges the
    /// saved order had presented are cleaned up through `solver`.
    pub $($async)* fn resume<S: $($solver)*, V: $($saver)*>(
        &self,
        saved: $crate::SavedOrder,
        solver: &S,
        saver: V,
    ) -> Result<$crate::Certificate, crate::DriverError> {
        self.drive_saving($crate::SavingOrder::resume(saved, saver)?, solver)
            $($await)*
    }

    $($async)* fn drive_saving<S: $($solver)*, V: $($saver)*>(
        &self,
        mut op: $crate::SavingOrder<V>,
        solver: &S,
    ) -> Result<$crate::Certificate, crate::DriverError> {
        let result = self.solve(&mut op, solver) $($await)*;
        if let Ok(issued) = &result {
            $crate::report_unrequested_names(issued);
        }
        op.finish(result)
    }

    /// Issues a certificate for `request` (with its profile, validity or `replaces`)
    /// with the caller's CSR (DER).
    pub $($async)* fn issue_with_csr<S: $($solver)*>(
        &self,
        request: ::acme_proto::client::NewOrder,
        csr_der: Vec<u8>,
        solver: &S,
    ) -> Result<::acme_proto::client::Issued, crate::DriverError> {
        let mut flow = ::acme_proto::client::OrderFlow::new(request)?;
        self.order(&mut flow, csr_der, solver) $($await)*
    }

    /// Drives an order to its end: new, or resumed with [`OrderFlow::resume`]. To save
    /// it as it goes (and resume it after a crash), use
    /// [`issue_saving`](Self::issue_saving) and [`resume`](Self::resume), which save at
    /// every quiescent point.
    ///
    /// Every challenge presented is cleaned up, however the order ends.
    pub $($async)* fn order<S: $($solver)*>(
        &self,
        flow: &mut ::acme_proto::client::OrderFlow,
        csr_der: Vec<u8>,
        solver: &S,
    ) -> Result<::acme_proto::client::Issued, crate::DriverError> {
        flow.provide_csr(csr_der)?;
        let result = self.solve(flow, solver) $($await)*;
        if let Ok(issued) = &result {
            $crate::report_unrequested_names(issued);
        }
        result
    }

    /// Pre-authorizes `identifier` (RFC 8555 §7.4.1, where the directory has
    /// `newAuthz`), proving control with `solver`: a later order for it needs no
    /// challenge while the authorization is valid. Gives the authorization's URL and
    /// the authorization. Every challenge presented is cleaned up, however it ends.
    pub $($async)* fn pre_authorize<S: $($solver)*>(
        &self,
        identifier: ::acme_proto::Identifier,
        solver: &S,
    ) -> Result<(::url::Url, ::acme_proto::resource::Authorization), crate::DriverError> {
        let mut pre = ::acme_proto::client::PreAuthorization::new(identifier);
        let authorization = self.solve(&mut pre, solver) $($await)*?;
        let url = pre.url().cloned().ok_or(crate::DriverError::Stalled)?;
        Ok((url, authorization))
    }

    /// The CA's directory, with its `meta` (terms of service, website, CAA identities,
    /// whether an external account binding is required, profiles); fetched again.
    pub $($async)* fn directory(
        &self,
    ) -> Result<::acme_proto::resource::Directory, crate::DriverError> {
        let op = self.account.lock().fetch_directory();
        self.run(op) $($await)*?;
        self.account
            .lock()
            .directory()
            .cloned()
            .ok_or(crate::DriverError::Stalled)
    }

    /// Fetches an authorization: where it stands, and its challenges.
    pub $($async)* fn fetch_authorization(
        &self,
        url: ::url::Url,
    ) -> Result<::acme_proto::resource::Authorization, crate::DriverError> {
        let op = self.account.lock().fetch_authorization(url)?;
        self.run(op) $($await)*
    }

    /// Fetches the authorization at `url` until it is no longer `pending` (after
    /// [`answer_challenge`](Self::answer_challenge)), at the server's `Retry-After` or
    /// the policy's interval, within the policy's patience; see
    /// [`Client::poll_authorization`]. Ends with the authorization in whatever status it
    /// reached.
    pub $($async)* fn poll_authorization(
        &self,
        url: ::url::Url,
    ) -> Result<::acme_proto::resource::Authorization, crate::DriverError> {
        let op = self.account.lock().poll_authorization(url)?;
        self.run(op) $($await)*
    }

    /// Deactivates an authorization (RFC 8555 §7.5.2): it can no longer be used to issue.
    pub $($async)* fn deactivate_authorization(
        &self,
        url: ::url::Url,
    ) -> Result<::acme_proto::resource::Authorization, crate::DriverError> {
        let op = self.account.lock().deactivate_authorization(url)?;
        self.run(op) $($await)*
    }

    /// Tells the server that the challenge at `url` is in place, outside an order (the
    /// caller presented it); the authorization says the outcome.
    pub $($async)* fn answer_challenge(
        &self,
        url: ::url::Url,
    ) -> Result<::acme_proto::resource::Challenge, crate::DriverError> {
        let op = self.account.lock().answer_challenge(url)?;
        self.run(op) $($await)*
    }

    /// Fetches the account object.
    pub $($async)* fn fetch_account(
        &self,
    ) -> Result<::acme_proto::client::AccountInfo, crate::DriverError> {
        let op = self.account.lock().fetch_account()?;
        self.run(op) $($await)*
    }

    /// Replaces the account's contacts (`mailto:` URLs); an empty list removes them.
    pub $($async)* fn update_contacts(
        &self,
        contacts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<::acme_proto::client::AccountInfo, crate::DriverError> {
        let op = self.account.lock().update_contacts(contacts)?;
        self.run(op) $($await)*
    }

    /// Deactivates the account. The server refuses everything later signed for it
    /// (`unauthorized`); this cannot be undone.
    pub $($async)* fn deactivate_account(
        &self,
    ) -> Result<::acme_proto::client::AccountInfo, crate::DriverError> {
        let op = self.account.lock().deactivate_account()?;
        self.run(op) $($await)*
    }

    /// Rolls the account over to `new_key`. Once the server accepted it, the client
    /// signs with the new key and [`credentials`](Self::credentials) hold it: save them
    /// again.
    ///
    /// The new key is never lost: if the rollover did not end with it in use, it comes
    /// back in the error, with whether the server may have applied it. A key change
    /// whose answer is lost (the connection broke after it was sent) is resolved before
    /// this returns, by looking the account up with the new key.
    pub $($async)* fn change_key(
        &self,
        new_key: ::acme_proto::crypto::AccountKey,
    ) -> Result<(), Box<crate::KeyChangeError<::acme_proto::crypto::AccountKey>>> {
        let op = match self.account.change_key(&new_key) {
            Ok(op) => op,
            Err(error) => {
                let error = crate::DriverError::from(error);
                let error = crate::KeyChangeError::new(
                    error,
                    ::acme_proto::client::RolloverState::NotApplied,
                    new_key,
                );
                return Err(Box::new(error));
            }
        };
        self.roll_over(op, new_key, Some) $($await)*
    }

    /// Rolls the account over to the caller's `new_signer` (an HSM's or a KMS's key), as
    /// [`change_key`](Self::change_key) does. The key is then the caller's:
    /// [`credentials`](Self::credentials) is `None` and [`account_ref`](Self::account_ref)
    /// is what to save. The caller keeps its own handle on `new_signer`, and gets it
    /// back in the error.
    pub $($async)* fn change_signer(
        &self,
        new_signer: ::std::sync::Arc<dyn ::acme_proto::crypto::Signer + Send + Sync>,
    ) -> Result<
        (),
        Box<
            crate::KeyChangeError<::std::sync::Arc<dyn ::acme_proto::crypto::Signer + Send + Sync>>,
        >,
    > {
        let op = self
            .account
            .change_signer(Box::new(::std::sync::Arc::clone(&new_signer)));
        self.roll_over(op, new_signer, |_| None) $($await)*
    }

    /// The URLs of the account's orders, following at most `max_pages` pages.
    pub $($async)* fn list_orders(
        &self,
        max_pages: u32,
    ) -> Result<Vec<::url::Url>, crate::DriverError> {
        let op = self.account.lock().list_orders(max_pages)?;
        self.run(op) $($await)*
    }

    /// Revokes `certificate` (its end-entity certificate) with the account key.
    pub $($async)* fn revoke(
        &self,
        certificate: &::acme_proto::CertificateChain,
        reason: Option<::acme_proto::client::RevocationReason>,
    ) -> Result<(), crate::DriverError> {
        let op = self.account.revoke(certificate, reason)?;
        self.run(op) $($await)*
    }

    /// Revokes `certificate` with a request signed by its own private key (PKCS#8 PEM,
    /// as [`Certificate::private_key_pem`]), no account involved: for a certificate
    /// whose account key is lost, or one issued to another account.
    pub $($async)* fn revoke_with_certificate_key(
        &self,
        certificate: &::acme_proto::CertificateChain,
        private_key_pem: &str,
        reason: Option<::acme_proto::client::RevocationReason>,
    ) -> Result<(), crate::DriverError> {
        let op = self
            .account
            .revoke_with_certificate_key(certificate, private_key_pem, reason)?;
        self.run(op) $($await)*
    }

    /// The CA's renewal suggestion (ARI, RFC 9773) for `certificate`;
    /// [`RenewalSuggestion::renewal_time`] picks the time to renew inside its window.
    pub $($async)* fn renewal_info(
        &self,
        certificate: &::acme_proto::CertificateChain,
    ) -> Result<::acme_proto::client::RenewalSuggestion, crate::DriverError> {
        let op = self.account.renewal_info(certificate)?;
        self.run(op) $($await)*
    }

    /// The core client, to drive other operations with [`drive`](crate::drive()). Lock
    /// it only for one step of the core at a time: never across a request (nor an
    /// ` $($await)*`).
    pub fn core(&self) -> &std::sync::Mutex<::acme_proto::Client> {
        self.account.core()
    }

    /// Drives an operation that presents challenges through `solver`, cleaning up
    /// everything it presented, whatever the end.
    $($async)* fn solve<O: $crate::drive::Presenting + $send, S: $($solver)*>(
        &self,
        op: &mut O,
        solver: &S,
    ) -> Result<O::Output, crate::DriverError>
    where
        O::Output: $send,
    {
        let result = self.drive_solving(op, solver) $($await)*;
        if result.is_err() {
            // Ended in the driver (a solver error, no challenge chosen) while the
            // operation went on: its own list says what it presented.
            op.abandon();
            while let Some(offer) = $crate::drive::next_cleanup(op, self.account.core()) {
                cleanup(solver, &offer) $($await)*;
            }
        }
        result
    }

    /// One event of an order or a pre-authorization: the solver presents and cleans
    /// up, the operation is told when a challenge is ready.
    $($async)* fn on_solver_event<O: $crate::drive::Presenting, S: $($solver)*>(
        solver: &S,
        op: &mut O,
        event: ::acme_proto::client::OrderEvent,
    ) -> Result<(), crate::DriverError> {
        match $crate::action(event, |offers| solver.choose(offers))? {
            $crate::Action::Present(offer) => {
                // The operation hears of it first, so that it is on the operation's
                // cleanup list (and in a saved order's file) before anything is put in
                // place; nothing is sent before this handler returns. A present that
                // fails half-way is then cleaned up with the rest.
                op.challenge_ready(&offer.url)?;
                solver
                    .present(&offer)
                    $($await)*
                    .map_err(|source| crate::DriverError::Solver {
                        identifier: offer.identifier.clone(),
                        source,
                    })?;
            }
            $crate::Action::Cleanup(offer) => cleanup(solver, &offer) $($await)*,
            _ => {}
        }
        Ok(())
    }
    };
}
