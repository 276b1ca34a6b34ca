use std::process::ExitCode;

use clap::Parser as _;
use sitewarden::cli::Cli;
use sitewarden::error::{Error, Exit};

fn main() -> ExitCode {
    one_malloc_arena();
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

/// glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory freed
/// in one is not reused by the others: a deploy's walk, hash, parse and upload phases run on
/// different threads, so its peak resident memory was about twice what it allocated at once
/// (measured with massif against `/usr/bin/time`). One arena keeps the peak near the live heap;
/// the threads allocate little, so sharing its lock costs nothing measurable.
#[allow(unsafe_code)]
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
