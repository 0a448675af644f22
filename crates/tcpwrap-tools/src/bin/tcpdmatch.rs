fn main() {
    std::process::exit(tcpwrap_tools::tcpdmatch::main())
}
