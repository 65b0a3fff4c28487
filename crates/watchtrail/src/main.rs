//! The `watchtrail` command line. All behaviour lives in the library; this only parses
//! arguments and runs.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = watchtrail::cli::Cli::parse();
    match watchtrail::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("watchtrail: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
