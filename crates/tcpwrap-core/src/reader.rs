//! Logical-line assembly of table files (§1.2): an exact model of the
//! original `xgets()` reading into a 2048-byte buffer with `fgets()`.
//!
//! * a physical line ending in backslash-newline is joined with the next one
//!   (both characters removed, nothing inserted);
//! * the joined text may hold at most 2046 characters plus the newline;
//! * like `strlen()` in the original, a NUL byte ends what was read of its
//!   physical line: the rest of that physical line (including its newline) is
//!   lost and the next physical line is appended;
//! * the line counter counts newline characters actually seen.

/// Size of the original line buffer.
pub const LINE_BUF: usize = 2048;

/// One logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logical<'a> {
    /// The assembled text; borrowed when no joining was needed.
    pub text: std::borrow::Cow<'a, [u8]>,
    /// Number of newlines consumed so far in the file (the diagnostic line
    /// number: the last physical line of a logical line).
    pub line: u32,
    /// Whether the text ends with a newline. A logical line without one is
    /// the "missing newline or line too long" condition.
    pub complete: bool,
}

/// Iterator over the logical lines of a table held in memory.
pub struct LineReader<'a> {
    data: &'a [u8],
    pos: usize,
    line: u32,
    buf_len: usize,
    /// `data[self.pos..self.clean]` holds no NUL byte: checked ahead in
    /// blocks, so that a plain line needs no NUL search of its own and the
    /// file is never scanned as a whole up front.
    clean: usize,
}

/// How far ahead the NUL check runs at a time.
const NUL_BLOCK: usize = 16 << 10;

impl<'a> LineReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_buffer(data, LINE_BUF)
    }

    /// A reader with another buffer size (inetd.conf uses 8192 bytes).
    pub fn with_buffer(data: &'a [u8], buf_len: usize) -> Self {
        LineReader {
            data,
            pos: 0,
            line: 0,
            buf_len,
            clean: 0,
        }
    }

    /// Continue at byte `pos` with `line` newlines counted so far, after the
    /// caller consumed whole logical lines itself. `pos` must be the start
    /// of a logical line at or after the current position.
    pub fn resume(&mut self, pos: usize, line: u32) {
        debug_assert!(pos >= self.pos && pos <= self.data.len());
        self.pos = pos;
        self.line = line;
    }

    /// Newlines consumed so far.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Byte offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Whether `data[self.pos..end]` holds no NUL byte.
    fn nul_free_to(&mut self, end: usize) -> bool {
        if end <= self.clean {
            return true;
        }
        let from = self.clean.max(self.pos);
        let to = end.max(from + NUL_BLOCK).min(self.data.len());
        match memchr::memchr(0, &self.data[from..to]) {
            Some(k) => {
                self.clean = from + k;
                end <= self.clean
            }
            None => {
                self.clean = to;
                true
            }
        }
    }

    /// `fgets(ptr, len, fp)`: up to `len - 1` bytes, stopping after a newline.
    /// Returns the range read, or `None` at end of file.
    fn fgets(&mut self, len: usize) -> Option<(usize, usize)> {
        if self.pos >= self.data.len() {
            return None;
        }
        let max = len - 1;
        let avail = &self.data[self.pos..];
        let lim = avail.len().min(max);
        let n = match memchr::memchr(b'\n', &avail[..lim]) {
            Some(i) => i + 1,
            None => lim,
        };
        let start = self.pos;
        self.pos += n;
        Some((start, start + n))
    }
}

impl<'a> Iterator for LineReader<'a> {
    type Item = Logical<'a>;

