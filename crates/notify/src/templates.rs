//! Alert texts: minijinja templates read from `config/templates/{ja,en}/` at start-up, so the wording can
//! be changed by editing files, while a broken template stops the service at start-up instead of at the
//! first send.
//!
//! Each alert kind has `{kind}.subject.txt` (one line) and `{kind}.body.txt` per language, and each
//! language has `labels.txt`, macros that turn the wire codes in [`AlertContext`] (`forensic`,
//! `serious_incident`, `member`…) into words. Undefined variables are errors (strict mode), and every
//! template is rendered at load with [`AlertContext::sample`] and with the same sample stripped of its
//! optional fields, so both branches of each `{% if %}` on an optional field are checked too.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// Which alert a partner receives, so the caller picks the wording and the templates stay data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A forensic vendor or law firm is asked to take a case.
    ReferralRequested,
    /// The prefectural police cyber desk is asked to take a consultation.
    PoliceHandoff,
    /// A referral or handoff sent earlier is withdrawn.
    ReferralCancelled,
}

impl AlertKind {
    /// Every kind, so start-up can load and check all templates.
    pub const ALL: [AlertKind; 3] =
        [AlertKind::ReferralRequested, AlertKind::PoliceHandoff, AlertKind::ReferralCancelled];

    /// The wire and file name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ReferralRequested => "referral_requested",
            AlertKind::PoliceHandoff => "police_handoff",
            AlertKind::ReferralCancelled => "referral_cancelled",
        }
    }

    /// Reads a stored or configured kind back.
    pub fn parse(text: &str) -> Result<AlertKind, UnknownName> {
        AlertKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| UnknownName {
            what: "alert kind",
            value: text.to_owned(),
            expected: "referral_requested, police_handoff, referral_cancelled",
        })
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::parse(s)
    }
}

/// The language of an alert, per partner: Japanese unless a partner asked for English.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 日本語 (default).
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Every language, so start-up can load and check all templates.
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// The wire and directory name of the language.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// Reads a stored or configured language back (`ja`, `en`, case-insensitive).
    pub fn parse(text: &str) -> Result<Lang, UnknownName> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownName { what: "language", value: text.to_owned(), expected: "ja, en" })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s)
    }
}

/// A kind or language name that is not one of ours, with the accepted ones, so the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}, expected one of: {expected}")]
pub struct UnknownName {
    /// "alert kind" or "language".
    pub what: &'static str,
    /// What was given.
    pub value: String,
    /// What is accepted.
    pub expected: &'static str,
}

// Deliberately no caller data (no caller name, phone, medical registration or member number): a partner
// needs the institution, its prefecture, the incident and the hotline's own contact, nothing more. Code
// fields carry the stable wire names (`forensic`, `ransomware`, `serious_incident`, `P1`, `member`); the
// templates' `labels.txt` turns them into words of the alert's language.
/// What a template may show: only what a partner needs, never the caller's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertContext {
    /// Human ticket reference, e.g. `HL-2026-000123`, quoted in every reply.
    pub ticket_reference: String,
    /// `forensic`, `legal` or `police`.
    pub referral_kind: String,
    /// The partner's name as in the directory (a firm, or a prefectural police desk).
    pub partner_name: String,
    /// The medical institution concerned.
    pub institution_name: String,
    /// JIS X 0401 code, `01`–`47`.
    pub prefecture_code: String,
    /// Prefecture name, e.g. `東京都`.
    pub prefecture_name: String,
    /// `ransomware`, `malware`, `unauthorized_access`, `data_leak`, … `other` or `none`.
    pub incident_kind: String,
    /// `everyday_trouble`, `serious_incident`, `preventive_consultation` or `out_of_scope`.
    pub category: String,
    /// `P1` (care affected now) to `P4`.
    pub priority: String,
    /// The operator's summary of the incident, written to be shared with the partner.
    pub summary: String,
    /// When the referral was requested, formatted in JST, e.g. `2026-11-29 19:05 (JST)`.
    pub requested_at: String,
    /// Who consented to the sharing: `member` or `delegate`.
    pub consent_given_by: String,
    /// The operator's note for the partner (also the reason of a cancellation).
    pub note: Option<String>,
    /// What is asked of the partner, one sentence in the alert's language, chosen by the caller.
    pub ask: String,
    /// The hotline's name as it signs its emails.
    pub hotline_name: String,
    /// The hotline's phone number, for the partner to call back.
    pub hotline_phone: String,
    /// The hotline's email address, for the partner to reply to.
    pub hotline_email: String,
    /// The link where the partner accepts or declines (opening it changes nothing).
    pub ack_url: Option<String>,
    /// For the police: replaces the templates' default paragraph on the 2023 JMA–NPA memorandum.
    pub police_context: Option<String>,
    /// For the police, set while the desk is open: today's hours, e.g. `08:30–17:15`.
    pub desk_open_now: Option<String>,
    /// For the police, set while the desk is closed: when it opens next, e.g. `2026-11-30 08:30 (JST)`.
    pub desk_next_open: Option<String>,
}

