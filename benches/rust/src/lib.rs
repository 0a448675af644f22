//! Shared helpers of the tcpwrap benchmarks (`benches/checks.rs`): where the
//! generated tables are, and the requests of `benches/data/cases.tsv`, the
//! same ones the Debian harness (`benches/debian`) runs through `hosts_ctl`.
//!
//! The data comes from `benches/data/gen.py`. [`data_dir`] uses
//! `$TCPWRAP_BENCH_DATA` when set, else `benches/data/out` (git-ignored),
//! and runs the generator there when `cases.tsv` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use tcpwrap::{Decision, Request};

/// One benchmark request (a line of `cases.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Case name (`seed-deny`, `seed-grant`, `big`).
    pub name: String,
    /// Table directory, relative to the data directory.
    pub dir: String,
    pub daemon: String,
    pub client_name: String,
    pub client_addr: String,
    pub user: String,
    /// Expected verdict.
    pub expect: Decision,
    /// Expected rule (`hosts.deny:1`) or `-`.
    pub rule: String,
}

impl Case {
    /// `hosts.allow` of this case, under `data`.
    pub fn allow(&self, data: &Path) -> PathBuf {
        data.join(&self.dir).join("hosts.allow")
    }

    /// `hosts.deny` of this case, under `data`.
    pub fn deny(&self, data: &Path) -> PathBuf {
        data.join(&self.dir).join("hosts.deny")
    }

    /// The request as `hosts_ctl(daemon, client_name, client_addr, user)`
    /// builds it.
    pub fn request(&self) -> Request {
        Request::from_ctl(
            self.daemon.as_bytes(),
            self.client_name.as_bytes(),
            self.client_addr.as_bytes(),
            self.user.as_bytes(),
        )
    }
}

/// Parse `cases.tsv` (tab-separated, `#` header, empty fields allowed).
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let [name, dir, daemon, cname, caddr, user, expect, rule] = f[..] else {
            return Err(format!(
                "cases.tsv:{}: expected 8 fields, got {}",
                n + 1,
                f.len()
            ));
        };
        let expect = match expect {
            "GRANT" => Decision::Grant,
            "DENY" => Decision::Deny,
            v => return Err(format!("cases.tsv:{}: bad verdict {v:?}", n + 1)),
        };
        out.push(Case {
            name: name.into(),
            dir: dir.into(),
            daemon: daemon.into(),
            client_name: cname.into(),
            client_addr: caddr.into(),
            user: user.into(),
            expect,
            rule: rule.into(),
        });
    }
    Ok(out)
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `benches/data/gen.py OUT`.
pub fn generate(out: &Path) -> Result<(), String> {
    let gen_py = repo_root().join("benches/data/gen.py");
    let status = Command::new("python3")
        .arg(&gen_py)
        .arg(out)
        .status()
        .map_err(|e| format!("python3 {}: {e}", gen_py.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("python3 {}: {status}", gen_py.display()))
    }
}

/// The data directory, generated when `cases.tsv` is missing there.
pub fn data_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("TCPWRAP_BENCH_DATA") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join("benches/data/out"),
    };
    if !dir.join("cases.tsv").is_file() {
        generate(&dir)?;
    }
    Ok(dir)
}

/// The cases of `data/cases.tsv`.
pub fn load_cases(data: &Path) -> Result<Vec<Case>, String> {
    let p = data.join("cases.tsv");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    parse_cases(&text)
}

/// The rule of a verdict as `cases.tsv` writes it (`hosts.allow:5`, `-`).
pub fn rule_text(v: &tcpwrap::Verdict) -> String {
    match &v.rule {
        Some(r) => format!("{}:{}", file_name(&r.file), r.line),
        None => "-".into(),
    }
}

fn file_name(path: &[u8]) -> String {
    let s = String::from_utf8_lossy(path);
    s.rsplit('/').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_empty_fields() {
        let c = parse_cases(
            "#case\tdir\tdaemon\tclient_name\tclient_addr\tuser\texpect\trule\n\
             seed-deny\tseed\tsshd\t\t192.0.2.77\t\tDENY\thosts.deny:1\n",
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].client_name, "");
        assert_eq!(c[0].client_addr, "192.0.2.77");
        assert_eq!(c[0].expect, Decision::Deny);
        assert!(parse_cases("a\tb\n").is_err());
    }
}
