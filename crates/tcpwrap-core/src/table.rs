//! Compiled access-control tables (§1): parsed once into rules whose tokens
//! are classified patterns, with an index over long runs of single-address
//! rules (as DenyHosts, fail2ban and sshguard write them) so that a check
//! does not walk every rule. First-match order, the look-ups made, and the
//! diagnostics of malformed lines are exactly those of a linear scan.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::pattern::{ClientPat, DaemonPat, HostPat, Span, StrPat};
use crate::reader::LineReader;
use crate::text::{eq_ci, is_list_sep, split_at_bracket};

/// A list element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<P> {
    Except,
    Pat(P),
}

/// A range of items in one of the table's arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Range {
    pub start: u32,
    pub len: u32,
}

impl Range {
    fn of<T>(self, v: &[T]) -> &[T] {
        &v[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Diagnostic line number (last physical line of the logical line).
    pub line: u32,
    pub(crate) daemons: Range,
    pub(crate) clients: Range,
    /// Raw option text after the second `:` (including the newline).
    pub(crate) options: Option<Span>,
    /// 1-based column where the option text starts.
    pub options_column: u32,
    /// Raw daemon list and client list text.
    pub(crate) daemon_text: Span,
    pub(crate) client_text: Span,
}

/// A table entry, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Rule(Box<Rule>),
    /// The compact form of a rule whose client list is one canonical dotted
    /// quad and that has no options (`sshd: 192.0.2.7`, as DenyHosts,
    /// fail2ban and sshguard write them): matched against the address only.
    Addr {
        line: u32,
        daemons: Range,
        daemon_text: Span,
        addr: u32,
    },
    /// A line without `:`: warned about when scanned, then skipped.
    NoSeparator {
        line: u32,
    },
}

/// An index over a run of consecutive single-address rules.
///
/// The first check after the table was compiled scans `keys` linearly (a
/// few nanoseconds per rule, no sorting); later checks sort once and then
/// use binary search.
#[derive(Debug)]
pub(crate) struct Run {
    /// Entries `first..first+count`.
    pub first: u32,
    pub count: u32,
    /// Distinct daemon lists of the run.
    pub daemon_lists: Vec<Range>,
    /// Per entry of the run: index into `daemon_lists`.
    pub list_of: Vec<u8>,
    /// (address, entry) in entry order.
    pub keys: Vec<(u32, u32)>,
    /// `keys` sorted by address (then entry), built on the second use.
    sorted: OnceLock<Vec<(u32, u32)>>,
    uses: AtomicU32,
}

impl Run {
    /// Entries of the run that hold address `key`, in file order.
    pub fn entries_with(&self, key: u32, mut f: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.sorted.get().is_none() && self.uses.fetch_add(1, Ordering::Relaxed) == 0 {
            return self
                .keys
                .iter()
                .filter(|&&(a, _)| a == key)
                .map(|&(_, e)| e)
                .find(|&e| f(e));
        }
        let sorted = self.sorted.get_or_init(|| {
            let mut v = self.keys.clone();
            v.sort_unstable();
            v
        });
        let from = sorted.partition_point(|&(a, _)| a < key);
        sorted[from..]
            .iter()
            .take_while(|&&(a, _)| a == key)
            .map(|&(_, e)| e)
            .find(|&e| f(e))
    }
}

impl Clone for Run {
    fn clone(&self) -> Self {
        Run {
            first: self.first,
            count: self.count,
            daemon_lists: self.daemon_lists.clone(),
            list_of: self.list_of.clone(),
            keys: self.keys.clone(),
            sorted: self.sorted.clone(),
            uses: AtomicU32::new(self.uses.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Run {
    fn eq(&self, o: &Self) -> bool {
        (
            self.first,
            self.count,
            &self.daemon_lists,
            &self.list_of,
            &self.keys,
        ) == (o.first, o.count, &o.daemon_lists, &o.list_of, &o.keys)
    }
}

impl Eq for Run {}

/// Runs shorter than this are scanned linearly.
const MIN_RUN: usize = 4;
/// Distinct daemon lists allowed in one indexed run.
const MAX_LISTS: usize = 32;

/// The address of a client list that consists of exactly one canonical
/// dotted quad surrounded by list separators (no second `:`, so no options).
fn single_address(rest: &[u8]) -> Option<u32> {
    let start = rest.iter().position(|&b| !matches!(b, b' ' | b'\t'))?;
    let (addr, used) = crate::pattern::canonical_ip4_prefix(&rest[start..])?;
    let tail = &rest[start + used..];
    tail.iter()
        .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .then_some(addr)
}

/// `split_at(text, ':')`, with a fast path for text without brackets.
fn first_colon(text: &[u8]) -> Option<usize> {
    let p = memchr::memchr(b':', text)?;
    if memchr::memchr2(b'[', b']', &text[..p]).is_none() {
        Some(p)
    } else {
        split_at_bracket(text, b':')
    }
}

/// A compiled table file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The name used in diagnostics (the path as configured).
    pub name: Arc<[u8]>,
    pub(crate) arena: Vec<u8>,
    pub(crate) daemons: Vec<Item<DaemonPat>>,
    pub(crate) clients: Vec<Item<ClientPat>>,
    pub entries: Vec<Entry>,
    /// The line of a logical line without newline (or too long): the table
    /// ends there with an ERROR.
    pub error_line: Option<u32>,
    pub(crate) runs: Vec<Run>,
}

impl Table {
    /// Compile table text. Never fails: malformed lines become entries or
    /// the error tail, exactly as the original reports them.
    pub fn compile(name: &[u8], data: &[u8]) -> Table {
        let mut t = Table {
            name: name.into(),
            arena: Vec::new(),
            daemons: Vec::new(),
            clients: Vec::new(),
            entries: Vec::with_capacity(data.len() / 24),
            error_line: None,
            runs: Vec::new(),
        };
        // The daemon list of the previous rule: consecutive rules with the
        // same daemon text share their classified items.
        let mut last_daemons: Option<(Vec<u8>, Range, Span)> = None;
        for l in LineReader::new(data) {
            if !l.complete {
                t.error_line = Some(l.line);
                break;
            }
            let text: &[u8] = &l.text;
            let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
            if text[0] == b'#' || (blank(&text[0]) && text.iter().all(blank)) {
                continue;
            }
            let Some(p1) = first_colon(text) else {
                t.entries.push(Entry::NoSeparator { line: l.line });
                continue;
            };
            let rest = &text[p1 + 1..];
            let dtext = &text[..p1];
            let (daemons, daemon_text) = match &last_daemons {
                Some((prev, r, sp)) if prev.as_slice() == dtext => (*r, *sp),
                _ => {
                    let d_start = t.daemons.len() as u32;
                    for tok in dtext.split(|&b| is_list_sep(b)).filter(|s| !s.is_empty()) {
                        let item = if eq_ci(tok, b"EXCEPT") {
                            Item::Except
                        } else {
                            Item::Pat(DaemonPat::classify(&mut t.arena, tok))
                        };
                        t.daemons.push(item);
                    }
                    let r = Range {
                        start: d_start,
                        len: t.daemons.len() as u32 - d_start,
                    };
                    let sp = Span::push(&mut t.arena, dtext);
                    last_daemons = Some((dtext.to_vec(), r, sp));
                    (r, sp)
                }
            };
            // Fast path: a client list that is one canonical dotted quad and
            // nothing else (the shape of DenyHosts/fail2ban/sshguard lines)
            // classifies without the general tokenizer.
            if let Some(addr) = single_address(rest) {
                t.entries.push(Entry::Addr {
                    line: l.line,
                    daemons,
                    daemon_text,
                    addr,
                });
                continue;
            }
            let c_start = t.clients.len() as u32;
            let (clients, options, opt_col) = match split_at_bracket(rest, b':') {
                Some(p2) => (&rest[..p2], Some(&rest[p2 + 1..]), (p1 + p2 + 3) as u32),
                None => (rest, None, 0),
            };
            for tok in clients.split(|&b| is_list_sep(b)).filter(|s| !s.is_empty()) {
                let item = if eq_ci(tok, b"EXCEPT") {
                    Item::Except
                } else {
                    Item::Pat(ClientPat::classify(&mut t.arena, tok))
                };
                t.clients.push(item);
            }
            let options = options.map(|o| Span::push(&mut t.arena, o));
            let client_text = Span::push(&mut t.arena, clients);
            t.entries.push(Entry::Rule(Box::new(Rule {
                line: l.line,
                daemons,
                clients: Range {
                    start: c_start,
                    len: t.clients.len() as u32 - c_start,
                },
                options,
                options_column: opt_col,
                daemon_text,
                client_text,
            })));
        }
        t.build_index();
        t
    }

    /// The same table without its address index: every check scans the
    /// rules linearly (the reference behaviour the index must reproduce).
    pub fn without_index(mut self) -> Table {
        self.runs.clear();
        self
    }

    /// Daemon-list items of a range.
    pub fn daemon_range(&self, r: Range) -> &[Item<DaemonPat>] {
        r.of(&self.daemons)
    }

    /// Daemon-list items of a rule.
    pub fn daemon_items(&self, r: &Rule) -> &[Item<DaemonPat>] {
        r.daemons.of(&self.daemons)
    }
    /// Client-list items of a rule.
    pub fn client_items(&self, r: &Rule) -> &[Item<ClientPat>] {
        r.clients.of(&self.clients)
    }
    /// Raw option text of a rule.
    pub fn options(&self, r: &Rule) -> Option<&[u8]> {
        r.options.map(|s| s.get(&self.arena))
    }
    /// Raw daemon-list text.
    pub fn daemon_text(&self, r: &Rule) -> &[u8] {
        r.daemon_text.get(&self.arena)
    }
    /// Raw client-list text.
    pub fn client_text(&self, r: &Rule) -> &[u8] {
        r.client_text.get(&self.arena)
    }
    /// The pattern text arena (for [`Span`]s inside patterns).
    pub fn arena(&self) -> &[u8] {
        &self.arena
    }
    /// Number of rules indexed by address.
    pub fn indexed_rules(&self) -> usize {
        self.runs.iter().map(|r| r.count as usize).sum()
    }

    fn plain_daemons(&self, r: Range) -> bool {
        let ds = r.of(&self.daemons);
        !ds.is_empty()
            && ds
                .iter()
                .all(|d| matches!(d, Item::Pat(DaemonPat { host: None, .. })))
    }

    /// Whether a rule can be indexed: plain daemon patterns (no `@host`, no
    /// EXCEPT) and client tokens that are all canonical dotted quads, which
    /// are matched against the address only.
    fn indexable(&self, r: &Rule) -> bool {
        let cs = r.clients.of(&self.clients);
        self.plain_daemons(r.daemons)
            && !cs.is_empty()
            && cs.iter().all(|c| {
                matches!(
                    c,
                    Item::Pat(ClientPat {
                        user: None,
                        host: HostPat::Plain {
                            pat: StrPat::Ip4(_),
                            ..
                        }
                    })
                )
            })
    }

    fn build_index(&mut self) {
        let mut runs = Vec::new();
        let mut i = 0;
        let n = self.entries.len();
        while i < n {
            let start = i;
            let mut lists: Vec<Range> = Vec::new();
            let mut texts: Vec<Span> = Vec::new();
            let mut list_of: Vec<u8> = Vec::new();
            let mut keys: Vec<(u32, u32)> = Vec::new();
            while i < n {
                let (daemons, daemon_text) = match &self.entries[i] {
                    Entry::Rule(r) if self.indexable(r) => (r.daemons, r.daemon_text),
                    Entry::Addr {
                        daemons,
                        daemon_text,
                        ..
                    } if self.plain_daemons(*daemons) => (*daemons, *daemon_text),
                    _ => break,
                };
                // Lists with the same text are the same list (patterns hold
                // arena positions, so compare the source text).
                let text = daemon_text.get(&self.arena);
                let id = match texts
                    .iter()
                    .position(|t: &Span| *t == daemon_text || t.get(&self.arena) == text)
                {
                    Some(id) => id,
                    None if lists.len() < MAX_LISTS => {
                        lists.push(daemons);
                        texts.push(daemon_text);
                        lists.len() - 1
                    }
                    None => break,
                };
                list_of.push(id as u8);
                match &self.entries[i] {
                    Entry::Addr { addr, .. } => keys.push((*addr, i as u32)),
                    Entry::Rule(r) => {
                        for c in r.clients.of(&self.clients) {
                            if let Item::Pat(ClientPat {
                                host:
                                    HostPat::Plain {
                                        pat: StrPat::Ip4(a),
                                        ..
                                    },
                                ..
                            }) = c
                            {
                                keys.push((*a, i as u32));
                            }
                        }
                    }
                    Entry::NoSeparator { .. } => {}
                }
                i += 1;
            }
            if i - start >= MIN_RUN {
                runs.push(Run {
                    first: start as u32,
                    count: (i - start) as u32,
                    daemon_lists: lists,
                    list_of,
                    keys,
                    sorted: OnceLock::new(),
                    uses: AtomicU32::new(0),
                });
            }
            if i == start {
                i += 1;
            }
        }
        self.runs = runs;
    }
}
