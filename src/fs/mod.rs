//! Static files (cargo feature `fs`): [`Dir`] serves a directory, [`File`] one file, and
//! [`serve_file`] answers with a file from inside any handler.
//!
//! Every answer carries `Content-Type` (from the extension; `charset=utf-8` for text),
//! a strong `ETag` (`"<inode>-<size>-<mtime ns>"` in hex), `Last-Modified` and
//! `Accept-Ranges: bytes`, and honours conditional requests in RFC 9110 §13.2.2's order
//! (`If-Match` and `If-Unmodified-Since` → 412, `If-None-Match` and `If-Modified-Since` →
//! 304) and `Range` (one range → 206 with `Content-Range`; several →
//! `multipart/byteranges`; none satisfiable → 416 with `Content-Range: bytes */LEN`; a
//! mismatched `If-Range` → the whole file). More than 16 ranges, or an invalid `Range`, are
//! ignored (200 with the whole file); overlapping ranges are merged. Methods other than GET and
//! HEAD get 405 with `Allow: GET, HEAD`.
//!
//! The file is never read into memory (bodies up to 32 KiB are copied into the response
//! buffer, as any small response): the response carries the open file, and after the handler
//! returns the connection sends the head and then the file with `sendfile(2)`, from the
//! poller when the client is slow, so no worker waits for a download. The write timeout
//! applies to a stalled download as to any output (progress resets it).
//!
//! Paths never leave the root: the request path is decoded once and refused, before the file
//! system is touched, if it holds `..`, an encoded `/` or `\`, a backslash, a NUL, a leading
//! `/` or a drive prefix (404, or 400 for a malformed `%` escape); symlinks are followed only
//! while they stay inside the root (canonicalized and checked: a link out of it is a 404).
//! Permission denied is 403. What is not checked: a file swapped for a symlink between the
//! check and the open by someone who can write inside the root.

mod conditional;
mod listing;
mod path;
mod range;
mod send;

use crate::{Error, Handler, HandlerResult, Request, Response};
use send::Options;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Serves the files below a directory, like nginx's `root` or tower-http's `ServeDir`.
///
/// The file is named by the request path: all of it, or under a [`Router`](crate::Router)
/// the part a route's first parameter matches (mount it as `/static/{*path}`, and as
/// `/static/` for the root directory, since a catch-all never matches nothing; for every
/// method, so that it can answer 405 itself). A directory is answered with its
/// `index.html` (see [`index`](Self::index)), or with a listing if [`listing`](Self::listing)
/// is on, else 404; a directory asked for without its trailing `/` is redirected (301) to it.
///
/// ```
/// let root = std::env::temp_dir().join(format!("shockwave-doc-dir-{}", std::process::id()));
/// std::fs::create_dir_all(root.join("css")).unwrap();
/// std::fs::write(root.join("index.html"), "<h1>home</h1>").unwrap();
/// std::fs::write(root.join("css/site.css"), "body{}").unwrap();
///
/// let app = shockwave::Router::new()
///     .get("/api", |_req, resp| resp.write_body("{}"))
///     .route_handler("*", "/static/", shockwave::fs::Dir::new(&root))
///     .route_handler("*", "/static/{*path}", shockwave::fs::Dir::new(&root).cache_control("public, max-age=3600"));
/// let css = shockwave::test::request("GET", "/static/css/site.css").send(&app);
/// assert_eq!((css.status(), css.header("content-type"), css.text()), (200, Some("text/css; charset=utf-8"), "body{}"));
/// assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));
/// let home = shockwave::test::request("GET", "/static/").send(&app);
/// assert_eq!(home.text(), "<h1>home</h1>");
/// assert_eq!(shockwave::test::request("GET", "/static/../Cargo.toml").send(&app).status(), 404);
/// # std::fs::remove_dir_all(&root).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Dir {
    root: PathBuf,
    index: Option<String>,
    listing: bool,
    options: Options,
}

impl Dir {
    /// Serves the files below `root` (made absolute now; its symlinks are resolved on each
    /// request, so a `current -> releases/v2` switch takes effect at once).
    ///
    /// ```no_run
    /// fn main() -> std::io::Result<()> {
    ///     shockwave::serve_handler("127.0.0.1:8080", shockwave::fs::Dir::new("public"))
    /// }
    /// ```
    pub fn new(root: impl AsRef<Path>) -> Dir {
        let root = root.as_ref();
        Dir {
            root: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
            index: Some("index.html".into()),
            listing: false,
            options: Options::default(),
        }
    }

