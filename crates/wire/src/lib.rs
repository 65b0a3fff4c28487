//! The AWS wire protocols, and nothing else: protocol detection, CBOR / JSON / Query decoding
//! into typed inputs, CBOR / JSON / XML encoding of outputs and errors, gzip request bodies,
//! SigV4 verification and the operation registry. It knows no service's behaviour.
//!
//! Reading order: [`gateway`] (the pipeline), [`protocol`] (routing), [`registry`] (typed
//! operations), [`value`] (the protocol-neutral tree), [`codec`] (bytes ↔ tree), [`sigv4`].

pub mod activity;
pub mod codec;
pub mod context;
pub mod eventstream;
pub mod gateway;
pub mod gzip;
pub mod protocol;
pub mod registry;
pub mod service;
pub mod sigv4;
pub mod telemetry;
pub mod value;

pub use activity::{ActivitySink, ActivityTxn, DataWrite, MemoryActivitySink};
pub use context::{ByteStream, RequestContext, ResponseStream};
pub use gateway::{AuthMode, Body, Gateway, GatewayConfig, IncomingRequest, ResponseBody};
pub use protocol::Protocol;
pub use registry::{OperationInfo, RawRequest, Registry};
pub use service::{RemoteWriteSpec, ServiceSpec, CLOUDWATCH, LOGS};
pub use value::{from_value, to_value, IntoValue, Value};
