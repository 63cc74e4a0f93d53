//! `ntbcare-host`: a Spin-compatible local host for NTB Care.
//!
//! Real Spin cannot be installed on the machines this project builds and tests on, so this
//! binary runs the same `spin.toml` and the same `.wasm` components (spin-sdk 5.2
//! `#[http_component]`, WASIp2) as `spin up` would, for everything the app uses: the HTTP
//! trigger with Spin's routing and `spin-*` request headers, `fermyon:spin/key-value` and
//! `wasi:keyvalue` over Spin's SQLite table (or Redis), `fermyon:spin/variables`, outbound
//! HTTP limited to `allowed_outbound_hosts`, and in-process service chaining. Where Spin's
//! behaviour is observable by the app it is kept, with the Spin source it follows named in
//! each module; where this host deliberately differs, the module says so.
//!
//! It owns: the manifest and runtime-config readers, the router, the key-value back ends and
//! their guest bindings, variables, the outbound-HTTP policy, and the server. It is built on
//! wasmtime / wasmtime-wasi / wasmtime-wasi-http 48 (see /work/shared/spin-notes.md).

mod allowed_hosts;
mod bindings;
mod cron;
mod instance;
mod key_value;
mod log;
mod manifest;
mod outbound;
mod routes;
mod runtime;
mod runtime_config;
mod server;
mod template;
mod variables;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ntbcare-host", version, about = "Run a Spin application locally, as `spin up` does")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application (mirrors `spin up`).
    Up(UpArgs),
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest, or a directory holding spin.toml.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    from: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Where key-value data lives by default [default: <app dir>/.spin].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Spin runtime config file (key-value stores, variables providers, state_dir).
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// Serve only these components (repeatable).
    #[arg(long = "component-id", short = 'c')]
    component_id: Vec<String>,
    /// Longest a component may take to start its response, in seconds (0: no limit).
    #[arg(long, default_value_t = 60)]
    request_timeout: u64,
    /// Largest request body accepted, in bytes; larger declared bodies get 413. 16 MiB: a
    /// complaint may carry three 4 MB files and its JSON (intake's own limit, 12.25 MB, with
    /// room for the multipart framing), which a lower default would cut off mid-upload.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_request_body: u64,
    /// Most linear memory one request's instance may grow to, in MiB.
    #[arg(long, default_value_t = 256)]
    max_guest_memory_mib: usize,
    /// Longest a client may take to send a request's headers, in seconds, counted from its
    /// connection or from the end of its previous response (an idle kept-alive connection is
    /// closed after it too). As nginx's `client_header_timeout`, shorter than its 60 s default.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Most client connections served at once; more wait, unaccepted, in the listen backlog.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Keep compiled components here between runs [default: ~/.cache/ntbcare-host].
    #[arg(long, env = "NTBCARE_HOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every component at every start.
    #[arg(long)]
    disable_cache: bool,
    /// Disable wasmtime's pooling instance allocator (as `spin up --disable-pooling`).
    #[arg(long)]
    disable_pooling: bool,
}

fn main() {
    let cli = Cli::parse();
    let result =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio").and_then(
            |rt| {
                let result = rt.block_on(async {
                    match cli.command {
                        Command::Up(args) => up(args).await,
                    }
                });
                // Requests in flight were already drained by the server; don't wait on idle workers.
                rt.shutdown_timeout(Duration::from_millis(500));
                result
            },
        );
    if let Err(e) = result {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn up(args: UpArgs) -> Result<()> {
    let manifest_path = if args.from.is_dir() { args.from.join("spin.toml") } else { args.from.clone() };
    let app = manifest::load(&manifest_path)?;
    let rc = runtime_config::RuntimeConfig::load(args.runtime_config_file.as_deref())?;
    let state_dir = match (&args.state_dir, &rc.state_dir) {
        (Some(d), _) => std::path::absolute(d)?,
        (None, Some(d)) => d.clone(),
        (None, None) => app.dir.join(".spin"),
    };
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("creating state dir {}", state_dir.display()))?;

    let mut providers = rc.variable_providers.clone();
    providers.push(variables::Provider::env_default());
    let resolver = variables::Resolver::new(&app, providers);

    // Refuse before touching any store file, as a refused `spin up` leaves no state behind.
    resolver.ensure_required_resolvable()?;

    let store_config = rc.stores_with_default(&state_dir);
    let stores = key_value::Stores::open(&store_config, key_value::sqlite::Sync::from_env())?;
    for (label, summary) in stores.summaries() {
        if label == "default" {
            println!("Storing default key-value data to {summary}.");
        } else {
            println!("Storing key-value data for store {label:?} to {summary}.");
        }
    }
    let cache_dir = if args.disable_cache {
        None
    } else {
        args.cache_dir.clone().or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|c| c.join("ntbcare-host"))
        })
    };
    let options = runtime::Options {
        request_timeout: (args.request_timeout > 0).then(|| Duration::from_secs(args.request_timeout)),
        max_request_body: args.max_request_body,
        max_guest_memory: args.max_guest_memory_mib * 1024 * 1024,
        pooling: !args.disable_pooling,
        cache_dir,
    };
    let started = std::time::Instant::now();
    let runtime = runtime::Runtime::build(&app, stores, resolver, &args.component_id, options)?;
    log::info(
        "components ready",
        &[
            ("count", (runtime.components.len() as i64).into()),
            ("duration_ms", log::Value::Ms(started.elapsed().as_secs_f64() * 1000.0)),
        ],
    );
    cron::start(&runtime);
    let limits = server::Limits {
        header_read_timeout: Duration::from_secs(args.header_read_timeout),
        max_connections: args.max_connections as usize,
    };
    server::serve(runtime, args.listen, limits).await
}
