//! The command line: argument parsing and the commands. A thin edge over the engine.

mod adapt;
pub(crate) mod args;
mod batch;
mod check;
mod evaluate;
mod progress;
mod queue;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::engine::{Engine, Region, Side};
use args::Framing;

/// Exit status for a finished run (even if some images had errors).
pub const EXIT_OK: i32 = 0;
/// Exit status for an internal failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status for a usage error.
pub const EXIT_USAGE: i32 = 2;
/// Exit status for a command that declined to change anything (`queue adapt` refusing a
/// refit): scripts can tell "no better refit" from a broken run.
pub const EXIT_REFUSED: i32 = 3;

/// Fully local document liveness: a real identity document, or a photo of a screen,
/// a printed copy or a digital image?
#[derive(Debug, Parser)]
#[command(name = "docliveness", version, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file (thresholds, limits, model folder).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder with one sub-folder per model (default: ./models).
    #[arg(long, global = true, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Run models with ONNX Runtime from this libonnxruntime.so instead of tract.
    #[arg(long, global = true, value_name = "LIB")]
    pub onnxruntime: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do (default: open the review console).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the review console (the default with no command).
    Console {
        /// The review database (default: the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Photos or folders to analyse at once.
        #[arg(value_name = "PATH")]
        photos: Vec<PathBuf>,
    },
    /// Check photos of documents (files or folders, searched recursively).
    Check {
        /// Which side, and what part of the photo is judged.
        #[command(flatten)]
        framing: Framing,
        /// One JSON object per image per line instead of a table.
        #[arg(long)]
        json: bool,
        /// The document's outline, x1,y1,x2,y2,x3,y3,x4,y4 in pixels of the upright photo,
        /// corners in order round the document (outside the photo for a cut-off one):
        /// the detector is skipped and the photo judged on this outline. One photo only.
        #[arg(long, value_name = "CORNERS", value_parser = args::parse_quad, allow_hyphen_values = true)]
        quad: Option<crate::engine::Quad>,
        /// Image files or folders.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// The review queue: import, export, statistics.
    Queue {
        /// The review database (default: the platform data folder). Accepted before or
        /// after the queue command (`queue --db X stats`, `queue stats --db X`).
        #[arg(long, value_name = "PATH", global = true)]
        db: Option<PathBuf>,
        /// What to do with the queue.
        #[command(subcommand)]
        command: queue::QueueCommand,
    },
    /// Serve the HTTP API (`POST /api/v1/document/liveness`).
    Serve {
        /// Address to listen on (default from the config: 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        /// The review database (default: the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Users file (default: ~/.config/docliveness/users).
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
    },
    /// Manage the API's users.
    Users {
        /// What to do.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print the configuration in force (defaults plus --config) as TOML.
    Config,
    /// Measure error rates on a labelled folder with sub-folders genuine/, screen/,
    /// print/ and digital/.
    Eval {
        /// Which side, and what part of the photo is judged.
        #[command(flatten)]
        framing: Framing,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The labelled folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// User management commands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user or change their password (asked for on the terminal).
    Add {
        /// User name.
        name: String,
        /// Users file (default: ~/.config/docliveness/users).
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user; a running server refuses their password within a second.
    Remove {
        /// User name.
        name: String,
        /// Users file (default: ~/.config/docliveness/users).
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
    },
    /// List the user names (never their password hashes).
    List {
        /// Users file (default: ~/.config/docliveness/users).
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
    },
}

/// A usage error naming the first of `paths` that names nothing on disk: most likely a
/// typo, which a script must not mistake for a finished batch.
fn refuse_missing(paths: &[PathBuf]) -> Result<(), CliError> {
    match crate::image_files::first_missing(paths) {
        Some(path) => Err(CliError::Usage(format!(
            "no such file or folder (or no permission to see it): {}",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// A failure that ends the command, with the exit status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user asked for something impossible.
    #[error("{0}")]
    Usage(String),
    /// Something broke.
    #[error("{0}")]
    Failure(String),
    /// The command worked and declined to change anything (a refit that would not
    /// help): an answer, not a failure.
    #[error("{0}")]
    Refused(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Failure(_) => EXIT_FAILURE,
            CliError::Refused(_) => EXIT_REFUSED,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path).map_err(|e| CliError::Usage(e.to_string()))?,
        None => Config::default(),
    };
    if let Some(dir) = cli.models {
        config.models.dir = Some(dir);
    }
    if let Some(lib) = cli.onnxruntime {
        config.models.onnxruntime_library = Some(lib);
    }
    match cli.command.unwrap_or(Command::Console {
        db: None,
        photos: Vec::new(),
    }) {
        Command::Console { db, photos } => {
            if !has_display() {
                // A server or CI shell: show what the product does on the bundled samples.
                let samples = crate::console::samples_dir().ok_or_else(|| {
                    CliError::Usage(
                        "no display to open the console on, and no bundled samples to check".into(),
                    )
                })?;
                eprintln!(
                    "no display found (DISPLAY and WAYLAND_DISPLAY are unset), so no console window; \
                     checking the bundled samples instead: docliveness check {}",
                    samples.display()
                );
                let engine = build_engine(config)?;
                return check::run(&engine, &[samples], Side::Front, Region::Document, false);
            }
            let engine = std::sync::Arc::new(build_engine(config)?);
            crate::console::run(
                db.unwrap_or_else(crate::review::default_db_path),
                engine,
                photos,
            )
            .map_err(CliError::Failure)
        }
        Command::Check {
            framing,
            json,
            quad,
            paths,
        } => {
            let engine = build_engine(config)?;
            match quad {
                Some(quad) => check::run_with_outline(&engine, &paths, framing, quad, json),
                None => check::run(&engine, &paths, framing.side, framing.region, json),
            }
        }
        Command::Queue { db, command } => {
            let db = db.unwrap_or_else(crate::review::default_db_path);
            let thresholds = config.thresholds;
            queue::run(command, &db, || build_engine(config), thresholds)
        }
        Command::Serve { bind, db, users } => {
            if let Some(bind) = bind {
                config.server.bind = bind;
            }
            let options = crate::api::ServeOptions {
                db_path: db.unwrap_or_else(crate::review::default_db_path),
                users_file: users_file(users, &config),
            };
            // Before the engine starts its threads, so that they share the few arenas.
            crate::api::memory::limit_retained_memory();
            let engine = std::sync::Arc::new(build_engine(config.clone())?);
            let server = crate::api::Server::bind(&config.server, &config.review, engine, &options)
                .map_err(|e| match e {
                    crate::api::ServeError::Users(u) => CliError::Usage(u.to_string()),
                    other => CliError::Failure(other.to_string()),
                })?;
            let addr = server
                .local_addr()
                .map_err(|e| CliError::Failure(e.to_string()))?;
            eprintln!(
                "docliveness API listening on http://{addr} (database {})",
                options.db_path.display()
            );
            server
                .run(crate::api::shutdown_signal())
                .map_err(|e| CliError::Failure(e.to_string()))
        }
        Command::Users { command } => users(command, &config),
        Command::Config => {
            let text =
                toml::to_string_pretty(&config).map_err(|e| CliError::Failure(e.to_string()))?;
            print!("{text}");
            Ok(())
        }
        Command::Eval { framing, json, dir } => {
            let labelled = evaluate::labelled_files(&dir)?;
            let engine = build_engine(config)?;
            evaluate::run(&engine, &labelled, framing.side, framing.region, json)
        }
    }
}

/// The users file: the one named on the command line, else the configured one, else the
/// platform's default; `serve` and the `users` commands must agree on it.
fn users_file(named: Option<PathBuf>, config: &Config) -> PathBuf {
    named
        .or_else(|| config.server.users_file.clone())
        .unwrap_or_else(crate::api::default_users_file)
}

/// The `users` commands.
fn users(command: UsersCommand, config: &Config) -> Result<(), CliError> {
    match command {
        UsersCommand::Add {
            name,
            users,
            password_stdin,
        } => {
            let path = users_file(users, config);
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| CliError::Failure(e.to_string()))?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                // Without a terminal the prompt cannot hide what is typed; say what to do
                // instead of passing on the system's "no such device".
                let no_terminal = |e: std::io::Error| {
                    CliError::Usage(format!(
                        "cannot ask for a password without a terminal ({e}); \
                         pipe it in with --password-stdin"
                    ))
                };
                let first = rpassword::prompt_password(format!("password for {name}: "))
                    .map_err(no_terminal)?;
                let again = rpassword::prompt_password("again: ").map_err(no_terminal)?;
                if first != again {
                    return Err(CliError::Usage("the passwords differ".into()));
                }
                first
            };
            crate::api::auth::add_user(&path, &name, &password)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            eprintln!("user {name} saved in {}", path.display());
            Ok(())
        }
        UsersCommand::Remove { name, users } => {
            let path = users_file(users, config);
            crate::api::auth::remove_user(&path, &name)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            eprintln!("user {name} removed from {}", path.display());
            Ok(())
        }
        UsersCommand::List { users } => {
            let path = users_file(users, config);
            let names =
                crate::api::auth::list_users(&path).map_err(|e| CliError::Usage(e.to_string()))?;
            for name in names {
                println!("{name}");
            }
            Ok(())
        }
    }
}

/// True when a window can be opened (always outside Linux and the BSDs).
fn has_display() -> bool {
    if !cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

fn build_engine(config: Config) -> Result<Engine, CliError> {
    Engine::new(config).map_err(|e| CliError::Failure(format!("cannot start the engine: {e}")))
}
