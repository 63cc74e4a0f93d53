//! deploy/ (SpinKube) agrees with spin.toml: every manifest kustomize applies is read and
//! checked against the application it deploys, so a component, variable, store, route or
//! scheduled job added to spin.toml (or renamed) fails here until the manifests follow.
//! No cluster is needed; `kubectl kustomize deploy/` builds the same set of objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ntbcare_tests::repo_root;
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

const SPIN_HEALTH: &str = "/.well-known/spin/health";
const INTERNAL_TOKEN_HEADER: &str = "x-ntbcare-internal-token";

// ------------------------------------------------------------------ reading deploy/

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

/// The YAML documents of one file, as JSON values (numbers and booleans kept).
fn read_yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs.iter().map(to_json).filter(|v| !v.is_null()).collect()
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s.parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::String(s.clone())),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            let mut map = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => panic!("unsupported YAML key {other:?}"),
                };
                map.insert(key, to_json(v));
            }
            Value::Object(map)
        }
        Yaml::Null => Value::Null,
        Yaml::Alias(_) | Yaml::BadValue => panic!("unsupported YAML node {y:?}"),
    }
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str().unwrap_or_else(|| panic!("{what}: expected a string, found {v}"))
}

/// What `kubectl apply -k deploy/` applies: deploy/base's resources (the manifests, each
/// object with the file it came from) and its secret generators.
struct Deploy {
    base: PathBuf,
    namespace: String,
    objects: Vec<(PathBuf, Value)>,
    kustomization: Value,
}

impl Deploy {
    fn load() -> Deploy {
        let top = read_yaml(&deploy_dir().join("kustomization.yaml")).remove(0);
        assert_eq!(top["resources"], serde_json::json!(["base"]), "deploy/kustomization.yaml applies base/");
        let base = deploy_dir().join("base");
        let kustomization = read_yaml(&base.join("kustomization.yaml")).remove(0);
        let namespace = str_of(&kustomization["namespace"], "base namespace").to_string();
        let mut objects = Vec::new();
        for r in kustomization["resources"].as_array().expect("base lists its resources") {
            let path = base.join(str_of(r, "resource"));
            for doc in read_yaml(&path) {
                objects.push((path.clone(), doc));
            }
        }
        Deploy { base, namespace, objects, kustomization }
    }

    fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|(_, o)| o["kind"] == kind).map(|(_, o)| o).collect()
    }

    fn named(&self, kind: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind).into_iter().find(|o| o["metadata"]["name"] == name)
    }

    fn spinapps(&self) -> Vec<&Value> {
        self.of_kind("SpinApp")
    }

    fn spinapp(&self, name: &str) -> &Value {
        self.named("SpinApp", name).unwrap_or_else(|| panic!("no SpinApp {name}"))
    }

    /// The SpinApp that runs a component.
    fn spinapp_of(&self, component: &str) -> Option<&Value> {
        self.spinapps().into_iter().find(|a| components_of(a).contains(&component.to_string()))
    }

    /// A secret generator's entries, `[(key, file)]`, read from the committed `.example`
    /// templates (an operator's own files stay out of the repository and of this test).
    fn generated_secret(&self, name: &str) -> Vec<(String, PathBuf)> {
        let generator = self.kustomization["secretGenerator"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("kustomization generates no Secret {name}"));
        let mut entries = Vec::new();
        for file in generator["files"].as_array().into_iter().flatten() {
            let (key, path) = str_of(file, "file").split_once('=').expect("files are key=path");
            entries.push((key.to_string(), self.template(path)));
        }
        for env in generator["envs"].as_array().into_iter().flatten() {
            let path = self.template(str_of(env, "env file"));
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (key, _) = line.split_once('=').unwrap_or_else(|| panic!("{}: {line}", path.display()));
                entries.push((key.to_string(), path.clone()));
            }
        }
        entries
    }

    /// The committed template of a secret file (the real one is never in the repository).
    fn template(&self, relative: &str) -> PathBuf {
        let example = self.base.join(format!("{relative}.example"));
        assert!(example.exists(), "{} is missing: the operator copies it to {relative}", example.display());
        example
    }

    /// The value a SpinApp variable takes when it comes from the ConfigMap or a literal.
    fn plain_value(&self, source: &Value) -> Option<String> {
        if let Some(v) = source["value"].as_str() {
            return Some(v.to_string());
        }
        let r = &source["valueFrom"]["configMapKeyRef"];
        let map = self.named("ConfigMap", r["name"].as_str()?)?;
        map["data"][r["key"].as_str()?].as_str().map(str::to_string)
    }

    /// `http://<service>[.<namespace>.svc.cluster.local]<path>` → (service, path), for a
    /// Service in this namespace.
    fn in_cluster(&self, url: &str) -> Option<(String, String)> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let suffix = format!(".{}.svc.cluster.local", self.namespace);
        let service = host.strip_suffix(&suffix).unwrap_or(host);
        (!service.contains('.') && !service.contains(':')).then(|| (service.to_string(), path.to_string()))
    }
}

