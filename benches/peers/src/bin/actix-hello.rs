//! actix-web 4 with `.workers(THREADS)`.

use actix_web::{web, App, HttpResponse, HttpServer};

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(shockwave_peers::BODY)
}

fn main() -> std::io::Result<()> {
    let addr = shockwave_peers::addr();
    let threads = shockwave_peers::threads();
    eprintln!("actix-hello listening on {addr} with {threads} worker(s)");
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| App::new().default_service(web::to(hello)))
            .workers(threads)
            .bind(addr)?
            .run(),
    )
}
