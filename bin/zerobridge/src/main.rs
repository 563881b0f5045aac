//! `zerobridge`: the one binary. Agents run as subcommands; keys are managed here too.

use std::path::PathBuf;

use alloy::primitives::B256;
use clap::{Parser, Subcommand, ValueEnum};
use eyre::{Context, Result, bail};
use metrics_exporter_prometheus::PrometheusBuilder;
use zb_keys::PasswordSource;

#[derive(Parser)]
#[command(name = "zerobridge", version, about = "Zero-trust ERC-20 bridge between EVM chains")]
struct Cli {
    /// Log format: human-readable text or JSON lines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "ZB_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// The validator agent: follows source chains, signs checkpoints, serves them.
    Validator {
        #[command(subcommand)]
        command: ValidatorCommand,
    },
    /// The relayer agent: gathers signatures and delivers batches.
    Relayer {
        #[command(subcommand)]
        command: RelayerCommand,
    },
    /// The watchtower: checks every delivery and the vaults, pauses and slashes on fraud.
    Watchtower {
        /// Its TOML configuration (config/watchtower.example.toml).
        #[arg(long, env = "ZB_WATCHTOWER_CONFIG")]
        config: PathBuf,
    },
    /// The public REST API and its indexer (docs/api.md); serves the web app's files too.
    Api {
        /// Its TOML configuration (config/api.example.toml).
        #[arg(long, env = "ZB_API_CONFIG")]
        config: PathBuf,
    },
    /// Encrypted signing keys (Web3 Secret Storage).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The local devnet: two anvil chains, the contracts, a demo route, validators, a relayer and a
    /// watchtower.
    Devnet(zb_cli::devnet::DevnetArgs),
    /// Token-team commands: register a bridge for your ERC-20, route status, list routes.
    Route {
        #[command(subcommand)]
        command: zb_cli::route::RouteCommand,
    },
    /// Validator operators: bond stake, allocate it to lanes, unbond, withdraw, rewards, snapshots.
    Stake {
        #[command(subcommand)]
        command: zb_cli::stake::StakeCommand,
    },
    /// Anyone: prove a fraudulent checkpoint signature and slash the signer's stake.
    Slash {
        #[command(subcommand)]
        command: zb_cli::slash::SlashCommand,
    },
    /// Send tokens to another chain, with checks and live progress until they arrive.
    Send(zb_ops::transfer::SendArgs),
    /// Show how far an earlier send has got (by its source transaction hash).
    Track(zb_ops::transfer::TrackArgs),
    /// Native and route-token balances of an address on every chain.
    Balance(zb_ops::transfer::BalanceArgs),
    /// Deliver a stuck transfer yourself (validator signatures, you pay the gas), or claim its
    /// refund on the source.
    Claim(zb_ops::claim::HolderArgs),
    /// The sender takes back a held (large) transfer: it is refunded on the source.
    Cancel(zb_ops::claim::HolderArgs),
    /// Regulator / auditor: export and verify the hash-chained log of every privileged action and
    /// transfer (read-only: RPC access only, no key).
    Audit {
        #[command(subcommand)]
        command: zb_cli::audit::AuditCommand,
    },
    /// Guardians: pause the bridge or a lane at once; paused flags.
    Guardian {
        #[command(subcommand)]
        command: zb_cli::governance::GuardianCommand,
    },
    /// Regulator: freeze and unfreeze accounts; list frozen accounts.
    Regulator {
        #[command(subcommand)]
        command: zb_cli::governance::RegulatorCommand,
    },
    /// Compliance issuer: attest and revoke accounts for allowlist routes.
    Compliance {
        #[command(subcommand)]
        command: zb_cli::governance::ComplianceCommand,
    },
    /// Committee governance: propose, vote, queue, execute, cancel, status.
    Gov {
        #[command(subcommand)]
        command: zb_cli::governance::GovCommand,
    },
    /// Check the network: chains reachable, who holds ADMIN, single-key warnings.
    Doctor(zb_cli::doctor::DoctorArgs),
}

