//! Running a command with a time limit (killing its whole process group at the limit: cargo's
//! rustc children too), collecting its output.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What one run printed and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// Whether it exited successfully.
    pub success: bool,
    /// Whether it was killed at the time limit.
    pub timed_out: bool,
}

/// Runs the batch binary `bin` on the program ids `only` (all when empty).
pub fn run(bin: &Path, only: &[u64], limit: Duration) -> Result<Ran, String> {
    let mut cmd = Command::new(bin);
    cmd.args(only.iter().map(ToString::to_string));
    output(cmd, limit).map_err(|e| format!("cannot run {}: {e}", bin.display()))
}

/// Runs `cmd` in a process group of its own, killed with its children after `limit`.
pub fn output(mut cmd: Command, limit: Duration) -> std::io::Result<Ran> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    own_group(&mut cmd);
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let start = Instant::now();
    let (success, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (status.success(), false);
        }
        if start.elapsed() > limit {
            kill_group(&mut child);
            let _ = child.wait();
            break (false, true);
        }
        thread::sleep(Duration::from_millis(10));
    };
    let join =
        |h: Option<thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Ran {
        stdout: join(out),
        stderr: join(err),
        success,
        timed_out,
    })
}

#[cfg(unix)]
fn own_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt as _;
    cmd.process_group(0);
}

#[cfg(not(unix))]
fn own_group(_: &mut Command) {}

/// Kills the child and, on Unix, the process group it leads (the rustc processes of a build).
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // `--`: the negative number is the process group, never parsed as an option.
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
    }
    let _ = child.kill();
}

fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::output;
    use std::process::Command;
    use std::time::Duration;

    #[test]
    fn the_time_limit_kills_the_command_and_its_children() {
        let mark = std::env::temp_dir().join(format!("symgrad-fuzz-kill-{}", std::process::id()));
        let _ = std::fs::remove_file(&mark);
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("(sleep 1; touch \"$0\") & wait")
            .arg(&mark);
        let ran = output(cmd, Duration::from_millis(200)).unwrap();
        assert!(ran.timed_out && !ran.success);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!mark.exists(), "the grandchild outlived the limit");
    }

    #[test]
    fn output_is_collected() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo out; echo err >&2");
        let ran = output(cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(
            (ran.stdout.as_str(), ran.stderr.as_str(), ran.success),
            ("out\n", "err\n", true)
        );
    }
}
