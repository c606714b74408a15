//! The settlesim binary: parse arguments, dispatch, print one line on error.

use std::io::Write;

use clap::Parser;
use clap::error::ErrorKind;

fn main() {
    let cli = match settlesim::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return;
        }
        Err(e) => {
            // One line, like every other error: clap's own first line names the flag and the problem.
            // clap lists missing arguments on the indented lines after its first: keep them on the line.
            let text = e.render().to_string();
            let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
            let mut line = lines.next().unwrap_or("error: bad arguments").to_string();
            for more in lines.take_while(|l| l.starts_with(' ') && !l.trim().is_empty()) {
                line.push(' ');
                line.push_str(more.trim());
            }
            eprintln!("{line} (see --help)");
            std::process::exit(2);
        }
    };
    match settlesim::cli::dispatch(cli) {
        Ok(text) => {
            // A closed pipe (`settlesim ... | head`) is not an error worth a panic.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
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
