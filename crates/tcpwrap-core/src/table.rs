//! Compiled access-control tables (§1): parsed once into rules whose tokens
//! are classified patterns, with an index over long runs of single-address
//! rules (as DenyHosts, fail2ban and sshguard write them) so that a check
//! does not walk every rule. First-match order, the look-ups made, and the
//! diagnostics of malformed lines are exactly those of a linear scan.
//!
//! Compiling is on the path of the first check after a table changed (and
//! of every check of a one-shot process), so it is kept cheap:
//!
//! * A client list that is a single token of digits and dots (no options)
//!   is kept as its text ([`Entry::Addr`]): whatever the token, canonical
//!   dotted quad or not, such a rule matches exactly when the client
//!   address equals that text, so it needs no classification.
//! * The dominant line shape of large tables, `<daemon list of the previous
//!   rule>:<blanks><such a token>\n`, has a fast lane that recognises a whole
//!   line with a few word-wide operations and appends it in one step. Every
//!   other line, and every line the fast lane is not sure about, goes
//!   through the general path; both give the same table (see
//!   [`Table::compile_general`]).
//! * The address index is built while compiling, but its search structure
//!   only on its second use: the first check after a compile compares the
//!   text of each rule of a run, which costs less than sorting.
//! * A table compiled from a file read into memory
//!   ([`Table::compile_owned`]) keeps those bytes and refers to its address
//!   texts where they are, instead of copying them.
//! * Compiling is one left-to-right pass whose state at the end is kept: a
//!   file that was only touched, or had lines appended, is compiled from
//!   where it changed ([`Table::recompile_owned`]), with the same result as
//!   a full compile.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::pattern::{ClientPat, DaemonPat, HostPat, Span, StrPat, canonical_ip4};
use crate::reader::{LINE_BUF, LineReader};
use crate::text::{eq_ci, is_list_sep, split_at_bracket, strip_mapped};

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

/// A classified daemon list. Consecutive rules with the same daemon text
/// share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DaemonList {
    /// The items, in `Table::daemons`.
    pub items: Range,
    /// The source text, in the arena.
    pub text: Span,
    /// Not empty, and only plain patterns (no `@host`, no EXCEPT): rules
    /// with this list can be indexed.
    pub plain: bool,
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Diagnostic line number (last physical line of the logical line).
    pub line: u32,
    /// The daemon list, in `Table::lists`.
    pub(crate) list: u32,
    pub(crate) clients: Range,
    /// Raw option text after the second `:` (including the newline).
    pub(crate) options: Option<Span>,
    /// 1-based column where the option text starts.
    pub options_column: u32,
    /// Raw client list text.
    pub(crate) client_text: Span,
}

/// A table entry, in file order. Entries hold no heap data of their own, so
/// a table of 100,000 rules is freed without visiting each rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A rule, by its index in the table's rules ([`Table::rule`]).
    Rule(u32),
    /// The compact form of a rule without options whose client list is one
    /// token made of digits and dots that neither starts nor ends with a
    /// dot (`sshd: 192.0.2.7`, as DenyHosts, fail2ban and sshguard write
    /// them). The general classification of such a token is a plain host
    /// pattern that is never compared with a name: a canonical dotted quad,
    /// or else an exact string. Either matches exactly when the client
    /// address (without an `::ffff:` prefix) is the token's text
    /// ([`Table::addr_text`]).
    Addr {
        line: u32,
        /// The daemon list, in `Table::lists`.
        list: u32,
        /// The token text: `len` bytes at `text` in the table's address
        /// texts.
        text: u32,
        len: u16,
    },
    /// A line without `:`: warned about when scanned, then skipped.
    NoSeparator { line: u32 },
}

const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// An index over a run of consecutive single-address rules.
///
/// The first check after the table was compiled compares the rules of the
/// run one by one (no sorting); later checks build the sorted keys once and
/// then use binary search.
#[derive(Debug)]
pub(crate) struct Run {
    /// Entries `first..first+count`.
    pub first: u32,
    pub count: u32,
    /// Distinct daemon lists of the run (at most `MAX_LISTS`).
    pub daemon_lists: Vec<Range>,
    /// Per entry of the run: index into `daemon_lists`; empty when the run
    /// has only one daemon list (every index is 0).
    list_of: Vec<u8>,
    /// (key, entry) of every address of the run, sorted, built on the
    /// second use.
    sorted: OnceLock<Vec<(u32, u32)>>,
    uses: AtomicU32,
}

