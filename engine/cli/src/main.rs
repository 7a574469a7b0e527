//! `pve <subcommand>`: reads one JSON request on stdin, writes one JSON response on stdout.
//! Errors are written to stdout as `{"error":{"code","message"}}` (the same body the HTTP API sends) and
//! the exit code is 2 for a bad request, 1 for an internal error.
use pve_api::{ApiError, ErrorCode, Operation};
use std::io::{Read, Write};
use std::process::ExitCode;

fn usage() -> String {
    let mut s = String::from(
        "pve: probabilistic valuation engine for MapleStory equipment\n\n\
         Usage: pve <SUBCOMMAND> < request.json > response.json\n\n\
         Reads one JSON request on stdin and writes one JSON response on stdout; the schema is the\n\
         same as the HTTP API's POST /v1/<SUBCOMMAND> and the browser's Wasm API.\n\nSubcommands:\n",
    );
    for op in Operation::ALL {
        s.push_str(&format!("  {:<11} {}\n", op.as_str(), op.summary()));
    }
    s.push_str("  version     print the engine and data versions as JSON\n");
    s.push_str("\nOptions:\n  -h, --help  print this help\n");
    s
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if matches!(cmd, "-h" | "--help" | "help") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if cmd == "version" {
        println!("{}", pve_api::version_json());
        return ExitCode::SUCCESS;
    }
    let Some(op) = Operation::parse(cmd) else {
        eprintln!("pve: unknown subcommand {cmd:?}\n");
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if args.len() > 1 {
        eprintln!("pve: {cmd} takes no arguments; it reads its JSON request on stdin");
        return ExitCode::from(2);
    }
    let mut input = String::new();
    let result = match std::io::stdin().read_to_string(&mut input) {
        Ok(_) => pve_api::handle(op, &input),
        Err(e) => Err(ApiError::new(
            ErrorCode::MalformedJson,
            format!("could not read stdin: {e}"),
        )),
    };
    let (body, code) = match result {
        Ok(body) => (body, ExitCode::SUCCESS),
        Err(e) => {
            let exit = if e.code.is_client_error() { 2 } else { 1 };
            (pve_api::error_json(&e), ExitCode::from(exit))
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{body}").is_err() {
        return ExitCode::from(1);
    }
    code
}
