//! Conformance guest: one spin-sdk 5.2 `#[http_component]` that answers every request with a
//! JSON report of what the host gave it, so tests can compare the host with Spin's documented
//! behaviour. One `.wasm` serves several components of `spin.toml` (told apart by the
//! `COMPONENT` environment variable from the manifest).
//!
//! Query parameters (all optional, combinable):
//! - `var=<name>`: `variables::get(name)`;
//! - `store=<label>` [`key=`, `value=`]: open the Spin key-value store, set `key` to `value`
//!   if given, read `key` back (hex), report the error kind on failure;
//! - `incr=<key>` [`delta=`, `bucket=<label>`]: `wasi:keyvalue/atomics.increment`, then the raw
//!   stored bytes (hex) through the Spin interface;
//! - `batch=<label>`: `wasi:keyvalue/batch` set-many of a,b then get-many of a,b,missing;
//! - `cas=<key>` [`bucket=`]: read with CAS, write behind its back, swap → expect cas-failed;
//! - `fetch=<url>`: outbound GET, reporting status and body, or the error;
//! - `trap=1`: trap (panic) instead of answering.
//!
//! It also exports `handle-cron-event` (world `fermyon:spin-cron/spin-cron@2.0.0`, from
//! `wit/spin-cron.wit`), so one component can be named by an HTTP and a cron trigger. Each cron
//! event increments `cron-ticks:<COMPONENT>` (`wasi:keyvalue` increment, store `default`),
//! records the event's timestamp in `cron-last:<COMPONENT>` (decimal text), and prints a line;
//! with `CRON_FAIL_ODD=1` in its environment it returns `error::other` on odd ticks.

use serde_json::{json, Value};
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::{Error as KvError, Store};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wkv};

const SPIN_HEADERS: &[&str] = &[
    "spin-full-url",
    "spin-path-info",
    "spin-matched-route",
    "spin-base-path",
    "spin-raw-component-route",
    "spin-component-route",
    "spin-client-addr",
];

fn query(req: &Request) -> Vec<(String, String)> {
    req.query()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex_pair = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex_pair.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn kv_kind(e: &KvError) -> &'static str {
    match e {
        KvError::StoreTableFull => "store-table-full",
        KvError::NoSuchStore => "no-such-store",
        KvError::AccessDenied => "access-denied",
        KvError::Other(_) => "other",
    }
}

fn wkv_err(e: &wkv::Error) -> Value {
    match e {
        wkv::Error::NoSuchStore => json!({"error": "no-such-store"}),
        wkv::Error::AccessDenied => json!({"error": "access-denied"}),
        wkv::Error::Other(m) => json!({"error": "other", "message": m}),
    }
}