fn components_of(app: &Value) -> Vec<String> {
    app["spec"]["components"]
        .as_array()
        .unwrap_or_else(|| panic!("SpinApp {} lists no components", app["metadata"]["name"]))
        .iter()
        .map(|c| str_of(c, "component").to_string())
        .collect()
}

fn name_of(o: &Value) -> &str {
    str_of(&o["metadata"]["name"], "metadata.name")
}

// ------------------------------------------------------------------ reading spin.toml

struct Spin(toml::Value);

impl Spin {
    fn load() -> Spin {
        let text = std::fs::read_to_string(repo_root().join("spin.toml")).unwrap();
        Spin(toml::from_str(&text).unwrap())
    }

    fn components(&self) -> BTreeSet<String> {
        self.0["component"].as_table().unwrap().keys().cloned().collect()
    }

    /// `(route, component)` of every HTTP trigger.
    fn routes(&self) -> Vec<(String, String)> {
        self.0["trigger"]["http"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["route"].as_str().unwrap().into(), t["component"].as_str().unwrap().into()))
            .collect()
    }

    /// The component Spin sends `path` to: an exact route first, else the longest wildcard.
    fn owner(&self, path: &str) -> Option<String> {
        let routes = self.routes();
        if let Some((_, c)) = routes.iter().find(|(r, _)| r == path) {
            return Some(c.clone());
        }
        routes
            .iter()
            .filter_map(|(r, c)| {
                let prefix = r.strip_suffix("/...")?;
                let hit = prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"));
                hit.then_some((prefix.len(), c))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, c)| c.clone())
    }

    /// The application variables a component's `[component.X.variables]` templates use.
    fn variables_used_by(&self, component: &str) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        for template in self.0["component"][component]
            .get("variables")
            .and_then(|v| v.as_table())
            .iter()
            .flat_map(|t| t.values())
        {
            let mut rest = template.as_str().unwrap();
            while let Some(start) = rest.find("{{") {
                let end = rest[start..].find("}}").expect("a template closes") + start;
                used.insert(rest[start + 2..end].trim().to_string());
                rest = &rest[end + 2..];
            }
        }
        used
    }

    fn variable(&self, name: &str) -> &toml::Value {
        self.0["variables"].get(name).unwrap_or_else(|| panic!("spin.toml declares no variable {name}"))
    }

    /// Variables with no default (`required = true`).
    fn required_variables(&self) -> Vec<String> {
        let all = self.0["variables"].as_table().unwrap();
        all.iter().filter(|(_, v)| v.get("default").is_none()).map(|(k, _)| k.clone()).collect()
    }

    fn is_secret(&self, name: &str) -> bool {
        self.variable(name).get("secret").and_then(|s| s.as_bool()).unwrap_or(false)
    }

    fn default_of(&self, name: &str) -> Option<String> {
        self.variable(name).get("default").and_then(|d| d.as_str()).map(str::to_string)
    }

    fn allowed_outbound_hosts(&self, component: &str) -> Vec<String> {
        self.0["component"][component]
            .get("allowed_outbound_hosts")
            .and_then(|h| h.as_array())
            .map(|h| h.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    fn stores_of(&self, component: &str) -> Vec<String> {
        self.0["component"][component]["key_value_stores"]
            .as_array()
            .map(|s| s.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }
}

/// The variables a SpinApp must be able to resolve: those its components use, and every
/// variable without a default, which Spin resolves when it loads the app whatever the
/// selection (a SpinApp missing one never starts).
fn needed_by_app(spin: &Spin, app: &Value) -> BTreeSet<String> {
    let used = components_of(app).into_iter().flat_map(|c| spin.variables_used_by(&c));
    used.chain(spin.required_variables()).collect()
}

fn provided(app: &Value) -> BTreeMap<String, Value> {
    app["spec"]["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (str_of(&v["name"], "variable name").to_string(), v.clone()))
        .collect()
}

// ------------------------------------------------------------------ the tests

#[test]
fn every_component_is_deployed_by_exactly_one_spinapp_of_the_one_artifact() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    let apps = deploy.spinapps();
    assert!(!apps.is_empty(), "deploy/base applies no SpinApp");
    let mut deployed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for app in &apps {
        assert_eq!(app["apiVersion"], "core.spinkube.dev/v1alpha1", "{}", name_of(app));
        let executor = str_of(&app["spec"]["executor"], "executor");
        let defined = deploy.named("SpinAppExecutor", executor);
        assert!(
            defined.is_some_and(|e| e["spec"]["createDeployment"] == true),
            "{}: no executor {executor}",
            name_of(app)
        );
        assert_eq!(
            app["spec"]["image"],
            apps[0]["spec"]["image"],
            "{}: one OCI artifact for all",
            name_of(app)
        );
        for c in components_of(app) {
            assert!(
                spin.components().contains(&c),
                "SpinApp {} runs {c}, which spin.toml lacks",
                name_of(app)
            );
            deployed.entry(c).or_default().push(name_of(app));
        }
    }
    for c in spin.components() {
        assert_eq!(
            deployed.get(&c).map(Vec::len),
            Some(1),
            "component {c} is deployed by {:?}",
            deployed.get(&c)
        );
    }
    // kustomize points the image at the registry: the transformer must know SpinApps.
    let image = str_of(&apps[0]["spec"]["image"], "image");
    let set = deploy.kustomization["images"].as_array().into_iter().flatten().any(|i| i["name"] == image);
    assert!(set, "kustomization.yaml `images:` does not set the SpinApps' image `{image}`");
    let config = read_yaml(&deploy.base.join("kustomizeconfig.yaml")).remove(0);
    assert!(
        config["images"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["kind"] == "SpinApp" && i["path"] == "spec/image"),
        "kustomizeconfig.yaml does not teach kustomize the SpinApp's spec/image"
    );
}

#[test]
fn every_variable_a_deployed_component_needs_is_provided_and_secrets_come_only_from_secrets() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    for app in deploy.spinapps() {
        let (name, used, given) = (name_of(app), needed_by_app(&spin, app), provided(app));
        for var in &used {
            let required = spin.default_of(var).is_none();
            match given.get(var) {
                None => {
                    assert!(!required, "{name}: required variable {var} is not provided");
                    assert!(
                        !spin.is_secret(var),
                        "{name}: secret variable {var} is not provided from a Secret"
                    );
                }
                Some(source) if spin.is_secret(var) => {
                    let r = &source["valueFrom"]["secretKeyRef"];
                    assert!(r.is_object(), "{name}: secret {var} must come from a Secret, not {source}");
                    assert_ne!(r["optional"], true, "{name}: secret {var} may not be optional");
                    let secret = str_of(&r["name"], "secret name");
                    let key = str_of(&r["key"], "secret key");
                    assert!(
                        deploy.generated_secret(secret).iter().any(|(k, _)| k == key),
                        "{name}: Secret {secret} has no key {key} (see its .example template)"
                    );
                }
                Some(source) => {
                    let r = &source["valueFrom"]["configMapKeyRef"];
                    if r.is_object() && r["optional"] != true {
                        assert!(
                            deploy.plain_value(source).is_some(),
                            "{name}: {var} reads ConfigMap {}/{} which has no such key",
                            r["name"],
                            r["key"]
                        );
                    }
                    assert!(
                        source["value"].is_string() || r.is_object(),
                        "{name}: {var} is neither a value nor from the ConfigMap: {source}"
                    );
                }
            }
        }
        for var in given.keys() {
            assert!(used.contains(var), "{name}: provides {var}, which it neither uses nor must resolve");
        }
    }
    // The ConfigMap holds only declared settings that are not secret.
    for map in deploy.of_kind("ConfigMap").into_iter().filter(|m| name_of(m) == "ntbcare-config") {
        for key in map["data"].as_object().unwrap().keys() {
            assert!(!spin.is_secret(key), "ConfigMap ntbcare-config holds the secret {key}");
        }
    }
}

#[test]
fn calls_between_functions_go_to_the_service_of_the_spinapp_running_the_callee() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    for app in deploy.spinapps() {
        let (name, given) = (name_of(app), provided(app));
        for var in needed_by_app(&spin, app) {
            let Some(default) = spin.default_of(&var) else { continue };
            let internal = default.strip_prefix("http://").and_then(|h| h.strip_suffix(".spin.internal"));
            let loopback = default.contains("://127.0.0.1") || default.contains("://localhost");
            if internal.is_none() && !loopback {
                continue;
            }
            let value = given
                .get(&var)
                .and_then(|source| deploy.plain_value(source))
                .unwrap_or_else(|| panic!("{name}: {var} keeps its one-box default {default}"));
            let Some(callee) = internal else {
                assert!(value.starts_with("https://"), "{name}: {var} = {value} is not a public https URL");
                continue;
            };
            let (service, path) = deploy
                .in_cluster(&value)
                .unwrap_or_else(|| panic!("{name}: {var} = {value} is not in-cluster"));
            assert_eq!(path, "", "{name}: {var} = {value} must be an origin");
            assert_eq!(
                deploy.spinapp_of(callee).map(name_of),
                Some(service.as_str()),
                "{name}: {var} = {value} does not reach the SpinApp running {callee}"
            );
        }
    }
}

