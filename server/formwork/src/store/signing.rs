//! Signed checkpoints of the operation log.
//!
//! The hash chain shows an entry changed *in place*; someone who can write the database
//! and drops the append-only triggers could still change an entry and recompute every hash
//! after it. A checkpoint closes that: it is an entry (`audit.checkpoint`) whose `after`
//! holds the chain head at that moment — `{seq, hash}` — signed with an Ed25519 key that
//! lives outside the database (`[audit] signing_key`). A chain recomputed after a change no
//! longer has the signed hash at the signed position, and the signature cannot be redone
//! without the key. An inspector who keeps the checkpoint of an export (its last line) can
//! check it against the log later (`formwork audit verify --anchor FILE`), even if the key
//! were stolen and every checkpoint in the log redone.

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;

/// What a checkpoint signs: the entry at `seq` has chain hash `hash`.
fn message(seq: i64, hash: &str) -> Vec<u8> {
    format!("formwork-oplog-checkpoint\n{seq}\n{hash}").into_bytes()
}

/// A short name of a public key (hex): the first 16 hex digits of its SHA-256.
pub fn key_id(public_hex: &str) -> String {
    let bytes = hex::decode(public_hex).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))[..16].to_owned()
}

pub struct Signer {
    pair: Ed25519KeyPair,
    public_hex: String,
}

impl Signer {
    /// The key in `path`, created (readable by the owner only) when there is none.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Signer> {
        if let Some(s) = Self::load(path)? {
            return Ok(s);
        }
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("generating the audit signing key failed"))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            open.mode(0o600);
        }
        use std::io::Write;
        match open.open(path) {
            Ok(mut f) => {
                f.write_all(hex::encode(doc.as_ref()).as_bytes())?;
                f.sync_all()?;
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        Self::load(path)?.ok_or_else(|| anyhow::anyhow!("{} vanished", path.display()))
    }

    /// The key in `path`, if there is one.
    pub fn load(path: &Path) -> anyhow::Result<Option<Signer>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let der = hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("{} is not a hex PKCS#8 key", path.display()))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der)
            .map_err(|_| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key", path.display()))?;
        let public_hex = hex::encode(pair.public_key().as_ref());
        Ok(Some(Signer { pair, public_hex }))
    }

    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    /// The checkpoint of the entry `seq` with chain hash `hash`.
    pub fn checkpoint(&self, seq: i64, hash: &str) -> Value {
        let sig = self.pair.sign(&message(seq, hash));
        json!({
            "seq": seq,
            "hash": hash,
            "key": key_id(&self.public_hex),
            "public_key": self.public_hex,
            "signature": hex::encode(sig.as_ref()),
        })
    }
}

/// A checkpoint as read back: what it says, once its signature holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub public_key: String,
}

/// Read a checkpoint and check its signature against the public key it names.
pub fn check(v: &Value) -> Result<Checkpoint, String> {
    let seq = v["seq"].as_i64().ok_or("a checkpoint names its seq")?;
    let hash = v["hash"].as_str().ok_or("a checkpoint names its hash")?;
    let public = v["public_key"]
        .as_str()
        .ok_or("a checkpoint names its key")?;
    let sig = v["signature"]
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .ok_or("a checkpoint carries its signature")?;
    let key = hex::decode(public).map_err(|_| "the checkpoint's key is not hex")?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&message(seq, hash), &sig)
        .map_err(|_| format!("the checkpoint of entry {seq} is not signed by its key"))?;
    Ok(Checkpoint {
        seq,
        hash: hash.to_owned(),
        public_key: public.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_verify_and_any_change_breaks_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let signer = Signer::load_or_create(&path).unwrap();
        // The same key when loaded again.
        let again = Signer::load_or_create(&path).unwrap();
        assert_eq!(signer.public_hex(), again.public_hex());
        let cp = signer.checkpoint(41, "ab".repeat(32).as_str());
        let ok = check(&cp).unwrap();
        assert_eq!((ok.seq, ok.public_key.as_str()), (41, signer.public_hex()));
        for (k, v) in [
            ("seq", json!(42)),
            ("hash", json!("cd".repeat(32))),
            ("signature", json!("00".repeat(64))),
        ] {
            let mut bad = cp.clone();
            bad[k] = v;
            assert!(check(&bad).is_err(), "{k}");
        }
        // Another key's public key does not verify this signature.
        let other = Signer::load_or_create(&dir.path().join("k2")).unwrap();
        let mut bad = cp.clone();
        bad["public_key"] = json!(other.public_hex());
        assert!(check(&bad).is_err());
        assert_eq!(key_id(signer.public_hex()).len(), 16);
    }
}
