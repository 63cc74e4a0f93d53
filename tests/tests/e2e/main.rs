//! One integration-test binary: every end-to-end test runs the built components on the
//! local host (see `ntbcare_tests::TestApp`).

mod attachments;
mod authorization;
mod casework;
mod channels;
mod confidentiality;
mod consent;
mod coordinates;
mod deploy_manifests;
mod durability;
mod follow_up;
mod functions_apart;
mod host_hardening;
mod hostile_input;
mod intake_api;
mod lapor;
mod manifest;
mod notification;
mod portal;
mod pseudonyms;
mod reporting;
mod service_standard;
mod spin_conformance;
mod tallies;
mod triage;
mod walking_skeleton;