#[test]
fn a_selected_component_calls_other_functions_only_through_the_urls_it_is_given() {
    // Spin refuses to start a selection (a SpinApp's `components`) in which a component
    // lists `http://<other>.spin.internal` in allowed_outbound_hosts for a component not
    // selected with it (templates are not checked). Deployed apart, a call to another
    // function goes to the URL in a variable, which must then be allowed as that
    // variable's template, or Spin denies it (and intake files every complaint as triage).
    let (spin, deploy) = (Spin::load(), Deploy::load());
    for app in deploy.spinapps() {
        let selected = components_of(app);
        for component in &selected {
            let hosts = spin.allowed_outbound_hosts(component);
            for host in hosts.iter().filter(|h| !h.contains("{{")) {
                let target = host.strip_prefix("http://").and_then(|h| h.strip_suffix(".spin.internal"));
                if let Some(target) = target {
                    assert!(
                        selected.iter().any(|c| c == target),
                        "SpinApp {} would not start: {component} chains to {host}, which it does not run \
                         (spin.toml: allow `{{{{ <url variable> }}}}` instead)",
                        name_of(app)
                    );
                }
            }
            for var in spin.variables_used_by(component) {
                let callee = spin.default_of(&var).and_then(|d| {
                    d.strip_prefix("http://")
                        .and_then(|h| h.strip_suffix(".spin.internal"))
                        .map(str::to_string)
                });
                let Some(callee) = callee.filter(|c| !selected.contains(c)) else { continue };
                assert!(
                    hosts.iter().any(|h| h.replace(' ', "") == format!("{{{{{var}}}}}")),
                    "{component} calls {callee} at {var}, but its allowed_outbound_hosts {hosts:?} do not \
                     allow `{{{{ {var} }}}}`"
                );
            }
        }
    }
}

