//! The binary interface: exported symbols (names, functions or data, weak
//! or not, data sizes, sections) equal Debian's; SONAME; unversioned
//! symbols; the header's structures identical to Debian's header with and
//! without INET6 / HAVE_WEAKSYMS.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Header, Lib};

/// name -> (binding, kind, section class, size of data objects, version).
fn dynamic_symbols(lib: &Path) -> BTreeMap<String, (String, String, String, String, String)> {
    let o = Command::new("objdump")
        .arg("-T")
        .arg(lib)
        .output()
        .expect("objdump");
    assert!(o.status.success());
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // addr binding kind section size version name
        if t.len() != 7 || t[3] == "*UND*" || !t[0].chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        let section = match t[3] {
            ".data" | ".data.rel" | ".data.rel.ro" => ".data",
            s => s,
        };
        let size = if t[2] == "DO" {
            t[4].trim_start_matches('0').to_string()
        } else {
            String::new()
        };
        out.insert(
            t[6].to_string(),
            (
                t[1].to_string(),
                t[2].to_string(),
                section.to_string(),
                size,
                t[5].to_string(),
            ),
        );
    }
    out
}

fn soname(lib: &Path) -> String {
    let o = Command::new("objdump")
        .arg("-p")
        .arg(lib)
        .output()
        .expect("objdump");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("SONAME")
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn exported_symbols_equal_debians() {
    let ours = common::our_lib_dir().join("libwrap.so.0");
    let mine = dynamic_symbols(&ours);
    assert_eq!(mine.len(), 40, "{mine:#?}");
    assert_eq!(soname(&ours), "libwrap.so.0");
    for (name, (binding, kind, _, size, version)) in &mine {
        assert_eq!(version, "Base", "{name} must be unversioned");
        let weak = name == "allow_severity" || name == "deny_severity";
        assert_eq!(binding == "w", weak, "{name}: binding {binding}");
        if kind == "DO" {
            let want = match name.as_str() {
                "tcpd_buf" => "c8",
                "tcpd_context" => "10",
                "hosts_allow_table" | "hosts_deny_table" | "unknown" => "8",
                "paranoid" => "9",
                _ => "4",
            };
            assert_eq!(size, want, "size of {name}");
        }
    }
    if common::require(common::have_debian(), "Debian's libwrap0") {
        let theirs = dynamic_symbols(Path::new(common::DEBIAN_LIB));
        assert_eq!(soname(Path::new(common::DEBIAN_LIB)), "libwrap.so.0");
        assert_eq!(
            mine.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "symbol names"
        );
        for (name, t) in &theirs {
            assert_eq!(&mine[name], t, "{name}: ours vs Debian's");
        }
    }
}

#[test]
fn header_layout_equals_debians() {
    if !common::require(common::have_gcc(), "gcc")
        || !common::require(common::have_debian(), "Debian's libwrap0-dev")
    {
        return;
    }
    let dir = common::scratch("layout");
    let mut seen: Option<String> = None;
    for header in [Header::Debian, Header::Ours] {
        for defs in [
            &[][..],
            &["-DINET6"][..],
            &["-DHAVE_WEAKSYMS", "-DINET6"][..],
        ] {
            let prog = dir.join(format!("layout-{header:?}-{}", defs.len()));
            common::compile("layout.c", &prog, header, Lib::Debian, defs);
            let o = common::run(&prog, Lib::Debian, &[], &dir);
            assert!(o.status.success());
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(out.contains("request_info 872 8\n"), "{out}");
            assert!(out.contains("host_info 280 8\n"), "{out}");
            match &seen {
                None => seen = Some(out),
                Some(first) => assert_eq!(first, &out, "{header:?} {defs:?}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
