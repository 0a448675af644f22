//! Compiled access-control tables (§1): parsed once into rules whose tokens
//! are classified patterns, with an index over long runs of single-address
//! rules (as DenyHosts, fail2ban and sshguard write them) so that a check
//! does not walk every rule. First-match order, the look-ups made, and the
//! diagnostics of malformed lines are exactly those of a linear scan.

use std::sync::Arc;

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
    Rule(Rule),
    /// A line without `:`: warned about when scanned, then skipped.
    NoSeparator {
        line: u32,
    },
}

/// An index over a run of consecutive single-address rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Run {
    /// Entries `first..first+count`.
    pub first: u32,
    pub count: u32,
    /// Distinct daemon lists of the run.
    pub daemon_lists: Vec<Range>,
    /// Per entry of the run: index into `daemon_lists`.
    pub list_of: Vec<u8>,
    /// (address, entry) sorted.
    pub by_addr: Vec<(u32, u32)>,
}

/// Runs shorter than this are scanned linearly.
const MIN_RUN: usize = 4;
/// Distinct daemon lists allowed in one indexed run.
const MAX_LISTS: usize = 32;

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
            arena: Vec::with_capacity(data.len() / 4),
            daemons: Vec::new(),
            clients: Vec::new(),
            entries: Vec::new(),
            error_line: None,
            runs: Vec::new(),
        };
        for l in LineReader::new(data) {
            if !l.complete {
                t.error_line = Some(l.line);
                break;
            }
            let text: &[u8] = &l.text;
            if text[0] == b'#'
                || text
                    .iter()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            {
                continue;
            }
            let Some(p1) = split_at_bracket(text, b':') else {
                t.entries.push(Entry::NoSeparator { line: l.line });
                continue;
            };
            let rest = &text[p1 + 1..];
            let (clients, options, opt_col) = match split_at_bracket(rest, b':') {
                Some(p2) => (&rest[..p2], Some(&rest[p2 + 1..]), (p1 + p2 + 3) as u32),
                None => (rest, None, 0),
            };
            let d_start = t.daemons.len() as u32;
            for tok in text[..p1]
                .split(|&b| is_list_sep(b))
                .filter(|s| !s.is_empty())
            {
                let item = if eq_ci(tok, b"EXCEPT") {
                    Item::Except
                } else {
                    Item::Pat(DaemonPat::classify(&mut t.arena, tok))
                };
                t.daemons.push(item);
            }
            let c_start = t.clients.len() as u32;
            for tok in clients.split(|&b| is_list_sep(b)).filter(|s| !s.is_empty()) {
                let item = if eq_ci(tok, b"EXCEPT") {
                    Item::Except
                } else {
                    Item::Pat(ClientPat::classify(&mut t.arena, tok))
                };
                t.clients.push(item);
            }
            let options = options.map(|o| Span::push(&mut t.arena, o));
            let daemon_text = Span::push(&mut t.arena, &text[..p1]);
            let client_text = Span::push(&mut t.arena, clients);
            t.entries.push(Entry::Rule(Rule {
                line: l.line,
                daemons: Range {
                    start: d_start,
                    len: t.daemons.len() as u32 - d_start,
                },
                clients: Range {
                    start: c_start,
                    len: t.clients.len() as u32 - c_start,
                },
                options,
                options_column: opt_col,
                daemon_text,
                client_text,
            }));
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
    /// Number of indexed runs.
    pub fn indexed_runs(&self) -> usize {
        self.runs.len()
    }

    /// Number of rules indexed by address.
    pub fn indexed_rules(&self) -> usize {
        self.runs.iter().map(|r| r.count as usize).sum()
    }

    /// The single address of an indexable rule: plain daemon patterns (no
    /// `@host`, no EXCEPT) and client tokens that are all canonical dotted
    /// quads, which are matched against the address only.
    fn index_key(&self, r: &Rule) -> Option<Vec<u32>> {
        let ds = r.daemons.of(&self.daemons);
        if ds.is_empty()
            || ds
                .iter()
                .any(|d| !matches!(d, Item::Pat(DaemonPat { host: None, .. })))
        {
            return None;
        }
        let cs = r.clients.of(&self.clients);
        if cs.is_empty() {
            return None;
        }
        let mut keys = Vec::with_capacity(cs.len());
        for c in cs {
            match c {
                Item::Pat(ClientPat {
                    user: None,
                    host:
                        HostPat::Plain {
                            pat: StrPat::Ip4(a),
                            ..
                        },
                }) => keys.push(*a),
                _ => return None,
            }
        }
        Some(keys)
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
            let mut by_addr: Vec<(u32, u32)> = Vec::new();
            while i < n {
                let Entry::Rule(r) = &self.entries[i] else {
                    break;
                };
                let Some(keys) = self.index_key(r) else { break };
                // Lists with the same text are the same list (patterns hold
                // arena positions, so compare the source text).
                let text = r.daemon_text.get(&self.arena);
                let id = match texts.iter().position(|t: &Span| t.get(&self.arena) == text) {
                    Some(id) => id,
                    None if lists.len() < MAX_LISTS => {
                        lists.push(r.daemons);
                        texts.push(r.daemon_text);
                        lists.len() - 1
                    }
                    None => break,
                };
                list_of.push(id as u8);
                by_addr.extend(keys.into_iter().map(|k| (k, i as u32)));
                i += 1;
            }
            if i - start >= MIN_RUN {
                by_addr.sort_unstable();
                runs.push(Run {
                    first: start as u32,
                    count: (i - start) as u32,
                    daemon_lists: lists,
                    list_of,
                    by_addr,
                });
            }
            if i == start {
                i += 1;
            }
        }
        self.runs = runs;
    }
}