#[test]
fn the_runtime_config_secret_puts_every_store_a_deployed_component_opens_on_redis() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    for app in deploy.spinapps() {
        let name = name_of(app);
        let secret = str_of(&app["spec"]["runtimeConfig"]["loadFromSecret"], "loadFromSecret");
        let files = deploy.generated_secret(secret);
        let (_, path) = files
            .iter()
            .find(|(k, _)| k == "runtime-config.toml")
            .unwrap_or_else(|| panic!("{name}: Secret {secret} has no runtime-config.toml"));
        let config: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut databases = BTreeMap::new();
        for label in components_of(app).iter().flat_map(|c| spin.stores_of(c)) {
            let store = config["key_value_store"]
                .get(&label)
                .unwrap_or_else(|| panic!("{name}: {} defines no key_value_store.{label}", path.display()));
            assert_eq!(store["type"].as_str(), Some("redis"), "{name}: store {label}");
            let url = store["url"].as_str().unwrap();
            let rest = url.strip_prefix("redis://").unwrap_or_else(|| panic!("{label}: {url}"));
            let (host, db) =
                rest.rsplit_once('@').map_or(rest, |(_, h)| h).split_once('/').expect("url names a db");
            let service = host.split(':').next().unwrap();
            let service =
                service.strip_suffix(&format!(".{}.svc.cluster.local", deploy.namespace)).unwrap_or(service);
            let svc =
                deploy.named("Service", service).unwrap_or_else(|| panic!("{label}: no Service {service}"));
            assert_eq!(svc["spec"]["ports"][0]["port"], 6379, "{label}: {service}");
            databases.insert(label, db.to_string());
        }
        if let (Some(default), Some(identity)) = (databases.get("default"), databases.get("identity")) {
            assert_eq!((default.as_str(), identity.as_str()), ("0", "1"), "{name}: identity apart, in db 1");
        }
    }
}

