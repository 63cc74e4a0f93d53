//! Host bindings for the Spin interfaces a spin-sdk 5.2 component may import beyond WASI
//! (`wit/host.wit`; the WIT is vendored from the spin-sdk crate, see `wit/README.md`).
//!
//! Resources map to the host's own handle types, kept in the store's `ResourceTable`.

wasmtime::component::bindgen!({
    path: "wit",
    world: "ntbcare:host/spin-imports",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::key_value::host::SpinStore,
        "wasi:keyvalue/store.bucket": crate::key_value::host::Bucket,
        "wasi:keyvalue/atomics.cas": crate::key_value::host::CasHandle,
    },
});

/// The cron trigger plugin's world (`wit/deps/spin-cron@2.0.0/cron.wit`): the host calls the
/// component's `handle-cron-event` export.
pub mod cron {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}
