//! `nongzi`: the Nongzi server and its command-line tools.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nongzi::{AppState, Config, demo, server};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "nongzi",
    version,
    about = "Nongzi 农资: farm inputs that are good, cheap and traceable, with soil-test-based fertilisation.",
    long_about = "Nongzi 农资: farmers order fertiliser, seed and pesticide; dealers manage lots, stock and orders; \
agronomists turn soil tests into recommendations; regulators trace and recall lots.\n\n\
Configuration comes from the environment: DATABASE_URL (default: SQLite file ./nongzi.db), REDIS_URL (optional), \
NONGZI_BIND, NONGZI_JWT_SECRET (required with PostgreSQL), NONGZI_PAYMENT_PROVIDER (sandbox or none; \
unset refuses online payment), RUST_LOG, NONGZI_LOG_FORMAT=json."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the GraphQL API (GraphiQL at /graphql in a browser).
    Serve {
        /// Load the demo county (once; a restart keeps it) and print the demo logins (random
        /// passwords on PostgreSQL). Refused on a database holding data the demo did not write.
        /// Turns on the sandbox payment provider unless NONGZI_PAYMENT_PROVIDER is set.
        #[arg(long)]
        demo: bool,
        /// Address to listen on [env: NONGZI_BIND] [default: 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Run database migrations only, then exit.
    Migrate,
    /// Run the fertiliser advisor on a JSON request (a file, or stdin), or JSON Lines for a
    /// batch, and print JSON. Exits with status 2 on a malformed or invalid request.
    /// See docs/advisor.md.
    Advise {
        /// The request file; reads stdin when absent or `-`.
        file: Option<std::path::PathBuf>,
    },
    /// Account administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an ADMIN account (the first one, on a fresh database). The password comes from
    /// NONGZI_ADMIN_PASSWORD, or else one line of stdin (a prompt on a terminal), never from
    /// the command line, which every user of the machine can read with `ps`.
    Create {
        #[arg(long)]
        phone: String,
        /// Refused: kept only to say how to pass the password instead.
        #[arg(long, hide = true)]
        password: Option<String>,
        #[arg(long, default_value = "管理员")]
        name: String,
    },
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("NONGZI_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colour codes only help a person at a terminal; in a file or a log collector they are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Large blocks go back to the system when they are freed. glibc's malloc raises its mmap
/// threshold to the size of the largest block freed so far (up to 32 MiB), so after the first
/// argon2id hash (a 19 MiB block) every later one comes from a thread's arena and stays there:
/// 30 sign-ups on the blocking pool's threads left the server 500 MiB larger for good
/// (`tests/examples/abuse-rss.rs`, docs/benchmarks.md). A fixed threshold keeps blocks of 1 MiB
/// and more on mmap, returned at free; smaller ones are unaffected.
#[allow(unsafe_code)]
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    if let Command::Advise { file } = &cli.command {
        return advise(file.as_deref());
    }
    init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            demo: with_demo,
            bind,
        } => {
            let mut config = Config::from_env(bind)?;
            // The demo pays online through the sandbox, unless NONGZI_PAYMENT_PROVIDER says
            // otherwise (`none` refuses online payment there too).
            if with_demo
                && std::env::var("NONGZI_PAYMENT_PROVIDER")
                    .ok()
                    .is_none_or(|v| v.trim().is_empty())
            {
                config.payment_provider = Some(domain::orders::payments::ProviderKind::Sandbox);
            }
            tracing::info!(?config, "starting");
            let addr = config.bind;
            let state = AppState::connect(config).await?;
            if with_demo {
                let passwords = demo::Passwords::for_database(state.db());
                let text = match demo::load_with(state.db(), passwords).await? {
                    demo::Loaded::Now(logins) => {
                        tracing::info!("demo county loaded");
                        demo::banner(addr, Some(&logins))
                    }
                    demo::Loaded::Before => {
                        tracing::info!("demo county already present; left as it is");
                        match passwords {
                            demo::Passwords::Published => {
                                demo::banner(addr, Some(&demo::credentials()?))
                            }
                            demo::Passwords::Random => demo::banner(addr, None),
                        }
                    }
                };
                print!("{text}");
                for code in demo::sample_codes(state.db()).await? {
                    println!("  trace page: http://{addr}/t/{code}");
                }
                println!();
            }
            server::serve_until_shutdown(state, addr).await
        }
        Command::Migrate => {
            let config = Config::from_env(None)?;
            let (db, _) = nongzi::db::connect(&config).await?;
            nongzi::db::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    phone,
                    password,
                    name,
                },
        } => {
            let lang = cli_lang();
            if password.is_some() {
                anyhow::bail!(
                    "{}",
                    lang.pick(
                        "不再接受 --password：命令行对本机所有用户可见（ps）。请设置环境变量 NONGZI_ADMIN_PASSWORD，或从标准输入（stdin）传入密码，例如 printf '%s\\n' \"$PW\" | nongzi admin create --phone ...",
                        "--password is no longer accepted: a command line is visible to every user of the machine (ps). Set NONGZI_ADMIN_PASSWORD, or pass the password on stdin, e.g. printf '%s\\n' \"$PW\" | nongzi admin create --phone ...",
                    )
                );
            }
            let password = admin_password(lang)?;
            let config = Config::from_env(None)?;
            let state = AppState::connect(config).await?;
            let user = domain::accounts::insert_user(
                state.db(),
                domain::accounts::NewUser {
                    phone,
                    password,
                    display_name: name,
                    role: domain::accounts::Role::Admin,
                    dealer_id: None,
                    dealer_role: None,
                    county_ids: vec![],
                    village_id: None,
                    station_id: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
            println!("admin {} created", user.phone);
            Ok(())
        }
        Command::Advise { .. } => unreachable!("handled before the runtime starts"),
    }
}

