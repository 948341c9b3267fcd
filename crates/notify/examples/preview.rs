//! Prints every alert rendered with the sample context, to proofread template edits:
//! `cargo run -p hotline-notify --example preview [-- DIR]` (DIR defaults to config/templates).

use std::path::PathBuf;
use std::process::ExitCode;

use hotline_notify::{AlertContext, AlertKind, Lang, Templates};

fn main() -> ExitCode {
    let dir = std::env::args().nth(1).map_or_else(|| PathBuf::from("config/templates"), PathBuf::from);
    let templates = match Templates::load(&dir) {
        Ok(templates) => templates,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    for lang in Lang::ALL {
        for kind in AlertKind::ALL {
            match templates.render(kind, lang, &context(kind, lang)) {
                Ok(alert) => {
                    println!("===== {lang}/{kind} =====\nSubject: {}\n\n{}", alert.subject, alert.body);
                }
                Err(error) => {
                    eprintln!("{error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// The sample, with the partner and the ask that fit the alert, so the preview reads like a real email.
fn context(kind: AlertKind, lang: Lang) -> AlertContext {
    let sample = AlertContext::sample();
    let police = AlertContext {
        referral_kind: "police".to_owned(),
        partner_name: "警視庁 サイバー犯罪相談窓口".to_owned(),
        police_context: None,
        desk_open_now: None,
        ..sample.clone()
    };
    let ask = |ja: &str, en: &str| if lang == Lang::Ja { ja.to_owned() } else { en.to_owned() };
    match kind {
        AlertKind::ReferralRequested => AlertContext {
            ask: ask(
                "初動調査（証拠保全と被害範囲の特定）のご対応をお願いできますでしょうか。",
                "Could you carry out an initial investigation (evidence preservation and scoping)?",
            ),
            ..sample
        },
        AlertKind::PoliceHandoff => AlertContext {
            ask: ask(
                "被害の届出に関するご相談と、初動対応についての技術的な助言をお願いできますでしょうか。",
                "Could you advise the institution on reporting the damage and on its initial response?",
            ),
            ..police
        },
        AlertKind::ReferralCancelled => AlertContext {
            ask: ask(
                "医療機関が自ら委託先を手配されたため、ご依頼を取り消させていただきます。",
                "The institution has arranged a contractor of its own, so we withdraw the request.",
            ),
            note: None,
            ..sample
        },
    }
}
