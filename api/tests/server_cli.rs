//! `nongzi serve` and `nongzi admin create` end to end: the real binary on a temporary SQLite
//! file, its output going to pipes as it does under systemd or `> nongzi.log 2>&1`.
//!
//! * The log written to a pipe or file has no ANSI colour codes.
//! * The first admin's password comes from stdin or NONGZI_ADMIN_PASSWORD, never from the
//!   command line that `ps` shows to every user of the machine.
//! * An unknown NONGZI_PAYMENT_PROVIDER stops the server at start.
//! * `serve --demo` refuses a database with an admin of its own, and starts again on a file it
//!   filled itself.

use std::io::{BufRead, BufReader, Write};
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
            .env_remove("NONGZI_ADMIN_PASSWORD")
            .env_remove("NONGZI_PAYMENT_PROVIDER")
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

const PHONE: &str = "13800009999";
const PASSWORD: &str = "Admin-pass-from-stdin-2026";

/// Whether `phone` / `password` logs in on the scratch database.
fn logs_in(scratch: &Scratch, phone: &str, password: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = sea_orm::Database::connect(scratch.database_url())
            .await
            .unwrap();
        let ok = match domain::accounts::authenticate(&db, phone, password).await {
            Ok(user) => user.role == domain::accounts::Role::Admin,
            Err(_) => false,
        };
        db.close().await.ok();
        ok
    })
}

#[test]
fn admin_create_reads_the_password_from_stdin_never_from_the_command_line() {
    let scratch = Scratch::new("admin-create");
    let mut child = scratch
        .nongzi()
        .args(["admin", "create", "--phone", PHONE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nongzi admin create");
    // What `ps` shows of the running process: the password is not there.
    #[cfg(target_os = "linux")]
    {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        assert!(!cmdline.contains(PASSWORD), "{cmdline}");
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains(&format!("admin {PHONE} created")),
        "{stdout}"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert!(logs_in(&scratch, PHONE, PASSWORD));

    // From the environment too, for a deployment's secret store.
    let out = scratch
        .nongzi()
        .args(["admin", "create", "--phone", "13800009998"])
        .env("NONGZI_ADMIN_PASSWORD", "Admin-pass-from-env-2026")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(logs_in(&scratch, "13800009998", "Admin-pass-from-env-2026"));

    // The old flag is refused with a message that says how to pass the password.
    let out = scratch
        .nongzi()
        .args(["admin", "create", "--phone", "13800009997", "--password"])
        .arg("Admin-pass-on-argv-2026")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("NONGZI_ADMIN_PASSWORD") && stderr.contains("stdin"),
        "{stderr}"
    );
    assert!(!logs_in(&scratch, "13800009997", "Admin-pass-on-argv-2026"));

    // Nothing on stdin and no variable: an error, not an admin with an empty password.
    let out = scratch
        .nongzi()
        .args(["admin", "create", "--phone", "13800009996"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
}

/// Waits for a child to exit on its own, at most `secs` seconds (then kills it): its output.
fn exit_within(mut child: std::process::Child, secs: u64) -> Option<std::process::Output> {
    for _ in 0..secs * 10 {
        if child.try_wait().ok().flatten().is_some() {
            return child.wait_with_output().ok();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn an_unknown_payment_provider_stops_the_server_at_start() {
    let scratch = Scratch::new("serve-provider");
    let child = scratch
        .nongzi()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("NONGZI_PAYMENT_PROVIDER", "paypal")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nongzi serve");
    let out = exit_within(child, 60).expect("the server stops at start, not serves");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("NONGZI_PAYMENT_PROVIDER=paypal")
            && stderr.contains("not a known payment provider")
            && stderr.contains("不是已知的支付服务"),
        "{stderr}"
    );
}

/// Starts `serve --demo` and reads stdout until the demo's banner is complete (its trace
/// pages, then an empty line); stops the server and returns what it printed.
fn serve_demo_output(scratch: &Scratch) -> String {
    let mut child = scratch
        .nongzi()
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nongzi serve --demo");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let mut traced = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if traced && line.trim().is_empty() {
                break;
            }
            traced |= line.contains("trace page:");
            out.push_str(&line);
            out.push('\n');
        }
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(Duration::from_secs(180));
    let _ = child.kill();
    let _ = child.wait();
    out.expect("serve --demo prints its banner within three minutes")
}

#[test]
fn serve_demo_refuses_a_database_with_its_own_admin_and_restarts_on_its_own_file() {
    // A county's database: its first admin was created, then someone starts the demo on it.
    let county = Scratch::new("demo-refused");
    let out = county
        .nongzi()
        .args(["admin", "create", "--phone", PHONE])
        .env("NONGZI_ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let child = county
        .nongzi()
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = exit_within(child, 120).expect("serve --demo stops instead of serving");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("拒绝加载演示数据") && stderr.contains("refusing to load the demo"),
        "{stderr}"
    );
    assert!(!stdout.contains("demo-admin-2026"), "{stdout}");
    assert!(!logs_in(&county, "13800000001", "demo-admin-2026"));
    assert!(logs_in(&county, PHONE, PASSWORD));

    // The demo's own SQLite file starts again, as often as wanted, with the published logins.
    let demo = Scratch::new("demo-again");
    for _ in 0..2 {
        let out = serve_demo_output(&demo);
        assert!(out.contains("Nongzi demo county is ready."), "{out}");
        assert!(out.contains("13800000001  demo-admin-2026"), "{out}");
        assert!(out.contains("trace page: http://"), "{out}");
    }
    assert!(logs_in(&demo, "13800000001", "demo-admin-2026"));
}