/// The language of the CLI's own messages: Chinese when the locale says so (`LANG=zh_CN.UTF-8`).
fn cli_lang() -> domain::Lang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default();
    if locale.starts_with("zh") {
        domain::Lang::Zh
    } else {
        domain::Lang::En
    }
}

/// The new admin's password: NONGZI_ADMIN_PASSWORD, or else one line of stdin, with a prompt
/// when stdin is a terminal (the typing is shown: no terminal crate is linked for hiding it).
fn admin_password(lang: domain::Lang) -> anyhow::Result<String> {
    if let Some(p) = std::env::var("NONGZI_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
    {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "{}",
            lang.pick("新管理员的密码：", "password for the new admin: ")
        );
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}",
            lang.pick(
                "无法从标准输入读取密码",
                "cannot read the password from stdin"
            )
        )
    })?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "没有密码：请设置 NONGZI_ADMIN_PASSWORD，或从标准输入（stdin）传入一行密码",
                "no password: set NONGZI_ADMIN_PASSWORD, or pass the password as one line on stdin",
            )
        );
    }
    Ok(password.to_owned())
}

/// `nongzi advise`: one JSON request (pretty-printed answer), or JSON Lines for a batch (one
/// compact answer per line, in order). A closed pipe (`| head`) ends quietly.
fn advise(file: Option<&std::path::Path>) -> ExitCode {
    use std::io::Write;
    // Bytes, not text: a line that is not UTF-8 gets its own error and the others an answer.
    let mut bytes = Vec::new();
    let read = match file {
        Some(p) if p.as_os_str() != "-" => std::fs::read(p)
            .map(|b| bytes = b)
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
        _ => std::io::stdin()
            .read_to_end(&mut bytes)
            .map(|_| ())
            .map_err(|e| format!("cannot read the request from stdin: {e}")),
    };
    if let Err(e) = read {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let handled = advisor::handle_input_bytes(&bytes);
    let body = match &handled {
        advisor::Handled::Batch(lines) => lines
            .iter()
            .map(|l| l.to_json().to_string() + "\n")
            .collect::<String>(),
        single => serde_json::to_string_pretty(&single.to_json()).unwrap_or_default() + "\n",
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(body.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        // The reader went away (e.g. `| head`): nothing left to say.
        return ExitCode::SUCCESS;
    }
    match handled.exit_code() {
        0 => ExitCode::SUCCESS,
        code => {
            eprintln!("error: the request was not accepted (see the \"error\" in the output)");
            ExitCode::from(code as u8)
        }
    }
}
