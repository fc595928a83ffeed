//! The handler-author layer over real sockets: a `Router` with `Result` handlers, JSON,
//! query, form and cookies, served by a real server and driven by raw bytes, curl and
//! Python's `requests`.
#![cfg(all(feature = "json", feature = "cookies"))]

mod common;

use common::{exchange, Client};
use shockwave::cookie::Cookie;
use shockwave::{Error, Router, Server, ServerHandle};
use std::process::Command;

#[derive(serde::Deserialize, serde::Serialize)]
struct User {
    id: u64,
    name: String,
}

fn app() -> Router {
    let api = Router::new()
        .get("/users/{id}", |req, resp| -> Result<(), Error> {
            let id: u64 =
                req.param("id").unwrap_or("").parse().map_err(|_| Error::bad_request("id must be a number"))?;
            let verbose = req.query("verbose").is_some();
            resp.json(&User { id, name: format!("user {id} {verbose}") })
        })
        .post("/users", |req, resp| -> Result<(), Error> {
            let user: User = req.json()?;
            resp.set_status(201);
            resp.json(&user)
        })
        .post("/login", |req, resp| -> Result<(), Error> {
            let form = req.form()?;
            let user = form.get("user").ok_or_else(|| Error::bad_request("user is missing"))?;
            resp.add_cookie(&Cookie::build(("session", user.into_owned())).path("/").http_only(true).build());
            resp.write_body("welcome");
            Ok(())
        })
        .get("/me", |req, resp| match req.cookie("session") {
            Some(c) => resp.write_body(format!("you are {}", c.value())),
            None => resp.set_status(401),
        });
    Router::new().nest("/api", api).fallback(|_req, resp| {
        resp.set_status(404);
        resp.write_body("nothing here");
    })
}

fn start() -> ServerHandle {
    Server::builder().pollers(1).workers(2).bind("127.0.0.1:0").unwrap().start_handler(app()).unwrap()
}

#[test]
fn the_readmes_unit_test_holds() {
    let app = app();
    let resp = shockwave::test::request("GET", "/api/users/7?verbose=1").send(&app);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.text(), r#"{"id":7,"name":"user 7 true"}"#);
}

