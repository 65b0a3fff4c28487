//! Root credentials and the account id.
//!
//! Credentials come from the environment when set; otherwise they are generated on first
//! start and kept in `<data-dir>/root-credentials.json` with mode 0600. The account id is fixed
//! at first start in `<data-dir>/account.json`.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use watchtrail_core::{AccountId, Principal};
use watchtrail_wire::sigv4::{CredentialStore, StoredCredential};

/// An access key pair.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyPair {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair").field("access_key_id", &self.access_key_id).field("secret_access_key", &"<hidden>").finish()
    }
}

#[derive(Serialize, Deserialize)]
struct AccountFile {
    account_id: String,
}

/// Reads the fixed account id, or fixes it now (`requested`, else a random one).
pub fn account_id(data_dir: &Path, requested: Option<&str>) -> Result<AccountId, String> {
    let path = data_dir.join("account.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let f: AccountFile = serde_json::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))?;
        let id = AccountId::new(f.account_id).map_err(|e| e.to_string())?;
        if let Some(r) = requested {
            if r != id.as_str() {
                return Err(format!(
                    "the data directory belongs to account {id}; WATCHTRAIL_ACCOUNT_ID={r} cannot change it (the account id is fixed at first start)"
                ));
            }
        }
        return Ok(id);
    }
    let id = match requested {
        Some(r) => AccountId::new(r).map_err(|e| format!("{e}: an account id is 12 digits"))?,
        None => {
            let mut rng = rand::rng();
            let digits: String = (0..12).map(|i| char::from(b'0' + if i == 0 { rng.random_range(1..10) } else { rng.random_range(0..10) })).collect();
            AccountId::new(digits).map_err(|e| e.to_string())?
        }
    };
    write_private(&path, &serde_json::to_vec_pretty(&AccountFile { account_id: id.to_string() }).map_err(|e| e.to_string())?)?;
    Ok(id)
}

/// The root key pair and whether it was generated just now.
pub fn root_keys(data_dir: &Path, from_env: Option<(String, String)>) -> Result<(KeyPair, bool), String> {
    if let Some((access_key_id, secret_access_key)) = from_env {
        if access_key_id.is_empty() || secret_access_key.is_empty() {
            return Err("WATCHTRAIL_ROOT_ACCESS_KEY_ID and WATCHTRAIL_ROOT_SECRET_ACCESS_KEY must both be non-empty".into());
        }
        return Ok((KeyPair { access_key_id, secret_access_key }, false));
    }
    let path = data_dir.join("root-credentials.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let kp: KeyPair = serde_json::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))?;
        return Ok((kp, false));
    }
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let akid: String = "AKIA".chars().chain((0..16).map(|_| UPPER[rng.random_range(0..UPPER.len())] as char)).collect();
    let secret: String = (0..40).map(|_| SECRET[rng.random_range(0..SECRET.len())] as char).collect();
    let kp = KeyPair { access_key_id: akid, secret_access_key: secret };
    write_private(&path, &serde_json::to_vec_pretty(&kp).map_err(|e| e.to_string())?)?;
    Ok((kp, true))
}

/// Writes a file readable only by its owner, durably.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Static credentials: the root key pair of the account.
pub struct StaticCredentials {
    keys: HashMap<String, StoredCredential>,
}

impl StaticCredentials {
    /// Credentials for the root of `account`.
    pub fn root(account: &AccountId, kp: &KeyPair) -> Self {
        let mut keys = HashMap::new();
        keys.insert(
            kp.access_key_id.clone(),
            StoredCredential { secret_access_key: kp.secret_access_key.clone(), principal: Principal::root(account), session_token: None },
        );
        StaticCredentials { keys }
    }
}

impl CredentialStore for StaticCredentials {
    fn lookup(&self, access_key_id: &str) -> Option<StoredCredential> {
        self.keys.get(access_key_id).map(|c| StoredCredential {
            secret_access_key: c.secret_access_key.clone(),
            principal: c.principal.clone(),
            session_token: c.session_token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_are_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let (a, fresh) = root_keys(dir.path(), None).unwrap();
        assert!(fresh);
        assert!(a.access_key_id.starts_with("AKIA") && a.access_key_id.len() == 20);
        assert_eq!(a.secret_access_key.len(), 40);
        let (b, fresh2) = root_keys(dir.path(), None).unwrap();
        assert!(!fresh2);
        assert_eq!(a.secret_access_key, b.secret_access_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("root-credentials.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{a:?}").contains(&a.secret_access_key), "Debug must hide the secret");
    }

    #[test]
    fn account_id_is_fixed_at_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let id = account_id(dir.path(), Some("123456789012")).unwrap();
        assert_eq!(id.as_str(), "123456789012");
        assert_eq!(account_id(dir.path(), None).unwrap(), id);
        assert!(account_id(dir.path(), Some("999999999999")).is_err());
        let other = tempfile::tempdir().unwrap();
        let random = account_id(other.path(), None).unwrap();
        assert_eq!(random.as_str().len(), 12);
        assert!(account_id(other.path(), Some("12")).is_err(), "a different id cannot replace the fixed one");
    }
}
