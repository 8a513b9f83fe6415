//! A small `ip netns` look-alike built on nslink.
//!
//! ```text
//! netns add NAME            create a named namespace      (ip netns add)
//! netns attach NAME PID     name the namespace of PID     (ip netns attach)
//! netns list                list named namespaces         (ip netns list)
//! netns identify [PID]      names of PID's namespace      (ip netns identify)
//! netns exec NAME CMD...    run CMD inside NAME           (ip netns exec)
//! netns del NAME            delete a named namespace      (ip netns del)
//! ```
//!
//! Try it (as root):
//!
//! ```text
//! cargo run --example netns -- add test1
//! cargo run --example netns -- exec test1 ip a s     # only lo, DOWN
//! cargo run --example netns -- del test1
//! ```
//!
//! `netns --help` prints the usage to stdout and exits 0; a usage mistake
//! prints it to stderr and exits 2. Errors are printed with their `Display`
//! text and the exit status is 1; `exec` exits with the command's own
//! status.

use std::process::ExitCode;

use nslink::{NetNs, NetnsDir};

const USAGE: &str = "\
usage: netns add NAME
       netns attach NAME PID
       netns list
       netns identify [PID]
       netns exec NAME CMD [ARGS...]
       netns del NAME";

/// Why the program stops: a usage mistake or an error to print.
enum Failure {
    Usage(String),
    Error(String),
}

impl From<nslink::Error> for Failure {
    fn from(e: nslink::Error) -> Failure {
        Failure::Error(e.to_string())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("netns: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(msg)) => {
            eprintln!("netns: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Failure::Usage("missing command".into()));
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (cmd.as_str(), rest.as_slice()) {
        ("add", [name]) => {
            NetNs::create(*name)?;
        }
        ("attach", [name, pid]) => {
            NetnsDir::default().attach(*name, parse_pid(pid)?)?;
        }
        ("list" | "ls" | "show", []) => {
            for name in NetNs::list()? {
                println!("{name}");
            }
        }
        ("identify", []) => identify(std::process::id())?,
        ("identify", [pid]) => identify(parse_pid(pid)?)?,
        ("exec", [name, program, cmd_args @ ..]) => return exec(name, program, cmd_args),
        ("del" | "delete", [name]) => NetNs::delete(*name)?,
        ("help" | "-h" | "--help", _) => println!("{USAGE}"),
        (other, _) => {
            let known = ["add", "attach", "list", "identify", "exec", "del"];
            let msg = if known.contains(&other) {
                format!("wrong arguments for {other:?}")
            } else {
                format!("unknown command {other:?}")
            };
            return Err(Failure::Usage(msg));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_pid(s: &str) -> Result<u32, Failure> {
    match s.parse::<u32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => Err(Failure::Usage(format!("invalid pid {s:?}"))),
    }
}

fn identify(pid: u32) -> Result<(), Failure> {
    for name in NetnsDir::default().identify_pid(pid)? {
        println!("{name}");
    }
    Ok(())
}

/// Runs the command inside the namespace and passes its exit status on
/// (128 + the signal number when it was killed, as shells do).
fn exec(name: &str, program: &str, args: &[&str]) -> Result<ExitCode, Failure> {
    let ns = NetNs::open(name)?;
    let status = ns
        .command(program)?
        .args(args)
        .status()
        .map_err(|e| Failure::Error(format!("exec {program:?} in namespace {name:?}: {e}")))?;
    let code = match status.code() {
        Some(code) => code,
        None => {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        }
    };
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}
