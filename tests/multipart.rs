//! Multipart uploads over real sockets, sent by curl and Python's `requests`, streamed
//! through `Request::multipart` part by part.

mod common;

use shockwave::{Error, Server, ServerHandle};
use std::io::Read;
use std::process::Command;

/// FNV-1a over everything read: a checksum both sides can compute.
fn fnv(mut r: impl Read) -> std::io::Result<(u64, u64)> {
    let (mut h, mut n) = (0xcbf2_9ce4_8422_2325u64, 0u64);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            return Ok((n, h));
        }
        for &b in &buf[..k] {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        n += k as u64;
    }
}

fn start() -> ServerHandle {
    Server::builder()
        .pollers(1)
        .workers(2)
        .max_request_body(64 << 20)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|req, resp| -> Result<(), Error> {
            let mut form = req.multipart()?;
            while let Some(part) = form.next_part()? {
                let name = part.name().unwrap_or("").to_string();
                match part.filename().map(str::to_string) {
                    Some(file) => {
                        let (n, h) = fnv(part)?;
                        resp.write_body(format!("{name} {file} {n} {h:x}\n"));
                    }
                    None => {
                        let text = part.text()?;
                        resp.write_body(format!("{name}={text}\n"));
                    }
                }
            }
            Ok(())
        })
        .unwrap()
}

fn big_file() -> (std::path::PathBuf, u64, u64) {
    let data: Vec<u8> = (0..20_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let (n, h) = fnv(&data[..]).unwrap();
    let path = std::env::temp_dir().join(format!("shockwave-upload-{}.bin", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    (path, n, h)
}

#[test]
fn curl_and_python_upload_files_and_fields() {
    let s = start();
    let url = format!("http://{}/upload", s.local_addr());
    let (path, n, h) = big_file();
    let out = Command::new("curl")
        .args(["-s", "-F", "title=Zoë's photos", "-F", &format!("photo=@{};filename=b e.bin", path.display()), &url])
        .output()
        .expect("curl (scripts/test.sh installs it)");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("title=Zoë's photos\nphoto b e.bin {n} {h:x}\n"));
    let script = format!(
        r#"
import requests
with open({path:?}, "rb") as f:
    r = requests.post("{url}", data={{"a": "1", "b": "two words"}}, files={{"doc": ("report.pdf", f, "application/pdf")}})
print(r.status_code)
print(r.text, end="")
r = requests.post("{url}", data="x", headers={{"Content-Type": "multipart/form-data; boundary=zz"}})
print(r.status_code)
r = requests.post("{url}", data="x")
print(r.status_code)
"#,
        path = path.display().to_string()
    );
    let out = Command::new("python3").args(["-c", &script]).output().expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        format!("200\na=1\nb=two words\ndoc report.pdf {n} {h:x}\n400\n415\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&path);
    s.shutdown();
}

#[test]
fn an_upload_over_a_limit_is_a_413_and_a_truncated_one_a_400() {
    let s = start();
    let a = s.local_addr();
    let body = format!("--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n{}\r\n--b--\r\n", "x".repeat(100_000));
    let raw = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (r, _) = common::exchange(a, raw.as_bytes(), 1);
    assert_eq!(r[0].status, 413, "{}", r[0].text());
    assert!(
        r[0].text().contains("64 KiB") || r[0].text().contains("65536") || r[0].text().contains("field"),
        "{}",
        r[0].text()
    );
    let cut = "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nabc";
    let raw = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n{cut}",
        cut.len()
    );
    let (r, _) = common::exchange(a, raw.as_bytes(), 1);
    assert_eq!(r[0].status, 400, "{}", r[0].text());
    s.shutdown();
}
