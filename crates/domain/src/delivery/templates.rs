//! The texts NTB Care sends, as data: `data/templates.toml`, embedded as the seed and checked
//! when loaded, so a mistake in a template is refused by the loader and never reaches a
//! citizen half-rendered.
//!
//! A template is `{placeholder}` text in Indonesian and English, for e-mail (with a subject),
//! chat channels and SMS (an optional shorter text). Loading refuses unknown placeholders,
//! and for officers any placeholder outside [`OFFICER_PLACEHOLDERS`]: a template is the one
//! place a field could carry a complainant's identity to an officer, so the whitelist is
//! enforced here rather than trusted to each producer. Rendering refuses a missing or empty
//! field by name. Free-text fields ([`SHORTENABLE`]) are shortened, at a word, until the
//! message fits the channel's [`Budget`].

use std::collections::BTreeSet;

use serde::Deserialize;
use thiserror::Error;

use super::text::{one_line, shorten, Budget, EXCERPT_MAX_CHARS};
use crate::language::{Language, Text};

pub const SEED_TOML: &str = include_str!("../../../../data/templates.toml");

/// Every placeholder a template may use.
pub const PLACEHOLDERS: [&str; 10] = [
    "ticket",
    "tracking_url",
    "status",
    "agency",
    "answer_excerpt",
    "due_date",
    "question",
    "reason",
    "open",
    "overdue",
];

/// What an officer's message may contain. Not `tracking_url`: the citizen's tracking link
/// carries their private secret. Nothing names or reaches the complainant.
pub const OFFICER_PLACEHOLDERS: [&str; 7] =
    ["ticket", "status", "agency", "due_date", "reason", "open", "overdue"];

/// Free-text fields, shortened when a message would not fit.
pub const SHORTENABLE: [&str; 3] = ["answer_excerpt", "question", "reason"];

/// Free text is never shortened below this: a message that cannot carry this much of it
/// does not fit.
pub const SHORTENED_MIN_CHARS: usize = 24;

/// The templates NTB Care's code sends; the loader refuses a file without any of them.
pub const REQUIRED: [&str; 13] = [
    "complaint-received",
    "status-changed",
    "answer-given",
    "information-requested",
    "complaint-closed",
    "complaint-rejected",
    "case-assigned",
    "deadline-approaching",
    "case-escalated",
    "case-reopened",
    "daily-digest",
    "opted-out",
    "opted-in",
];

/// Who reads a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Citizen,
    Officer,
}

/// The WhatsApp template approved for a message, for use outside the 24-hour window.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappTemplateSpec {
    /// The name approved in WhatsApp Manager (the same in every language).
    pub name: String,
    /// The placeholders filling body parameters {{1}}, {{2}}, … in this order.
    pub parameters: Vec<String>,
}

/// A WhatsApp template message ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatsappTemplateMessage {
    pub name: String,
    /// `id` or `en_US`, as the template was approved.
    pub language_code: &'static str,
    /// Body parameters in order, one line each.
    pub parameters: Vec<String>,
}

/// The language code a WhatsApp template is approved under.
pub fn whatsapp_language_code(language: Language) -> &'static str {
    match language {
        Language::Id => "id",
        Language::En => "en_US",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub audience: Audience,
    pub subject: Text,
    pub text: Text,
    pub sms: Option<Text>,
    pub whatsapp: Option<WhatsappTemplateSpec>,
    placeholders: BTreeSet<String>,
}

impl Template {
    /// The placeholders its texts use (the same in both languages).
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.placeholders.iter().map(String::as_str)
    }
}

/// Which text of a template to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The full text (chat channels and e-mail).
    Text,
    /// The SMS text, or the full text when there is none.
    Sms,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Templates {
    templates: Vec<Template>,
}

