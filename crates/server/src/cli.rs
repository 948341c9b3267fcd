//! The `hotline` command line: serve (default), migrate, token create, registry import, anonymise,
//! openapi.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hotline_api::SystemClock;
use hotline_domain::registry::parse_registry_reader;
use hotline_domain::role::Role;
use hotline_storage::queries::{registry, tokens};
use uuid::Uuid;

use crate::settings::Settings;
use crate::{Application, open_storage_for_command, telemetry};

/// Cyber-incident hotline backend for medical institutions.
#[derive(Debug, Parser)]
#[command(name = "hotline", version, about)]
pub struct Cli {
    /// Directory with default.toml and <environment>.toml.
    #[arg(long, global = true, env = "HOTLINE_CONFIG_DIR", default_value = "config")]
    pub config: PathBuf,
    /// Environment whose <environment>.toml is layered on top (e.g. production).
    #[arg(long, global = true, env = "HOTLINE_ENVIRONMENT")]
    pub environment: Option<String>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the API until SIGTERM/SIGINT.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage API tokens.
    Token {
        /// Token action.
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Manage the member registry.
    Registry {
        /// Registry action.
        #[command(subcommand)]
        action: RegistryCommand,
    },
    /// Run the retention job once: replace the caller contact data of tickets closed longer ago than
    /// `privacy.retention.caller_contact_days` with the marker, and purge the access log (see
    /// docs/data-protection.md); prints what it did as JSON.
    Anonymise {
        /// List the tickets that are due without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the OpenAPI document (as served at /openapi.json and committed as docs/openapi.json).
    Openapi,
}

/// `hotline token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once (only a hash is stored).
    Create {
        /// Who or what the token is for, e.g. "desk-3" or "admin".
        #[arg(long)]
        name: String,
        /// operator, supervisor or admin.
        #[arg(long)]
        role: String,
    },
}

/// `hotline registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Import a registry CSV (see docs/registry.md): all-or-nothing, re-imports change nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The file is the whole roster: members and links it leaves out end today (kept, not deleted).
        #[arg(long)]
        snapshot: bool,
        /// Report what the import would create, change, end and re-open; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import a snapshot even if it ends more than registry.max_end_share of the active roster.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::Openapi)) {
        print!("{}", hotline_api::document_json());
        return Ok(());
    }
    let settings = Settings::load(&cli.config, cli.environment.as_deref())?;
    telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {}
        Command::Serve => {
            let app = Application::build(settings, Arc::new(SystemClock)).await?;
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let storage = open_storage_for_command(&settings)?;
            let applied = tokio::task::spawn_blocking(move || storage.run_migrations()).await??;
            println!("applied {} migration(s)", applied.len());
            for name in applied {
                println!("  {name}");
            }
        }
        Command::Token { action: TokenCommand::Create { name, role } } => {
            let role = Role::parse(&role).map_err(|error| anyhow::anyhow!(error.detail))?;
            let name = hotline_domain::text::required_text("name", &name, 100)
                .map_err(|error| anyhow::anyhow!(error.detail))?;
            let storage = open_storage_for_command(&settings)?;
            let generated = hotline_api::auth::generate_token();
            let token = tokens::NewToken {
                id: Uuid::now_v7(),
                name,
                role,
                token_hash: generated.hash,
                created_at: chrono::Utc::now(),
                created_by: None,
            };
            let created = tokio::task::spawn_blocking(move || {
                storage.run_migrations()?;
                storage.write(|conn| tokens::create(conn, &token))
            })
            .await??;
            eprintln!(
                "created {} token {:?} ({}); it is shown only once:",
                created.role, created.name, created.id
            );
            println!("{}", generated.secret);
        }
        Command::Anonymise { dry_run } => {
            let policy = settings.retention_policy()?;
            let access_log_days = settings.privacy.access_log_days;
            let storage = open_storage_for_command(&settings)?;
            let report = tokio::task::spawn_blocking(move || {
                storage.run_migrations()?;
                let now = chrono::Utc::now();
                let report = crate::privacy::anonymise_due(&storage, policy, now, dry_run)?;
                if !dry_run {
                    crate::privacy::purge_access_log(&storage, access_log_days, now)?;
                }
                Ok::<_, hotline_storage::StorageError>(report)
            })
            .await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Registry { action: RegistryCommand::Import { file, snapshot: whole, dry_run, force } } => {
            let input = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let checking = progress::spinner(format!("checking {}", file.display()));
            let parsed = parse_registry_reader(std::io::BufReader::new(input));
            checking.finish_and_clear();
            let snapshot = match parsed {
                Ok(snapshot) => snapshot,
                Err(errors) => {
                    for error in &errors {
                        match (error.line, error.field.is_empty()) {
                            (0, _) => eprintln!("{}", error.detail),
                            (line, true) => eprintln!("line {line}: {}", error.detail),
                            (line, false) => eprintln!("line {line}, {}: {}", error.field, error.detail),
                        }
                    }
                    anyhow::bail!("{} problem(s) in {}; nothing was imported", errors.len(), file.display());
                }
            };
            let storage = open_storage_for_command(&settings)?;
            let now = chrono::Utc::now();
            let options = registry::ImportOptions {
                snapshot: whole,
                dry_run,
                force,
                max_end_share: settings.registry.max_end_share,
                today: now.with_timezone(&settings.schedule()?.time_zone()).date_naive(),
            };
            let report = tokio::task::spawn_blocking(move || {
                storage.run_migrations()?;
                let bar = progress::ImportBar::new();
                let report = registry::import_into(&storage, &snapshot, now, None, &options, &mut |step| {
                    bar.show(step)
                });
                bar.finish();
                report
            })
            .await?;
            let report = match report {
                Ok(report) => report,
                Err(registry::ImportError::RegistrationTaken(taken)) => {
                    for (member, registration, holder) in &taken {
                        eprintln!(
                            "member {member}: registration number {registration} is held by member {holder}, who is not in this file"
                        );
                    }
                    anyhow::bail!("{} conflict(s) in {}; nothing was imported", taken.len(), file.display());
                }
                Err(error @ registry::ImportError::TooManyEnded { .. }) => {
                    anyhow::bail!("{error}: pass --force (try --dry-run first); nothing was imported")
                }
                Err(registry::ImportError::DryRun(report)) => *report,
                Err(registry::ImportError::Storage(error)) => return Err(error.into()),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

/// The import's progress on a terminal (indicatif draws nothing when stderr is not one, e.g. in CI or a
/// pipe, so scripted imports print only their report).
mod progress {
    use hotline_storage::queries::registry::{ImportProgress, ImportStage};
    use indicatif::{ProgressBar, ProgressStyle};

    /// A spinner with a message while something without a known length runs.
    pub fn spinner(message: String) -> ProgressBar {
        let spinner = ProgressBar::new_spinner().with_message(message);
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    }

    /// One bar, restarted for each stage of the import.
    pub struct ImportBar {
        bar: ProgressBar,
        stage: std::cell::Cell<Option<ImportStage>>,
    }

    impl ImportBar {
        pub fn new() -> Self {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template("{msg:>13} [{bar:40}] {pos}/{len} ({elapsed})") {
                bar.set_style(style.progress_chars("=> "));
            }
            ImportBar { bar, stage: std::cell::Cell::new(None) }
        }

        pub fn show(&self, step: ImportProgress) {
            if self.stage.get() != Some(step.stage) {
                self.stage.set(Some(step.stage));
                self.bar.reset();
                self.bar.set_length(step.total as u64);
                self.bar.set_message(step.stage.label());
            }
            self.bar.set_position(step.done as u64);
        }

        pub fn finish(&self) {
            self.bar.finish_and_clear();
        }
    }
}