    fn next(&mut self) -> Option<Logical<'a>> {
        // One physical line that fits the buffer, holds no NUL and does not
        // end in backslash-newline: it is the logical line, borrowed (the
        // common case; exactly what the general loop below would return).
        let avail = &self.data[self.pos..];
        let lim = avail.len().min(self.buf_len - 1);
        if let Some(i) = memchr::memchr(b'\n', &avail[..lim]) {
            if (i == 0 || avail[i - 1] != b'\\') && self.nul_free_to(self.pos + i + 1) {
                self.line += 1;
                self.pos += i + 1;
                return Some(Logical {
                    text: (&avail[..=i]).into(),
                    line: self.line,
                    complete: true,
                });
            }
        }
        // The general case: continuation lines, NUL bytes, overflow, end of
        // data. A single physical line is still returned borrowed.
        let mut owned: Option<Vec<u8>> = None;
        let mut borrowed: Option<(usize, usize)> = None;
        let mut got_total = 0usize;
        loop {
            let len = self.buf_len - got_total;
            if len <= 1 {
                break;
            }
            let Some((s, e)) = self.fgets(len) else { break };
            let chunk = &self.data[s..e];
            // strlen(): a NUL ends the string.
            let got = memchr::memchr(0, chunk).unwrap_or(chunk.len());
            let chunk = &chunk[..got];
            let mut keep = got;
            let mut done = false;
            if got >= 1 && chunk[got - 1] == b'\n' {
                self.line += 1;
                if got >= 2 && chunk[got - 2] == b'\\' {
                    keep = got - 2;
                } else {
                    done = true;
                }
            }
            match (&mut owned, borrowed) {
                (None, None) if done || keep == got => {
                    borrowed = Some((s, s + keep));
                }
                (None, None) => {
                    owned = Some(chunk[..keep].to_vec());
                }
                (None, Some((bs, be))) => {
                    let mut v = self.data[bs..be].to_vec();
                    v.extend_from_slice(&chunk[..keep]);
                    owned = Some(v);
                    borrowed = None;
                }
                (Some(v), _) => v.extend_from_slice(&chunk[..keep]),
            }
            got_total += keep;
            if done {
                break;
            }
        }
        if got_total == 0 {
            return None;
        }
        let text: std::borrow::Cow<'a, [u8]> = match (owned, borrowed) {
            (Some(v), _) => v.into(),
            (None, Some((s, e))) => (&self.data[s..e]).into(),
            (None, None) => return None,
        };
        let complete = text.last() == Some(&b'\n');
        Some(Logical {
            text,
            line: self.line,
            complete,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(d: &[u8]) -> Vec<(Vec<u8>, u32, bool)> {
        LineReader::new(d)
            .map(|l| (l.text.into_owned(), l.line, l.complete))
            .collect()
    }

    #[test]
    fn continuation_and_counts() {
        let v = lines(b"a: 10.0.0.\\\n1\nb\n");
        assert_eq!(v[0], (b"a: 10.0.0.1\n".to_vec(), 2, true));
        assert_eq!(v[1], (b"b\n".to_vec(), 3, true));
    }

    #[test]
    fn missing_newline() {
        let v = lines(b"sshd: 10.0.0.1");
        assert_eq!(v, vec![(b"sshd: 10.0.0.1".to_vec(), 0, false)]);
        let v = lines(b"a\\\n");
        assert_eq!(v, vec![(b"a".to_vec(), 1, false)]);
    }

    #[test]
    fn length_limit() {
        let mut ok = b"sshd: 10.0.0.1".to_vec();
        ok.resize(2046, b' ');
        ok.push(b'\n');
        assert!(lines(&ok)[0].2);
        let mut bad = b"sshd: 10.0.0.1".to_vec();
        bad.resize(2047, b' ');
        bad.push(b'\n');
        let v = lines(&bad);
        assert!(!v[0].2);
        assert_eq!(v[0].1, 0);
        assert_eq!(v[0].0.len(), 2047);
    }

    /// A direct model of the original `xgets()` over `fgets()` and
    /// `strlen()`, one byte at a time.
    fn model(d: &[u8], buf_len: usize) -> Vec<(Vec<u8>, u32, bool)> {
        let (mut pos, mut line, mut out) = (0, 0u32, Vec::new());
        loop {
            let mut buf: Vec<u8> = Vec::new();
            let mut done = false;
            while buf_len - buf.len() > 1 && pos < d.len() {
                // fgets(ptr, buf_len - len, fp)
                let mut chunk = Vec::new();
                while chunk.len() < buf_len - buf.len() - 1 && pos < d.len() {
                    chunk.push(d[pos]);
                    pos += 1;
                    if chunk.last() == Some(&b'\n') {
                        break;
                    }
                }
                // strlen()
                if let Some(z) = chunk.iter().position(|&b| b == 0) {
                    chunk.truncate(z);
                }
                if chunk.last() == Some(&b'\n') {
                    line += 1;
                    if chunk.len() >= 2 && chunk[chunk.len() - 2] == b'\\' {
                        chunk.truncate(chunk.len() - 2);
                    } else {
                        done = true;
                    }
                }
                buf.extend_from_slice(&chunk);
                if done {
                    break;
                }
            }
            if buf.is_empty() {
                return out;
            }
            let complete = buf.last() == Some(&b'\n');
            out.push((buf, line, complete));
        }
    }

    fn bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let atom = prop_oneof![
            Just(b"sshd: 10.0.0.1\n".to_vec()),
            Just(b"\\\n".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(vec![0u8]),
            Just(vec![b'x'; 2040]),
            Just(vec![b'y'; 9000]),
            proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'\n'), Just(0u8), Just(b'\\')],
                0..20
            ),
        ];
        proptest::collection::vec(atom, 0..30).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, .. Default::default() })]

        #[test]
        fn reader_equals_model(d in bytes(), small in proptest::prelude::any::<bool>()) {
            let buf_len = if small { 64 } else { LINE_BUF };
            let got: Vec<_> = LineReader::with_buffer(&d, buf_len)
                .map(|l| (l.text.into_owned(), l.line, l.complete))
                .collect();
            proptest::prop_assert_eq!(got, model(&d, buf_len));
        }

        /// Resuming at the start of each logical line (as the compiler does
        /// after its fast lane) changes nothing.
        #[test]
        fn resume_is_transparent(d in bytes()) {
            let mut r = LineReader::new(&d);
            let mut got = Vec::new();
            loop {
                let (pos, line) = (r.offset(), r.line());
                r.resume(pos, line);
                let Some(l) = r.next() else { break };
                got.push((l.text.into_owned(), l.line, l.complete));
            }
            proptest::prop_assert_eq!(got, model(&d, LINE_BUF));
        }
    }

    #[test]
    fn nul_truncates_physical_line() {
        let v = lines(b"ss\0hd: x\nALL: ALL\n");
        assert_eq!(v, vec![(b"ssALL: ALL\n".to_vec(), 1, true)]);
    }
}