#[derive(Debug, Error)]
pub enum TemplatesError {
    #[error("templates are not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("template `{template}` uses unknown placeholder `{{{placeholder}}}`")]
    UnknownPlaceholder { template: String, placeholder: String },
    #[error("officer template `{template}` may not use `{{{placeholder}}}`: officers never see the complainant's identity or private link")]
    NotForOfficers { template: String, placeholder: String },
    #[error("template `{template}`: {reason}")]
    Malformed { template: String, reason: String },
    #[error("template `{template}` uses {id:?} in Indonesian but {en:?} in English")]
    LanguagesDiffer { template: String, id: Vec<String>, en: Vec<String> },
    #[error("citizen template `{0}` names no approved WhatsApp template")]
    NoWhatsappTemplate(String),
    #[error("template `{template}`'s WhatsApp parameter `{parameter}` is not a placeholder its text uses")]
    WhatsappParameter { template: String, parameter: String },
    #[error("template `{0}` is defined twice")]
    Duplicate(String),
    #[error("template `{0}` is required but missing")]
    Missing(String),
}

/// Why a message cannot be rendered.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("template `{0}` is not known")]
    UnknownTemplate(String),
    #[error("template `{template}` needs field `{field}`, which is missing or empty")]
    MissingField { template: String, field: String },
    #[error("template `{template}` does not fit {budget:?} even with its free text shortened")]
    DoesNotFit { template: String, budget: Budget },
    #[error("template `{0}` has no approved WhatsApp template")]
    NoWhatsappTemplate(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    template: Vec<RawTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: String,
    audience: Audience,
    subject: Bilingual,
    text: Bilingual,
    sms: Option<Bilingual>,
    whatsapp: Option<WhatsappTemplateSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bilingual {
    id: String,
    en: String,
}

impl From<Bilingual> for Text {
    fn from(b: Bilingual) -> Text {
        Text::new(b.id, b.en)
    }
}

/// A piece of template text.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Field(&'a str),
}

/// Split `{name}` placeholders from literal text. A lone brace is an error: it is almost
/// always a typo that would otherwise reach a citizen as `{tiket`.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("a `}}` without `{{` in {text:?}"));
        }
        if open > 0 {
            out.push(Piece::Literal(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("an unclosed `{{` in {text:?}"))?;
        let name = &after[..close];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!("`{{{name}}}` is not a placeholder name (lowercase letters and `_`)"));
        }
        out.push(Piece::Field(name));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    Ok(out)
}

fn names(template: &str, text: &str) -> Result<BTreeSet<String>, TemplatesError> {
    let pieces = pieces(text)
        .map_err(|reason| TemplatesError::Malformed { template: template.to_string(), reason })?;
    Ok(pieces
        .into_iter()
        .filter_map(|p| match p {
            Piece::Field(name) => Some(name.to_string()),
            Piece::Literal(_) => None,
        })
        .collect())
}

impl Templates {
    /// The shipped templates.
    pub fn seed() -> Templates {
        Templates::from_toml(SEED_TOML).expect("the shipped templates are valid")
    }

