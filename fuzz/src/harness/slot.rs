//! Claiming a slot: runs at the same time (two terminals, the sample test beside a long run)
//! each get their own target directory (`target`, `target-1`, ...: cargo would otherwise make
//! one wait for the other's builds, eating its build time limit) and batch directory, marked by
//! a lock file holding the owner's process id; a lock whose process is gone is taken over.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// A claimed slot: its batch directory and target directory, released on drop.
#[derive(Debug)]
pub struct Slot {
    /// Where the batch crates are written.
    pub dir: PathBuf,
    /// The cargo target directory of this slot's builds.
    pub target: PathBuf,
    /// The batch binary's name.
    pub package: String,
    lock: PathBuf,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.lock);
    }
}

/// Claims the first free slot under `work` (`target` with `batch-<seed>`, then `target-1`
/// with `batch-<seed>-1`, ...).
pub fn claim(work: &Path, seed: u64) -> io::Result<Slot> {
    fs::create_dir_all(work)?;
    for k in 0..64 {
        let suffix = if k == 0 {
            String::new()
        } else {
            format!("-{k}")
        };
        let lock = work.join(format!("target{suffix}.lock"));
        if take(&lock)? {
            return Ok(Slot {
                dir: work.join(format!("batch-{seed}{suffix}")),
                target: work.join(format!("target{suffix}")),
                package: format!("symgrad-fuzz-batch-{seed}{suffix}"),
                lock,
            });
        }
    }
    Err(io::Error::other(format!(
        "no free slot in {}",
        work.display()
    )))
}

/// Creates the lock (or takes over one whose process is gone); false if it is held.
fn take(lock: &Path) -> io::Result<bool> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(lock)
    {
        Ok(mut f) => {
            write!(f, "{}", std::process::id())?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let owner = fs::read_to_string(lock).unwrap_or_default();
            if alive(owner.trim()) {
                return Ok(false);
            }
            fs::write(lock, std::process::id().to_string())?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Whether the process `pid` runs (where `/proc` tells; elsewhere a lock is always held).
fn alive(pid: &str) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    !pid.is_empty() && Path::new("/proc").join(pid).exists()
}

#[cfg(test)]
mod tests {
    use super::claim;

    #[test]
    fn a_held_slot_is_not_claimed_twice_and_is_released_on_drop() {
        let work = std::env::temp_dir().join(format!("symgrad-fuzz-slot-{}", std::process::id()));
        let a = claim(&work, 9).unwrap();
        let b = claim(&work, 8).unwrap();
        assert_ne!(a.dir, b.dir);
        assert_ne!(a.target, b.target);
        let dir = a.dir.clone();
        drop(a);
        assert_eq!(claim(&work, 9).unwrap().dir, dir);
        drop(b);
        let _ = std::fs::remove_dir_all(&work);
    }
}
