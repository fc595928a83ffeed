//! The examples do what their doc comments (and the README) say, driven by the same `curl`
//! commands: `api`, `forms`, `todo` and `compress` over real sockets; `get` prints what `curl -i`
//! does.
#![cfg(all(feature = "json", feature = "cookies"))]

mod common;

use common::KillOnDrop;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Starts example `name` (built with every feature) on a free port; returns it and its address.
fn run(name: &str, env: &[(&str, &str)]) -> (KillOnDrop, String) {
    let mut child = Command::new(built(name))
        .arg("127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the example prints its address").unwrap();
        if let Some(i) = line.find("http://") {
            let rest = &line[i + 7..];
            break rest[..rest.find('/').unwrap()].to_string();
        }
    };
    (KillOnDrop(child), addr)
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").arg("-s").args(args).output().expect("curl (scripts/test.sh installs it)");
    String::from_utf8(out.stdout).unwrap()
}

const JSON: [&str; 2] = ["-H", "Content-Type: application/json"];

#[test]
fn api_answers_its_curl_lines() {
    let (_s, a) = run("api", &[]);
    let u = format!("http://{a}/api/users");
    assert_eq!(curl(&[&u, JSON[0], JSON[1], "-d", r#"{"name":"Ann"}"#]), r#"{"id":1,"name":"Ann"}"#);
    assert_eq!(curl(&[&format!("{u}?limit=10")]), r#"[{"id":1,"name":"Ann"}]"#);
    assert_eq!(curl(&[&format!("{u}/1")]), r#"{"id":1,"name":"Ann"}"#);
    assert_eq!(
        curl(&["-X", "PUT", &format!("{u}/1"), JSON[0], JSON[1], "-d", r#"{"name":"Ann Lee"}"#]),
        r#"{"id":1,"name":"Ann Lee"}"#
    );
    assert_eq!(curl(&["-X", "DELETE", &format!("{u}/1"), "-w", "%{http_code}\n"]), "204\n");
    assert_eq!(curl(&[&format!("{u}/1")]), r#"{"error":"no user 1"}"#);
    assert_eq!(curl(&["-X", "PATCH", &format!("{u}/1"), "-w", "%{http_code}", "-o", "/dev/null"]), "405");
    assert_eq!(curl(&[&format!("http://{a}/api/users/1%20x")]), r#"{"error":"the id must be a number"}"#);
}

#[test]
fn forms_upload_streams_and_checks_the_token() {
    let (_s, a) = run("forms", &[]);
    let dir = std::env::temp_dir().join(format!("shockwave-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jar = dir.join("jar");
    let jar = jar.to_str().unwrap();
    let page = curl(&["-c", jar, &format!("http://{a}/")]);
    let i = page.find("value=\"").unwrap() + 7;
    let token = &page[i..i + 32];
    let file = dir.join("big.bin");
    std::fs::write(&file, vec![7u8; 3_000_000]).unwrap();
    let up = curl(&[
        "-b",
        jar,
        "-F",
        &format!("csrf={token}"),
        "-F",
        &format!("file=@{}", file.display()),
        &format!("http://{a}/upload"),
    ]);
    // sha256 of 3,000,000 bytes of 0x07, by Python's hashlib
    let want = Command::new("python3")
        .args(["-c", "import hashlib; print(hashlib.sha256(b'\\x07' * 3000000).hexdigest())"])
        .output()
        .unwrap();
    assert_eq!(up, format!("big.bin: 3000000 bytes, sha256 {}", String::from_utf8_lossy(&want.stdout)));
    let forged = curl(&[
        "-b",
        jar,
        "-F",
        "csrf=nope",
        "-F",
        &format!("file=@{}", file.display()),
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        &format!("http://{a}/upload"),
    ]);
    assert_eq!(forged, "403");
    let hi = curl(&[
        "-b",
        jar,
        "--data-urlencode",
        &format!("csrf={token}"),
        "--data-urlencode",
        "name=Zoë",
        &format!("http://{a}/hello"),
    ]);
    assert_eq!(hi, "<p>Hello, Zoë!</p>\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn todo_keeps_its_data_in_sqlite() {
    let db = std::env::temp_dir().join(format!("shockwave-todo-e2e-{}.db", std::process::id()));
    let db = db.to_str().unwrap().to_string();
    let (s, a) = run("todo", &[("TODO_DB", &db), ("TODO_QUIET", "1")]);
    let t = format!("http://{a}/todos");
    assert_eq!(
        curl(&[&t, JSON[0], JSON[1], "-d", r#"{"title":"write docs"}"#]),
        r#"{"id":1,"title":"write docs","done":false}"#
    );
    assert_eq!(
        curl(&["-X", "PATCH", &format!("{t}/1"), JSON[0], JSON[1], "-d", r#"{"done":true}"#]),
        r#"{"id":1,"title":"write docs","done":true}"#
    );
    drop(s); // restart: the data is on disk
    let (_s, a) = run("todo", &[("TODO_DB", &db), ("TODO_QUIET", "1")]);
    let t = format!("http://{a}/todos");
    assert_eq!(curl(&[&t]), r#"[{"id":1,"title":"write docs","done":true}]"#);
    assert_eq!(curl(&["-X", "DELETE", &format!("{t}/1"), "-w", "%{http_code}\n"]), "204\n");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{ext}"));
    }
}

/// Builds example `name` (with every feature) and returns its path.
fn built(name: &str) -> std::path::PathBuf {
    let ok = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--all-features", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cannot build example {name}");
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

/// `cargo run --example get -- URL` prints what `curl -i` prints: the same status line,
/// header lines and body (with the line ends `curl` keeps from the wire as CRLF made LF).
#[test]
fn get_prints_a_response_like_curl_i() {
    let (_s, a) = run("api", &[]);
    let u = format!("http://{a}/api/users/7");
    let get = Command::new(built("get")).arg(&u).output().unwrap();
    assert_eq!(get.status.code(), Some(0));
    let ours = String::from_utf8(get.stdout).unwrap();
    let theirs = curl(&["-i", &u]).replace("\r\n", "\n");
    // the Date may tick between the two requests, and each gets its own request id
    let strip = |s: &str| {
        s.lines().filter(|l| !l.starts_with("Date:") && !l.starts_with("X-Request-Id:")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(strip(&ours), strip(&theirs));
    assert!(ours.starts_with("HTTP/1.1 404 Not Found\n"), "{ours}");

    let post = Command::new(built("get"))
        .arg(format!("http://{a}/api/users"))
        .envs([("METHOD", "POST"), ("BODY", r#"{"name":"Bo"}"#)])
        .output()
        .unwrap();
    let out = String::from_utf8(post.stdout).unwrap();
    assert!(out.starts_with("HTTP/1.1 415"), "no Content-Type: {out}");

    let bad = Command::new(built("get")).arg("http://127.0.0.1:1/").output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("http://127.0.0.1:1/") && err.contains("refused"), "{err}");
}

/// `compress` answers the curl lines of its doc comment: `/json` compressed (br with every
/// feature, as curl asks for it first), a gzip upload decoded.
#[cfg(feature = "compress")]
#[test]
fn compress_serves_compressed_json_and_decodes_uploads() {
    let (_s, a) = run("compress", &[]);
    let head = curl(&["--compressed", "-D", "-", "-o", "/dev/null", &format!("http://{a}/json")]).to_ascii_lowercase();
    assert!(head.contains("content-encoding: ") && head.contains("vary: accept-encoding"), "{head}");
    let body = curl(&["--compressed", &format!("http://{a}/json")]);
    assert!(body.starts_with(r#"[{"id":0,"name":"user 0""#) && body.ends_with("}]"), "{} bytes", body.len());
    let up = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'hello, compressed world' | gzip -c | curl -s --data-binary @- -H 'Content-Encoding: gzip' http://{a}/upload"
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&up.stdout), "23 bytes decoded\n");
}
