//! tcpwrapd: a thin `main` over the library.

fn main() {
    std::process::exit(tcpwrapd::main());
}
