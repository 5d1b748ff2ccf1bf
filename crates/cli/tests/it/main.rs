//! The `drifta` binary as a person at a terminal uses it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn drifta(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drifta"))
        .args(args)
        .current_dir(dir)
        .env_remove("DRIFTA_DATABASE_URL")
        .env("DRIFTA_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "passwd", "--help"],
        vec!["user", "disable", "--help"],
        vec!["tenant", "add", "--help"],
        vec!["check-config", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let out = drifta(dir.path(), &args, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{args:?}");
    }
}

#[test]
fn unknown_flag_is_refused_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    let out = drifta(dir.path(), &["serve", "--lisen", "x"], "");
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(
        t.contains("unexpected argument '--lisen'") && t.contains("--listen"),
        "{t}"
    );
}

#[test]
fn malformed_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("drifta.toml"), "listen = \"everywhere\"\n").unwrap();
    let out = drifta(dir.path(), &["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.starts_with("error: configuration key `listen`"), "{t}");
    assert_eq!(t.trim().lines().count(), 1, "one clear line: {t}");
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drifta"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env(
            "DRIFTA_DATABASE_URL",
            "postgres://drifta:hunter2@127.0.0.1:1/drifta",
        )
        .env("DRIFTA_LOG", "error")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("cannot open the database postgres://drifta:***@127.0.0.1:1/drifta"),
        "{t}"
    );
    assert!(!t.contains("hunter2"));
}

#[test]
fn set_up_from_scratch_then_verify_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = drifta(d, &["migrate"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(
        d,
        &[
            "tenant",
            "add",
            "--name",
            "Nordkyst IT",
            "--slug",
            "nordkyst",
            "--country",
            "NO",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(
        d,
        &[
            "tenant",
            "add",
            "--name",
            "Fjordvik kommune",
            "--slug",
            "fjordvik",
            "--country",
            "no",
            "--parent",
            "nordkyst",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(
        d,
        &[
            "tenant",
            "add",
            "--name",
            "X",
            "--slug",
            "x-kommune",
            "--country",
            "SE",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not NO or DK"));

    let add = [
        "user",
        "add",
        "--username",
        "kari",
        "--email",
        "kari@fjordvik.example",
        "--name",
        "Kari",
        "--tenant",
        "fjordvik",
        "--role",
        "technician",
        "--password-stdin",
    ];
    let out = drifta(d, &add, "short\n");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("at least 10 characters"),
        "{}",
        text(&out)
    );
    let out = drifta(d, &add, "fjell og fjord\n");
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(d, &add, "fjell og fjord\n");
    assert!(text(&out).contains("is already in use"), "{}", text(&out));

    let out = drifta(
        d,
        &[
            "user",
            "add",
            "--username",
            "ola",
            "--email",
            "ola@x.example",
            "--name",
            "Ola",
            "--tenant",
            "nowhere",
            "--role",
            "technician",
            "--password-stdin",
        ],
        "fjell og fjord\n",
    );
    assert!(
        text(&out).contains("no provider or municipality with slug 'nowhere'"),
        "{}",
        text(&out)
    );

    let out = drifta(
        d,
        &["user", "passwd", "kari", "--password-stdin"],
        "et nytt passord\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(d, &["user", "disable", "kari"], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = drifta(d, &["user", "disable", "nobody"], "");
    assert!(text(&out).contains("no user named 'nobody'"));

    let out = drifta(d, &["audit", "verify"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("audit log intact: 6 entries verified"),
        "{}",
        text(&out)
    );

    // Tamper with a row behind drifta's back: verify must fail and say which.
    let db = d.join("drifta.db");
    let status = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c=sqlite3.connect('{}'); c.execute('DROP TRIGGER audit_log_no_update'); c.execute(\"UPDATE audit_log SET actor_name='mallory' WHERE seq=2\"); c.commit()",
            db.display()
        ))
        .status();
    if status.is_ok_and(|s| s.success()) {
        let out = drifta(d, &["audit", "verify"], "");
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out).contains("audit entry 2"), "{}", text(&out));
    }
}

#[test]
fn refuses_a_database_from_a_newer_drifta() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(drifta(d, &["migrate"], "").status.success());
    let db = d.join("drifta.db");
    let status = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c=sqlite3.connect('{}'); c.execute(\"INSERT INTO schema_migrations VALUES (999, 'future', 'x', 0)\"); c.commit()",
            db.display()
        ))
        .status()
        .unwrap();
    assert!(
        status.success(),
        "python3 with sqlite3 is needed for this test"
    );
    let out = drifta(d, &["serve"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("newer drifta"), "{}", text(&out));
}