    /// Parse templates and check them (see the module doc).
    pub fn from_toml(text: &str) -> Result<Templates, TemplatesError> {
        let raw: RawFile = toml::from_str(text)?;
        let mut templates: Vec<Template> = Vec::with_capacity(raw.template.len());
        for t in raw.template {
            if templates.iter().any(|x| x.id == t.id) {
                return Err(TemplatesError::Duplicate(t.id));
            }
            let malformed =
                |reason: &str| TemplatesError::Malformed { template: t.id.clone(), reason: reason.into() };
            for (what, b) in [("subject", Some(&t.subject)), ("text", Some(&t.text)), ("sms", t.sms.as_ref())]
            {
                if let Some(b) = b {
                    if b.id.trim().is_empty() || b.en.trim().is_empty() {
                        return Err(malformed(&format!("`{what}` must have both `id` and `en` text")));
                    }
                }
            }
            // The body decides what a message needs: the subject and the SMS text may use
            // fewer placeholders, never others.
            let id_names = names(&t.id, &t.text.id)?;
            let en_names = names(&t.id, &t.text.en)?;
            if id_names != en_names {
                return Err(TemplatesError::LanguagesDiffer {
                    template: t.id.clone(),
                    id: id_names.into_iter().collect(),
                    en: en_names.into_iter().collect(),
                });
            }
            let mut used = id_names.clone();
            for b in [Some(&t.subject), t.sms.as_ref()].into_iter().flatten() {
                for lang in [&b.id, &b.en] {
                    let extra: Vec<String> = names(&t.id, lang)?.difference(&id_names).cloned().collect();
                    if let Some(first) = extra.first() {
                        if !PLACEHOLDERS.contains(&first.as_str()) {
                            return Err(TemplatesError::UnknownPlaceholder {
                                template: t.id.clone(),
                                placeholder: first.clone(),
                            });
                        }
                        return Err(malformed(&format!(
                            "the subject or SMS text uses `{{{first}}}`, which the text does not"
                        )));
                    }
                }
                used.extend(names(&t.id, &b.id)?);
            }
            for name in &used {
                if !PLACEHOLDERS.contains(&name.as_str()) {
                    return Err(TemplatesError::UnknownPlaceholder {
                        template: t.id.clone(),
                        placeholder: name.clone(),
                    });
                }
                if t.audience == Audience::Officer && !OFFICER_PLACEHOLDERS.contains(&name.as_str()) {
                    return Err(TemplatesError::NotForOfficers {
                        template: t.id.clone(),
                        placeholder: name.clone(),
                    });
                }
            }
            match (&t.whatsapp, t.audience) {
                (None, Audience::Citizen) => return Err(TemplatesError::NoWhatsappTemplate(t.id)),
                (Some(wa), _) => {
                    if wa.name.is_empty()
                        || !wa.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    {
                        return Err(malformed(
                            "a WhatsApp template name is lowercase letters, digits and `_`",
                        ));
                    }
                    if let Some(p) = wa.parameters.iter().find(|p| !id_names.contains(*p)) {
                        return Err(TemplatesError::WhatsappParameter {
                            template: t.id.clone(),
                            parameter: p.clone(),
                        });
                    }
                }
                (None, Audience::Officer) => {}
            }
            templates.push(Template {
                id: t.id,
                audience: t.audience,
                subject: t.subject.into(),
                text: t.text.into(),
                sms: t.sms.map(Into::into),
                whatsapp: t.whatsapp,
                placeholders: id_names,
            });
        }
        if let Some(missing) = REQUIRED.iter().find(|r| !templates.iter().any(|t| t.id == **r)) {
            return Err(TemplatesError::Missing(missing.to_string()));
        }
        Ok(Templates { templates })
    }

    pub fn get(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn all(&self) -> &[Template] {
        &self.templates
    }

    fn template(&self, id: &str) -> Result<&Template, RenderError> {
        self.get(id).ok_or_else(|| RenderError::UnknownTemplate(id.to_string()))
    }

    /// Render a template's text (or SMS text) so that it fits `budget`, shortening free-text
    /// fields as needed.
    pub fn render(
        &self,
        id: &str,
        language: Language,
        variant: Variant,
        fields: &[(String, String)],
        budget: Budget,
    ) -> Result<String, RenderError> {
        let t = self.template(id)?;
        let text = match (variant, &t.sms) {
            (Variant::Sms, Some(sms)) => sms.get(language),
            _ => t.text.get(language),
        };
        fill_to_fit(&t.id, text, fields, budget)
    }

    /// Render an e-mail subject (one line, free text shortened to keep it short).
    pub fn render_subject(
        &self,
        id: &str,
        language: Language,
        fields: &[(String, String)],
    ) -> Result<String, RenderError> {
        let t = self.template(id)?;
        fill_to_fit(&t.id, t.subject.get(language), fields, Budget::Chars(150)).map(|s| one_line(&s))
    }

    /// The WhatsApp template message for `id`, parameters filled in order.
    pub fn whatsapp(
        &self,
        id: &str,
        language: Language,
        fields: &[(String, String)],
    ) -> Result<WhatsappTemplateMessage, RenderError> {
        let t = self.template(id)?;
        let spec = t.whatsapp.as_ref().ok_or_else(|| RenderError::NoWhatsappTemplate(t.id.clone()))?;
        let parameters = spec
            .parameters
            .iter()
            .map(|name| {
                let value = field(&t.id, fields, name)?;
                let value = if SHORTENABLE.contains(&name.as_str()) {
                    shorten(&one_line(value), EXCERPT_MAX_CHARS)
                } else {
                    one_line(value)
                };
                Ok(value)
            })
            .collect::<Result<Vec<_>, RenderError>>()?;
        Ok(WhatsappTemplateMessage {
            name: spec.name.clone(),
            language_code: whatsapp_language_code(language),
            parameters,
        })
    }
}

fn field<'a>(template: &str, fields: &'a [(String, String)], name: &str) -> Result<&'a str, RenderError> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| RenderError::MissingField { template: template.to_string(), field: name.to_string() })
}

