//! `nongzi`: the Nongzi server and its command-line tools.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nongzi::{AppState, Config, app, demo};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "nongzi",
    version,
    about = "Nongzi 农资: farm inputs that are good, cheap and traceable, with soil-test-based fertilisation.",
    long_about = "Nongzi 农资: farmers order fertiliser, seed and pesticide; dealers manage lots, stock and orders; \
agronomists turn soil tests into recommendations; regulators trace and recall lots.\n\n\
Configuration comes from the environment: DATABASE_URL (default: SQLite file ./nongzi.db), REDIS_URL (optional), \
NONGZI_BIND, NONGZI_JWT_SECRET (required with PostgreSQL), RUST_LOG, NONGZI_LOG_FORMAT=json."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the GraphQL API (GraphiQL at /graphql in a browser).
    Serve {
        /// Load the demo county (once; a restart keeps it) and print the demo logins.
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
    /// Create an ADMIN account (the first one, on a fresh database).
    Create {
        #[arg(long)]
        phone: String,
        /// Read from NONGZI_ADMIN_PASSWORD when not given.
        #[arg(long, env = "NONGZI_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
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

fn main() -> ExitCode {
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
            let config = Config::from_env(bind)?;
            tracing::info!(?config, "starting");
            let addr = config.bind;
            let state = AppState::connect(config).await?;
            if with_demo {
                if demo::load(state.db()).await? {
                    tracing::info!("demo county loaded");
                } else {
                    tracing::info!("demo county already present; left as it is");
                }
                print_demo_logins(addr)?;
                for code in demo::sample_codes(state.db()).await? {
                    println!("  trace page: http://{addr}/t/{code}");
                }
                println!();
            }
            app::serve_until_shutdown(state, addr).await
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
            .map_err(|e| anyhow::anyhow!("{}", e.message(domain::Lang::En)))?;
            println!("admin {} created", user.phone);
            Ok(())
        }
        Command::Advise { .. } => unreachable!("handled before the runtime starts"),
    }
}

fn print_demo_logins(addr: SocketAddr) -> anyhow::Result<()> {
    println!();
    println!("Nongzi demo county is ready.");
    println!("  farmer app (open it on a phone): http://{addr}/");
    println!("  GraphQL console:                 http://{addr}/graphql");
    println!("Demo logins (phone / password):");
    for c in demo::credentials()? {
        println!(
            "  {:<16} {}  {:<18} {}",
            c.role, c.phone, c.password, c.name
        );
    }
    println!();
    Ok(())
}

/// `nongzi advise`: one JSON request (pretty-printed answer), or JSON Lines for a batch (one
/// compact answer per line, in order). A closed pipe (`| head`) ends quietly.
fn advise(file: Option<&std::path::Path>) -> ExitCode {
    use std::io::Write;
    let mut text = String::new();
    let read = match file {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(p)
            .map(|t| text = t)
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
        _ => std::io::stdin()
            .read_to_string(&mut text)
            .map(|_| ())
            .map_err(|e| format!("cannot read the request from stdin: {e}")),
    };
    if let Err(e) = read {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let handled = advisor::handle_input(&text);
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
