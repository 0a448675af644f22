pub mod tcpdmatch;
