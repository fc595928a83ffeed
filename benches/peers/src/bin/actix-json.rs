//! TechEmpower "json" test on actix-web 4: route `/json` answers
//! `HttpResponse::Ok().json(Message { .. })`, i.e. serde_json serialises the object per
//! request and sets `Content-Type: application/json`. actix adds Date and Content-Length;
//! it sends no Server header by default, so one is inserted, as TechEmpower's actix entries
//! do. Any other path: actix's default 404. `.workers(THREADS)`, default features off.

use actix_web::{http::header, web, App, HttpResponse, HttpServer};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::SERVER, "actix"))
        .json(Message { message: "Hello, World!" })
}

fn main() -> std::io::Result<()> {
    let addr = shockwave_peers::addr();
    let threads = shockwave_peers::threads();
    eprintln!("actix-json listening on {addr} with {threads} worker(s)");
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| App::new().route("/json", web::get().to(json)))
            .workers(threads)
            .bind(addr)?
            .run(),
    )
}
