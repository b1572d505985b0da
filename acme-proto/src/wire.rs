//! Requests and responses as values: STUB.
/// stub
#[derive(Debug)]
pub struct Headers;
/// stub
#[derive(Debug)]
pub enum Method {}
/// stub
#[derive(Debug)]
pub struct Request;
/// stub
#[derive(Debug)]
pub struct Response;