#[test]
fn redis_keeps_acknowledged_writes_and_admits_only_the_functions() {
    let deploy = Deploy::load();
    let redis = deploy.named("StatefulSet", "ntbcare-redis").expect("a Redis StatefulSet");
    assert!(redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"].is_string());
    let config_name = redis["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|v| v["configMap"]["name"].as_str())
        .expect("redis.conf from a ConfigMap");
    let conf = str_of(&deploy.named("ConfigMap", config_name).unwrap()["data"]["redis.conf"], "redis.conf");
    let lines: BTreeSet<&str> = conf.lines().map(str::trim).collect();
    for needed in ["appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction", "dir /data"] {
        assert!(lines.contains(needed), "redis.conf lacks `{needed}`");
    }
    let pod_labels = &redis["spec"]["template"]["metadata"]["labels"];
    let policy = deploy
        .of_kind("NetworkPolicy")
        .into_iter()
        .find(|p| {
            let selected = p["spec"]["podSelector"]["matchLabels"].as_object().unwrap();
            selected.iter().all(|(k, v)| &pod_labels[k] == v)
        })
        .expect("a NetworkPolicy selecting the Redis pods");
    let admitted = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].as_object().unwrap();
    for app in deploy.spinapps() {
        for (k, v) in admitted {
            assert_eq!(&app["spec"]["podLabels"][k], v, "SpinApp {} is not admitted to Redis", name_of(app));
        }
    }
}

#[test]
fn the_ingress_routes_every_spin_route_to_the_spinapp_running_its_component() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    let mut covered = BTreeSet::new();
    for ingress in deploy.of_kind("Ingress") {
        for rule in ingress["spec"]["rules"].as_array().unwrap() {
            for p in rule["http"]["paths"].as_array().unwrap() {
                let path = str_of(&p["path"], "path");
                let route = match str_of(&p["pathType"], "pathType") {
                    "Prefix" if path == "/" => "/...".to_string(),
                    "Prefix" => format!("{}/...", path.trim_end_matches('/')),
                    "Exact" => path.to_string(),
                    other => panic!("{path}: pathType {other} has no Spin equivalent"),
                };
                let component = spin
                    .routes()
                    .into_iter()
                    .find(|(r, _)| *r == route)
                    .map(|(_, c)| c)
                    .unwrap_or_else(|| panic!("Ingress path {path} is not a spin.toml route ({route})"));
                let service = str_of(&p["backend"]["service"]["name"], "backend");
                assert_eq!(p["backend"]["service"]["port"]["number"], 80, "{path}: SpinKube serves port 80");
                assert_eq!(
                    deploy.spinapp_of(&component).map(name_of),
                    Some(service),
                    "Ingress sends {path} to {service}, but {component} runs elsewhere"
                );
                assert!(covered.insert(route.clone()), "route {route} appears twice in the Ingress");
            }
        }
    }
    for (route, component) in spin.routes() {
        assert!(covered.contains(&route), "spin.toml route {route} ({component}) has no Ingress path");
    }
}

