//! The API as its users write it: these must compile exactly as shown in the README.

use shockwave::{Request, Response, Server};

/// Regression: `serve(addr, |req, resp| …)` failed with E0282 (type annotations needed)
/// because `serve` and `start` took `impl Handler`, from which closure argument types cannot
/// be inferred. Compiling this file is the test; the servers start on loopback port 0.
#[test]
fn closures_need_no_type_annotations() {
    let h = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|req, resp| {
            resp.set_content_type("text/plain");
            resp.write_body(req.path().as_bytes());
        })
        .unwrap();
    h.shutdown();
    // serve never returns; only check that the call type-checks
    let _never_called = || shockwave::serve("127.0.0.1:0", |req, resp| resp.write_body(req.method().as_bytes()));
}

/// A type implementing `Handler` is served with `start_handler` / `serve_handler`.
#[test]
fn handler_types_have_their_own_entry_points() {
    struct Greeter(&'static str);
    impl shockwave::Handler for Greeter {
        fn handle(&self, _req: &Request, resp: &mut Response) {
            resp.write_body(self.0.as_bytes());
        }
    }
    let h = Server::builder().bind("127.0.0.1:0").unwrap().start_handler(Greeter("hi")).unwrap();
    h.shutdown();
    let _never_called = || shockwave::serve_handler("127.0.0.1:0", Greeter("hi"));
}
