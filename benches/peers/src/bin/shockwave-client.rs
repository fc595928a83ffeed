//! Client benchmark load tool: Shockwave's own blocking client.
//! `shockwave-client URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]`; one shared
//! `shockwave::Client` (clones share one pool) with THREADS connections per host, live and
//! idle; each thread builds its `Request` once and reuses one `Response` across
//! `client.send_into(&req, &mut resp)` calls (the body is read whole by `send_into`).
//! Prints one JSON line (see `shockwave_peers::run_load`).

use shockwave::client::{Request, Response};
use shockwave_peers::{run_load, CountingAlloc, LoadArgs, EXPECT_BODY_LEN};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let args = LoadArgs::parse("shockwave-client");
    let client = shockwave::Client::builder()
        .max_conns_per_host(args.threads)
        .max_idle_per_host(args.threads)
        .build();
    let body = args.post_body();
    let url = args.url.as_str();
    run_load("shockwave", &args, |_| {
        let client = client.clone();
        let req = match &body {
            None => Request::get(url),
            Some(b) => Request::post(url).map(|mut r| {
                r.set_body(b.clone());
                r
            }),
        }
        .unwrap_or_else(|e| panic!("bad URL {url:?}: {e:?}"));
        let mut resp = Response::default();
        move || match client.send_into(&req, &mut resp) {
            Ok(_) => resp.status() == 200 && resp.body().len() == EXPECT_BODY_LEN,
            Err(_) => false,
        }
    });
}