#[test]
fn every_scheduled_job_calls_an_authenticated_route_of_a_deployed_component() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    let mut scheduled = BTreeSet::new();
    let cronjobs = deploy.of_kind("CronJob");
    for job in
        cronjobs.iter().filter(|j| j["metadata"]["labels"]["app.kubernetes.io/name"] != "ntbcare-redis")
    {
        let name = name_of(job);
        let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let script: Vec<&str> = container["command"]
            .as_array()
            .into_iter()
            .chain(container["args"].as_array())
            .flatten()
            .map(|a| str_of(a, "argument"))
            .collect();
        let script = script.join(" ");
        let words: Vec<&str> = script.split_whitespace().collect();
        assert!(script.contains("-X POST"), "{name}: the scheduled routes are POSTs: {script}");
        let token_env = container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["valueFrom"]["secretKeyRef"]["key"] == "internal_token")
            .unwrap_or_else(|| panic!("{name}: no internal_token from the Secret"));
        let header = format!("\"{INTERNAL_TOKEN_HEADER}: ${}\"", str_of(&token_env["name"], "env name"));
        assert!(script.contains(&header), "{name}: does not send {header}: {script}");
        let urls: Vec<&str> = words.iter().copied().filter(|w| w.starts_with("http://")).collect();
        assert!(!urls.is_empty(), "{name}: calls no URL");
        for url in urls {
            let (service, path) =
                deploy.in_cluster(url).unwrap_or_else(|| panic!("{name}: {url} is not in-cluster"));
            let component =
                spin.owner(&path).unwrap_or_else(|| panic!("{name}: no spin.toml route serves {path}"));
            assert!(path.len() > 1 && component != "portal", "{name}: {path} is no API route");
            assert_eq!(
                deploy.spinapp_of(&component).map(name_of),
                Some(service.as_str()),
                "{name}: {url} goes to {service}, but {path} belongs to {component}"
            );
            scheduled.insert(component);
        }
    }
    let cron: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("cron-triggers.toml")).unwrap()).unwrap();
    for trigger in cron["trigger"]["cron"].as_array().unwrap() {
        let component = trigger["component"].as_str().unwrap();
        assert!(
            scheduled.contains(component),
            "cron-triggers.toml schedules {component}; no CronJob calls it"
        );
    }
}

