//! The example app: a key-value shell over `wasi:keyvalue` (store, batch, atomics). It is the
//! "user's code" of the L1 example: it runs unchanged against the host's store directly or with
//! `faas:kv-l1` plugged in front of it. Invariant: every outcome, errors included, is a line of
//! text; nothing panics.

#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "app", generate_all });
}

use bindings::exports::example::kv_app::shell::Guest;
use bindings::wasi::keyvalue::{atomics, batch, store};

struct App;

#[allow(unsafe_code)]
mod export {
    use super::{bindings, App};
    bindings::export!(App with_types_in bindings);
}

impl Guest for App {
    fn run(bucket: String, command: String) -> String {
        match store::open(&bucket) {
            Ok(b) => run(&b, &command).unwrap_or_else(|e| format!("error: {}", describe(&e))),
            Err(e) => format!("error: {}", describe(&e)),
        }
    }
}

fn describe(e: &store::Error) -> String {
    match e {
        store::Error::NoSuchStore => "no-such-store".into(),
        store::Error::AccessDenied => "access-denied".into(),
        store::Error::Other(m) => format!("other: {m}"),
    }
}

fn show(value: Option<Vec<u8>>) -> String {
    match value {
        Some(v) => format!("some({})", String::from_utf8_lossy(&v)),
        None => "none".into(),
    }
}

fn run(b: &store::Bucket, command: &str) -> Result<String, store::Error> {
    let mut words = command.split_whitespace();
    let verb = words.next().unwrap_or("");
    let args: Vec<String> = words.map(str::to_owned).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let rest = |i: usize| args.get(i..).unwrap_or_default().join(" ");
    Ok(match verb {
        "get" => show(b.get(arg(0))?),
        "set" => {
            b.set(arg(0), rest(1).as_bytes())?;
            "ok".into()
        }
        "delete" => {
            b.delete(arg(0))?;
            "ok".into()
        }
        "exists" => b.exists(arg(0))?.to_string(),
        "list" => {
            let mut keys = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = b.list_keys(cursor.as_deref())?;
                keys.extend(page.keys);
                match page.cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            keys.sort();
            keys.dedup();
            format!("[{}]", keys.join(" "))
        }
        "get-many" => {
            let found = batch::get_many(b, &args)?;
            let shown: Vec<String> = found
                .into_iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect();
            format!("[{}]", shown.join(" "))
        }
        "set-many" => {
            let pairs: Vec<(String, Vec<u8>)> = args
                .iter()
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.as_bytes().to_vec()),
                    None => (kv.clone(), Vec::new()),
                })
                .collect();
            batch::set_many(b, &pairs)?;
            "ok".into()
        }
        "delete-many" => {
            batch::delete_many(b, &args)?;
            "ok".into()
        }
        "increment" => {
            let Ok(delta) = arg(1).parse::<i64>() else {
                return Ok(format!("error: bad delta {:?}", arg(1)));
            };
            atomics::increment(b, arg(0), delta)?.to_string()
        }
        "cas" => {
            let cas = atomics::Cas::new(b, arg(0))?;
            let before = show(cas.current()?);
            match atomics::swap(cas, rest(1).as_bytes()) {
                Ok(()) => format!("swapped {before}"),
                Err(atomics::CasError::CasFailed(_)) => "cas-failed".into(),
                Err(atomics::CasError::StoreError(e)) => return Err(e),
            }
        }
        other => format!("error: unknown command {other:?}"),
    })
}
