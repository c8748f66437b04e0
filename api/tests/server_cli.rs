//! `nongzi serve` end to end: the real binary on a temporary SQLite file, its output going to
//! pipes as it does under systemd or `> nongzi.log 2>&1`.
//!
//! * The log written to a pipe or file has no ANSI colour codes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A temporary directory with a SQLite database in it, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("nongzi.db").display())
    }

    /// `nongzi` with only this scratch database as its configuration.
    fn nongzi(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nongzi"));
        cmd.current_dir(&self.0)
            .env("DATABASE_URL", self.database_url())
            .env("NONGZI_JWT_SECRET", "cli-test-secret-cli-test-secret-0123")
            .env("RUST_LOG", "info")
            .env_remove("REDIS_URL")
            .env_remove("NONGZI_LOG_FORMAT")
            .env_remove("NO_COLOR");
        cmd
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_log_written_to_a_pipe_has_no_colour_codes() {
    let scratch = Scratch::new("serve-log");
    let mut child = scratch
        .nongzi()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nongzi serve");
    let stderr = child.stderr.take().unwrap();
    // Read the log on a thread until the server says it is serving, so a stuck start cannot
    // hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let done = line.contains("serving the web pages");
            log.push_str(&line);
            log.push('\n');
            if done {
                break;
            }
        }
        let _ = tx.send(log);
    });
    let log = rx.recv_timeout(Duration::from_secs(120));
    let _ = child.kill();
    let _ = child.wait();
    let log = log.expect("nongzi serve logs within two minutes");
    assert!(log.contains("serving the web pages"), "log:\n{log}");
    assert!(log.contains("starting"), "log:\n{log}");
    assert!(
        !log.contains("\u{1b}["),
        "ANSI escape codes in a log that is not a terminal:\n{log:?}"
    );
}
