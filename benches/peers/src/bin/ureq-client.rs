//! Client benchmark load tool: ureq 3 (blocking, plain HTTP: default features off).
//! `ureq-client URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]`; one shared `ureq::Agent`
//! whose pool keeps THREADS idle connections (per host and overall); each thread loops
//! `agent.get(url).call()` (POST: `agent.post(url).send(&body[..])`) and reads the body with
//! `read_to_vec`. Prints one JSON line (see `shockwave_peers::run_load`).

use shockwave_peers::{run_load, CountingAlloc, LoadArgs, EXPECT_BODY_LEN};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() {
    let args = LoadArgs::parse("ureq-client");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_idle_connections(args.threads)
        .max_idle_connections_per_host(args.threads)
        // A non-200 answer is counted here, not turned into an Err.
        .http_status_as_error(false)
        .build()
        .into();
    let body = args.post_body();
    let url = args.url.as_str();
    run_load("ureq", &args, |_| {
        let agent = agent.clone();
        let body = body.as_deref();
        move || {
            let sent = match body {
                None => agent.get(url).call(),
                Some(b) => agent.post(url).send(b),
            };
            match sent {
                Ok(mut resp) => {
                    let ok = resp.status() == 200;
                    match resp.body_mut().read_to_vec() {
                        Ok(v) => ok && v.len() == EXPECT_BODY_LEN,
                        Err(_) => false,
                    }
                }
                Err(_) => false,
            }
        }
    });
}