    /// The file that answers for a directory (default `index.html`).
    ///
    /// ```
    /// let dir = shockwave::fs::Dir::new("public").index("default.htm");
    /// # let _ = dir;
    /// ```
    pub fn index(mut self, name: impl Into<String>) -> Dir {
        self.index = Some(name.into());
        self
    }

    /// Answers for a directory without an index file (a listing, if on, else 404).
    ///
    /// ```
    /// let dir = shockwave::fs::Dir::new("downloads").no_index().listing(true);
    /// # let _ = dir;
    /// ```
    pub fn no_index(mut self) -> Dir {
        self.index = None;
        self
    }

    /// Lists a directory that has no index file, as an HTML page of links (default off).
    /// Names are HTML-escaped and percent-encoded in the links; at most 10,000 entries.
    ///
    /// ```
    /// let root = std::env::temp_dir().join(format!("shockwave-doc-listing-{}", std::process::id()));
    /// std::fs::create_dir_all(&root).unwrap();
    /// std::fs::write(root.join("<b>.txt"), "x").unwrap();
    /// let dir = shockwave::fs::Dir::new(&root).listing(true);
    /// let page = shockwave::test::request("GET", "/").send(&dir);
    /// assert!(page.text().contains(r#"<a href="%3Cb%3E.txt">&lt;b&gt;.txt</a>"#), "{}", page.text());
    /// # std::fs::remove_dir_all(&root).unwrap();
    /// ```
    pub fn listing(mut self, on: bool) -> Dir {
        self.listing = on;
        self
    }

    /// Sends `Cache-Control: value` with every file (and its 304s).
    ///
    /// ```
    /// let dir = shockwave::fs::Dir::new("assets").cache_control("public, max-age=31536000, immutable");
    /// # let _ = dir;
    /// ```
    pub fn cache_control(mut self, value: impl Into<String>) -> Dir {
        self.options.cache_control = Some(value.into());
        self
    }

    /// Serves `x.br` or `x.gz`, when it exists beside `x` and `Accept-Encoding` accepts it
    /// (`br` preferred), with `Content-Encoding` and `x`'s `Content-Type`; every answer then
    /// says `Vary: Accept-Encoding` (default off).
    ///
    /// ```
    /// let root = std::env::temp_dir().join(format!("shockwave-doc-pre-{}", std::process::id()));
    /// std::fs::create_dir_all(&root).unwrap();
    /// std::fs::write(root.join("app.js"), "plain").unwrap();
    /// std::fs::write(root.join("app.js.gz"), "gzipped").unwrap();
    /// let dir = shockwave::fs::Dir::new(&root).precompressed(true);
    /// let gz = shockwave::test::request("GET", "/app.js").header("Accept-Encoding", "gzip").send(&dir);
    /// assert_eq!((gz.text(), gz.header("content-encoding")), ("gzipped", Some("gzip")));
    /// assert!(gz.header("content-type").unwrap().contains("javascript"));
    /// assert_eq!(shockwave::test::request("GET", "/app.js").send(&dir).text(), "plain");
    /// # std::fs::remove_dir_all(&root).unwrap();
    /// ```
    pub fn precompressed(mut self, on: bool) -> Dir {
        self.options.precompressed = on;
        self
    }

    /// Sends file bodies through a buffer (read + write) instead of `sendfile`: the path a
    /// TLS connection takes. For tests and benchmarks (feature `internals`).
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn buffered(mut self, on: bool) -> Dir {
        self.options.buffered = on;
        self
    }

