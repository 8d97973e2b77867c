//! Commands run to completion with a deadline: a `banyan` command that should finish (or
//! refuse) but starts a node instead fails the test with what it printed, instead of hanging
//! it until the runner's timeout.

use std::io::Read;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a command that should finish by itself may run by default.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(120);

/// [`Command::output`] with a deadline.
pub trait OutputWithin {
    /// Runs the command with stdout and stderr captured, as [`Command::output`] does; a command
    /// still running after `deadline` is killed, and the error carries what it printed so far.
    fn output_within(&mut self, deadline: Duration) -> anyhow::Result<Output>;
}

impl OutputWithin for Command {
    fn output_within(&mut self, deadline: Duration) -> anyhow::Result<Output> {
        let program = format!("{self:?}");
        let mut child = self
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {program}"))?;
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let started = Instant::now();
        let status: Option<ExitStatus> = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if started.elapsed() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The pipes close when the process (and any child holding them) is gone.
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        match status {
            Some(status) => Ok(Output {
                status,
                stdout,
                stderr,
            }),
            None => bail!(
                "{program} was still running after {deadline:?} and was killed\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_finishes_gives_its_output_and_one_that_hangs_is_killed() {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output_within(Duration::from_secs(10))
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");

        let started = Instant::now();
        let err = Command::new("sh")
            .args(["-c", "echo started; exec sleep 30"])
            .output_within(Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10), "{err}");
        assert!(err.contains("still running after"), "{err}");
        assert!(err.contains("started"), "{err}");
    }
}
