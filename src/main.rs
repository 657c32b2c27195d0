//! The `crude` binary: with no subcommand it opens the desktop app; subcommands are the
//! headless CLI for quants and scripts.

mod cli;
mod settings;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