    fn serve(&self, req: &Request, resp: &mut Response) -> Result<(), Error> {
        if !send::allowed_method(req, resp) {
            return Ok(());
        }
        let rest = rest_of_path(req);
        let (rel, wants_dir) = match path::relative(rest) {
            Ok(r) => r,
            Err(path::Refused::BadEscape) => return Err(Error::bad_request("malformed %-escape in the path")),
            Err(path::Refused::Outside) => return Err(Error::not_found("Not Found")),
        };
        let want = Wanted { rel: &rel, dir: wants_dir, file_ok: !wants_dir || rest.is_empty() };
        // The fast way: each open one `openat2(RESOLVE_BENEATH)` below the root, which the
        // kernel keeps from leaving it. Where that refuses what may still be allowed (an
        // absolute symlink, a kernel without openat2), the portable way decides:
        // canonicalize (resolving every symlink) and check the result is below the root.
        // (`O_PATH`: the descriptor only anchors the lookups, and opening and closing one costs
        // less than a readable directory: no permission or notification hooks)
        let root =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY | libc::O_PATH).open(&self.root);
        let root = root.map_err(|e| send::open_error(e, &self.root))?;
        let beneath = |p: &Path| -> Result<send::Opened, Option<Error>> {
            let opened = crate::sys::open_beneath(root.as_raw_fd(), p).and_then(|file| {
                let meta = file.metadata()?;
                Ok(send::Opened { file, meta })
            });
            opened.map_err(|e| match e.raw_os_error() {
                Some(libc::EXDEV | libc::ENOSYS | libc::ELOOP) => None,
                _ => Some(send::open_error(e, p)),
            })
        };
        if let Some(answered) = self.answer(req, resp, &want, &beneath) {
            return answered;
        }
        let canonical_root = std::fs::canonicalize(&self.root).map_err(|e| send::open_error(e, &self.root))?;
        let canonical = |p: &Path| -> Result<send::Opened, Option<Error>> {
            match path::inside(&canonical_root, &canonical_root.join(p)) {
                Ok(Some(real)) => send::open(&real).map_err(|e| Some(send::open_error(e, p))),
                Ok(None) => Err(Some(Error::not_found("Not Found"))), // a symlink out of the root
                Err(e) => Err(Some(send::open_error(e, p))),
            }
        };
        if let Some(answered) = self.answer(req, resp, &want, &canonical) {
            return answered;
        }
        // what is left: a directory without an index, to be listed
        let real = path::inside(&canonical_root, &canonical_root.join(&rel)).ok().flatten();
        let real = real.ok_or_else(|| Error::not_found("Not Found"))?;
        listing::write(&real, req.path(), resp).map_err(|e| send::open_error(e, &rel))
    }

    /// Answers `want` through `open` (a way to open a path below the root; `Err(None)` when
    /// it cannot decide). `None` when `open` could not decide, or for a directory to list.
    fn answer(&self, req: &Request, resp: &mut Response, want: &Wanted, open: Open) -> Option<Result<(), Error>> {
        let main = match open(want.rel) {
            Ok(m) => m,
            Err(None) => return None,
            Err(Some(e)) => return Some(Err(e)),
        };
        let sibling_of = |p: &Path| {
            let p = p.to_path_buf();
            move |suffix: &str| open(&send::with_suffix(&p, suffix)).ok()
        };
        if main.meta.is_file() {
            if !want.file_ok {
                return Some(Err(Error::not_found("Not Found"))); // `file.txt/`
            }
            return Some(send::send(req, resp, main, want.rel, &sibling_of(want.rel), &self.options));
        }
        if !main.meta.is_dir() {
            return Some(Err(Error::not_found("Not Found"))); // a FIFO, a device
        }
        if !want.dir {
            redirect_to_dir(req, resp);
            return Some(Ok(()));
        }
        if let Some(index) = &self.index {
            let at = want.rel.join(index);
            match open(&at) {
                Ok(m) if m.meta.is_file() => {
                    return Some(send::send(req, resp, m, Path::new(index), &sibling_of(&at), &self.options))
                }
                Err(None) => return None,
                _ => {}
            }
        }
        if self.listing {
            return None;
        }
        Some(Err(Error::not_found("Not Found")))
    }
}

/// A way to open a path below a [`Dir`]'s root: `Err(None)` when this way cannot decide.
type Open<'a> = &'a dyn Fn(&Path) -> Result<send::Opened, Option<Error>>;

/// What a request asks of a [`Dir`], once its path is known to stay inside.
struct Wanted<'a> {
    /// The path below the root.
    rel: &'a Path,
    /// It ended with `/`.
    dir: bool,
    /// A file may answer (not for `file.txt/`).
    file_ok: bool,
}

/// 301 to the directory's own URL (with its `/`), so that relative links in its index work.
fn redirect_to_dir(req: &Request, resp: &mut Response) {
    let mut to = format!("{}/", req.path());
    if let Some(q) = req.query_string() {
        to.push('?');
        to.push_str(q);
    }
    resp.set_status(301);
    resp.set_header("Location", to);
}

impl Handler for Dir {
    fn handle(&self, req: &Request, resp: &mut Response) {
        self.serve(req, resp).respond(req, resp)
    }
}