impl Run {
    /// Index into `daemon_lists` of the daemon list of entry `e`.
    pub fn list_of(&self, e: u32) -> u8 {
        if self.list_of.is_empty() {
            0
        } else {
            self.list_of[(e - self.first) as usize]
        }
    }
}

impl Clone for Run {
    fn clone(&self) -> Self {
        Run {
            first: self.first,
            count: self.count,
            daemon_lists: self.daemon_lists.clone(),
            list_of: self.list_of.clone(),
            sorted: self.sorted.clone(),
            uses: AtomicU32::new(self.uses.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Run {
    fn eq(&self, o: &Self) -> bool {
        (self.first, self.count, &self.daemon_lists, &self.list_of)
            == (o.first, o.count, &o.daemon_lists, &o.list_of)
    }
}

impl Eq for Run {}

/// The index key of an address text: its value when it is a canonical
/// dotted quad, else a hash. Equal texts have equal keys.
fn key_of(text: &[u8]) -> u32 {
    if let Some(a) = canonical_ip4(text) {
        return a;
    }
    // FNV-1a.
    text.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Runs shorter than this are scanned linearly.
const MIN_RUN: u32 = 4;
/// Distinct daemon lists allowed in one indexed run.
const MAX_LISTS: usize = 32;

/// The run being built while entries are appended: consecutive indexable
/// rules (plain daemon lists; client lists of one address text, or of
/// canonical dotted quads only).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct RunBuilder {
    first: u32,
    /// Entries so far; 0 when no run is open.
    count: u32,
    lists: Vec<Range>,
    /// The table's list index of each of `lists` (for comparing texts).
    list_ids: Vec<u32>,
    /// The list of the last entry and its index into `lists`.
    last_list: u32,
    last_id: u8,
    list_of: Vec<u8>,
}

impl RunBuilder {
    /// Whether the open run's last entry has daemon list `list`: a next
    /// indexable rule with that list can be appended with
    /// [`Self::push_same`].
    fn continues(&self, list: u32) -> bool {
        self.count > 0 && self.last_list == list
    }

    /// Append `n` indexable rules whose daemon list is the previous
    /// entry's (`continues(list)` holds).
    fn push_same(&mut self, n: u32) {
        if !self.list_of.is_empty() {
            let len = self.list_of.len() + n as usize;
            self.list_of.resize(len, self.last_id);
        }
        self.count += n;
    }

    /// The index into `lists` for `list`: lists with the same text are the
    /// same list. `None` when the run already has `MAX_LISTS` lists.
    fn id_of(&mut self, lists: &[DaemonList], arena: &[u8], list: u32) -> Option<u8> {
        if self.continues(list) {
            return Some(self.last_id);
        }
        let text = lists[list as usize].text.get(arena);
        let found = self
            .list_ids
            .iter()
            .position(|&l| l == list || lists[l as usize].text.get(arena) == text);
        let id = match found {
            Some(id) => id,
            None if self.lists.len() < MAX_LISTS => {
                self.lists.push(lists[list as usize].items);
                self.list_ids.push(list);
                self.lists.len() - 1
            }
            None => return None,
        };
        Some(id as u8)
    }

    /// Append indexable entry `entry` with daemon list `list`.
    fn push(
        &mut self,
        runs: &mut Vec<Run>,
        lists: &[DaemonList],
        arena: &[u8],
        entry: u32,
        list: u32,
    ) {
        if self.continues(list) {
            return self.push_same(1);
        }
        let id = match self.id_of(lists, arena, list) {
            Some(id) => id,
            None => {
                // Too many lists: this rule starts the next run.
                self.close(runs);
                self.id_of(lists, arena, list).unwrap_or(0)
            }
        };
        if self.count == 0 {
            self.first = entry;
        }
        // The per-entry list indexes are made explicit when the run gets
        // its second list.
        if id != 0 || !self.list_of.is_empty() {
            self.list_of.resize(self.count as usize, 0);
            self.list_of.push(id);
        }
        self.count += 1;
        self.last_list = list;
        self.last_id = id;
    }

    /// End the open run (a rule that cannot be indexed, or the end of the
    /// table): long runs are kept, short ones are scanned linearly.
    fn close(&mut self, runs: &mut Vec<Run>) {
        if self.count >= MIN_RUN {
            runs.push(Run {
                first: self.first,
                count: self.count,
                daemon_lists: std::mem::take(&mut self.lists),
                list_of: std::mem::take(&mut self.list_of),
                sorted: OnceLock::new(),
                uses: AtomicU32::new(0),
            });
        } else {
            self.lists.clear();
            self.list_of.clear();
        }
        self.list_ids.clear();
        self.count = 0;
    }
}

/// Whether `t` is an address text of [`Entry::Addr`]: digits and dots, not
/// starting or ending with a dot.
fn is_addr_text(t: &[u8]) -> bool {
    !t.is_empty()
        && t[0] != b'.'
        && t[t.len() - 1] != b'.'
        && t.iter().all(|&b| b == b'.' || b.is_ascii_digit())
}

/// The client list `rest` (the text after the first colon) when it holds
/// no options and exactly one token, and that token is an address text.
fn single_addr_text(rest: &[u8]) -> Option<&[u8]> {
    if split_at_bracket(rest, b':').is_some() {
        return None;
    }
    let mut tokens = rest.split(|&b| is_list_sep(b)).filter(|s| !s.is_empty());
    let t = tokens.next()?;
    (tokens.next().is_none() && is_addr_text(t)).then_some(t)
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

/// 0x01 in every byte.
const ONES: u64 = u64::MAX / 0xff;
/// 0x80 in every byte.
const HIGH: u64 = ONES << 7;

/// The high bit of each byte of `x` that is below `n` (1 ≤ `n` ≤ 128) is
/// set, all other bits are clear. No carry crosses a byte.
#[inline(always)]
fn bytes_below(x: u64, n: u8) -> u64 {
    !(((x & !HIGH) + ONES * u64::from(0x80 - n)) | x) & HIGH
}

/// The high bit of each byte of `w` that is neither a digit nor a dot.
#[inline(always)]
fn not_addr_bytes(w: u64) -> u64 {
    !(bytes_below(w ^ (ONES * u64::from(b'0')), 10) | bytes_below(w ^ (ONES * u64::from(b'.')), 1))
        & HIGH
}

/// The length of the address text at the start of the 16 bytes `w` when a
/// newline follows it.
#[inline(always)]
fn addr_text_newline(w: &[u8; 16]) -> Option<usize> {
    let (lo, hi) = w.split_at(8);
    let lo = u64::from_le_bytes(lo.try_into().unwrap_or_default());
    let hi = u64::from_le_bytes(hi.try_into().unwrap_or_default());
    let (lo, hi) = (not_addr_bytes(lo), not_addr_bytes(hi));
    let end = if lo != 0 {
        lo.trailing_zeros() / 8
    } else if hi != 0 {
        8 + hi.trailing_zeros() / 8
    } else {
        return None;
    } as usize;
    (end > 0 && w[end & 15] == b'\n' && w[0] != b'.' && w[(end - 1) & 15] != b'.').then_some(end)
}

/// The fast lane's view of the previous rule's daemon list: its text
/// followed by `:`, which starts every line that shares the list, and
/// the blanks that followed the colon where the list was seen.
#[derive(Debug)]
struct Prefix {
    list: u32,
    /// Text, colon and blanks, as (up to) two little-endian words with the
    /// masks of the bytes that count, and its length (at most 16).
    words: [u64; 2],
    masks: [u64; 2],
    len: usize,
    /// Whether the words hold all of text and colon (at most 16 bytes).
    whole: bool,
    /// Text and colon, when the line has other blanks (or none).
    colon: Vec<u8>,
}

/// Longest daemon text the fast lane takes (its lines then always fit the
/// line buffer).
const MAX_FAST_DAEMON_TEXT: usize = 512;
/// Most blanks the fast lane takes between the colon and the address.
const MAX_FAST_BLANKS: usize = 64;
const _: () = assert!(MAX_FAST_DAEMON_TEXT + 1 + MAX_FAST_BLANKS + 16 < LINE_BUF - 1);

impl Prefix {
    /// The prefix of lines that split at the colon after `text` exactly as
    /// the general path splits them: `text` holds no bracket (so its first
    /// colon is that colon). `blanks`: the blanks after the colon on the
    /// line where the list was seen.
    fn new(list: u32, text: &[u8], blanks: &[u8]) -> Option<Prefix> {
        if text.len() > MAX_FAST_DAEMON_TEXT || memchr::memchr3(b'[', b']', b':', text).is_some() {
            return None;
        }
        let mut colon = text.to_vec();
        colon.push(b':');
        let mut full = colon.clone();
        full.extend_from_slice(blanks);
        if full.len() > 16 {
            full.truncate(colon.len().min(16));
        }
        // The words hold text, colon and blanks, or text and colon; a
        // longer text does not fit them, and its lines are compared in
        // full by `skip_blanks`.
        let whole = colon.len() <= 16;
        let mut bytes = [0u8; 16];
        bytes[..full.len()].copy_from_slice(&full);
        let mask = |n: usize| match n {
            0 => 0,
            1..=7 => (1u64 << (8 * n)) - 1,
            _ => u64::MAX,
        };
        let (lo, hi) = bytes.split_at(8);
        Some(Prefix {
            list,
            words: [
                u64::from_le_bytes(lo.try_into().ok()?),
                u64::from_le_bytes(hi.try_into().ok()?),
            ],
            masks: [mask(full.len()), mask(full.len().saturating_sub(8))],
            len: full.len(),
            whole,
            colon,
        })
    }

    /// If the line at `pos` is `<text>:<blanks><address text>\n`: the
    /// length of the address text and its position.
    #[inline(always)]
    fn line_at(&self, data: &[u8], pos: usize) -> Option<(usize, usize)> {
        let head = data.get(pos..pos + 16)?;
        let lo = u64::from_le_bytes(head[..8].try_into().ok()?);
        let hi = u64::from_le_bytes(head[8..].try_into().ok()?);
        let q = if self.whole
            & (lo & self.masks[0] == self.words[0])
            & (hi & self.masks[1] == self.words[1])
        {
            pos + self.len
        } else {
            self.skip_blanks(data, pos)?
        };
        let len = addr_text_newline(data.get(q..q + 16)?.try_into().ok()?)?;
        Some((len, q))
    }

    /// The start of the address text when the line starts with text and
    /// colon, but other blanks follow.
    #[cold]
    fn skip_blanks(&self, data: &[u8], pos: usize) -> Option<usize> {
        let mut q = pos + self.colon.len();
        if data.get(pos..q)? != self.colon.as_slice() {
            return None;
        }
        let limit = q + MAX_FAST_BLANKS;
        while matches!(data.get(q), Some(b' ' | b'\t')) {
            q += 1;
            if q == limit {
                return None;
            }
        }
        Some(q)
    }
}

/// A compiled table file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The name used in diagnostics (the path as configured).
    pub name: Arc<[u8]>,
    pub(crate) arena: Vec<u8>,
    /// The texts of the [`Entry::Addr`] rules: copied one after the other
    /// ([`Table::compile`]), or the table file itself with the texts of
    /// joined lines appended ([`Table::compile_owned`]).
    pub(crate) addr_texts: Vec<u8>,
    pub(crate) lists: Vec<DaemonList>,
    pub(crate) daemons: Vec<Item<DaemonPat>>,
    pub(crate) clients: Vec<Item<ClientPat>>,
    pub(crate) rules: Vec<Rule>,
    pub entries: Vec<Entry>,
    /// The line of a logical line without newline (or too long): the table
    /// ends there with an ERROR.
    pub error_line: Option<u32>,
    pub(crate) runs: Vec<Run>,
    /// Where the compilation stopped, to continue it on a text that starts
    /// with the same lines ([`Table::recompile_owned`]).
    resume: Option<Box<Resume>>,
}

/// The state of a compilation where it stopped: compiling is a strict left
/// to right pass whose only state is this, so continuing from it over the
/// rest of a longer text gives exactly the table of the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resume {
    /// Whether the text was the table's own (`compile_owned`), and its
    /// length.
    owned: bool,
    data_len: usize,
    /// The start of the first logical line not compiled (the error tail,
    /// or the end of the text), and the newlines counted before it.
    pos: usize,
    line: u32,
    /// The daemon list of the last rule.
    last: Option<u32>,
    /// The open index run before the end of the text closed it. `pushed`:
    /// closing it kept it as the table's last run (its lists are there).
    run: RunBuilder,
    pushed: bool,
}

/// State of one compilation.
struct Compiler {
    t: Table,
    /// The daemon list of the previous rule: the next rule shares it when
    /// its daemon text is the same.
    last: Option<u32>,
    /// `last` as seen by the fast lane (`None`: the fast lane is off),
    /// made for the list `prefix_of`.
    prefix: Option<Prefix>,
    prefix_of: Option<u32>,
    run: RunBuilder,
    /// Whether the table will own `data` as its address texts: a text
    /// found in `data` is then referred to where it is, and only others
    /// are appended to `Table::addr_texts` (after the data).
    owned: bool,
    /// Where `Table::addr_texts` starts (in the final table).
    texts_base: usize,
}

impl Table {
    /// Compile table text. Never fails: malformed lines become entries or
    /// the error tail, exactly as the original reports them.
    pub fn compile(name: &[u8], data: &[u8]) -> Table {
        Self::compile_with(name, data, true, false)
    }

    /// [`Table::compile`] of a table file read into `data`, which the table
    /// keeps as the store of its address texts instead of copying them:
    /// the same rules (the entries may differ in where their address texts
    /// are), with less memory to fill on the path of a first check.
    pub fn compile_owned(name: &[u8], data: Vec<u8>) -> Table {
        let mut t = Self::compile_with(name, &data, true, true);
        let joined = std::mem::replace(&mut t.addr_texts, data);
        t.addr_texts.extend_from_slice(&joined);
        t
    }

    /// [`Table::compile_owned`] of the new contents `data` of the file
    /// `previous` was compiled from (with `compile_owned`): when `data`
    /// starts with the same text up to the end of the last logical line
    /// `previous` compiled (a file that was only touched, or that had lines
    /// appended, as fail2ban and DenyHosts do), only the rest is compiled.
    /// The table is the same as a full `compile_owned(data)`.
    pub fn recompile_owned(previous: Table, data: Vec<u8>) -> Table {
        let usable = previous.resume.as_deref().is_some_and(|r| {
            r.owned
                && previous.addr_texts.len() == r.data_len
                && data.get(..r.pos) == previous.addr_texts.get(..r.pos)
        });
        if !usable {
            let name = previous.name.clone();
            // Freed first, so that its memory can be reused.
            drop(previous);
            return Self::compile_owned(&name, data);
        }
        let mut t = previous;
        let Some(r) = t.resume.take() else {
            return t;
        };
        t.error_line = None;
        t.addr_texts = Vec::new();
        let mut run = r.run;
        // The last run is open again; if the new lines leave it as it
        // was, it is put back with its search structure.
        let mut reopened = None;
        if r.pushed {
            if let Some(last) = t.runs.pop() {
                run.lists = last.daemon_lists.clone();
                run.list_of = last.list_of.clone();
                reopened = Some(last);
            }
        }
        let mut c = Compiler {
            t,
            last: r.last,
            prefix: None,
            prefix_of: None,
            run,
            owned: true,
            texts_base: data.len(),
        };
        c.learn_prefix(b" ");
        let mut t = c.run_from(&data, true, r.pos, r.line);
        if let Some(old) = reopened {
            if let Ok(i) = t.runs.binary_search_by_key(&old.first, |x| x.first) {
                if t.runs[i] == old {
                    t.runs[i] = old;
                }
            }
        }
        let joined = std::mem::replace(&mut t.addr_texts, data);
        t.addr_texts.extend_from_slice(&joined);
        t
    }

    /// [`Table::compile`] without the fast lane: every line goes through
    /// the general path. Gives the same table; for tests and benchmarks.
    #[doc(hidden)]
    pub fn compile_general(name: &[u8], data: &[u8]) -> Table {
        Self::compile_with(name, data, false, false)
    }

    fn compile_with(name: &[u8], data: &[u8], fast: bool, owned: bool) -> Table {
        let c = Compiler {
            t: Table {
                name: name.into(),
                arena: Vec::new(),
                // Large tables are mostly address texts: about 12 of 20
                // bytes per line.
                addr_texts: Vec::with_capacity(if owned { 0 } else { data.len() * 3 / 4 }),
                lists: Vec::new(),
                daemons: Vec::new(),
                clients: Vec::new(),
                rules: Vec::new(),
                entries: Vec::with_capacity(estimate_lines(data)),
                error_line: None,
                runs: Vec::new(),
                resume: None,
            },
            last: None,
            prefix: None,
            prefix_of: None,
            run: RunBuilder::default(),
            owned,
            texts_base: if owned { data.len() } else { 0 },
        };
        c.run_from(data, fast, 0, 0)
    }

    /// The same table without its address index: every check scans the
    /// rules linearly (the reference behaviour the index must reproduce).
    pub fn without_index(mut self) -> Table {
        self.runs.clear();
        // Its state no longer matches: a recompile compiles in full.
        self.resume = None;
        self
    }

    /// The rule of an [`Entry::Rule`].
    pub fn rule(&self, i: u32) -> &Rule {
        &self.rules[i as usize]
    }

    /// The diagnostic line number of an entry.
    pub fn line_of(&self, e: &Entry) -> u32 {
        match *e {
            Entry::Rule(i) => self.rule(i).line,
            Entry::Addr { line, .. } | Entry::NoSeparator { line } => line,
        }
    }

    /// The address text of an [`Entry::Addr`] (empty for other entries).
    pub fn addr_text(&self, e: &Entry) -> &[u8] {
        match *e {
            Entry::Addr { text, len, .. } => {
                &self.addr_texts[text as usize..text as usize + usize::from(len)]
            }
            _ => b"",
        }
    }

    /// Items of a daemon list (of an [`Entry::Addr`]).
    pub fn list_items(&self, list: u32) -> &[Item<DaemonPat>] {
        self.lists[list as usize].items.of(&self.daemons)
    }

    /// Daemon-list items of a rule.
    pub fn daemon_items(&self, r: &Rule) -> &[Item<DaemonPat>] {
        self.list_items(r.list)
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
        self.lists[r.list as usize].text.get(&self.arena)
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

    /// The canonical dotted quads of an indexed rule's client list.
    fn rule_quads(&self, r: &Rule) -> impl Iterator<Item = u32> + '_ {
        r.clients.of(&self.clients).iter().filter_map(|c| match c {
            Item::Pat(ClientPat {
                host:
                    HostPat::Plain {
                        pat: StrPat::Ip4(a),
                        ..
                    },
                ..
            }) => Some(*a),
            _ => None,
        })
    }

    /// The first entry of `run`, in file order, that matches client address
    /// `addr` and for which `f` holds. Exactly the entries a linear scan
    /// would match by address.
    pub(crate) fn run_find(
        &self,
        run: &Run,
        addr: &[u8],
        mut f: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let subject = strip_mapped(addr).unwrap_or(addr);
        if !is_addr_text(subject) {
            // No address text equals it, and it is no canonical quad.
            return None;
        }
        let quad = canonical_ip4(subject);
        let matches = |e: u32| match self.entries[e as usize] {
            ref a @ Entry::Addr { .. } => self.addr_text(a) == subject,
            Entry::Rule(r) => quad.is_some_and(|q| self.rule_quads(self.rule(r)).any(|a| a == q)),
            Entry::NoSeparator { .. } => false,
        };
        let entries = run.first..run.first + run.count;
        if run.sorted.get().is_none() && run.uses.fetch_add(1, Ordering::Relaxed) == 0 {
            // First use: compare each rule of the run.
            return self.first_use_scan(entries, subject, quad, f);
        }
        let sorted = run.sorted.get_or_init(|| {
            let mut v = Vec::with_capacity(run.count as usize);
            for e in entries {
                match self.entries[e as usize] {
                    ref a @ Entry::Addr { .. } => v.push((key_of(self.addr_text(a)), e)),
                    Entry::Rule(r) => v.extend(self.rule_quads(self.rule(r)).map(|q| (q, e))),
                    Entry::NoSeparator { .. } => {}
                }
            }
            v.sort_unstable();
            v.dedup();
            v
        });
        let key = key_of(subject);
        let from = sorted.partition_point(|&(k, _)| k < key);
        sorted[from..]
            .iter()
            .take_while(|&&(k, _)| k == key)
            .map(|&(_, e)| e)
            .find(|&e| matches(e) && f(e))
    }

    /// The first-use search of a run: the address texts are compared as
    /// (at most) 16-byte words, so that most rules cost a few instructions.
    fn first_use_scan(
        &self,
        entries: std::ops::Range<u32>,
        subject: &[u8],
        quad: Option<u32>,
        mut found: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        let n = subject.len();
        let mut padded = [0u8; 16];
        let word = (n <= 16).then(|| {
            padded[..n].copy_from_slice(subject);
            u128::from_le_bytes(padded)
        });
        let mask = if n >= 16 {
            u128::MAX
        } else {
            (1u128 << (8 * n)) - 1
        };
        let texts = &self.addr_texts;
        let run = &self.entries[entries.start as usize..entries.end as usize];
        for (e, entry) in (entries.start..).zip(run) {
            let hit = match *entry {
                Entry::Addr { text, len, .. } => {
                    let at = text as usize;
                    match (word, texts.get(at..at + 16)) {
                        // The text is loaded for the rules of the same
                        // length only: a run is mostly memory traffic.
                        (Some(word), Some(w)) => {
                            let w = u128::from_le_bytes(w.try_into().unwrap_or([0; 16]));
                            (usize::from(len) == n) & (w & mask == word)
                        }
                        _ => &texts[at..at + usize::from(len)] == subject,
                    }
                }
                Entry::Rule(r) => {
                    quad.is_some_and(|q| self.rule_quads(self.rule(r)).any(|a| a == q))
                }
                Entry::NoSeparator { .. } => false,
            };
            if hit && found(e) {
                return Some(e);
            }
        }
        None
    }
}

impl Compiler {
    /// Compile `data` from byte `pos` (the start of a logical line, with
    /// `line` newlines before it) to the end.
    fn run_from(mut self, data: &[u8], fast: bool, mut pos: usize, mut line: u32) -> Table {
        let mut lines = LineReader::new(data);
        lines.resume(pos, line);
        loop {
            if fast {
                (pos, line) = self.fast_lane(data, pos, line);
                lines.resume(pos, line);
            }
            let Some(l) = lines.next() else { break };
            if !l.complete {
                self.t.error_line = Some(l.line);
                break;
            }
            self.line(data, &l.text, l.line);
            if fast && self.prefix_of != self.last {
                // A new daemon list, set by this line: it starts with the
                // list's text, a colon and the blanks to learn.
                let skip = self
                    .last
                    .map_or(0, |list| self.t.lists[list as usize].text.len as usize + 1);
                let rest = l.text.get(skip..).unwrap_or_default();
                let blanks = rest
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                self.learn_prefix(&rest[..blanks]);
            }
            (pos, line) = (lines.offset(), lines.line());
        }
        // The estimate of the entries is generous (a shorter line is
        // possible): give back what is left, so that a replaced table frees
        // about as much as its successor takes.
        self.t.entries.shrink_to_fit();
        // Keep the state for a later continuation, then close the open run.
        let pushed = self.run.count >= MIN_RUN;
        let mut run = RunBuilder {
            lists: Vec::new(),
            list_of: Vec::new(),
            list_ids: self.run.list_ids.clone(),
            ..self.run
        };
        if !pushed {
            run.lists = self.run.lists.clone();
            run.list_of = self.run.list_of.clone();
        }
        self.run.close(&mut self.t.runs);
        self.t.resume = Some(Box::new(Resume {
            owned: self.owned,
            data_len: data.len(),
            pos,
            line,
            last: self.last,
            run,
            pushed,
        }));
        self.t
    }

    /// Set the fast lane to lines of the daemon list `self.last`, seen
    /// followed by `blanks`.
    fn learn_prefix(&mut self, blanks: &[u8]) {
        self.prefix_of = self.last;
        self.prefix = self.last.and_then(|list| {
            Prefix::new(
                list,
                self.t.lists[list as usize].text.get(&self.t.arena),
                blanks,
            )
        });
    }

    /// Append every line from `pos` on that has the fast lane's shape;
    /// returns the position and line count where it stopped (at the start
    /// of a logical line).
    fn fast_lane(&mut self, data: &[u8], mut pos: usize, mut line: u32) -> (usize, u32) {
        let Some(p) = &self.prefix else {
            return (pos, line);
        };
        let list = p.list;
        let t = &mut self.t;
        let first = t.entries.len();
        while let Some((len, q)) = p.line_at(data, pos) {
            line += 1;
            pos = q + len + 1;
            let text = if self.owned {
                q
            } else {
                // Copy the address text: 16 bytes at once, then cut.
                let at = t.addr_texts.len();
                t.addr_texts.extend_from_slice(&data[q..q + 16]);
                t.addr_texts.truncate(at + len);
                at
            };
            t.entries.push(Entry::Addr {
                line,
                list,
                text: text as u32,
                len: len as u16,
            });
        }
        // The lines share one daemon list: index them together.
        let n = (t.entries.len() - first) as u32;
        if n > 0 {
            if !t.lists[list as usize].plain {
                self.run.close(&mut t.runs);
            } else {
                let e = first as u32;
                self.run.push(&mut t.runs, &t.lists, &t.arena, e, list);
                self.run.push_same(n - 1);
            }
        }
        (pos, line)
    }

    /// The general path: one complete logical line.
    fn line(&mut self, data: &[u8], text: &[u8], line: u32) {
        let t = &mut self.t;
        let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if text[0] == b'#' || (blank(&text[0]) && text.iter().all(blank)) {
            return;
        }
        let Some(p1) = first_colon(text) else {
            t.entries.push(Entry::NoSeparator { line });
            self.run.close(&mut t.runs);
            return;
        };
        let rest = &text[p1 + 1..];
        let dtext = &text[..p1];
        let list = match self.last {
            Some(l) if t.lists[l as usize].text.get(&t.arena) == dtext => l,
            _ => {
                let l = new_list(t, dtext);
                self.last = Some(l);
                l
            }
        };
        let e = t.entries.len() as u32;
        let plain = t.lists[list as usize].plain;
        if let Some(a) = single_addr_text(rest) {
            let text = match offset_in(data, a) {
                Some(at) if self.owned => at,
                _ => {
                    t.addr_texts.extend_from_slice(a);
                    self.texts_base + t.addr_texts.len() - a.len()
                }
            };
            t.entries.push(Entry::Addr {
                line,
                list,
                text: text as u32,
                len: a.len() as u16,
            });
            if plain {
                self.run.push(&mut t.runs, &t.lists, &t.arena, e, list);
            } else {
                self.run.close(&mut t.runs);
            }
            return;
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
        let clients = Range {
            start: c_start,
            len: t.clients.len() as u32 - c_start,
        };
        t.rules.push(Rule {
            line,
            list,
            clients,
            options,
            options_column: opt_col,
            client_text,
        });
        t.entries.push(Entry::Rule(t.rules.len() as u32 - 1));
        // Indexable: plain daemon patterns and client tokens that are all
        // canonical dotted quads, which are matched against the address
        // only (options do not matter: they run after the match).
        let all_quads = plain
            && clients.len > 0
            && clients.of(&t.clients).iter().all(|c| {
                matches!(
                    c,
                    Item::Pat(ClientPat {
                        user: None,
                        host: HostPat::Plain {
                            pat: StrPat::Ip4(_),
                            ..
                        },
                    })
                )
            });
        if all_quads {
            self.run.push(&mut t.runs, &t.lists, &t.arena, e, list);
        } else {
            self.run.close(&mut t.runs);
        }
    }
}

/// About the number of lines of `data` (at least), from its first 64 KiB:
/// the entries of a large table are reserved at once, neither much more
/// than they need (a large table's memory is filled and freed whenever its
/// file changes, and an allocator may give back and fault in again what is
/// freed beyond a threshold) nor less (growing copies).
fn estimate_lines(data: &[u8]) -> usize {
    const SAMPLE: usize = 64 << 10;
    let sample = &data[..data.len().min(SAMPLE)];
    let n = memchr::memchr_iter(b'\n', sample).count();
    let est = if data.len() <= SAMPLE {
        n
    } else {
        (n as u64 * data.len() as u64 / SAMPLE as u64) as usize
    };
    est + est / 32 + 16
}

/// Where `part` starts in `data`, if it is a part of it.
fn offset_in(data: &[u8], part: &[u8]) -> Option<usize> {
    let range = data.as_ptr_range();
    let p = part.as_ptr();
    (range.start <= p && p < range.end).then(|| p as usize - range.start as usize)
}

/// Classify a daemon list and append it to the table.
fn new_list(t: &mut Table, dtext: &[u8]) -> u32 {
    let d_start = t.daemons.len() as u32;
    for tok in dtext.split(|&b| is_list_sep(b)).filter(|s| !s.is_empty()) {
        let item = if eq_ci(tok, b"EXCEPT") {
            Item::Except
        } else {
            Item::Pat(DaemonPat::classify(&mut t.arena, tok))
        };
        t.daemons.push(item);
    }
    let items = Range {
        start: d_start,
        len: t.daemons.len() as u32 - d_start,
    };
    let plain = items.len > 0
        && items
            .of(&t.daemons)
            .iter()
            .all(|d| matches!(d, Item::Pat(DaemonPat { host: None, .. })));
    let text = Span::push(&mut t.arena, dtext);
    t.lists.push(DaemonList { items, text, plain });
    t.lists.len() as u32 - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &[u8]) -> [u8; 16] {
        let mut b = [b'x'; 16];
        b[..s.len()].copy_from_slice(s);
        b
    }

    /// The reference for `addr_text_newline`.
    fn slow(s: &[u8]) -> Option<usize> {
        let end = s.iter().position(|&b| b != b'.' && !b.is_ascii_digit())?;
        (end < 16 && s[end] == b'\n' && is_addr_text(&s[..end])).then_some(end)
    }

    #[test]
    fn addr_text_shapes() {
        for s in [
            &b"10.0.0.1\n"[..],
            b"255.255.255.255\n",
            b"010.0.0.1\n",
            b"1.2.3.4.\n",
            b".1.2.3\n",
            b"1..2\n",
            b"1\n",
            b"\n",
            b".\n",
            b"123456789012345\n",
            b"1234567890123456",
            b"1.2.3.4 \n",
            b"1.2.3.4\r\n",
            b"1.2/3\n",
            b"12345678\n",
            b"1234567\n",
        ] {
            let w = word(s);
            assert_eq!(
                addr_text_newline(&w),
                slow(&w),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn addr_text_bytes() {
        // Every byte value at every position of an otherwise good text.
        for pos in 0..16 {
            for b in 0..=255u8 {
                let mut w = *b"10.20.30.40\n____";
                w[pos] = b;
                assert_eq!(addr_text_newline(&w), slow(&w), "{pos} {b:#x}");
            }
        }
    }
}
