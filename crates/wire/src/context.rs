//! What a handler knows about the request it serves.

use crate::activity::ActivityTxn;
use crate::protocol::Protocol;
use std::net::IpAddr;
use watchtrail_core::{AccountId, Principal, Region, Timestamp};

/// Per-request context passed to every operation handler.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The id returned in `x-amzn-RequestId`.
    pub request_id: String,
    /// Who is calling.
    pub principal: Principal,
    /// The access key the request was signed with (`None` with auth off).
    pub access_key_id: Option<String>,
    /// The account whose data the call touches.
    pub account_id: AccountId,
    /// Region from the signature scope.
    pub region: Region,
    /// When the gateway received the request.
    pub received_at: Timestamp,
    /// Protocol the client spoke.
    pub protocol: Protocol,
    /// Client address.
    pub source_ip: IpAddr,
    /// Commits the handler's data together with the request's activity record.
    pub activity: ActivityTxn,
}
