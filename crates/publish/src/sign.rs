//! OpenPGP clearsigning of `Release` into `InRelease`, with rpgp (pure Rust).
//!
//! Why rpgp and not `gpg`: no agent, keyring or home directory to set up on a CI runner,
//! no process to spawn, and the key stays an ordinary file (an armored secret key, as
//! `gpg --export-secret-keys --armor` writes it). gpgv and apt verify its signatures
//! (SHA-256, so apt's Sequoia-based `sqv` accepts them too).

use camino::Utf8Path;
use pgp::composed::{CleartextSignedMessage, Deserializable, SignedSecretKey};
use pgp::types::Password;

use crate::{PublishError, Result};

/// The environment variable holding the passphrase of a protected signing key.
pub const PASSPHRASE_ENV: &str = "BERTH_SIGN_PASSPHRASE";

/// A secret key ready to sign.
#[derive(Debug, Clone)]
pub struct SigningKey {
    key: SignedSecretKey,
    passphrase: Option<String>,
    /// Where the key came from, for messages.
    source: String,
}

impl SigningKey {
    /// Reads an armored OpenPGP secret key file; the passphrase, if the key has one, is
    /// taken from `$BERTH_SIGN_PASSPHRASE`.
    pub fn from_file(path: &Utf8Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(PublishError::io(path))?;
        let mut key = Self::from_armor(&text, path.as_str())?;
        key.passphrase = std::env::var(PASSPHRASE_ENV).ok();
        Ok(key)
    }

    /// Parses an armored secret key; `source` names it in messages.
    pub fn from_armor(armored: &str, source: &str) -> Result<Self> {
        let (key, _headers) =
            SignedSecretKey::from_armor_single(armored.as_bytes()).map_err(|e| {
                PublishError::Sign {
                    key: source.to_owned(),
                    detail: format!(
                        "not an armored OpenPGP secret key ({e}); export one with `gpg --export-secret-keys --armor KEYID`"
                    ),
                }
            })?;
        Ok(SigningKey {
            key,
            passphrase: None,
            source: source.to_owned(),
        })
    }

    /// Sets the passphrase of a protected key.
    pub fn with_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.passphrase = Some(passphrase.into());
        self
    }

    /// The primary key's fingerprint, as hex.
    pub fn fingerprint(&self) -> String {
        use pgp::types::KeyDetails;
        hex::encode_upper(self.key.primary_key.fingerprint().as_bytes())
    }

    /// Clearsigns `text` (an `InRelease` from a `Release`).
    pub fn clearsign(&self, text: &str) -> Result<String> {
        let err = |detail: String| PublishError::Sign {
            key: self.source.clone(),
            detail,
        };
        let pw = match &self.passphrase {
            Some(p) => Password::from(p.as_str()),
            None => Password::empty(),
        };
        let msg =
            CleartextSignedMessage::sign(rand::thread_rng(), text, &self.key.primary_key, &pw)
                .map_err(|e| {
                    err(format!(
                        "{e}; if the key is protected, set ${PASSPHRASE_ENV}"
                    ))
                })?;
        msg.to_armored_string(Default::default())
            .map_err(|e| err(e.to_string()))
    }
}
