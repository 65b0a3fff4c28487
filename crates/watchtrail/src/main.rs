//! The `watchtrail` command line. All behaviour lives in the library; this only parses
//! arguments and runs.

use clap::Parser;

/// mimalloc: request handling allocates many small, short-lived objects; the system allocator
/// was a fifth of the server's CPU in the PutMetricData profile.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
