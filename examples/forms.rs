//! HTML forms: an urlencoded form and a multipart file upload, both guarded by a CSRF token
//! (a random value in an `HttpOnly; SameSite=Strict` cookie that each form must echo), the
//! upload streamed to a temporary file while its SHA-256 is computed, never held in memory.
//!
//! ```text
//! cargo run --example forms --features cookies
//! # then open http://127.0.0.1:8080/ in a browser, or with curl:
//! curl -s -c jar localhost:8080/ | grep -o 'value="[0-9a-f]*"'      # the token
//! curl -s -b jar -F csrf=TOKEN -F file=@big.iso localhost:8080/upload
//! ```

use sha2::{Digest, Sha256};
use shockwave::cookie::{Cookie, SameSite};
use shockwave::{Error, Request, Response, Router, Server};
use std::io::{Read, Write};

/// A fresh CSRF token: 16 random bytes from the kernel, in hex.
fn token() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The request's CSRF cookie, which a form's `csrf` field must match.
fn expected(req: &Request) -> Result<String, Error> {
    req.cookie("csrf")
        .map(|c| c.value().to_string())
        .ok_or_else(|| Error::forbidden("no CSRF cookie: load the form first"))
}

fn check(req: &Request, sent: Option<&str>) -> Result<(), Error> {
    match sent {
        Some(t) if !t.is_empty() && t == expected(req)? => Ok(()),
        _ => Err(Error::forbidden("CSRF token missing or wrong")),
    }
}

fn page(resp: &mut Response) -> Result<(), Error> {
    let t = token().map_err(Error::internal)?;
    resp.add_cookie(&Cookie::build(("csrf", t.clone())).path("/").http_only(true).same_site(SameSite::Strict).build());
    resp.set_content_type("text/html; charset=utf-8");
    resp.write_body(format!(
        r#"<!doctype html><title>forms</title>
<h1>Say hello</h1>
<form method="post" action="/hello"><input type="hidden" name="csrf" value="{t}">
<input name="name" placeholder="your name"> <button>Send</button></form>
<h1>Upload a file</h1>
<form method="post" action="/upload" enctype="multipart/form-data"><input type="hidden" name="csrf" value="{t}">
<input type="file" name="file"> <button>Upload</button></form>
"#
    ));
    Ok(())
}

fn hello(req: &Request, resp: &mut Response) -> Result<(), Error> {
    let form = req.form()?;
    check(req, form.get("csrf").as_deref())?;
    let name = form.get("name").unwrap_or_default();
    let escaped = name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    resp.set_content_type("text/html; charset=utf-8");
    resp.write_body(format!("<p>Hello, {escaped}!</p>\n"));
    Ok(())
}

/// Streams the `file` part to a temporary file, hashing as it goes; the `csrf` field must come
/// first (browsers send fields in the form's order).
fn upload(req: &Request, resp: &mut Response) -> Result<(), Error> {
    let mut form = req.multipart()?;
    let mut csrf_ok = false;
    while let Some(mut part) = form.next_part()? {
        match (part.name(), part.filename().map(str::to_string)) {
            (Some("csrf"), None) => {
                let sent = part.text()?;
                check(req, Some(&sent))?;
                csrf_ok = true;
            }
            (Some("file"), Some(name)) => {
                if !csrf_ok {
                    return Err(Error::forbidden("the csrf field must come before the file"));
                }
                let path = std::env::temp_dir().join(format!("shockwave-upload-{}", token().map_err(Error::internal)?));
                let mut file = std::fs::File::create(&path).map_err(Error::internal)?;
                let (mut hash, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; 64 * 1024]);
                loop {
                    let n = part.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    hash.update(&buf[..n]);
                    file.write_all(&buf[..n]).map_err(Error::internal)?;
                    size += n as u64;
                }
                drop(file);
                let _ = std::fs::remove_file(&path); // a real app would keep it
                let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
                resp.set_content_type("text/plain; charset=utf-8");
                resp.write_body(format!("{name}: {size} bytes, sha256 {hex}\n"));
            }
            _ => {} // other fields are ignored
        }
    }
    if resp.body().is_empty() {
        return Err(Error::bad_request("no file in the upload"));
    }
    Ok(())
}

fn app() -> Router {
    Router::new().get("/", |_req, resp| page(resp)).post("/hello", hello).post("/upload", upload)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    // uploads up to 4 GiB: they stream to disk, so the limit is the disk's, not memory's
    let server = Server::builder().max_request_body(4 << 30).bind(&addr)?;
    println!("forms on http://{}/", server.local_addr());
    server.start_handler(app())?.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use shockwave::test::request;

    #[test]
    fn forms_need_the_token() {
        let app = super::app();
        let page = request("GET", "/").send(&app);
        let cookie = page.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
        let token = cookie.trim_start_matches("csrf=").to_string();
        assert!(page.text().contains(&token));
        let post = |body: String, cookie: &str| {
            request("POST", "/hello")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Cookie", cookie)
                .body(body)
                .send(&app)
        };
        let ok = post(format!("csrf={token}&name=%3Cb%3EAnn"), &cookie);
        assert_eq!((ok.status(), ok.text()), (200, "<p>Hello, &lt;b&gt;Ann!</p>\n"));
        assert_eq!(post("csrf=forged&name=x".into(), &cookie).status(), 403);
        assert_eq!(post(format!("csrf={token}&name=x"), "other=1").status(), 403);
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
             --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc\r\n--b--\r\n"
        );
        let up = request("POST", "/upload")
            .header("Content-Type", "multipart/form-data; boundary=b")
            .header("Cookie", &cookie)
            .body(body)
            .send(&app);
        assert_eq!(
            up.text(),
            "a.txt: 3 bytes, sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        );
    }
}