impl AlertContext {
    /// A realistic context with every optional field set, for the start-up check and for previews.
    pub fn sample() -> AlertContext {
        AlertContext {
            ticket_reference: "HL-2026-000123".to_owned(),
            referral_kind: "forensic".to_owned(),
            partner_name: "株式会社サンプルフォレンジック".to_owned(),
            institution_name: "医療法人社団サンプル会 さんぷる内科クリニック".to_owned(),
            prefecture_code: "13".to_owned(),
            prefecture_name: "東京都".to_owned(),
            incident_kind: "ransomware".to_owned(),
            category: "serious_incident".to_owned(),
            priority: "P1".to_owned(),
            summary: "電子カルテサーバのファイルが暗号化され、身代金を要求する画面が表示されている。\
                      外来診療を停止中。ネットワークは院内で遮断済み。"
                .to_owned(),
            requested_at: "2026-11-29 19:05 (JST)".to_owned(),
            consent_given_by: "member".to_owned(),
            note: Some("バックアップの取得状況は未確認です。".to_owned()),
            ask: "初動調査（証拠保全と被害範囲の特定）のご対応をお願いできますでしょうか。".to_owned(),
            hotline_name: "日本医師会サイバーセキュリティ緊急相談窓口".to_owned(),
            hotline_phone: "0120-000-000".to_owned(),
            hotline_email: "hotline@example.jp".to_owned(),
            ack_url: Some("https://hotline.example.jp/ack/0190f3c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f".to_owned()),
            police_context: Some(
                "本件は、日本医師会と警察庁サイバー警察局の連携に関する覚書（2023年4月25日）に基づくご相談です。"
                    .to_owned(),
            ),
            desk_open_now: Some("08:30–17:15".to_owned()),
            desk_next_open: Some("2026-11-30 08:30 (JST)".to_owned()),
        }
    }

    /// The sample with every optional field unset, so the start-up check also covers the other branches.
    fn sample_without_options() -> AlertContext {
        AlertContext {
            note: None,
            ack_url: None,
            police_context: None,
            desk_open_now: None,
            desk_next_open: None,
            ..AlertContext::sample()
        }
    }
}

/// A rendered alert, ready to go into the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedAlert {
    /// One line, no line breaks.
    pub subject: String,
    /// Plain text ending with a newline.
    pub body: String,
}

impl fmt::Debug for RenderedAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text holds the institution and the incident: keep it out of `{:?}` and so out of logs.
        f.debug_struct("RenderedAlert").finish_non_exhaustive()
    }
}

