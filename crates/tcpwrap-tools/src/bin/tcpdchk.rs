fn main() {
    std::process::exit(tcpwrap_tools::tcpdchk::main())
}
