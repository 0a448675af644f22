//! The access-control language of TCP Wrappers (`hosts.allow`,
//! `hosts.deny`), as Debian's tcp-wrappers 7.6.q-32 implements it: line
//! assembly, compiled tables, patterns, options, `%` expansion and
//! evaluation. Pure: every look-up and side effect goes through the traits
//! of [`env`] and [`exec`].
//!
//! ```
//! use tcpwrap_core::{check, Env, NoExec, Request, Settings, Table, TableRef};
//! let allow = Table::compile(b"hosts.allow", b"sshd: 10.0.0.0/8\n");
//! let deny = Table::compile(b"hosts.deny", b"ALL: ALL\n");
//! let mut req = Request::from_ctl(b"sshd", b"", b"10.1.2.3", b"");
//! let v = check(TableRef::Compiled(&allow), TableRef::Compiled(&deny), &mut req,
//!               Env::offline(), Settings::default(), &mut NoExec);
//! assert!(v.granted());
//! assert_eq!(v.rule.unwrap().line, 1);
//! ```

pub mod banner;
pub mod ctx;
pub mod diag;
pub mod env;
pub mod eval;
pub mod exec;
pub mod expand;
pub mod ident;
pub mod options;
pub mod pattern;
pub mod reader;
pub mod request;
pub mod table;
pub mod text;

pub use ctx::{Ctx, Lookup, LookupKind};
pub use diag::{Diagnostic, Kind, Level, Position};
pub use env::{
    Accounts, Env, Family, FileContent, Forward, Ident, Netgroups, Offline, PatternFiles, Resolver,
};
pub use eval::{
    Decision, OptionRun, Reason, RuleRef, Settings, TableRef, Verdict, Which, check, check_tables,
    process_options,
};
pub use exec::{Action, Executor, NoExec, Outcome};
pub use request::{EndpointHooks, Hooks, Request, Side};
pub use table::Table;