/// Why a template could not be loaded or rendered; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file is missing or unreadable.
    #[error("template {}: cannot read: {source}", file.display())]
    Read {
        /// The template file.
        file: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// Syntax error, or an error while rendering (an unknown variable, a bad filter).
    #[error("template {}: {detail}", file.display())]
    Invalid {
        /// The template file.
        file: PathBuf,
        /// minijinja's message, with the line.
        detail: String,
    },
    /// A subject template that renders more than one line.
    #[error("template {}: a subject must be one line, but it renders {lines} lines", file.display())]
    MultilineSubject {
        /// The template file.
        file: PathBuf,
        /// How many lines it rendered.
        lines: usize,
    },
    /// A template that renders only white space.
    #[error("template {}: renders empty text", file.display())]
    Empty {
        /// The template file.
        file: PathBuf,
    },
}

/// The loaded and checked templates for every kind and language.
pub struct Templates {
    env: Environment<'static>,
    dir: PathBuf,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The shipped templates, compiled in (see [`Templates::embedded`]).
const EMBEDDED: &[(&str, &str)] = &[
    ("ja/labels.txt", include_str!("../../../config/templates/ja/labels.txt")),
    (
        "ja/referral_requested.subject.txt",
        include_str!("../../../config/templates/ja/referral_requested.subject.txt"),
    ),
    (
        "ja/referral_requested.body.txt",
        include_str!("../../../config/templates/ja/referral_requested.body.txt"),
    ),
    (
        "ja/police_handoff.subject.txt",
        include_str!("../../../config/templates/ja/police_handoff.subject.txt"),
    ),
    ("ja/police_handoff.body.txt", include_str!("../../../config/templates/ja/police_handoff.body.txt")),
    (
        "ja/referral_cancelled.subject.txt",
        include_str!("../../../config/templates/ja/referral_cancelled.subject.txt"),
    ),
    (
        "ja/referral_cancelled.body.txt",
        include_str!("../../../config/templates/ja/referral_cancelled.body.txt"),
    ),
    ("en/labels.txt", include_str!("../../../config/templates/en/labels.txt")),
    (
        "en/referral_requested.subject.txt",
        include_str!("../../../config/templates/en/referral_requested.subject.txt"),
    ),
    (
        "en/referral_requested.body.txt",
        include_str!("../../../config/templates/en/referral_requested.body.txt"),
    ),
    (
        "en/police_handoff.subject.txt",
        include_str!("../../../config/templates/en/police_handoff.subject.txt"),
    ),
    ("en/police_handoff.body.txt", include_str!("../../../config/templates/en/police_handoff.body.txt")),
    (
        "en/referral_cancelled.subject.txt",
        include_str!("../../../config/templates/en/referral_cancelled.subject.txt"),
    ),
    (
        "en/referral_cancelled.body.txt",
        include_str!("../../../config/templates/en/referral_cancelled.body.txt"),
    ),
];

/// The per-language file of label macros every body and subject may import.
const LABELS: &str = "labels.txt";

#[derive(Clone, Copy)]
enum Part {
    Subject,
    Body,
}

impl Part {
    fn suffix(self) -> &'static str {
        match self {
            Part::Subject => "subject.txt",
            Part::Body => "body.txt",
        }
    }
}

/// Template name inside the environment, e.g. `ja/police_handoff.body.txt` (also its path under the dir).
fn name(kind: AlertKind, lang: Lang, part: Part) -> String {
    format!("{}/{}.{}", lang.as_str(), kind.as_str(), part.suffix())
}

