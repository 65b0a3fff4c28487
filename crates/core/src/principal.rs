//! Who is calling.

use crate::ids::AccountId;
use serde::{Deserialize, Serialize};

/// The kind of identity behind a request, as CloudTrail's `userIdentity.type` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    IAMUser,
    /// A role session obtained through STS.
    AssumedRole,
    /// Nobody authenticated (auth disabled, or the request failed authentication).
    Anonymous,
}

impl PrincipalKind {
    /// CloudTrail's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Root",
            PrincipalKind::IAMUser => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::Anonymous => "AWSAccount",
        }
    }
}

/// An authenticated identity; travels with every request from the gateway to the handler and
/// into the activity journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// What kind of identity.
    pub kind: PrincipalKind,
    /// The account the identity belongs to.
    pub account_id: AccountId,
    /// The identity's ARN (`arn:aws:iam::123456789012:root`).
    pub arn: String,
    /// A stable principal id (for root, the account id).
    pub principal_id: String,
    /// User name, when the identity has one.
    pub user_name: Option<String>,
}

impl Principal {
    /// The root identity of `account`.
    pub fn root(account: &AccountId) -> Self {
        Principal {
            kind: PrincipalKind::Root,
            account_id: account.clone(),
            arn: format!("arn:aws:iam::{}:root", account),
            principal_id: account.to_string(),
            user_name: None,
        }
    }
}
