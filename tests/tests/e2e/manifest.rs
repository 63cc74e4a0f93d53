//! spin.toml is what real Spin would load, and agrees with the workspace.

use ntbcare_tests::repo_root;

fn manifest() -> toml::Value {
    let text = std::fs::read_to_string(repo_root().join("spin.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

#[test]
fn every_component_crate_is_declared_and_built_under_its_own_name() {
    let m = manifest();
    assert_eq!(m["spin_manifest_version"].as_integer(), Some(2));
    let components = m["component"].as_table().unwrap();
    let dirs: Vec<String> = std::fs::read_dir(repo_root().join("components"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for dir in &dirs {
        let c = components.get(dir).unwrap_or_else(|| panic!("components/{dir} is not in spin.toml"));
        let source = c["source"].as_str().unwrap();
        assert_eq!(source, format!("target/wasm32-wasip2/release/{}.wasm", dir.replace('-', "_")));
        assert!(repo_root().join(source).exists(), "{source} missing: run scripts/build");
        let build = c["build"]["command"].as_str().unwrap();
        assert!(build.ends_with(&format!("-p {dir}")), "{dir}: {build}");
    }
    assert_eq!(components.len(), dirs.len(), "spin.toml declares a component with no crate");
}

#[test]
fn every_trigger_names_a_component_and_routes_are_unique() {
    let m = manifest();
    let components = m["component"].as_table().unwrap();
    let mut routes = std::collections::HashSet::new();
    for t in m["trigger"]["http"].as_array().unwrap() {
        let c = t["component"].as_str().unwrap();
        assert!(components.contains_key(c), "trigger names unknown component {c}");
        assert!(routes.insert(t["route"].as_str().unwrap().to_string()), "duplicate route {}", t["route"]);
    }
    for id in components.keys() {
        assert!(
            m["trigger"]["http"].as_array().unwrap().iter().any(|t| t["component"].as_str() == Some(id)),
            "{id} has no route"
        );
    }
}

#[test]
fn only_intake_and_notification_may_open_the_identity_store() {
    let m = manifest();
    for (id, c) in m["component"].as_table().unwrap() {
        let stores: Vec<&str> =
            c["key_value_stores"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(stores.contains(&"identity"), id == "intake" || id == "notification", "{id}: {stores:?}");
    }
}

#[test]
fn outbound_hosts_are_only_where_a_component_calls_out() {
    let m = manifest();
    for (id, c) in m["component"].as_table().unwrap() {
        let hosts: Vec<&str> = c
            .get("allowed_outbound_hosts")
            .and_then(|h| h.as_array())
            .map(|h| h.iter().map(|s| s.as_str().unwrap()).collect())
            .unwrap_or_default();
        match id.as_str() {
            // Deciders and readers call nobody.
            "routing" | "casework" | "reporting" => assert!(hosts.is_empty(), "{id}: {hosts:?}"),
            "intake" => assert_eq!(hosts, ["{{ routing_url }}"], "{id}"),
            // Everyone else calls only hosts an operator configures, never a wildcard. A
            // function reaches another through a URL variable, never a literal
            // `*.spin.internal`, which does not cross separately deployed functions.
            _ => assert!(
                hosts.iter().all(|h| h.contains("{{") && !h.contains("spin.internal"))
                    && !hosts.iter().any(|h| h.contains('*')),
                "{id}: {hosts:?}"
            ),
        }
    }
}

#[test]
fn shipped_runtime_config_keeps_identity_apart_and_default_in_the_state_dir() {
    let text = std::fs::read_to_string(repo_root().join("runtime-config.toml")).unwrap();
    let rc: toml::Value = toml::from_str(&text).unwrap();
    let stores = rc["key_value_store"].as_table().unwrap();
    // Declaring `default` with `type = "spin"` and no path would make Spin keep it in memory.
    assert!(!stores.contains_key("default"), "leave `default` to Spin's state dir");
    assert_eq!(stores["identity"]["type"].as_str(), Some("spin"));
    assert_eq!(stores["identity"]["path"].as_str(), Some("identity.db"));
    assert_eq!(
        toml::from_str::<toml::Value>(ntbcare_tests::NTBCARE_TEST_RUNTIME_CONFIG).unwrap()["key_value_store"]
            .as_table()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        stores.keys().collect::<Vec<_>>(),
        "the tests must run with the stores the app ships with"
    );
}

#[test]
fn scheduled_jobs_name_components_of_the_app() {
    let m = manifest();
    let components = m["component"].as_table().unwrap();
    let text = std::fs::read_to_string(repo_root().join("cron-triggers.toml")).unwrap();
    let cron: toml::Value = toml::from_str(&text).unwrap();
    let triggers = cron["trigger"]["cron"].as_array().unwrap();
    assert!(!triggers.is_empty());
    for t in triggers {
        let c = t["component"].as_str().unwrap();
        assert!(components.contains_key(c), "cron names unknown component {c}");
        assert_eq!(
            t["cron_expression"].as_str().unwrap().split_whitespace().count(),
            6,
            "seconds first: {t}"
        );
    }
    // A plain Spin without the cron plugin must be able to load spin.toml.
    assert!(
        m.get("trigger").and_then(|t| t.get("cron")).is_none(),
        "cron triggers belong in cron-triggers.toml"
    );
}