#[http_component]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let q = query(&req);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());

    if get("trap").is_some() {
        panic!("trap requested");
    }

    let mut headers = serde_json::Map::new();
    for (name, value) in req.headers() {
        if SPIN_HEADERS.contains(&name) || name.starts_with("spin-path-match-") {
            headers.insert(name.to_string(), json!(value.as_str().unwrap_or_default()));
        }
    }
    let mut out = json!({
        "component": std::env::var("COMPONENT").unwrap_or_default(),
        "method": format!("{:?}", req.method()),
        "path": req.path(),
        "query": req.query(),
        "headers": headers,
    });

    if let Some(name) = get("var") {
        out["var"] = match spin_sdk::variables::get(&name) {
            Ok(v) => json!({"value": v}),
            Err(e) => {
                let kind = match &e {
                    spin_sdk::variables::Error::InvalidName(_) => "invalid-name",
                    spin_sdk::variables::Error::Undefined(_) => "undefined",
                    spin_sdk::variables::Error::Provider(_) => "provider",
                    spin_sdk::variables::Error::Other(_) => "other",
                };
                json!({"error": kind, "message": e.to_string()})
            }
        };
    }

    if let Some(label) = get("store") {
        let key = get("key").unwrap_or_else(|| "k".into());
        out["store"] = match Store::open(&label) {
            Err(e) => json!({"error": kv_kind(&e)}),
            Ok(store) => {
                let mut r = json!({});
                if let Some(value) = get("value") {
                    if let Err(e) = store.set(&key, value.as_bytes()) {
                        r["set_error"] = json!(kv_kind(&e));
                    }
                }
                match store.get(&key) {
                    Ok(v) => r["value_hex"] = json!(v.map(|v| hex(&v))),
                    Err(e) => r["get_error"] = json!(kv_kind(&e)),
                }
                r["exists"] = json!(store.exists(&key).ok());
                r
            }
        };
    }

    let bucket_label = get("bucket").unwrap_or_else(|| "default".into());
    if let Some(key) = get("incr") {
        let delta: i64 = get("delta").and_then(|d| d.parse().ok()).unwrap_or(1);
        out["incr"] = match wkv::open(&bucket_label) {
            Err(e) => wkv_err(&e),
            Ok(bucket) => {
                let mut r = match atomics::increment(&bucket, &key, delta) {
                    Ok(n) => json!({"value": n}),
                    Err(e) => wkv_err(&e),
                };
                if let Ok(Some(raw)) = bucket.get(&key) {
                    r["raw_hex"] = json!(hex(&raw));
                }
                r
            }
        };
    }

    if let Some(label) = get("batch") {
        out["batch"] = match wkv::open(&label) {
            Err(e) => wkv_err(&e),
            Ok(bucket) => {
                match batch::set_many(
                    &bucket,
                    &[("a".to_string(), b"1".to_vec()), ("b".to_string(), b"2".to_vec())],
                ) {
                    Err(e) => wkv_err(&e),
                    Ok(()) => match batch::get_many(
                        &bucket,
                        &["a".to_string(), "b".to_string(), "missing".to_string()],
                    ) {
                        Err(e) => wkv_err(&e),
                        Ok(pairs) => {
                            json!({"got": pairs.into_iter().map(|(k, v)| json!([k, v.map(|v| hex(&v))])).collect::<Vec<_>>()})
                        }
                    },
                }
            }
        };
    }

    if let Some(key) = get("cas") {
        out["cas"] = match wkv::open(&bucket_label) {
            Err(e) => wkv_err(&e),
            Ok(bucket) => {
                let _ = bucket.set(&key, b"one");
                let cas = atomics::Cas::new(&bucket, &key).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let seen = cas.current().ok().flatten().map(|v| hex(&v));
                let _ = bucket.set(&key, b"two");
                match atomics::swap(cas, b"three") {
                    Ok(()) => json!({"seen": seen, "swap": "ok"}),
                    Err(atomics::CasError::CasFailed(fresh)) => {
                        let now = fresh.current().ok().flatten().map(|v| hex(&v));
                        let retry = match atomics::swap(fresh, b"three") {
                            Ok(()) => json!(true),
                            Err(atomics::CasError::CasFailed(_)) => json!("cas-failed"),
                            Err(atomics::CasError::StoreError(e)) => wkv_err(&e),
                        };
                        json!({"seen": seen, "swap": "cas-failed", "fresh_current": now, "retry_ok": retry})
                    }
                    Err(atomics::CasError::StoreError(e)) => wkv_err(&e),
                }
            }
        };
    }

    if let Some(url) = get("fetch") {
        let request = Request::builder().method(Method::Get).uri(url).build();
        out["fetch"] = match spin_sdk::http::send::<_, Response>(request).await {
            Ok(resp) => {
                let body = String::from_utf8_lossy(resp.body()).into_owned();
                let json_body: Option<Value> = serde_json::from_str(&body).ok();
                json!({"status": resp.status(), "body": body, "json": json_body})
            }
            Err(spin_sdk::http::SendError::Http(code)) => json!({"error": format!("{code:?}")}),
            Err(e) => json!({"error": "other", "message": e.to_string()}),
        };
    }

    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(out.to_string())
        .build())
}

mod cron_world {
    wit_bindgen::generate!({
        path: "wit/spin-cron.wit",
        world: "fermyon:spin-cron/spin-cron",
    });

    use spin_sdk::wit::wasi::keyvalue::{atomics, store as wkv};

    struct CronGuest;

    impl Guest for CronGuest {
        fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
            let me = std::env::var("COMPONENT").unwrap_or_default();
            let bucket = wkv::open("default").map_err(|e| Error::Other(format!("open: {e:?}")))?;
            let n = atomics::increment(&bucket, &format!("cron-ticks:{me}"), 1)
                .map_err(|e| Error::Other(format!("increment: {e:?}")))?;
            bucket
                .set(&format!("cron-last:{me}"), metadata.timestamp.to_string().as_bytes())
                .map_err(|e| Error::Other(format!("set: {e:?}")))?;
            println!("cron tick {n} at {}", metadata.timestamp);
            if std::env::var("CRON_FAIL_ODD").is_ok_and(|v| v == "1") && n % 2 == 1 {
                return Err(Error::Other(format!("tick {n} failed on purpose")));
            }
            Ok(())
        }
    }

    export!(CronGuest);
}
