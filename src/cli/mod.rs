//! The command line: argument parsing and the commands. A thin edge over the engine.

mod batch;
mod check;
mod evaluate;
mod files;
mod progress;
mod queue;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::engine::{Engine, Region, Side};

/// Exit status for a finished run (even if some images had errors).
pub const EXIT_OK: i32 = 0;
/// Exit status for an internal failure.
pub const EXIT_FAILURE: i32 = 1;
/// Exit status for a usage error.
pub const EXIT_USAGE: i32 = 2;

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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check photos of documents (files or folders, searched recursively).
    Check {
        /// Which side of the document the photos show.
        #[arg(long, value_enum, default_value_t = Side::Front)]
        side: Side,
        /// Judge the detected document, or the whole frame (skips the DOCUMENT_* rules).
        #[arg(long, value_enum, default_value_t = Region::Document)]
        region: Region,
        /// One JSON object per image per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Image files or folders.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// The review queue: import, export, statistics.
    Queue {
        /// The review database (default: the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// What to do with the queue.
        #[command(subcommand)]
        command: queue::QueueCommand,
    },
    /// Print the configuration in force (defaults plus --config) as TOML.
    Config,
    /// Measure error rates on a labelled folder with sub-folders genuine/, screen/,
    /// print/ and digital/.
    Eval {
        /// Which side of the document the photos show.
        #[arg(long, value_enum, default_value_t = Side::Front)]
        side: Side,
        /// Judge the detected document, or the whole frame.
        #[arg(long, value_enum, default_value_t = Region::Document)]
        region: Region,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The labelled folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
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
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Failure(_) => EXIT_FAILURE,
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
    match cli.command {
        Command::Check {
            side,
            region,
            json,
            paths,
        } => {
            let engine = build_engine(config)?;
            check::run(&engine, &paths, side, region, json)
        }
        Command::Queue { db, command } => {
            let db = db.unwrap_or_else(crate::review::default_db_path);
            let thresholds = config.thresholds;
            queue::run(command, &db, || build_engine(config), thresholds)
        }
        Command::Config => {
            let text =
                toml::to_string_pretty(&config).map_err(|e| CliError::Failure(e.to_string()))?;
            print!("{text}");
            Ok(())
        }
        Command::Eval {
            side,
            region,
            json,
            dir,
        } => {
            let labelled = evaluate::labelled_files(&dir)?;
            let engine = build_engine(config)?;
            evaluate::run(&engine, &labelled, side, region, json)
        }
    }
}

fn build_engine(config: Config) -> Result<Engine, CliError> {
    Engine::new(config).map_err(|e| CliError::Failure(format!("cannot start the engine: {e}")))
}
