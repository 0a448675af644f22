//! TCP Wrappers for Rust programs and for the tcpwrap tools.
//!
//! [`Checker`] is the thread-safe entry point: it decides requests against
//! `hosts.allow`/`hosts.deny`, keeps the compiled tables cached by file
//! identity (re-read automatically when a file changes), resolves names with
//! the system resolver, asks ident servers, and explains every decision in
//! the returned [`Verdict`].
//!
//! ```no_run
//! use tcpwrap::{Checker, Request, Settings, NoExec};
//! let checker = Checker::new("/etc/hosts.allow", "/etc/hosts.deny");
//! let mut req = Request::from_ctl(b"sshd", b"", b"192.0.2.7", b"");
//! let verdict = checker.check(&mut req, Settings::default(), &mut NoExec);
//! println!("{:?} by {:?}", verdict.decision, verdict.rule);
//! ```

pub mod alert;
pub mod cache;
pub mod exec;
pub mod ident;
pub mod log;
pub mod resolver;
pub mod sys;
pub mod watch;

pub use tcpwrap_core::{
    Decision, Diagnostic, Env, Executor, NoExec, Reason, Request, RuleRef, Settings, Side, Table,
    TableRef, Verdict,
};

pub use cache::{CacheCounters, Revalidate};
use cache::{CachedFiles, Loaded, TableCache};
use ident::IdentClient;
use resolver::{SystemAccounts, SystemNetgroups, SystemResolver};

/// Debian's table locations.
pub const HOSTS_ALLOW: &str = "/etc/hosts.allow";
pub const HOSTS_DENY: &str = "/etc/hosts.deny";

/// Decides requests against a pair of table files. `Send + Sync`: share one
/// between threads.
#[derive(Debug)]
pub struct Checker {
    allow: Vec<u8>,
    deny: Vec<u8>,
    tables: TableCache,
    files: CachedFiles,
    resolver: SystemResolver,
    ident: IdentClient,
}

impl Checker {
    /// A checker for the two table paths (as they should appear in messages).
    pub fn new(allow: impl AsRef<[u8]>, deny: impl AsRef<[u8]>) -> Checker {
        Checker {
            allow: allow.as_ref().to_vec(),
            deny: deny.as_ref().to_vec(),
            tables: TableCache::new(),
            files: CachedFiles::default(),
            resolver: SystemResolver,
            ident: IdentClient::default(),
        }
    }

    /// Debian's default tables.
    pub fn system() -> Checker {
        Checker::new(HOSTS_ALLOW, HOSTS_DENY)
    }

    /// Confirm cached tables as `how` says (change notification by
    /// default).
    pub fn revalidate(mut self, how: Revalidate) -> Checker {
        self.tables = TableCache::with(how);
        self.files = CachedFiles::with(how);
        self
    }

    /// What the table cache and the `/file` cache did so far.
    pub fn cache_counters(&self) -> (CacheCounters, CacheCounters) {
        (self.tables.counters(), self.files.counters())
    }

    /// Use another ident port (tests).
    pub fn with_ident_port(mut self, port: u16) -> Checker {
        self.ident = IdentClient { port };
        self
    }

    /// The system services this checker uses.
    pub fn env(&self) -> Env<'_> {
        Env {
            resolver: &self.resolver,
            ident: &self.ident,
            netgroups: &SystemNetgroups,
            files: &self.files,
            accounts: &SystemAccounts,
        }
    }

    /// The system services of this checker with another resolver (for
    /// example one that gives up after a time-out, as tcpwrapd's).
    pub fn env_with<'a>(&'a self, resolver: &'a dyn tcpwrap_core::Resolver) -> Env<'a> {
        Env {
            resolver,
            ..self.env()
        }
    }

    /// Load (or reuse) the two tables.
    pub fn tables(&self) -> (Loaded, Loaded) {
        (self.tables.load(&self.allow), self.tables.load(&self.deny))
    }

    /// Decide `req`. Option side effects go to `exec` (use
    /// [`exec::SystemExecutor`] to carry them out, [`NoExec`] to only report
    /// them).
    pub fn check(&self, req: &mut Request, settings: Settings, exec: &mut dyn Executor) -> Verdict {
        self.check_with(self.env(), req, settings, exec)
    }

    /// Decide `req` with the look-up services of `env` (see
    /// [`Checker::env_with`]) and this checker's cached tables.
    pub fn check_with(
        &self,
        env: Env<'_>,
        req: &mut Request,
        settings: Settings,
        exec: &mut dyn Executor,
    ) -> Verdict {
        // The deny table is loaded only when the allow table did not decide.
        let allow = self.tables.load(&self.allow);
        let deny = std::cell::OnceCell::new();
        let mut tables = |w: tcpwrap_core::Which| match w {
            tcpwrap_core::Which::Allow => table_ref(&allow),
            tcpwrap_core::Which::Deny => {
                table_ref(deny.get_or_init(|| self.tables.load(&self.deny)))
            }
        };
        tcpwrap_core::check_tables(&mut tables, req, env, settings, exec)
    }
}

/// Decide with already loaded tables.
pub fn check_loaded(
    allow: &Loaded,
    deny: &Loaded,
    req: &mut Request,
    env: Env<'_>,
    settings: Settings,
    exec: &mut dyn Executor,
) -> Verdict {
    tcpwrap_core::check(table_ref(allow), table_ref(deny), req, env, settings, exec)
}

fn table_ref(l: &Loaded) -> TableRef<'_> {
    match l {
        Loaded::Missing => TableRef::Missing,
        Loaded::Unreadable { path, error } => TableRef::Unreadable { path, error },
        Loaded::Table(t) => TableRef::Compiled(t),
    }
}
