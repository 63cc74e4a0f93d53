//! The administrators' documents (`PUT /api/v1/admin/{document}`): the directory (TOML, and
//! the JSON it is stored as), routing rules, the working calendar, SLA rules, answer
//! templates and the notification templates. The first byte picks the document, the rest is
//! its text. A document that is accepted is then used the way the components use it, since
//! a document that parses but hangs or panics later would stop every complaint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntbcare_domain::answers::AnswerTemplates;
use ntbcare_domain::calendar::WorkingCalendar;
use ntbcare_domain::delivery::templates::{Templates, Variant, PLACEHOLDERS};
use ntbcare_domain::delivery::text::Budget;
use ntbcare_domain::directory::Directory;
use ntbcare_domain::language::Language;
use ntbcare_domain::region::RegionCode;
use ntbcare_domain::routing::{RoutingInput, RoutingRules};
use ntbcare_domain::sla::{Priority, SlaRules, Step};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let dir = ntbcare_fuzz::directory();
    let now = ntbcare_fuzz::NOW;
    let region = RegionCode::parse("52.71").unwrap();
    match which % 8 {
        0 | 1 => {
            let parsed = if which % 8 == 0 { Directory::from_toml(text) } else { Directory::from_json(text) };
            if let Ok(d) = parsed {
                // Every complaint is routed with the directory in force: seed rules must still
                // be checkable against it (an error is fine, a panic is not).
                let _ = RoutingRules::from_json(ntbcare_domain::routing::SEED_JSON, &d);
                let _ = d.region(&region);
            }
        }
        2 | 3 => {
            let parsed = if which % 8 == 2 {
                RoutingRules::from_toml(text, dir)
            } else {
                RoutingRules::from_json(text, dir)
            };
            if let Ok(rules) = parsed {
                for category in [None, Some("jalan"), Some("kesehatan")] {
                    let d = rules.decide(&RoutingInput { category, region: &region, description: text });
                    if let Some(u) = &d.unit {
                        assert!(dir.unit(u).is_some(), "routed to a unit the directory lacks: {u}");
                    }
                    assert!(!d.rule_id.is_empty());
                }
                let _ = rules.suggest_category(text);
            }
        }
        4 => {
            if let Ok(cal) = WorkingCalendar::from_toml(text) {
                for region in [None, Some(&region)] {
                    let due = cal.add_working_days(now, 30, region);
                    assert!(due > now);
                    let days = cal.working_days_between(now, due, region);
                    assert!(days.is_finite() && days > 0.0);
                    let _ = cal.next_working_day(ntbcare_domain::calendar::Date::of(now), region);
                }
            }
        }
        5 => {
            if let Ok(rules) = SlaRules::from_toml(text) {
                let cal = WorkingCalendar::seed();
                for step in Step::ALL {
                    for priority in Priority::ALL {
                        let d = rules.deadlines(step, priority, now, &[], &cal, Some(&region));
                        assert!(d.warn_at <= d.due && d.due <= d.late_at, "{step:?} {priority:?}: {d:?}");
                        assert!(d.due >= now);
                    }
                }
            }
        }
        6 => {
            if let Ok(t) = AnswerTemplates::from_toml(text, dir) {
                let _ = (t.for_category(None), t.for_category(Some("jalan")));
            }
        }
        _ => {
            if let Ok(t) = Templates::from_toml(text) {
                let fields: Vec<(String, String)> =
                    PLACEHOLDERS.iter().map(|p| (p.to_string(), "isi contoh".to_string())).collect();
                for template in t.all() {
                    for language in [Language::Id, Language::En] {
                        let _ =
                            t.render(&template.id, language, Variant::Sms, &fields, Budget::SmsSegments(3));
                        let _ = t.render(&template.id, language, Variant::Text, &fields, Budget::Chars(4096));
                        let _ = t.render_subject(&template.id, language, &fields);
                        let _ = t.whatsapp(&template.id, language, &fields);
                    }
                }
            }
        }
    }
});