#[test]
fn intake_alone_autoscales_and_the_other_functions_run_fixed_replicas() {
    let deploy = Deploy::load();
    let hpas = deploy.of_kind("HorizontalPodAutoscaler");
    let mut autoscaled = BTreeSet::new();
    for hpa in &hpas {
        let target = &hpa["spec"]["scaleTargetRef"];
        assert_eq!((&target["apiVersion"], &target["kind"]), (&"apps/v1".into(), &"Deployment".into()));
        // SpinKube names the Deployment after the SpinApp.
        let app = deploy.spinapp(str_of(&target["name"], "target"));
        assert_eq!(app["spec"]["enableAutoscaling"], true, "{}: HPA without enableAutoscaling", name_of(app));
        assert!(
            app["spec"]["resources"]["requests"]["cpu"].is_string(),
            "{}: HPA needs CPU requests",
            name_of(app)
        );
        assert!(
            hpa["spec"]["minReplicas"].as_i64().unwrap() >= 2,
            "{}: at least two, for restarts",
            name_of(app)
        );
        autoscaled.insert(name_of(app).to_string());
    }
    assert_eq!(autoscaled, BTreeSet::from(["intake".to_string()]));
    for app in deploy.spinapps() {
        if autoscaled.contains(name_of(app)) {
            assert!(app["spec"]["replicas"].is_null(), "{}: replicas and autoscaling conflict", name_of(app));
        } else {
            assert_ne!(app["spec"]["enableAutoscaling"], true, "{}: autoscaled without an HPA", name_of(app));
            assert!(app["spec"]["replicas"].as_i64().unwrap_or(0) >= 1, "{}: no replicas", name_of(app));
        }
    }
}

#[test]
fn each_spinapp_is_probed_on_spins_health_route_and_a_route_of_its_own() {
    let (spin, deploy) = (Spin::load(), Deploy::load());
    for app in deploy.spinapps() {
        let checks = &app["spec"]["checks"];
        assert_eq!(checks["liveness"]["httpGet"]["path"], SPIN_HEALTH, "{}", name_of(app));
        let ready = str_of(&checks["readiness"]["httpGet"]["path"], "readiness path");
        if ready != SPIN_HEALTH {
            // Ready only once its own component answers: proof the selection loaded it.
            let owner = spin.owner(ready);
            assert!(
                owner.as_ref().is_some_and(|c| components_of(app).contains(c)),
                "{}: readiness {ready} is served by {owner:?}, not by this SpinApp",
                name_of(app)
            );
        }
    }
}

#[test]
fn every_manifest_is_applied_and_the_campaign_overlay_patches_what_exists() {
    let deploy = Deploy::load();
    let listed: BTreeSet<PathBuf> = deploy.objects.iter().map(|(p, _)| p.clone()).collect();
    let mut stack = vec![deploy.base.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if file.ends_with(".yaml") && !file.starts_with("kustom") {
                assert!(listed.contains(&path), "{} is not in base/kustomization.yaml", path.display());
            }
        }
    }
    let campaign = read_yaml(&deploy_dir().join("overlays/campaign/kustomization.yaml")).remove(0);
    assert_eq!(campaign["resources"], serde_json::json!(["../../base"]));
    for patch in campaign["patches"].as_array().unwrap() {
        let (kind, name) =
            (str_of(&patch["target"]["kind"], "kind"), str_of(&patch["target"]["name"], "name"));
        let object =
            deploy.named(kind, name).unwrap_or_else(|| panic!("campaign patches {kind}/{name}: none"));
        let ops = YamlLoader::load_from_str(str_of(&patch["patch"], "patch")).unwrap();
        for op in to_json(&ops[0]).as_array().unwrap() {
            let pointer = str_of(&op["path"], "op path");
            let before = object.pointer(pointer).unwrap_or_else(|| panic!("{kind}/{name} has no {pointer}"));
            if let (Some(before), Some(after)) = (before.as_i64(), op["value"].as_i64()) {
                assert!(after > before, "campaign lowers {kind}/{name} {pointer}: {before} -> {after}");
            }
        }
    }
}
