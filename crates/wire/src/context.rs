//! What a handler knows about the request it serves.

use crate::activity::ActivityTxn;
use crate::protocol::Protocol;
use bytes::Bytes;
use futures::stream::BoxStream;
use parking_lot::Mutex;
use std::net::IpAddr;
use std::sync::Arc;
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
    /// Where a streaming operation leaves its answer's body.
    pub stream: ResponseStream,
}

/// A streamed answer body: chunks sent as they are produced.
pub type ByteStream = BoxStream<'static, Bytes>;

/// The slot a streaming operation (StartLiveTail) fills with its body and content type; the
/// gateway sends it after the answer's headers when the operation succeeds. Cheap to clone.
#[derive(Clone, Default)]
pub struct ResponseStream(Arc<Mutex<Option<(&'static str, ByteStream)>>>);

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream").field("set", &self.0.lock().is_some()).finish()
    }
}

impl ResponseStream {
    /// Sets the body the answer streams, with its content type.
    pub fn set(&self, content_type: &'static str, body: ByteStream) {
        *self.0.lock() = Some((content_type, body));
    }

    /// Takes the body back (the gateway).
    pub fn take(&self) -> Option<(&'static str, ByteStream)> {
        self.0.lock().take()
    }
}
