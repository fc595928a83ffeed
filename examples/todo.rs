//! The REST API of `examples/api`, for todos, backed by SQLite through `rusqlite` (its
//! `bundled` feature compiles SQLite in: a real database with no set-up). Handlers call the
//! database straight from the worker threads, as blocking code does: each worker opens its own
//! connection the first time it needs one (a `thread_local!`), and SQLite's WAL mode lets
//! readers run beside the one writer.
//!
//! ```text
//! cargo run --release --example todo --features json          # TODO_DB=path to choose the file
//! curl -s localhost:8080/todos -H 'Content-Type: application/json' -d '{"title":"write docs"}'
//! curl -s localhost:8080/todos
//! curl -s -X PATCH localhost:8080/todos/1 -H 'Content-Type: application/json' -d '{"done":true}'
//! curl -s -X DELETE localhost:8080/todos/1 -w '%{http_code}\n'
//! ```

use rusqlite::{params, Connection, OptionalExtension};
use shockwave::middleware::AccessLog;
use shockwave::{Error, Request, Router, Server};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(serde::Serialize)]
struct Todo {
    id: i64,
    title: String,
    done: bool,
}

#[derive(serde::Deserialize)]
struct NewTodo {
    title: String,
}

#[derive(serde::Deserialize)]
struct Change {
    title: Option<String>,
    done: Option<bool>,
}

static DB_PATH: OnceLock<PathBuf> = OnceLock::new();

thread_local! {
    /// This worker's connection, opened on first use.
    static DB: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(c)
}

/// Runs `f` with this worker's connection; database errors answer 500 (logged, not shown).
fn db<T>(f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(open(DB_PATH.get().expect("set in main")).map_err(Error::internal)?);
        }
        f(slot.as_ref().expect("opened above")).map_err(Error::internal)
    })
}

fn id(req: &Request) -> Result<i64, Error> {
    req.param("id").unwrap_or("").parse().map_err(|_| Error::bad_request("the id must be a number").json())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Todo> {
    Ok(Todo { id: r.get(0)?, title: r.get(1)?, done: r.get(2)? })
}

fn title(t: &str) -> Result<String, Error> {
    let t = t.trim();
    match t.len() {
        1..=200 => Ok(t.to_string()),
        _ => Err(Error::new(422, "title must be 1 to 200 characters").json()),
    }
}

fn app() -> Router {
    let todos = Router::new()
        .get("/", |req, resp| -> Result<(), Error> {
            let limit: i64 = req.query("limit").and_then(|l| l.parse().ok()).unwrap_or(100).clamp(1, 1000);
            let list = db(|c| {
                let mut s = c.prepare_cached("SELECT id, title, done FROM todos ORDER BY id LIMIT ?1")?;
                let rows = s.query_map([limit], row)?;
                rows.collect::<rusqlite::Result<Vec<Todo>>>()
            })?;
            resp.json(&list)
        })
        .post("/", |req, resp| -> Result<(), Error> {
            let new: NewTodo = req.json()?;
            let t = title(&new.title)?;
            let todo = db(|c| {
                c.prepare_cached("INSERT INTO todos (title, done) VALUES (?1, 0)")?.execute([&t])?;
                Ok(Todo { id: c.last_insert_rowid(), title: t, done: false })
            })?;
            resp.set_status(201);
            resp.set_header("Location", format!("/todos/{}", todo.id));
            resp.json(&todo)
        })
        .get("/{id}", |req, resp| -> Result<(), Error> {
            let id = id(req)?;
            let todo = db(|c| {
                c.prepare_cached("SELECT id, title, done FROM todos WHERE id = ?1")?.query_row([id], row).optional()
            })?;
            resp.json(&todo.ok_or_else(|| Error::not_found(format!("no todo {id}")).json())?)
        })
        .patch("/{id}", |req, resp| -> Result<(), Error> {
            let id = id(req)?;
            let change: Change = req.json()?;
            let t = change.title.as_deref().map(title).transpose()?;
            let todo = db(|c| {
                c.prepare_cached(
                    "UPDATE todos SET title = COALESCE(?2, title), done = COALESCE(?3, done) WHERE id = ?1",
                )?
                .execute(params![id, t, change.done])?;
                c.prepare_cached("SELECT id, title, done FROM todos WHERE id = ?1")?.query_row([id], row).optional()
            })?;
            resp.json(&todo.ok_or_else(|| Error::not_found(format!("no todo {id}")).json())?)
        })
        .delete("/{id}", |req, resp| -> Result<(), Error> {
            let id = id(req)?;
            match db(|c| c.prepare_cached("DELETE FROM todos WHERE id = ?1")?.execute([id]))? {
                0 => Err(Error::not_found(format!("no todo {id}")).json()),
                _ => {
                    resp.set_status(204);
                    Ok(())
                }
            }
        });
    Router::new().nest("/todos", todos)
}

/// Opens (or creates) the database at `path` and its table.
fn setup(path: PathBuf) -> Result<(), Error> {
    let c = open(&path).map_err(Error::internal)?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL)",
    )
    .map_err(Error::internal)?;
    let _ = DB_PATH.set(path);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let path =
        std::env::var_os("TODO_DB").map_or_else(|| std::env::temp_dir().join("shockwave-todo.db"), PathBuf::from);
    println!("todos in {}", path.display());
    setup(path)?;
    let mut app = app();
    if std::env::var_os("TODO_QUIET").is_none() {
        app = app.layer(AccessLog::common().to(|line| eprintln!("{line}")));
    }
    let server = Server::builder().json_errors().bind(&addr)?;
    println!("todo API on http://{}/todos", server.local_addr());
    server.start_handler(app)?.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use shockwave::test::request;

    #[test]
    fn todos_live_in_sqlite() {
        let path = std::env::temp_dir().join(format!("shockwave-todo-test-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        super::setup(path.clone()).unwrap();
        let app = super::app();
        let json =
            |m, t, b: &str| request(m, t).header("Content-Type", "application/json").body(b.to_string()).send(&app);
        let made = json("POST", "/todos", r#"{"title":"write docs"}"#);
        assert_eq!((made.status(), made.text()), (201, r#"{"id":1,"title":"write docs","done":false}"#));
        assert_eq!(
            json("PATCH", "/todos/1", r#"{"done":true}"#).text(),
            r#"{"id":1,"title":"write docs","done":true}"#
        );
        assert_eq!(request("GET", "/todos").send(&app).text(), r#"[{"id":1,"title":"write docs","done":true}]"#);
        assert_eq!(json("POST", "/todos", r#"{"title":"  "}"#).status(), 422);
        assert_eq!(request("DELETE", "/todos/1").send(&app).status(), 204);
        assert_eq!(request("GET", "/todos/1").send(&app).status(), 404);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
    }
}
