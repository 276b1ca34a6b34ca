//! sitewarden: publish a folder of static files as a secure, production-grade website on AWS.

pub mod adopt;
pub mod audit;
pub mod aws;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod csp;
pub mod deploy;
pub mod edge;
pub mod error;
pub mod iam;
pub mod init;
pub mod names;
pub mod observe;
pub mod output;
pub mod policy;
pub mod provision;
pub mod settings;
pub mod site;
pub mod validate;

use clap::CommandFactory as _;

/// Where sitewarden's source lives (SARIF's tool information, the CI workflow's install step).
pub const REPOSITORY: &str = "https://github.com/sitewarden/sitewarden";

use crate::cli::{Cli, Command};
use crate::error::{Exit, Result};
use crate::output::Printer;
use crate::settings::Settings;

/// Runs one parsed command line and returns how the process should exit.
pub fn run(cli: Cli) -> Result<Exit> {
    let settings = Settings::resolve(&cli.global)?;
    let printer = Printer::new(settings.output);
    match cli.command {
        Command::Init(args) => init::run(&args, &settings, &printer)?,
        Command::Validate => runtime()?.block_on(validate::run(&settings, &printer))?,
        Command::Plan {
            detailed_exitcode,
            infra_only,
            format,
        } => {
            return runtime()?.block_on(commands::plan(
                &settings,
                detailed_exitcode,
                infra_only,
                format,
            ));
        }
        Command::Up {
            infra_only,
            no_wait,
            wait_for_lock,
        } => {
            let options = deploy::Options {
                invalidate: true,
                wait: !no_wait,
                wait_for_lock,
                ..Default::default()
            };
            return runtime()?.block_on(commands::up(&settings, &printer, options, infra_only));
        }
        Command::Deploy(args) => {
            let (options, format) = (args.options(), args.format);
            return runtime()?.block_on(commands::deploy(&settings, options, format));
        }
        Command::History => return runtime()?.block_on(commands::history(&settings, &printer)),
        Command::Rollback(args) => {
            let target = args.deploy_id.as_deref();
            let options = args.options();
            return runtime()?.block_on(commands::rollback(&settings, &printer, target, options));
        }
        Command::Unlock { force } => {
            return runtime()?.block_on(commands::unlock(&settings, &printer, force));
        }
        Command::Preview { port, remote } => {
            return runtime()?.block_on(commands::preview(&settings, &printer, port, remote));
        }
        Command::IamPolicy { purpose } => {
            return runtime()?.block_on(commands::iam_policy(&settings, &printer, purpose));
        }
        Command::Destroy {
            delete_content,
            keep_key,
        } => {
            let what = commands::Destroy {
                delete_content,
                keep_key,
            };
            return runtime()?.block_on(commands::destroy(&settings, &printer, what));
        }
        Command::Adopt(args) => {
            return runtime()?.block_on(adopt::run(&settings, &printer, args.into_options()));
        }
        Command::Ci(args) => {
            return runtime()?.block_on(ci::run(&settings, &printer, args));
        }
        Command::Audit(args) => {
            return runtime()?.block_on(audit::run(&settings, args.into_options()));
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sitewarden", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
        }
    }
    Ok(Exit::Success)
}

/// Printer for errors that happen before settings exist (colour from the environment only).
pub fn error_printer(cli: Option<&Cli>) -> Printer {
    let fallback = crate::settings::OutputSettings {
        json: false,
        quiet: false,
        verbose: false,
        color: false,
        stderr_terminal: false,
    };
    let settings = cli
        .and_then(|c| Settings::resolve(&c.global).ok())
        .map_or(fallback, |s| s.output);
    Printer::new(settings)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?)
}