#[derive(Subcommand)]
enum ValidatorCommand {
    /// Run the validator.
    Run {
        #[arg(long, env = "ZB_VALIDATOR_CONFIG")]
        config: PathBuf,
    },
    /// Export the slashing-protection history as JSON (docs/store-format.md).
    ExportHistory {
        #[arg(long)]
        config: PathBuf,
        /// Output file; stdout if absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import a slashing-protection history (e.g. from the machine this validator moves from).
    ImportHistory {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        file: PathBuf,
    },
    /// Remove a persisted halt (docs/operations.md, "Halts"). Run it with the validator stopped.
    #[command(group = clap::ArgGroup::new("halt").required(true).multiple(true).args(["lane", "chain"]))]
    Unhalt {
        #[arg(long)]
        config: PathBuf,
        /// The lane halted on an accumulator mismatch.
        #[arg(long)]
        lane: Option<B256>,
        /// The chain (its name in the config) halted on a reorg deeper than finality.
        #[arg(long)]
        chain: Option<String>,
    },
}

#[derive(Subcommand)]
enum RelayerCommand {
    /// Run the relayer.
    Run {
        #[arg(long, env = "ZB_RELAYER_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a new random key.
    New {
        #[arg(long, default_value = "keys")]
        dir: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Import a private key read from an environment variable (never from the command line).
    Import {
        #[arg(long, default_value = "keys")]
        dir: PathBuf,
        /// Environment variable that holds the hex private key.
        #[arg(long, default_value = "ZB_PRIVATE_KEY")]
        private_key_env: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List the keys in a directory.
    List {
        #[arg(long, default_value = "keys")]
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct PasswordArgs {
    /// File holding the keystore password...
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// ...or the environment variable holding it.
    #[arg(long, default_value = "ZB_KEYSTORE_PASSWORD")]
    password_env: String,
}

impl PasswordArgs {
    fn read(&self) -> Result<String> {
        let source = match &self.password_file {
            Some(file) => PasswordSource::File(file.clone()),
            None => PasswordSource::Env(self.password_env.clone()),
        };
        Ok(source.read()?)
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line ("outer: cause: root cause"), skipping causes the outer
/// message already quotes.
fn one_line(error: &eyre::Report) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Validator { command } => validator(command).await,
        Command::Relayer { command: RelayerCommand::Run { config } } => {
            let config = zb_relayer::RelayerConfig::load(&config)?;
            let signer = zb_relayer::load_signer(&config.key)?;
            let metrics = PrometheusBuilder::new().install_recorder().wrap_err("installing metrics recorder")?;
            Ok(zb_relayer::run(config, signer, metrics, shutdown_signal()).await?)
        }
        Command::Watchtower { config } => {
            let config = zb_watchtower::WatchtowerConfig::load(&config)?;
            let signer = zb_watchtower::load_signer(&config.key)?;
            let metrics = PrometheusBuilder::new().install_recorder().wrap_err("installing metrics recorder")?;
            Ok(zb_watchtower::run(config, signer, metrics, shutdown_signal()).await?)
        }
        Command::Api { config } => {
            let config = zb_api::ApiConfig::load(&config)?;
            Ok(zb_api::run(config, shutdown_signal()).await?)
        }
        Command::Keys { command } => keys(command),
        Command::Devnet(args) => zb_cli::devnet::run(args).await,
        Command::Route { command } => zb_cli::route::run(command).await,
        Command::Stake { command } => zb_cli::stake::run(command).await,
        Command::Slash { command } => zb_cli::slash::run(command).await,
        Command::Send(args) => zb_cli::transfer::send(&args).await,
        Command::Track(args) => zb_cli::transfer::track(&args).await,
        Command::Balance(args) => zb_cli::balance::run(&args).await,
        Command::Claim(args) => zb_cli::transfer::claim(&args).await,
        Command::Cancel(args) => zb_cli::cancel::run(&args).await,
        Command::Audit { command } => zb_cli::audit::run(command).await,
        Command::Guardian { command } => zb_cli::governance::guardian(command).await,
        Command::Regulator { command } => zb_cli::governance::regulator(command).await,
        Command::Compliance { command } => zb_cli::governance::compliance(command).await,
        Command::Gov { command } => zb_cli::governance::gov(command).await,
        Command::Doctor(args) => zb_cli::doctor::run(args).await,
    }
}

async fn validator(command: ValidatorCommand) -> Result<()> {
    match command {
        ValidatorCommand::Run { config } => {
            let config = zb_validator::ValidatorConfig::load(&config)?;
            let signer = validator_signer(&config)?;
            let metrics = PrometheusBuilder::new().install_recorder().wrap_err("installing metrics recorder")?;
            Ok(zb_validator::run(config, signer, metrics, shutdown_signal()).await?)
        }
        ValidatorCommand::ExportHistory { config, out } => {
            let config = zb_validator::ValidatorConfig::load(&config)?;
            let signer = validator_signer(&config)?;
            let history = serde_json::to_string_pretty(&zb_validator::export_history(&config, signer.address())?)?;
            match out {
                Some(path) => std::fs::write(&path, history).wrap_err_with(|| format!("writing {}", path.display()))?,
                None => println!("{history}"),
            }
            Ok(())
        }
        ValidatorCommand::ImportHistory { config, file } => {
            let config = zb_validator::ValidatorConfig::load(&config)?;
            let text = std::fs::read_to_string(&file).wrap_err_with(|| format!("reading {}", file.display()))?;
            let history = serde_json::from_str(&text).wrap_err("not a zerobridge slashing-protection history")?;
            let report = zb_validator::import_history(&config, &history)?;
            println!("imported {} entries, {} already present", report.imported, report.skipped);
            Ok(())
        }
        ValidatorCommand::Unhalt { config, lane, chain } => {
            let config = zb_validator::ValidatorConfig::load(&config)?;
            let removed = zb_validator::unhalt(&config, lane, chain.as_deref())?;
            match (lane, removed.lane) {
                (Some(_), Some(h)) => {
                    println!("removed halt of lane {} from sequence {}: {}", h.lane, h.sequence, h.reason)
                }
                (Some(l), None) => println!("lane {l} was not halted"),
                (None, _) => {}
            }
            match (chain, removed.chain) {
                (Some(_), Some(h)) => println!("removed halt of chain {}: {}", h.chain, h.reason),
                (Some(c), None) => println!("chain {c} was not halted"),
                (None, _) => {}
            }
            Ok(())
        }
    }
}

fn validator_signer(config: &zb_validator::ValidatorConfig) -> Result<alloy::signers::local::PrivateKeySigner> {
    let password = config.password_source().read()?;
    Ok(zb_keys::load_key(&config.keystore, &password)?)
}

fn keys(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::New { dir, password } => {
            let info = zb_keys::new_key(&dir, &password.read()?)?;
            println!("{} {}", info.address, info.path.display());
        }
        KeysCommand::Import { dir, private_key_env, password } => {
            let Ok(raw) = std::env::var(&private_key_env) else {
                bail!("environment variable {private_key_env} is not set: put the hex private key there");
            };
            let key: B256 =
                raw.trim().parse().wrap_err_with(|| format!("{private_key_env} is not a 32-byte hex key"))?;
            let info = zb_keys::import_key(&dir, key, &password.read()?)?;
            println!("{} {}", info.address, info.path.display());
        }
        KeysCommand::List { dir } => {
            for key in zb_keys::list_keys(&dir)? {
                println!("{} {}", key.address, key.path.display());
            }
        }
    }
    Ok(())
}
