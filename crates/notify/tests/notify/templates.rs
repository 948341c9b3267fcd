//! The shipped templates, and start-up refusing broken ones.

use std::path::Path;

use hotline_notify::{AlertContext, AlertKind, Lang, TemplateError, Templates};

use crate::support::shipped_templates_dir;

/// Copies the shipped templates into a temporary directory, so a test can break one.
fn copy_of_shipped() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for lang in ["ja", "en"] {
        std::fs::create_dir_all(dir.path().join(lang)).expect("lang dir");
        for entry in std::fs::read_dir(shipped_templates_dir().join(lang)).expect("shipped templates") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("file name");
            std::fs::copy(&path, dir.path().join(lang).join(name)).expect("copy template");
        }
    }
    dir
}

fn rewrite(dir: &Path, file: &str, edit: impl FnOnce(String) -> String) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read template");
    std::fs::write(&path, edit(text)).expect("write template");
}

fn load_error(dir: &Path) -> String {
    Templates::load(dir).expect_err("broken template must fail the load").to_string()
}

#[test]
fn every_shipped_template_renders_with_the_sample_in_both_languages() {
    let templates = Templates::load(&shipped_templates_dir()).expect("shipped templates load");
    let ctx = AlertContext::sample();
    for lang in Lang::ALL {
        for kind in AlertKind::ALL {
            let alert = templates.render(kind, lang, &ctx).expect("renders");
            let what = format!("{}/{}", lang.as_str(), kind.as_str());
            assert!(
                !alert.subject.is_empty() && !alert.subject.contains(['\n', '\r']),
                "{what}: one-line subject"
            );
            assert!(alert.subject.contains(&ctx.ticket_reference), "{what}: subject names the ticket");
            assert!(alert.subject.contains(&ctx.hotline_name), "{what}: subject names the hotline");
            for needed in
                [&ctx.ticket_reference, &ctx.institution_name, &ctx.prefecture_name, &ctx.hotline_phone]
            {
                assert!(alert.body.contains(needed.as_str()), "{what}: body lacks {needed}");
            }
            assert!(alert.body.contains(&ctx.hotline_email), "{what}: body gives the hotline's email");
            assert!(alert.body.contains(&ctx.ask), "{what}: body states the ask");
            assert!(alert.body.ends_with('\n') && !alert.body.ends_with("\n\n"), "{what}: one final newline");
            assert!(!alert.body.contains("{{") && !alert.body.contains("{%") && !alert.body.contains("{#"));
            assert!(!alert.body.contains("Personal data") && !alert.body.contains("個人情報の取扱い"));
            assert!(!alert.body.contains("\n\n\n"), "{what}: no runs of blank lines:\n{}", alert.body);
        }
    }
}

#[test]
fn japanese_is_the_default_and_reads_politely() {
    let templates = Templates::load(&shipped_templates_dir()).expect("load");
    let alert =
        templates.render(AlertKind::ReferralRequested, Lang::default(), &AlertContext::sample()).expect("ja");
    assert!(
        alert.subject.starts_with("【日本医師会サイバーセキュリティ緊急相談窓口】ご依頼：HL-2026-000123"),
        "{}",
        alert.subject
    );
    assert!(alert.body.contains("御中"));
    assert!(alert.body.contains("お世話になっております"));
    assert!(alert.body.contains("フォレンジック調査"), "wire code turned into words");
    assert!(alert.body.contains("2次対応（重大なインシデント）"));
    assert!(alert.body.contains("会員ご本人より取得済み"));
    assert!(alert.body.contains("https://hotline.example.jp/ack/"), "acknowledgement link");
}

#[test]
fn police_handoff_explains_the_memorandum_and_the_desk_hours() {
    let templates = Templates::load(&shipped_templates_dir()).expect("load");
    let ctx = AlertContext {
        police_context: None,
        desk_open_now: None,
        desk_next_open: Some("2026-11-30 08:30 (JST)".to_owned()),
        referral_kind: "police".to_owned(),
        partner_name: "警視庁 サイバー犯罪相談窓口".to_owned(),
        ..AlertContext::sample()
    };
    let ja = templates.render(AlertKind::PoliceHandoff, Lang::Ja, &ctx).expect("ja");
    assert!(ja.body.contains("覚書"), "default memorandum paragraph");
    assert!(ja.body.contains("復旧作業への影響が最小限"));
    assert!(ja.body.contains("初動対応、\n事実関係の調査、原因究明及び再発防止策"));
    assert!(
        ja.body.contains("受付時間外")
            && ja.body.contains("2026-11-30 08:30 (JST)")
            && ja.body.contains("110番")
    );
    assert!(ja.body.starts_with("警視庁 サイバー犯罪相談窓口 ご担当者様"));

    let en = templates.render(AlertKind::PoliceHandoff, Lang::En, &ctx).expect("en");
    assert!(en.body.contains("memorandum") && en.body.contains("as little disruption to its recovery"));
    assert!(en.body.contains("outside your desk's opening hours") && en.body.contains("110"));

    let open =
        AlertContext { desk_next_open: None, desk_open_now: Some("08:30–17:15".to_owned()), ..ctx.clone() };
    let ja_open = templates.render(AlertKind::PoliceHandoff, Lang::Ja, &open).expect("ja open");
    assert!(ja_open.body.contains("受付時間内（08:30–17:15）") && !ja_open.body.contains("受付時間外"));

    let custom =
        AlertContext { police_context: Some("覚書に基づくご相談です。".to_owned()), ..ctx };
    let ja_custom = templates.render(AlertKind::PoliceHandoff, Lang::Ja, &custom).expect("ja custom");
    assert!(
        ja_custom.body.contains("覚書に基づくご相談です。") && !ja_custom.body.contains("復旧作業への影響")
    );
}