impl Templates {
    /// Loads and test-renders every template, so a broken one fails start-up (naming the file), not a send.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        Self::build(dir, |template| {
            let file = dir.join(template);
            std::fs::read_to_string(&file).map_err(|source| TemplateError::Read { file, source })
        })
    }

    /// The templates shipped in config/templates, compiled into the binary: what a server uses when its
    /// configured directory does not exist, so the hotline runs from any working directory.
    pub fn embedded() -> Result<Templates, TemplateError> {
        Self::build(Path::new("(embedded)/config/templates"), |template| {
            EMBEDDED
                .iter()
                .find(|(name, _)| *name == template)
                .map(|(_, source)| (*source).to_owned())
                .ok_or_else(|| TemplateError::Read {
                    file: Path::new("(embedded)").join(template),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not compiled in"),
                })
        })
    }

    fn build(
        dir: &Path,
        read: impl Fn(&str) -> Result<String, TemplateError>,
    ) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // `{% if %}` lines leave no blank line behind: the files read like the emails they produce.
        let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
        env.set_syntax(
            syntax.map_err(|e| TemplateError::Invalid { file: dir.to_path_buf(), detail: describe(&e) })?,
        );
        let mut names = Vec::new();
        for lang in Lang::ALL {
            names.push(format!("{}/{LABELS}", lang.as_str()));
            for kind in AlertKind::ALL {
                names.push(name(kind, lang, Part::Subject));
                names.push(name(kind, lang, Part::Body));
            }
        }
        for template in names {
            let source = read(&template)?;
            let file = dir.join(&template);
            env.add_template_owned(template, source)
                .map_err(|e| TemplateError::Invalid { file, detail: describe(&e) })?;
        }
        let templates = Templates { env, dir: dir.to_path_buf() };
        for sample in [AlertContext::sample(), AlertContext::sample_without_options()] {
            for lang in Lang::ALL {
                for kind in AlertKind::ALL {
                    templates.render_inner(kind, lang, &sample, true)?;
                }
            }
        }
        Ok(templates)
    }

    /// Renders one alert for the outbox; line breaks the data puts in the subject become spaces.
    pub fn render(
        &self,
        kind: AlertKind,
        lang: Lang,
        ctx: &AlertContext,
    ) -> Result<RenderedAlert, TemplateError> {
        self.render_inner(kind, lang, ctx, false)
    }

    /// The directory the templates came from, for log lines and error messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn render_inner(
        &self,
        kind: AlertKind,
        lang: Lang,
        ctx: &AlertContext,
        refuse_multiline_subject: bool,
    ) -> Result<RenderedAlert, TemplateError> {
        let value = Value::from(Serde(ctx));
        let subject_name = name(kind, lang, Part::Subject);
        let raw_subject = self.render_one(&subject_name, value.clone())?;
        let lines = raw_subject.trim().lines().count();
        if refuse_multiline_subject && lines > 1 {
            return Err(TemplateError::MultilineSubject { file: self.dir.join(&subject_name), lines });
        }
        let subject = raw_subject.split(|c: char| c.is_control()).map(str::trim).filter(|s| !s.is_empty());
        let subject = subject.collect::<Vec<_>>().join(" ");
        if subject.is_empty() {
            return Err(TemplateError::Empty { file: self.dir.join(subject_name) });
        }
        let body_name = name(kind, lang, Part::Body);
        let mut body = self.render_one(&body_name, value)?;
        if body.trim().is_empty() {
            return Err(TemplateError::Empty { file: self.dir.join(body_name) });
        }
        let trimmed = body.trim_end().len();
        body.truncate(trimmed);
        body.push('\n');
        Ok(RenderedAlert { subject, body })
    }

    fn render_one(&self, template: &str, value: Value) -> Result<String, TemplateError> {
        let invalid = |e: minijinja::Error| TemplateError::Invalid {
            file: self.dir.join(template),
            detail: describe(&e),
        };
        self.env.get_template(template).map_err(invalid)?.render(value).map_err(invalid)
    }
}

/// minijinja's message with its causes, e.g. "undefined value (in ja/x.body.txt:3)".
fn describe(error: &minijinja::Error) -> String {
    crate::redact::with_causes(error)
}

#[cfg(test)]
mod tests {
    use super::{AlertKind, Lang};

    #[test]
    fn kinds_and_languages_round_trip_through_their_names() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Ok(kind));
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.as_str()), Ok(lang));
        }
        assert_eq!(Lang::parse("EN"), Ok(Lang::En));
        assert_eq!(Lang::default(), Lang::Ja);
        let error = AlertKind::parse("referral").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("referral_requested"), "{error}");
    }
}