fn fill(template: &str, text: &str, fields: &[(String, String)], cap: usize) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len() + 64);
    // Templates were checked when loaded, so `pieces` cannot fail here.
    for piece in pieces(text).unwrap_or_default() {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Field(name) => {
                let value = field(template, fields, name)?;
                if SHORTENABLE.contains(&name) {
                    out.push_str(&shorten(value, cap));
                } else {
                    out.push_str(value.trim());
                }
            }
        }
    }
    Ok(out)
}

fn fill_to_fit(
    template: &str,
    text: &str,
    fields: &[(String, String)],
    budget: Budget,
) -> Result<String, RenderError> {
    let full = fill(template, text, fields, EXCERPT_MAX_CHARS)?;
    if budget.fits(&full) {
        return Ok(full);
    }
    let does_not_fit = || RenderError::DoesNotFit { template: template.to_string(), budget };
    let shortenable = pieces(text)
        .unwrap_or_default()
        .iter()
        .any(|p| matches!(p, Piece::Field(name) if SHORTENABLE.contains(name)));
    if !shortenable {
        return Err(does_not_fit());
    }
    // The longest free text that fits, by bisection over its length in characters; never
    // shorter than a few words, below which an excerpt says nothing and a quote looks broken.
    let (mut lo, mut hi) = (SHORTENED_MIN_CHARS, EXCERPT_MAX_CHARS);
    let mut best = None;
    while lo <= hi {
        let mid = (lo + hi) / 2;
        let candidate = fill(template, text, fields, mid)?;
        if budget.fits(&candidate) {
            best = Some(candidate);
            lo = mid + 1;
        } else if mid == SHORTENED_MIN_CHARS {
            break;
        } else {
            hi = mid - 1;
        }
    }
    best.ok_or_else(does_not_fit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::text::{sms_size, SmsEncoding, SMS_MAX_SEGMENTS};

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn all_fields() -> Vec<(String, String)> {
        f(&[
            ("ticket", "NTB-26-7KQ4MX"),
            ("tracking_url", "https://care.ntbprov.go.id/t/NTB-26-7KQ4MX?k=s3cret"),
            ("status", "Sedang ditindaklanjuti"),
            ("agency", "PDAM Giri Menang"),
            ("answer_excerpt", "Pipa yang bocor sudah diganti oleh petugas kami pada Senin pagi."),
            ("due_date", "Jumat, 4 Desember 2026"),
            ("question", "Di depan nomor rumah berapa pipa itu bocor?"),
            ("reason", "Aduan tidak memuat lokasi"),
            ("open", "12"),
            ("overdue", "3"),
        ])
    }

    /// A minimal valid file plus `extra`, for loader tests.
    fn file_with(extra: &str) -> String {
        let mut s = String::new();
        for id in REQUIRED {
            let officer = matches!(
                id,
                "case-assigned"
                    | "deadline-approaching"
                    | "case-escalated"
                    | "case-reopened"
                    | "daily-digest"
            );
            s.push_str(&format!(
                "[[template]]\nid = \"{id}\"\naudience = \"{}\"\nsubject = {{ id = \"s\", en = \"s\" }}\n\
                 text = {{ id = \"Tiket {{ticket}}\", en = \"Ticket {{ticket}}\" }}\n{}\n",
                if officer { "officer" } else { "citizen" },
                if officer { "" } else { "whatsapp = { name = \"t\", parameters = [\"ticket\"] }" },
            ));
        }
        s.push_str(extra);
        s
    }

    #[test]
    fn the_shipped_templates_load_and_cover_every_message() {
        let t = Templates::seed();
        for id in REQUIRED {
            let template = t.get(id).unwrap();
            for lang in [Language::Id, Language::En] {
                let text = t.render(id, lang, Variant::Text, &all_fields(), Budget::Unlimited).unwrap();
                assert!(!text.contains('{'), "{id}: {text}");
                let sms = t
                    .render(id, lang, Variant::Sms, &all_fields(), Budget::SmsSegments(SMS_MAX_SEGMENTS))
                    .unwrap();
                assert_eq!(sms_size(&sms).encoding, SmsEncoding::Gsm7, "{id} SMS should stay GSM-7: {sms}");
                t.render_subject(id, lang, &all_fields()).unwrap();
                if template.audience == Audience::Citizen {
                    t.whatsapp(id, lang, &all_fields()).unwrap();
                }
            }
        }
    }

    #[test]
    fn complaint_received_gives_ticket_and_tracking_link() {
        let t = Templates::seed();
        let text = t
            .render("complaint-received", Language::Id, Variant::Text, &all_fields(), Budget::Unlimited)
            .unwrap();
        assert!(
            text.contains("NTB-26-7KQ4MX") && text.contains("https://care.ntbprov.go.id/t/NTB-26-7KQ4MX")
        );
        let en = t
            .render("complaint-received", Language::En, Variant::Text, &all_fields(), Budget::Unlimited)
            .unwrap();
        assert!(en.starts_with("Thank you"));
    }

    #[test]
    fn answer_given_invites_a_rating_in_both_languages() {
        let t = Templates::seed();
        let id =
            t.render("answer-given", Language::Id, Variant::Text, &all_fields(), Budget::Unlimited).unwrap();
        assert!(
            id.contains("1-5")
                && id.contains("SUDAH")
                && id.contains("BELUM")
                && id.contains("PDAM Giri Menang"),
            "{id}"
        );
        let en =
            t.render("answer-given", Language::En, Variant::Sms, &all_fields(), Budget::Unlimited).unwrap();
        assert!(en.contains("1-5") && en.contains("YES") && en.contains("NO"), "{en}");
    }

    #[test]
    fn the_answers_to_a_reply_render_in_both_languages_and_fit_an_sms() {
        let t = Templates::seed();
        for id in ["rating-recorded", "rating-incomplete", "rating-help"] {
            for lang in [Language::Id, Language::En] {
                let sms = t.render(id, lang, Variant::Sms, &all_fields(), Budget::Unlimited).unwrap();
                assert!(sms.contains("NTB-26-7KQ4MX"), "{id}: {sms}");
                assert!(sms.chars().count() <= 160, "{id} is {} characters: {sms}", sms.chars().count());
            }
        }
    }

    #[test]
    fn rendering_refuses_a_missing_or_empty_field_by_name() {
        let t = Templates::seed();
        let mut fields = all_fields();
        fields.retain(|(k, _)| k != "tracking_url");
        assert_eq!(
            t.render("complaint-received", Language::Id, Variant::Text, &fields, Budget::Unlimited),
            Err(RenderError::MissingField {
                template: "complaint-received".into(),
                field: "tracking_url".into()
            })
        );
        let blank = f(&[("ticket", "NTB-26-7KQ4MX"), ("reason", "  ")]);
        assert!(matches!(
            t.render("complaint-rejected", Language::En, Variant::Text, &blank, Budget::Unlimited),
            Err(RenderError::MissingField { field, .. }) if field == "reason"
        ));
        assert_eq!(
            t.render("no-such", Language::En, Variant::Text, &blank, Budget::Unlimited),
            Err(RenderError::UnknownTemplate("no-such".into()))
        );
    }

    #[test]
    fn a_long_answer_is_shortened_at_a_word_to_fit_three_sms() {
        let t = Templates::seed();
        let long = "Terima kasih atas laporan Bapak/Ibu. Tim teknis PDAM Giri Menang telah memeriksa \
                    jaringan pipa distribusi di Jl. Langko dan menemukan sambungan yang retak akibat \
                    tekanan air yang tinggi. Sambungan tersebut sudah diganti pada hari Senin pukul \
                    08.00 WITA dan aliran air sudah normal kembali sejak siang harinya. Apabila masih \
                    terdapat kebocoran, mohon laporkan kembali melalui kanal NTB Care.";
        let mut fields = all_fields();
        fields.retain(|(k, _)| k != "answer_excerpt");
        fields.push(("answer_excerpt".into(), long.into()));
        let budget = Budget::SmsSegments(SMS_MAX_SEGMENTS);
        let sms = t.render("answer-given", Language::Id, Variant::Sms, &fields, budget).unwrap();
        let size = sms_size(&sms);
        assert!(size.segments <= 3 && size.encoding == SmsEncoding::Gsm7, "{size:?}: {sms}");
        assert!(sms.contains("...\""), "shortened excerpt ends in dots: {sms}");
        assert!(sms.contains("Nilai: balas 1-5 dan SUDAH/BELUM"), "the invitation survives: {sms}");
        // Every word that remains is whole.
        let excerpt = sms.split('"').nth(1).unwrap().trim_end_matches("...");
        assert!(long.starts_with(excerpt) && long[excerpt.len()..].starts_with(' '), "{excerpt}");
        // One segment is impossible for this template: a typed error, not a cut ticket.
        assert!(matches!(
            t.render("answer-given", Language::Id, Variant::Sms, &fields, Budget::SmsSegments(1)),
            Err(RenderError::DoesNotFit { .. })
        ));
    }

    #[test]
    fn a_non_gsm_character_in_an_answer_is_counted_as_ucs2() {
        let t = Templates::seed();
        let mut fields = all_fields();
        fields.retain(|(k, _)| k != "answer_excerpt");
        fields.push(("answer_excerpt".into(), "Sudah diperbaiki – terima kasih 🙏 ".repeat(10)));
        let sms = t
            .render(
                "answer-given",
                Language::Id,
                Variant::Sms,
                &fields,
                Budget::SmsSegments(SMS_MAX_SEGMENTS),
            )
            .unwrap();
        let size = sms_size(&sms);
        assert_eq!(size.encoding, SmsEncoding::Ucs2);
        assert!(size.segments <= 3 && size.units <= 3 * 67, "{size:?}");
    }

    #[test]
    fn whatsapp_templates_fill_parameters_in_order_with_their_language_code() {
        let t = Templates::seed();
        let mut fields = all_fields();
        fields.retain(|(k, _)| k != "answer_excerpt");
        fields.push(("answer_excerpt".into(), "Pipa\nsudah\tdiganti".into()));
        let wa = t.whatsapp("answer-given", Language::En, &fields).unwrap();
        assert_eq!(wa.name, "ntbcare_answer_given");
        assert_eq!(wa.language_code, "en_US");
        assert_eq!(
            wa.parameters,
            [
                "PDAM Giri Menang",
                "NTB-26-7KQ4MX",
                "Pipa sudah diganti",
                "https://care.ntbprov.go.id/t/NTB-26-7KQ4MX?k=s3cret"
            ]
        );
        assert_eq!(t.whatsapp("status-changed", Language::Id, &fields).unwrap().language_code, "id");
        assert_eq!(
            t.whatsapp("daily-digest", Language::Id, &fields),
            Err(RenderError::NoWhatsappTemplate("daily-digest".into()))
        );
    }

    #[test]
    fn loader_refuses_an_unknown_placeholder() {
        let file = file_with(
            "[[template]]\nid = \"x\"\naudience = \"citizen\"\nsubject = { id = \"s\", en = \"s\" }\n\
             text = { id = \"Halo {nama}\", en = \"Hello {nama}\" }\nwhatsapp = { name = \"x\", parameters = [] }\n",
        );
        let err = Templates::from_toml(&file).unwrap_err();
        assert!(
            matches!(&err, TemplatesError::UnknownPlaceholder { placeholder, .. } if placeholder == "nama"),
            "{err}"
        );
    }

    #[test]
    fn officer_templates_may_not_carry_the_citizens_link_or_answer() {
        for placeholder in ["tracking_url", "answer_excerpt", "question"] {
            let file = file_with(&format!(
                "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = {{ id = \"s\", en = \"s\" }}\n\
                 text = {{ id = \"Kasus {{{placeholder}}}\", en = \"Case {{{placeholder}}}\" }}\n"
            ));
            let err = Templates::from_toml(&file).unwrap_err();
            assert!(
                matches!(&err, TemplatesError::NotForOfficers { placeholder: p, .. } if p == placeholder),
                "{err}"
            );
        }
        // A name or phone placeholder is not even a placeholder.
        let file = file_with(
            "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = { id = \"s\", en = \"s\" }\n\
             text = { id = \"Pelapor {reporter_phone}\", en = \"Reporter {reporter_phone}\" }\n",
        );
        assert!(matches!(Templates::from_toml(&file), Err(TemplatesError::UnknownPlaceholder { .. })));
    }

    #[test]
    fn shipped_officer_templates_use_only_the_whitelist() {
        for t in Templates::seed().all().iter().filter(|t| t.audience == Audience::Officer) {
            for p in t.placeholders() {
                assert!(OFFICER_PLACEHOLDERS.contains(&p), "{} uses {p}", t.id);
            }
        }
    }

    #[test]
    fn loader_refuses_a_subject_or_sms_with_a_placeholder_the_text_lacks() {
        let file = file_with(
            "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = { id = \"{agency}\", en = \"s\" }\n\
             text = { id = \"Kasus {ticket}\", en = \"Case {ticket}\" }\n",
        );
        assert!(matches!(Templates::from_toml(&file), Err(TemplatesError::Malformed { .. })));
    }

    #[test]
    fn loader_refuses_translations_that_differ_in_placeholders() {
        let file = file_with(
            "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = { id = \"s\", en = \"s\" }\n\
             text = { id = \"Kasus {ticket} {agency}\", en = \"Case {ticket}\" }\n",
        );
        assert!(matches!(Templates::from_toml(&file), Err(TemplatesError::LanguagesDiffer { .. })));
    }

    #[test]
    fn loader_refuses_lone_braces_and_bad_names() {
        for text in ["Tiket {ticket", "Tiket ticket}", "Tiket {Ticket}", "Tiket {}"] {
            let file = file_with(&format!(
                "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = {{ id = \"s\", en = \"s\" }}\n\
                 text = {{ id = \"{text}\", en = \"{text}\" }}\n"
            ));
            assert!(matches!(Templates::from_toml(&file), Err(TemplatesError::Malformed { .. })), "{text}");
        }
    }

    #[test]
    fn loader_requires_whatsapp_templates_for_citizens_with_known_parameters() {
        let base = "[[template]]\nid = \"x\"\naudience = \"citizen\"\nsubject = { id = \"s\", en = \"s\" }\n\
                    text = { id = \"Tiket {ticket}\", en = \"Ticket {ticket}\" }\n";
        assert!(matches!(Templates::from_toml(&file_with(base)), Err(TemplatesError::NoWhatsappTemplate(_))));
        let wrong = format!("{base}whatsapp = {{ name = \"x\", parameters = [\"status\"] }}\n");
        assert!(matches!(
            Templates::from_toml(&file_with(&wrong)),
            Err(TemplatesError::WhatsappParameter { .. })
        ));
        let bad_name = format!("{base}whatsapp = {{ name = \"Bad Name\", parameters = [] }}\n");
        assert!(matches!(Templates::from_toml(&file_with(&bad_name)), Err(TemplatesError::Malformed { .. })));
    }

    #[test]
    fn loader_refuses_duplicates_missing_templates_and_unknown_keys() {
        let dup = file_with(
            "[[template]]\nid = \"daily-digest\"\naudience = \"officer\"\nsubject = { id = \"s\", en = \"s\" }\n\
             text = { id = \"a\", en = \"b\" }\n",
        );
        assert!(
            matches!(Templates::from_toml(&dup), Err(TemplatesError::Duplicate(id)) if id == "daily-digest")
        );
        assert!(
            matches!(Templates::from_toml(""), Err(TemplatesError::Missing(id)) if id == "complaint-received")
        );
        let typo = file_with(
            "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubjek = { id = \"s\", en = \"s\" }\n\
             text = { id = \"a\", en = \"b\" }\n",
        );
        assert!(matches!(Templates::from_toml(&typo), Err(TemplatesError::Syntax(_))));
        let empty = file_with(
            "[[template]]\nid = \"x\"\naudience = \"officer\"\nsubject = { id = \"s\", en = \"\" }\n\
             text = { id = \"a\", en = \"b\" }\n",
        );
        assert!(matches!(Templates::from_toml(&empty), Err(TemplatesError::Malformed { .. })));
    }
}
