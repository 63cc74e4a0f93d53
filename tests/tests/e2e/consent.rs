//! Consent, through the built intake and notification over signed webhooks: `BERHENTI` /
//! `STOP` silences the person on every channel NTB Care could reach them on (the same number
//! on WhatsApp and by SMS in any of its forms, and the e-mail on their complaints), is
//! confirmed once on the channel it came on, in the language of the word; `MULAI` / `START`
//! reopens every channel, with its own confirmation.

use hmac::{Hmac, Mac};
use ntbcare_tests::fake_provider::Recorded;
use ntbcare_tests::{Reply, TestApp};
use serde_json::json;

use crate::notification::{
    act, meta_fixture, outbox, post_meta, register, sign_in, submit, sweep_until, web_complaint, Providers,
    GATEWAY_SECRET,
};

/// A WhatsApp text from 6281234567890 (the fixture's sender), with its own message id.
fn whatsapp(app: &TestApp, id: &str, text: &str) -> Reply {
    let mut v = meta_fixture("whatsapp_text.json");
    let m = &mut v["entry"][0]["changes"][0]["value"]["messages"][0];
    m["id"] = json!(id);
    m["text"]["body"] = json!(text);
    let r = post_meta(app, &serde_json::to_vec(&v).unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

/// An SMS through NTB Care's gateway, signed as the gateway signs.
fn sms(app: &TestApp, id: &str, from: &str, text: &str) -> Reply {
    let body = serde_json::to_vec(&json!({"id": id, "from": from, "text": text})).unwrap();
    let ts =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(GATEWAY_SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&body);
    let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let r = app
        .post_raw(
            "/webhooks/sms/gateway",
            "application/json",
            &body,
            &[("x-ntbcare-signature", &format!("sha256={sig}")), ("x-ntbcare-timestamp", &ts)],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

fn result(r: &Reply) -> String {
    r.json().unwrap()["received"][0]["result"].as_str().unwrap().to_string()
}

fn whatsapp_text(r: &Recorded) -> String {
    r.json()["text"]["body"].as_str().unwrap_or_default().to_string()
}

/// Sweep until nothing is queued or in flight.
fn settle(app: &TestApp) {
    sweep_until(app, 20, || outbox(app)["pending"] == 0);
}

fn templates_for(app: &TestApp, ticket: &str) -> Vec<(String, String)> {
    outbox(app)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["ticket"] == ticket)
        .map(|m| (m["template"].as_str().unwrap().to_string(), m["state"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn berhenti_on_whatsapp_silences_the_person_on_whatsapp_sms_and_email_until_mulai() {
    let p = Providers::start();
    let app = p.app();
    register(&app, "koordinator", "provincial-coordinator", None, None);
    register(&app, "mataram", "liaison-officer", Some("pemkot-mataram"), None);
    let coordinator = sign_in(&app, "koordinator");
    let liaison = sign_in(&app, "mataram");

    // The citizen complains on WhatsApp, and on the web giving the same number in its 08 form
    // and an e-mail address.
    let on_whatsapp = whatsapp(&app, "wamid.KELUHAN1", "Lampu jalan di Jl. Pejanggik mati sejak seminggu");
    let wa_ticket = on_whatsapp.json().unwrap()["received"][0]["ticket"].as_str().unwrap().to_string();
    let mut web = web_complaint("id");
    web["reporter"] = json!({"name": "Baiq Nurul", "phone": "081234567890", "email": "baiq@example.org"});
    let web_ticket = submit(&app, web);
    settle(&app);
    assert_eq!(p.whatsapp.accepted().len(), 1, "the WhatsApp acknowledgement");
    assert_eq!(p.twilio.accepted().len(), 1, "the web complaint's acknowledgement by SMS");

    // BERHENTI, delivered twice by Meta: one opt-out, one confirmation, on WhatsApp.
    let stop = whatsapp(&app, "wamid.BERHENTI1", "BERHENTI");
    assert_eq!(result(&stop), "opted-out");
    assert_eq!(result(&whatsapp(&app, "wamid.BERHENTI1", "BERHENTI")), "opted-out");
    settle(&app);
    settle(&app);
    let sent = p.whatsapp.accepted();
    assert_eq!(sent.len(), 2, "exactly one confirmation: {sent:#?}");
    assert_eq!(sent[1].json()["to"], "6281234567890");
    let confirmation = whatsapp_text(&sent[1]);
    assert!(
        confirmation.contains("tidak akan menerima pesan lagi") && confirmation.contains("MULAI"),
        "{confirmation}"
    );

    // Officers work both complaints: verified, dispatched, answered. Nothing reaches the person.
    act(&app, &coordinator, &wa_ticket, json!({"action": "verify"}));
    for action in [
        json!({"action": "verify"}),
        json!({"action": "dispatch"}),
        json!({"action": "accept"}),
        json!({"action": "respond", "answer": "Jalan sudah ditambal oleh Dinas PUPR Kota Mataram."}),
    ] {
        let token = if ["accept", "respond"].contains(&action["action"].as_str().unwrap()) {
            &liaison
        } else {
            &coordinator
        };
        act(&app, token, &web_ticket, action);
    }
    settle(&app);
    assert_eq!(p.whatsapp.accepted().len(), 2, "nothing more on WhatsApp");
    assert_eq!(p.twilio.accepted().len(), 1, "nothing more by SMS");
    assert!(p.sendgrid.requests().iter().all(|r| !r.text().contains("baiq@example.org")), "no e-mail");
    let on_whatsapp = templates_for(&app, &wa_ticket);
    assert!(
        on_whatsapp.iter().any(|(t, s)| t == "status-changed" && s == "dead-letter"),
        "the WhatsApp complaint's status change was held back: {on_whatsapp:?}"
    );
    let silenced = templates_for(&app, &web_ticket);
    assert!(
        silenced.iter().any(|(t, s)| t == "answer-given" && s == "dead-letter"),
        "the answer was held back: {silenced:?}"
    );
    let opted_out = outbox(&app)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["template"] == "answer-given")
        .map(|m| m["last_error"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>();
    assert!(
        !opted_out.is_empty()
            && opted_out.iter().all(|e| e.contains("sms was opted out") && e.contains("email was opted out")),
        "{opted_out:?}"
    );

    // MULAI reopens every channel, with its own confirmation; the next message arrives.
    assert_eq!(result(&whatsapp(&app, "wamid.MULAI1", "mulai")), "opted-in");
    settle(&app);
    let sent = p.whatsapp.accepted();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let welcome = whatsapp_text(&sent[2]);
    assert!(welcome.contains("kembali menerima pesan") && welcome.contains("BERHENTI"), "{welcome}");
    act(&app, &coordinator, &web_ticket, json!({"action": "close"}));
    settle(&app);
    let sms = p.twilio.accepted();
    assert_eq!(sms.len(), 2, "{sms:#?}");
    assert_eq!(sms[1].form_value("To").as_deref(), Some("+6281234567890"));
    assert!(sms[1].form_value("Body").unwrap().contains(&web_ticket));
}

#[test]
fn english_stop_and_start_by_sms_are_confirmed_in_english_and_hold_every_message_between() {
    let p = Providers::start();
    let app = p.app();
    register(&app, "koordinator", "provincial-coordinator", None, None);
    let coordinator = sign_in(&app, "koordinator");
    let mut complaint = web_complaint("en");
    complaint["reporter"] =
        json!({"name": "Jane Doe", "phone": "+6281299998888", "email": "jane@example.org"});
    let ticket = submit(&app, complaint);
    settle(&app);
    assert_eq!(p.twilio.accepted().len(), 1);

    // STOP by SMS from the number in its 62 form.
    assert_eq!(result(&sms(&app, "gammu-stop-1", "6281299998888", "STOP")), "opted-out");
    settle(&app);
    let sent = p.twilio.accepted();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[1].form_value("To").as_deref(), Some("+6281299998888"));
    let body = sent[1].form_value("Body").unwrap();
    assert!(body.contains("no more messages") && body.contains("START"), "{body}");

    act(&app, &coordinator, &ticket, json!({"action": "verify"}));
    settle(&app);
    assert_eq!(p.twilio.accepted().len(), 2, "no SMS while opted out");
    assert!(p.sendgrid.requests().is_empty(), "no e-mail while opted out");
    assert!(p.whatsapp.requests().is_empty());

    assert_eq!(result(&sms(&app, "gammu-start-1", "+6281299998888", "START")), "opted-in");
    settle(&app);
    let sent = p.twilio.accepted();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let body = sent[2].form_value("Body").unwrap();
    assert!(body.contains("again receive messages") && body.contains("STOP"), "{body}");
    act(&app, &coordinator, &ticket, json!({"action": "dispatch"}));
    settle(&app);
    let sent = p.twilio.accepted();
    assert_eq!(sent.len(), 4, "{sent:#?}");
    assert!(sent[3].form_value("Body").unwrap().contains(&ticket));
}
