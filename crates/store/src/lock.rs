//! One trading session per database: an exclusive lock on `<db>.lock`, held for as long
//! as the session runs (the app's trading service and the command line take the same
//! lock, so they never write one database at the same time).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Why the lock could not be taken; the message names the database and the fix.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another session holds the lock.
    #[error(
        "database {db} is in use by another trading session (the app or a running `crude trade`); close it or use another database (--db / CRUDE_DB)"
    )]
    InUse {
        /// The database.
        db: String,
    },
    /// The lock file could not be created or locked.
    #[error("database {db}: cannot lock {lock}: {message}")]
    Io {
        /// The database.
        db: String,
        /// The lock file.
        lock: String,
        /// The operating system's message.
        message: String,
    },
}

/// The exclusive lock of one database; released when dropped.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

impl SessionLock {
    /// Takes the lock of `db` without waiting.
    ///
    /// # Errors
    /// [`LockError::InUse`] when another session holds it, [`LockError::Io`] when the lock
    /// file cannot be created.
    pub fn acquire(db: &Path) -> Result<Self, LockError> {
        let mut p = db.as_os_str().to_owned();
        p.push(".lock");
        let path = PathBuf::from(p);
        let io = |e: std::io::Error| LockError::Io {
            db: db.display().to_string(),
            lock: path.display().to_string(),
            message: e.to_string(),
        };
        let mut o = OpenOptions::new();
        o.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let f = o.open(&path).map_err(io)?;
        match f.try_lock() {
            Ok(()) => Ok(Self { _file: f }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::InUse { db: db.display().to_string() }),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_session_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let first = SessionLock::acquire(&db).unwrap();
        let e = SessionLock::acquire(&db).unwrap_err();
        assert!(matches!(e, LockError::InUse { .. }));
        assert!(e.to_string().contains("in use by another trading session"), "{e}");
        drop(first);
        SessionLock::acquire(&db).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("t.db.lock")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the lock file is owner-only");
        }
    }
}
