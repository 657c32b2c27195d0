//! The `crude` binary: with no subcommand it opens the desktop app; subcommands are the
//! headless CLI for quants and scripts.

mod cli;
mod settings;

use std::process::ExitCode;

fn main() -> ExitCode {
    owner_only_files();
    cli::main()
}

/// Every file Crude creates (databases, their WAL and lock files, logs, exports) holds
/// money records or what was done with them: owner-only, whatever the umask it was
/// started with.
fn owner_only_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-mode creation mask; it cannot fail and
    // touches no memory. It runs first in main, before any thread exists.
    unsafe {
        libc::umask(0o077);
    }
}
