//! Real, independent clients get correct answers: curl, Python's `http.client` and Go's
//! `net/http`. `scripts/test.sh` installs them when missing; without Go the Go test says so
//! and is skipped.

mod common;

use common::{have, start_default};
use shockwave::{Request, Response};
use std::io::Read;
use std::process::Command;

fn app(req: &Request, resp: &mut Response) {
    if req.path() == "/ignore" {
        return resp.write_body(b"ignored"); // answers without reading the body
    }
    let mut body = Vec::new();
    req.body_reader().read_to_end(&mut body).unwrap();
    resp.set_content_type("text/plain");
    match req.path() {
        "/echo" => resp.write_body(&body),
        "/stream" => {
            use std::io::Write;
            for i in 0..5000 {
                writeln!(resp, "line {i}").unwrap();
            }
        }
        _ => resp.write_body(format!("{} {} {}", req.method(), req.path(), body.len()).as_bytes()),
    }
}

#[test]
fn curl_gets_correct_answers() {
    assert!(have("curl", "--version"), "curl is required (scripts/test.sh installs it)");
    let s = start_default(app);
    let url = format!("http://{}", s.local_addr());
    let out = Command::new("curl").args(["-s", "-i", &format!("{url}/hello")]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nContent-Length: 12\r\n") && text.contains("\r\nDate: "), "{text}");
    assert!(text.ends_with("\r\n\r\nGET /hello 0"), "{text}");
    // several URLs on one connection, a POST, and a chunked upload with Expect: 100-continue
    let big = "x".repeat(200_000);
    let file = std::env::temp_dir().join(format!("shockwave-curl-{}", std::process::id()));
    std::fs::write(&file, &big).unwrap();
    let data = format!("@{}", file.display());
    let out = Command::new("curl").args(["-s", "-v", &format!("{url}/a"), &format!("{url}/b")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "GET /a 0GET /b 0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Re-using existing connection"));
    let out = Command::new("curl").args(["-s", "--data-binary", &data, &format!("{url}/echo")]).output().unwrap();
    assert_eq!(out.stdout.len(), big.len());
    let out = Command::new("curl")
        .args([
            "-s",
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            &data,
            &format!("{url}/n"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "POST /n 200000");
    let _ = std::fs::remove_file(&file);
    let out = Command::new("curl").args(["-s", &format!("{url}/stream")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5000);
    s.shutdown();
}

#[test]
fn python_http_client_gets_correct_answers() {
    assert!(have("python3", "--version"), "python3 is required (scripts/test.sh installs it)");
    let s = start_default(app);
    let script = format!(
        r#"
import http.client
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=10)
for i in range(3):
    c.request("GET", "/p%d" % i)
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"GET /p%d 0" % i, r.status
c.request("POST", "/echo", body=b"z" * 100000)
r = c.getresponse()
assert r.read() == b"z" * 100000
c.request("HEAD", "/h")
r = c.getresponse()
assert r.status == 200 and r.getheader("Content-Length") == "9" and r.read() == b""
c.request("GET", "/stream")
r = c.getresponse()
assert r.getheader("Transfer-Encoding") == "chunked" and r.read().count(b"\n") == 5000
c.putrequest("PUT", "/echo")
c.putheader("Transfer-Encoding", "chunked")
c.endheaders()
for part in (b"abc", b"defg"):
    c.send(b"%x\r\n%s\r\n" % (len(part), part))
c.send(b"0\r\n\r\n")
assert c.getresponse().read() == b"abcdefg"
print("ok")
"#,
        port = s.local_addr().port()
    );
    let out = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(s.stats().connections_accepted, 1, "http.client reused its connection");
    s.shutdown();
}

#[test]
fn go_net_http_client_gets_correct_answers() {
    let s = start_default(app);
    let Some(out) = common::go_run("tests/go/client.go", &[&format!("http://{}", s.local_addr())]) else { return };
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));
    s.shutdown();
}