#[test]
fn optional_fields_left_out_leave_no_trace() {
    let templates = Templates::load(&shipped_templates_dir()).expect("load");
    let ctx = AlertContext { note: None, ack_url: None, ..AlertContext::sample() };
    for lang in Lang::ALL {
        let alert = templates.render(AlertKind::ReferralRequested, lang, &ctx).expect("renders");
        assert!(!alert.body.contains("補足") && !alert.body.contains("Note from the hotline"));
        assert!(!alert.body.contains("/ack/") && !alert.body.contains("none"), "{}", alert.body);
    }
}

#[test]
fn alerts_carry_no_caller_personal_data() {
    // The context itself has no field for the caller: only these may reach a partner.
    let allowed = [
        "ticket_reference",
        "referral_kind",
        "partner_name",
        "institution_name",
        "prefecture_code",
        "prefecture_name",
        "incident_kind",
        "category",
        "priority",
        "summary",
        "requested_at",
        "consent_given_by",
        "note",
        "ask",
        "hotline_name",
        "hotline_phone",
        "hotline_email",
        "ack_url",
        "police_context",
        "desk_open_now",
        "desk_next_open",
    ];
    let sample = serde_json::to_value(AlertContext::sample()).expect("serialize");
    let mut fields: Vec<&str> = sample.as_object().expect("object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    let mut expected = allowed.to_vec();
    expected.sort_unstable();
    assert_eq!(fields, expected, "AlertContext gained a field: is it personal data a partner needs?");

    // And no template asks for one (strict mode would fail the load, but say it plainly here).
    let forbidden = ["caller", "member_name", "member_number", "registration", "phone_number", "callback"];
    for lang in ["ja", "en"] {
        for entry in std::fs::read_dir(shipped_templates_dir().join(lang)).expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let code: String = jinja_code(&text);
            for word in forbidden {
                assert!(!code.contains(word), "{} uses {word}", path.display());
            }
            let uses_phone = code.contains("phone");
            assert!(!uses_phone || code.matches("phone").count() == code.matches("hotline_phone").count());
            if path.to_string_lossy().ends_with(".body.txt") {
                assert!(text.starts_with("{#-"), "{}: starts with the personal-data comment", path.display());
            }
        }
    }
}

/// The text inside `{{ }}` and `{% %}` of a template, where variables are named.
fn jinja_code(template: &str) -> String {
    let mut code = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start..];
        let close = if after.starts_with("{{") {
            "}}"
        } else if after.starts_with("{%") {
            "%}"
        } else {
            rest = &after[1..];
            continue;
        };
        let Some(end) = after.find(close) else { break };
        code.push_str(&after[..end]);
        code.push('\n');
        rest = &after[end + close.len()..];
    }
    code
}

#[test]
fn subject_line_breaks_from_the_data_become_spaces() {
    let templates = Templates::load(&shipped_templates_dir()).expect("load");
    let ctx = AlertContext {
        prefecture_name: "東京都\r\n（改行入り）".to_owned(), ..AlertContext::sample()
    };
    let alert = templates.render(AlertKind::ReferralRequested, Lang::Ja, &ctx).expect("renders");
    assert!(alert.subject.contains("東京都 （改行入り）"), "{}", alert.subject);
}

#[test]
fn a_syntax_error_fails_the_load_naming_the_file() {
    let dir = copy_of_shipped();
    rewrite(dir.path(), "en/police_handoff.body.txt", |text| text.replace("{{ ask }}", "{{ ask "));
    let error = load_error(dir.path());
    assert!(error.contains("police_handoff.body.txt"), "{error}");
}

#[test]
fn an_unknown_variable_fails_the_load_naming_the_file() {
    let dir = copy_of_shipped();
    rewrite(dir.path(), "ja/referral_cancelled.body.txt", |text| {
        text.replace("{{ ask }}", "{{ caller_name }}")
    });
    let error = load_error(dir.path());
    assert!(error.contains("referral_cancelled.body.txt"), "{error}");
}

#[test]
fn an_unknown_variable_in_an_optional_branch_fails_the_load_too() {
    let dir = copy_of_shipped();
    // Only rendered when ack_url is unset: the load also renders the sample without optional fields.
    rewrite(dir.path(), "en/referral_requested.body.txt", |text| {
        text.replace("{% if ack_url %}", "{% if not ack_url %}{{ ack_link }}{% endif %}{% if ack_url %}")
    });
    let error = load_error(dir.path());
    assert!(error.contains("referral_requested.body.txt"), "{error}");
}

#[test]
fn a_missing_template_fails_the_load_naming_the_file() {
    let dir = copy_of_shipped();
    std::fs::remove_file(dir.path().join("ja/police_handoff.subject.txt")).expect("remove");
    let error = Templates::load(dir.path()).expect_err("missing file");
    assert!(matches!(error, TemplateError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("police_handoff.subject.txt"), "{error}");
}

#[test]
fn a_multiline_subject_template_fails_the_load() {
    let dir = copy_of_shipped();
    rewrite(dir.path(), "en/referral_cancelled.subject.txt", |text| {
        format!("{}\nsecond line\n", text.trim_end())
    });
    let error = Templates::load(dir.path()).expect_err("two lines");
    assert!(matches!(error, TemplateError::MultilineSubject { lines: 2, .. }), "{error:?}");
    assert!(error.to_string().contains("referral_cancelled.subject.txt"), "{error}");
}