/// Serves one file for every request it gets, like tower-http's `ServeFile`.
///
/// ```
/// let path = std::env::temp_dir().join(format!("shockwave-doc-file-{}.txt", std::process::id()));
/// std::fs::write(&path, "User-agent: *\n").unwrap();
/// let app = shockwave::Router::new().route_handler("*", "/robots.txt", shockwave::fs::File::new(&path));
/// let resp = shockwave::test::request("GET", "/robots.txt").header("Range", "bytes=0-9").send(&app);
/// assert_eq!((resp.status(), resp.text()), (206, "User-agent"));
/// assert_eq!(shockwave::test::request("POST", "/robots.txt").send(&app).header("allow"), Some("GET, HEAD"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct File {
    path: PathBuf,
    options: Options,
}

impl File {
    /// Serves the file at `path` (opened on each request: a replaced file is served new).
    ///
    /// ```
    /// let favicon = shockwave::fs::File::new("public/favicon.ico");
    /// # let _ = favicon;
    /// ```
    pub fn new(path: impl AsRef<Path>) -> File {
        File { path: path.as_ref().to_path_buf(), options: Options::default() }
    }

    /// Sends `Cache-Control: value` (as [`Dir::cache_control`]).
    ///
    /// ```
    /// let f = shockwave::fs::File::new("public/logo.png").cache_control("max-age=86400");
    /// # let _ = f;
    /// ```
    pub fn cache_control(mut self, value: impl Into<String>) -> File {
        self.options.cache_control = Some(value.into());
        self
    }

    /// Serves a `.br` or `.gz` sibling when accepted (as [`Dir::precompressed`]).
    ///
    /// ```
    /// let f = shockwave::fs::File::new("public/app.js").precompressed(true);
    /// # let _ = f;
    /// ```
    pub fn precompressed(mut self, on: bool) -> File {
        self.options.precompressed = on;
        self
    }
}

impl Handler for File {
    fn handle(&self, req: &Request, resp: &mut Response) {
        send::send_path(req, resp, &self.path, &self.options).respond(req, resp)
    }
}

/// Answers `req` with the file at `path`, from inside any handler: headers, conditional
/// requests, ranges and the 405 for other methods are written to `resp` as [`Dir`] does.
/// `path` is used as given: resolve request data with care (or use [`Dir`], which refuses
/// paths that leave its root). `Err` (404, 403, or 500) when the file cannot be opened,
/// ready for `?`.
///
/// ```
/// use shockwave::{Error, Request, Response};
/// let dir = std::env::temp_dir().join(format!("shockwave-doc-serve-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("report-7.csv"), "a,b\n1,2\n").unwrap();
///
/// let download = move |req: &Request, resp: &mut Response| -> Result<(), Error> {
///     let id: u32 = req.query("id").and_then(|v| v.parse().ok()).ok_or_else(|| Error::bad_request("?id= is missing"))?;
///     resp.set_header("Content-Disposition", "attachment");
///     shockwave::fs::serve_file(req, resp, dir.join(format!("report-{id}.csv")))
/// };
/// let resp = shockwave::test::request("GET", "/?id=7").send(&download);
/// assert_eq!((resp.status(), resp.header("content-type"), resp.text()), (200, Some("text/csv; charset=utf-8"), "a,b\n1,2\n"));
/// assert_eq!(shockwave::test::request("GET", "/?id=8").send(&download).status(), 404);
/// ```
pub fn serve_file(req: &Request, resp: &mut Response, path: impl AsRef<Path>) -> Result<(), Error> {
    send::send_path(req, resp, path.as_ref(), &Options::default())
}

/// The part of the (still percent-encoded) request path that names the file: under a router,
/// what follows the route's static prefix up to its first parameter (`/static/{*path}` →
/// `a/b.css` of `/static/a/b.css`), or nothing for a route without parameters (`/static/`:
/// the root directory); else the whole path without its leading `/`.
fn rest_of_path(req: &Request) -> &str {
    let path = req.path();
    #[cfg(feature = "router")]
    if let Some(route) = req.route() {
        if let Some(i) = route.find('{') {
            // parameters before the first one never span a `/` (a raw `/` is never inside
            // one), so the segments of the prefix can be counted off the raw path
            let mut rest = path;
            for _ in 0..route[..i].matches('/').count() {
                match rest.find('/') {
                    Some(j) => rest = &rest[j + 1..],
                    None => return "",
                }
            }
            return rest;
        }
        return ""; // a route without parameters names the directory itself (`/static/`)
    }
    path.strip_prefix('/').unwrap_or(path)
}
