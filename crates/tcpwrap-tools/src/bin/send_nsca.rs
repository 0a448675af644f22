//! send_nsca: submit passive check results to an NSCA daemon (a drop-in
//! for Debian's nsca-client 2.10.2).

fn main() {
    std::process::exit(tcpwrap_tools::send_nsca::main());
}
