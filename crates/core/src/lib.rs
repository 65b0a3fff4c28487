//! Shared vocabulary of Watchtrail.
//!
//! Every other crate speaks in these terms: who is calling ([`Principal`]), for which
//! account and region ([`AccountId`], [`Region`]), at what time ([`Clock`], [`Timestamp`]),
//! how a failure reads on the wire ([`AwsError`], [`ApiError`], [`ParamPath`]) and what an API call leaves
//! behind for the audit trail ([`ActivityRecord`]).

pub mod activity;
pub mod clock;
pub mod error;
pub mod ids;
pub mod param;
pub mod principal;
pub mod time;
pub mod varint;

pub use activity::ActivityRecord;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{ApiError, AwsError, Fault};
pub use ids::{AccountId, InvalidId, Region};
pub use param::ParamPath;
pub use principal::{Principal, PrincipalKind};
pub use time::Timestamp;
