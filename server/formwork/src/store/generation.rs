//! The identity generation: a counter that moves after every committed change to users,
//! sessions, tokens, departments, roles or policies, so that a process may keep the
//! credentials it read until the counter moves.
//!
//! On SQLite the counter lives in a small file beside the database, read by every process
//! that opens the store (the server, and CLI commands such as `formwork user password` run
//! while it serves): reading it is one 8-byte `pread` from the page cache, no query. The writer
//! moves it after the commit of a batch that changed identity (and after a failed commit,
//! to be safe), and every process moves it when it opens the store, so a process that died
//! between a commit and the move cannot leave others with stale credentials once it is
//! back. On PostgreSQL, where processes may run on different machines, there is no shared
//! memory: the counter is process-local and credentials are not kept (each request reads
//! them, see `AuthService::authenticate`).

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Generation {
    shared: Option<std::fs::File>,
    local: AtomicU64,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("path", &self.path)
            .field("current", &self.current())
            .finish()
    }
}

impl Generation {
    /// The counter file of the SQLite database `db` (`<db>-identity`), created when missing,
    /// moved once for this opening.
    pub fn open_beside(db: &Path) -> std::io::Result<Generation> {
        let mut name = db.as_os_str().to_owned();
        name.push("-identity");
        let path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if file.metadata()?.len() < 8 {
            file.set_len(8)?;
        }
        let g = Generation {
            shared: Some(file),
            local: AtomicU64::new(0),
            path: Some(path),
        };
        g.bump();
        Ok(g)
    }

    /// A counter of this process only (PostgreSQL).
    pub fn local() -> Generation {
        Generation {
            shared: None,
            local: AtomicU64::new(0),
            path: None,
        }
    }

    /// True when every process on this store sees the same counter.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The current value (one 8-byte read from the page cache on SQLite). A file that
    /// cannot be read gives a fresh random value, which matches nothing kept.
    pub fn current(&self) -> u64 {
        match &self.shared {
            Some(f) => {
                let mut b = [0u8; 8];
                match f.read_exact_at(&mut b, 0) {
                    Ok(()) => u64::from_le_bytes(b),
                    Err(_) => rand::random(),
                }
            }
            None => self.local.load(Ordering::Acquire),
        }
    }

    /// Move the counter. On the file the new value is random rather than one more, so two
    /// processes moving it at once cannot both write the same next value unnoticed (a
    /// reader that saw either new value read its rows after both commits).
    pub fn bump(&self) {
        match &self.shared {
            Some(f) => {
                let old = self.current();
                let mut new: u64 = rand::random();
                while new == old {
                    new = rand::random();
                }
                if let Err(e) = f.write_all_at(&new.to_le_bytes(), 0) {
                    tracing::error!(error = %e, path = ?self.path, "cannot move the identity generation");
                }
            }
            None => {
                self.local.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_openings_of_one_store_see_each_others_moves() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("formwork.sqlite");
        let a = Generation::open_beside(&db).unwrap();
        let before = a.current();
        let b = Generation::open_beside(&db).unwrap();
        // b's opening moved the counter a reads
        let after_open = a.current();
        assert_ne!(after_open, before);
        assert_eq!(b.current(), after_open);
        a.bump();
        assert_ne!(b.current(), after_open);
        assert_eq!(b.current(), a.current());
        assert!(a.is_shared() && !Generation::local().is_shared());
        let l = Generation::local();
        let x = l.current();
        l.bump();
        assert_ne!(l.current(), x);
    }
}
