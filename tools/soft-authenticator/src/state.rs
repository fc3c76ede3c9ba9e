//! The credentials this authenticator holds, persisted as JSON between runs.
//!
//! `Passkey` is not serde-serialisable (it guards its private key), so each credential is kept
//! as its COSE private key in CBOR plus the fields an authenticator needs.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use coset::{CborSerializable, CoseKey};
use passkey_types::{CredentialExtensions, Passkey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Failure;

fn fail(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

fn decode(s: &str) -> Result<Vec<u8>, Failure> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| fail("the state file holds invalid base64"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCredential {
    pub rp_id: String,
    pub credential_id: String,
    pub user_handle: Option<String>,
    pub username: Option<String>,
    /// COSE_Key (private), CBOR, base64url.
    pub key: String,
    pub counter: u32,
    /// Creation order, so the newest credential wins when several match.
    pub sequence: u64,
}

impl StoredCredential {
    pub fn from_passkey(p: &Passkey) -> Result<Self, Failure> {
        let key = p
            .key
            .clone()
            .to_vec()
            .map_err(|e| fail(format!("cannot encode the key: {e:?}")))?;
        Ok(Self {
            rp_id: p.rp_id.clone(),
            credential_id: URL_SAFE_NO_PAD.encode(p.credential_id.as_slice()),
            user_handle: p
                .user_handle
                .as_ref()
                .map(|h| URL_SAFE_NO_PAD.encode(h.as_slice())),
            username: p.username.clone(),
            key: URL_SAFE_NO_PAD.encode(key),
            counter: p.counter.unwrap_or(0),
            sequence: 0,
        })
    }

    pub fn to_passkey(&self) -> Result<Passkey, Failure> {
        let key = CoseKey::from_slice(&decode(&self.key)?)
            .map_err(|e| fail(format!("the stored key is corrupt: {e:?}")))?;
        Ok(Passkey {
            key,
            credential_id: decode(&self.credential_id)?.into(),
            rp_id: self.rp_id.clone(),
            user_handle: self
                .user_handle
                .as_deref()
                .map(decode)
                .transpose()?
                .map(Into::into),
            username: self.username.clone(),
            user_display_name: None,
            counter: Some(self.counter),
            extensions: CredentialExtensions::default(),
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    credentials: Vec<StoredCredential>,
}

impl State {
    pub fn load(path: &Path) -> Result<Self, Failure> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| fail(format!("{}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(fail(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes atomically (temp file + rename) so a killed run never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), Failure> {
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| fail(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(|e| fail(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, path).map_err(|e| fail(format!("{}: {e}", path.display())))
    }

    pub fn add(&mut self, mut credential: StoredCredential) {
        credential.sequence = self
            .credentials
            .iter()
            .map(|c| c.sequence + 1)
            .max()
            .unwrap_or(0);
        self.credentials.push(credential);
    }

    pub fn find(&self, rp_id: &str, credential_id: &str) -> Option<&StoredCredential> {
        self.credentials
            .iter()
            .find(|c| c.rp_id == rp_id && c.credential_id == credential_id)
    }

    /// The credential to sign with: among this RP's, those allowed (any when the list is empty:
    /// a discoverable-credential request), of the given user if asked, newest first.
    pub fn choose(
        &self,
        rp_id: &str,
        allowed: &[String],
        user: Option<&str>,
    ) -> Option<&StoredCredential> {
        self.credentials
            .iter()
            .filter(|c| c.rp_id == rp_id)
            .filter(|c| allowed.is_empty() || allowed.contains(&c.credential_id))
            .filter(|c| user.is_none_or(|u| c.user_handle.as_deref() == Some(u)))
            .max_by_key(|c| c.sequence)
    }

    pub fn update_counter(&mut self, credential_id: &str, counter: u32) {
        if let Some(c) = self
            .credentials
            .iter_mut()
            .find(|c| c.credential_id == credential_id)
        {
            c.counter = counter;
        }
    }

    pub fn summary(&self) -> Value {
        Value::Array(
            self.credentials
                .iter()
                .map(|c| {
                    json!({
                        "rpId": c.rp_id,
                        "credentialId": c.credential_id,
                        "userHandle": c.user_handle,
                        "signCount": c.counter,
                    })
                })
                .collect(),
        )
    }
}
