use std::process::ExitCode;

use clap::Parser as _;
use sitewarden::cli::Cli;
use sitewarden::error::{Error, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            }
            .into();
        }
    };
    let printer = sitewarden::error_printer(Some(&cli));
    match sitewarden::run(cli) {
        Ok(exit) => exit.into(),
        Err(Error::Other(e)) if is_broken_pipe(&e) => Exit::Success.into(),
        Err(e) => {
            printer.error(&e.render());
            e.exit().into()
        }
    }
}

/// A reader that stops early (`| head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