#[test]
fn raw_requests_get_routes_errors_head_options_and_405() {
    let s = start();
    let a = s.local_addr();
    let raw = b"GET /api/users/%37?verbose=1 HTTP/1.1\r\nHost: t\r\n\r\n\
GET /api/users/x HTTP/1.1\r\nHost: t\r\n\r\n\
DELETE /api/users/7 HTTP/1.1\r\nHost: t\r\n\r\n\
OPTIONS /api/users HTTP/1.1\r\nHost: t\r\n\r\n\
POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}\
POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"id\"\
GET /elsewhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    let (mut r, closed) = exchange(a, raw, 7);
    assert!(closed);
    assert_eq!((r[0].status, r[0].header("content-type")), (200, Some("application/json")));
    assert_eq!(r[0].text(), r#"{"id":7,"name":"user 7 true"}"#);
    let mut c = Client::connect(a);
    c.send(b"HEAD /api/users/7 HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.read_response_within(true, std::time::Duration::from_secs(10)).expect("HEAD answer");
    assert_eq!((head.status, head.header("content-length"), head.body.len()), (200, Some("30"), 0));
    r.insert(1, head);
    assert_eq!((r[2].status, r[2].text()), (400, "id must be a number\n".to_string()));
    assert_eq!((r[3].status, r[3].header("allow")), (405, Some("GET, HEAD, OPTIONS")));
    assert_eq!((r[4].status, r[4].header("allow")), (204, Some("POST, OPTIONS")));
    assert_eq!(r[5].status, 415);
    assert_eq!((r[6].status, r[6].header("content-type")), (400, Some("application/json")));
    assert!(r[6].text().contains("invalid JSON body"), "{}", r[6].text());
    assert_eq!((r[7].status, r[7].text()), (404, "nothing here".to_string()));
    // errors answered by handlers keep the connection
    let mut c = Client::connect(a);
    for _ in 0..3 {
        c.send(b"GET /api/users/zz HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(c.read_response().status, 400);
    }
    s.shutdown();
}

#[test]
fn curl_drives_the_api() {
    let s = start();
    let url = format!("http://{}/api", s.local_addr());
    let run = |args: &[&str]| {
        let out = Command::new("curl").arg("-s").args(args).output().expect("curl (scripts/test.sh installs it)");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&[&format!("{url}/users/3")]), r#"{"id":3,"name":"user 3 false"}"#);
    let created = run(&[
        "-w",
        " %{http_code}",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"id":9,"name":"Zoë"}"#,
        &format!("{url}/users"),
    ]);
    assert_eq!(created, r#"{"id":9,"name":"Zoë"} 201"#);
    let head = run(&["-I", &format!("{url}/users/3")]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 30\r\n"), "{head}");
    let jar = std::env::temp_dir().join(format!("shockwave-jar-{}", std::process::id()));
    let jar = jar.to_str().unwrap();
    assert_eq!(run(&["-c", jar, "-d", "user=ann+lee", &format!("{url}/login")]), "welcome");
    assert_eq!(run(&["-b", jar, &format!("{url}/me")]), "you are ann lee");
    let _ = std::fs::remove_file(jar);
    assert_eq!(run(&["-w", "%{http_code}", "-X", "PATCH", &format!("{url}/users/3"), "-o", "/dev/null"]), "405");
    s.shutdown();
}

#[test]
fn python_requests_drives_the_api() {
    let s = start();
    let script = format!(
        r#"
import requests
base = "http://{addr}/api"
with requests.Session() as s:
    r = s.get(base + "/users/5", params={{"verbose": "yes please"}})
    assert r.status_code == 200 and r.json() == {{"id": 5, "name": "user 5 true"}}, r.text
    r = s.post(base + "/users", json={{"id": 6, "name": "Żaneta"}})
    assert r.status_code == 201 and r.json()["name"] == "Żaneta", r.text
    r = s.post(base + "/users", data=b"{{")
    assert r.status_code == 415, r.status_code
    r = s.post(base + "/login", data={{"user": "bo&b=1"}})
    assert r.status_code == 200 and s.cookies.get("session") == "bo&b=1", (r.text, s.cookies)
    r = s.get(base + "/me")
    assert r.text == "you are bo&b=1", r.text
    r = s.put(base + "/users/1")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD, OPTIONS", r.headers
print("ok")
"#,
        addr = s.local_addr()
    );
    let out = Command::new("python3").args(["-c", &script]).output().expect("python3");
    if String::from_utf8_lossy(&out.stderr).contains("No module named 'requests'") {
        panic!("Python's requests is required (scripts/test.sh installs it)");
    }
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{}", String::from_utf8_lossy(&out.stderr));
    s.shutdown();
}

#[test]
fn an_error_page_shapes_the_servers_own_errors_and_the_handlers() {
    let s = Server::builder()
        .pollers(1)
        .workers(2)
        .json_errors()
        .bind("127.0.0.1:0")
        .unwrap()
        .start_handler(app())
        .unwrap();
    let a = s.local_addr();
    let cases: [(&[u8], u16, &str); 4] = [
        (b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, r#"{"error":"Bad Request: "#),
        (
            b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n",
            413,
            r#"{"error":"Content Too Large: request body too large"}"#,
        ),
        (b"GET /api/users/x HTTP/1.1\r\nHost: t\r\n\r\n", 400, r#"{"error":"id must be a number"}"#),
        (b"BREW /api HTTP/1.1\r\nHost: t\r\n\r\n", 501, r#"{"error":"Not Implemented"#),
    ];
    for (raw, status, body) in cases {
        let (r, _) = exchange(a, raw, 1);
        assert_eq!(
            (r[0].status, r[0].header("content-type")),
            (status, Some("application/json")),
            "{}",
            String::from_utf8_lossy(raw)
        );
        assert!(r[0].text().starts_with(body), "{}", r[0].text());
    }
    let mut c = Client::connect(a);
    c.send(b"HEAD /a%zz b HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.read_response_within(true, std::time::Duration::from_secs(10)).expect("answer");
    assert_eq!((r.status, r.body.len()), (400, 0));
    s.shutdown();
}
