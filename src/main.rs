//! The settlesim binary: parse arguments, dispatch, print one line on error.

use clap::Parser;

fn main() {
    let cli = settlesim::cli::Cli::parse();
    match settlesim::cli::dispatch(cli) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            // Scenario errors are already `FILE:LINE:COL: message (field)`, the form editors jump to.
            match &e {
                settlesim::app::AppError::Scenario(_) => eprintln!("{e}"),
                _ => eprintln!("error: {e}"),
            }
            std::process::exit(e.exit_code());
        }
    }
}
