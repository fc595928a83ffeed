//! A small REST API: a router, JSON in and out, query arguments, 404 and 405 answered by the
//! router, errors returned with `?`, an access log and request IDs. Data lives in memory.
//!
//! ```text
//! cargo run --example api --features json
//! curl -s localhost:8080/api/users -d '{"name":"Ann"}' -H 'Content-Type: application/json'
//! curl -s 'localhost:8080/api/users?limit=10'
//! curl -s localhost:8080/api/users/1
//! curl -s -X PUT localhost:8080/api/users/1 -d '{"name":"Ann Lee"}' -H 'Content-Type: application/json'
//! curl -s -X DELETE localhost:8080/api/users/1 -w '%{http_code}\n'
//! ```

use shockwave::middleware::{AccessLog, RequestId};
use shockwave::{Error, Request, Router, Server};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, serde::Serialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(serde::Deserialize)]
struct NewUser {
    name: String,
}

#[derive(Default)]
struct Store {
    next: u64,
    users: BTreeMap<u64, User>,
}

type Db = Arc<Mutex<Store>>;

fn id(req: &Request) -> Result<u64, Error> {
    req.param("id").unwrap_or("").parse().map_err(|_| Error::bad_request("the id must be a number").json())
}

fn valid(new: NewUser) -> Result<String, Error> {
    let name = new.name.trim().to_string();
    match name.len() {
        1..=100 => Ok(name),
        _ => Err(Error::new(422, "name must be 1 to 100 characters").json()),
    }
}

fn not_found(id: u64) -> Error {
    Error::not_found(format!("no user {id}")).json()
}

fn users(db: Db) -> Router {
    let (d1, d2, d3, d4, d5) = (db.clone(), db.clone(), db.clone(), db.clone(), db);
    Router::new()
        .get("/", move |req, resp| -> Result<(), Error> {
            let limit: usize = match req.query("limit") {
                Some(l) => l.parse().map_err(|_| Error::bad_request("limit must be a number").json())?,
                None => 100,
            };
            let store = d1.lock().unwrap();
            let list: Vec<&User> = store.users.values().take(limit).collect();
            resp.json(&list)
        })
        .post("/", move |req, resp| -> Result<(), Error> {
            let name = valid(req.json()?)?;
            let mut store = d2.lock().unwrap();
            store.next += 1;
            let user = User { id: store.next, name };
            store.users.insert(user.id, user.clone());
            resp.set_status(201);
            resp.set_header("Location", format!("/api/users/{}", user.id));
            resp.json(&user)
        })
        .get("/{id}", move |req, resp| -> Result<(), Error> {
            let id = id(req)?;
            let store = d3.lock().unwrap();
            resp.json(store.users.get(&id).ok_or_else(|| not_found(id))?)
        })
        .put("/{id}", move |req, resp| -> Result<(), Error> {
            let (id, name) = (id(req)?, valid(req.json()?)?);
            let mut store = d4.lock().unwrap();
            let user = store.users.get_mut(&id).ok_or_else(|| not_found(id))?;
            user.name = name;
            resp.json(user)
        })
        .delete("/{id}", move |req, resp| -> Result<(), Error> {
            let id = id(req)?;
            d5.lock().unwrap().users.remove(&id).ok_or_else(|| not_found(id))?;
            resp.set_status(204);
            Ok(())
        })
}

fn app() -> Router {
    Router::new()
        .get("/", |_req, resp| resp.write_body("see /api/users\n"))
        .nest("/api/users", users(Db::default()))
        .layer(AccessLog::combined().to(|line| eprintln!("{line}")))
        .layer(RequestId::new())
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let server = Server::builder().json_errors().bind(&addr)?;
    println!("REST API on http://{}/api/users", server.local_addr());
    server.start_handler(app())?.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use shockwave::test::request;

    #[test]
    fn create_read_update_delete() {
        let app = super::app();
        let json = |m, t, body: &str| {
            request(m, t).header("Content-Type", "application/json").body(body.to_string()).send(&app)
        };
        let made = json("POST", "/api/users", r#"{"name":" Ann "}"#);
        assert_eq!((made.status(), made.text()), (201, r#"{"id":1,"name":"Ann"}"#));
        assert_eq!(made.header("location"), Some("/api/users/1"));
        assert_eq!(json("POST", "/api/users", r#"{"name":""}"#).status(), 422);
        assert_eq!(request("GET", "/api/users/1").send(&app).text(), r#"{"id":1,"name":"Ann"}"#);
        assert_eq!(json("PUT", "/api/users/1", r#"{"name":"Bo"}"#).text(), r#"{"id":1,"name":"Bo"}"#);
        assert_eq!(request("GET", "/api/users?limit=5").send(&app).text(), r#"[{"id":1,"name":"Bo"}]"#);
        assert_eq!(request("DELETE", "/api/users/1").send(&app).status(), 204);
        let gone = request("GET", "/api/users/1").send(&app);
        assert_eq!((gone.status(), gone.text()), (404, r#"{"error":"no user 1"}"#));
        assert_eq!(request("PATCH", "/api/users/1").send(&app).status(), 405);
        assert_eq!(request("GET", "/api/users/x").send(&app).status(), 400);
        assert!(request("GET", "/").send(&app).header("x-request-id").is_some());
    }
}
