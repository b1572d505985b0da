//! Statuses: STUB.
/// stub
#[derive(Debug)]
pub enum AccountStatus {}
/// stub
#[derive(Debug)]
pub enum OrderStatus {}
/// stub
#[derive(Debug)]
pub enum AuthorizationStatus {}
/// stub
#[derive(Debug)]
pub enum ChallengeStatus {}
