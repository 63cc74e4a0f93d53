//! Seeds are written by people as TOML, but TOML is slow to parse and every request of a
//! WebAssembly component starts afresh. So the build turns each seed into JSON once, and
//! the crate parses that (an order of magnitude faster) and checks it as it would the TOML.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (name, file) in [("directory", "ntb-directory.toml"), ("routing-rules", "routing-rules.toml")] {
        let path = Path::new("../../data").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        std::fs::write(Path::new(&out).join(format!("{name}.json")), json).expect("OUT_DIR is writable");
    }
}
