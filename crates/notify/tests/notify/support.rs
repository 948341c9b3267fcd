//! Shared set-up: mailers pointed at a test SMTP server or a temporary directory, and sample emails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hotline_notify::{MailSettings, Mailer, OutgoingEmail, SmtpSettings, SmtpTls, Transport};

pub const FROM: &str = "JMA Cyber Hotline <hotline@example.jp>";
pub const TO: &str = "担当者 <soc@forensic.example.jp>";
pub const TO_ADDRESS: &str = "soc@forensic.example.jp";

/// Settings for a plain-text SMTP server at `addr`, with a short timeout so failures come quickly.
pub fn smtp_settings(addr: SocketAddr) -> MailSettings {
    MailSettings {
        transport: Transport::Smtp,
        from: FROM.to_owned(),
        smtp: SmtpSettings {
            host: addr.ip().to_string(),
            port: addr.port(),
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout_seconds: 5,
        },
        file: Default::default(),
    }
}

/// A mailer for the SMTP server at `addr` (must be called inside the runtime).
pub fn smtp_mailer(addr: SocketAddr) -> Mailer {
    Mailer::new(&smtp_settings(addr)).expect("SMTP mailer")
}

/// A mailer writing `.eml` files into `dir`.
pub fn file_mailer(dir: &Path) -> Mailer {
    let mut settings = smtp_settings("127.0.0.1:25".parse().expect("address"));
    settings.transport = Transport::File;
    settings.file.dir = dir.to_path_buf();
    Mailer::new(&settings).expect("file mailer")
}

/// A Japanese alert with a stable Message-ID.
pub fn japanese_email(message_id: &str) -> OutgoingEmail {
    OutgoingEmail {
        message_id: message_id.to_owned(),
        to: TO.to_owned(),
        subject:
            "【日本医師会サイバーセキュリティ緊急相談窓口】ご依頼：HL-2026-000123 フォレンジック調査のお願い"
                .to_owned(),
        body: "株式会社サンプルフォレンジック 御中\n\n平素より大変お世話になっております。\n\
               電子カルテサーバのファイルが暗号化されました。\n.\n..先頭のドットも崩れずに届くこと。\n"
            .to_owned(),
    }
}

/// The shipped templates, config/templates at the repository root.
pub fn shipped_templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/templates")
}

/// Header helpers on raw messages, from the shared SMTP sink.
pub use hotline_notify::test_support::raw_header;
