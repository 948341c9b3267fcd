//! The member registry file: one CSV row per (member, institution) pair, as the association exports it.
//! Parsing checks every row and every cross-row rule, and reports all problems with their line numbers,
//! so an import is all-or-nothing and an admin can fix the file in one pass.

use std::collections::HashMap;

use crate::FieldError;
use crate::characters::TextKind;
use crate::identifiers::{MemberNumber, RegistrationNumber};
use crate::institution::{InstitutionKind, MedicalInstitutionCode, PostalCode};
use crate::person::{Name, PhoneNumber};
use crate::prefecture::PrefectureCode;
use crate::text::{address_key, clean_text, match_key, required_text};
use crate::verification::MemberClass;

/// Columns of the registry CSV, in the documented order (the order in a file may differ).
pub const COLUMNS: [&str; 14] = [
    "member_number",
    "registration_number",
    "member_name",
    "member_kana",
    "member_class",
    "institution_key",
    "institution_name",
    "institution_kind",
    "prefecture",
    "postal_code",
    "address",
    "phone",
    "institution_code",
    "role",
];

/// Columns that may be left empty.
const OPTIONAL_COLUMNS: [&str; 3] = ["registration_number", "member_kana", "institution_code"];

/// Most row errors reported for one file; past this the file is clearly the wrong one.
pub const MAX_REPORTED_ERRORS: usize = 200;

/// One problem in the file: its line (the header is line 1), the column, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based line number in the file; 0 for problems of the file as a whole.
    pub line: u64,
    /// Column name, or empty for a whole-row problem.
    pub field: String,
    /// What is wrong.
    pub detail: String,
}

/// How a member relates to an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AffiliationRole {
    /// 開設者.
    Founder,
    /// 管理者.
    Manager,
    /// 開設者兼管理者: common in clinics, where the founder also manages.
    FounderAndManager,
}

impl AffiliationRole {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Founder => "founder",
            Self::Manager => "manager",
            Self::FounderAndManager => "founder_and_manager",
        }
    }

    /// Reads `founder`/`manager`/`founder_and_manager` or 開設者/管理者/開設者兼管理者.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match clean_text(input).as_str() {
            "founder" | "開設者" => Ok(Self::Founder),
            "manager" | "管理者" => Ok(Self::Manager),
            "founder_and_manager" | "開設者兼管理者" => Ok(Self::FounderAndManager),
            other => Err(FieldError::new(
                "role",
                format!("role must be founder, manager or founder_and_manager, got {other:?}"),
            )),
        }
    }
}

/// A member as the registry file describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// 会員番号, the member's key.
    pub member_number: MemberNumber,
    /// 医籍登録番号, if known.
    pub registration_number: Option<RegistrationNumber>,
    /// Name.
    pub name: Name,
    /// Kana reading.
    pub kana: Option<String>,
    /// Membership class.
    pub member_class: MemberClass,
}

/// An institution as the registry file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionRecord {
    /// The registry's stable key for the institution (e.g. its medical institution code).
    pub institution_key: String,
    /// Name.
    pub name: Name,
    /// Kind.
    pub kind: InstitutionKind,
    /// Prefecture.
    pub prefecture: PrefectureCode,
    /// Postal code.
    pub postal_code: PostalCode,
    /// Address.
    pub address: String,
    /// Main phone number.
    pub phone: PhoneNumber,
    /// 医療機関コード, if known.
    pub institution_code: Option<MedicalInstitutionCode>,
}

impl MemberRecord {
    /// Whether two rows describe the same member, ignoring width and spacing differences in the text.
    fn same_as(&self, other: &MemberRecord) -> bool {
        self.member_number == other.member_number
            && self.registration_number == other.registration_number
            && self.member_class == other.member_class
            && match_key(self.name.as_str()) == match_key(other.name.as_str())
            && self.kana.as_deref().map(match_key) == other.kana.as_deref().map(match_key)
    }
}

impl InstitutionRecord {
    /// Whether two rows describe the same institution, ignoring width and spacing differences.
    fn same_as(&self, other: &InstitutionRecord) -> bool {
        self.institution_key == other.institution_key
            && self.kind == other.kind
            && self.prefecture == other.prefecture
            && self.postal_code == other.postal_code
            && self.phone == other.phone
            && self.institution_code == other.institution_code
            && match_key(self.name.as_str()) == match_key(other.name.as_str())
            && address_key(&self.address) == address_key(&other.address)
    }
}

/// Who runs what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affiliation {
    /// The member.
    pub member_number: MemberNumber,
    /// The institution.
    pub institution_key: String,
    /// Founder or manager.
    pub role: AffiliationRole,
}

/// A whole registry file, checked: distinct members, institutions and their links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrySnapshot {
    /// Members, each once.
    pub members: Vec<MemberRecord>,
    /// Institutions, each once.
    pub institutions: Vec<InstitutionRecord>,
    /// Member–institution links, each once.
    pub affiliations: Vec<Affiliation>,
}

/// Parses a UTF-8 registry CSV (a leading BOM is allowed). Either every row is valid and consistent
/// with the others, or the errors are returned, at most [`MAX_REPORTED_ERRORS`] of them.
pub fn parse_registry_csv(bytes: &[u8]) -> Result<RegistrySnapshot, Vec<RowError>> {
    parse_registry_reader(bytes)
}

/// [`parse_registry_csv`] from a reader (e.g. a file), so the file's bytes need not be held in memory
/// beside what is parsed from them.
pub fn parse_registry_reader(mut input: impl std::io::Read) -> Result<RegistrySnapshot, Vec<RowError>> {
    let mut start = [0_u8; 3];
    let mut read = 0;
    while read < start.len() {
        match input.read(&mut start[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(vec![RowError {
                    line: 1,
                    field: String::new(),
                    detail: format!("unreadable file: {error}"),
                }]);
            }
        }
    }
    let start = if start[..read] == *b"\xEF\xBB\xBF" { &start[..0] } else { &start[..read] };
    let input = std::io::Read::chain(start, input);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(error) => {
            return Err(vec![RowError { line: 1, field: String::new(), detail: unreadable(&error) }]);
        }
    };
    let positions = column_positions(&header)?;

    let mut errors = Vec::new();
    let mut snapshot = RegistrySnapshot::default();
    let mut member_lines: HashMap<String, (u64, usize)> = HashMap::new();
    // Member and institution indexes instead of copies of their keys keep these maps small.
    let mut registration_lines: HashMap<String, (u64, usize)> = HashMap::new();
    let mut institution_lines: HashMap<String, (u64, usize)> = HashMap::new();
    let mut affiliation_lines: HashMap<(usize, usize), u64> = HashMap::new();

    for record in reader.records() {
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                errors.push(RowError { line, field: String::new(), detail: unreadable(&error) });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cells = Cells { record: &record, positions: &positions };
        // Every cell is single-line text; a control character is reported once, by column.
        let refused: Vec<RowError> = COLUMNS
            .iter()
            .filter_map(|column| TextKind::SingleLine.check(column, cells.get(column)).err())
            .map(|e| RowError { line, field: e.field, detail: e.detail })
            .collect();
        if !refused.is_empty() {
            errors.extend(refused);
            continue;
        }
        let row = match parse_row(&cells) {
            Ok(row) => row,
            Err(field_errors) => {
                errors.extend(field_errors.into_iter().map(|e| RowError {
                    line,
                    field: e.field,
                    detail: e.detail,
                }));
                continue;
            }
        };
        let (member, institution, role) = row;
        let member_key = member.member_number.as_str().to_owned();
        let institution_key = institution.institution_key.clone();

        let member_index = match member_lines.get(&member_key) {
            Some(&(first_line, index)) => {
                if !snapshot.members[index].same_as(&member) {
                    errors.push(RowError {
                        line,
                        field: "member_number".into(),
                        detail: format!("member {member_key} is described differently on line {first_line}"),
                    });
                }
                index
            }
            None => {
                if let Some(registration) = &member.registration_number {
                    if let Some(&(first_line, other)) = registration_lines.get(registration.as_str()) {
                        errors.push(RowError {
                            line,
                            field: "registration_number".into(),
                            detail: format!(
                                "registration number is already used by member {} on line {first_line}",
                                snapshot.members[other].member_number.as_str()
                            ),
                        });
                        continue;
                    }
                    registration_lines
                        .insert(registration.as_str().to_owned(), (line, snapshot.members.len()));
                }
                member_lines.insert(member_key.clone(), (line, snapshot.members.len()));
                snapshot.members.push(member);
                snapshot.members.len() - 1
            }
        };
        let institution_index = match institution_lines.get(&institution_key) {
            Some(&(first_line, index)) => {
                if !snapshot.institutions[index].same_as(&institution) {
                    errors.push(RowError {
                        line,
                        field: "institution_key".into(),
                        detail: format!(
                            "institution {institution_key} is described differently on line {first_line}"
                        ),
                    });
                }
                index
            }
            None => {
                institution_lines.insert(institution_key.clone(), (line, snapshot.institutions.len()));
                snapshot.institutions.push(institution);
                snapshot.institutions.len() - 1
            }
        };
        let pair = (member_index, institution_index);
        if let Some(first_line) = affiliation_lines.get(&pair) {
            errors.push(RowError {
                line,
                field: String::new(),
                detail: format!("member {member_key} and institution {institution_key} are already linked on line {first_line}"),
            });
            continue;
        }
        affiliation_lines.insert(pair, line);
        snapshot.affiliations.push(Affiliation {
            member_number: MemberNumber::parse(&member_key).map_err(|e| vec![file_error(e.detail)])?,
            institution_key,
            role,
        });
    }
    if errors.is_empty() && snapshot.members.is_empty() {
        errors.push(file_error("the file has a header but no rows; nothing to import".to_owned()));
    }
    errors.truncate(MAX_REPORTED_ERRORS);
    if errors.is_empty() { Ok(snapshot) } else { Err(errors) }
}

/// Says what is wrong with a line the CSV reader could not read; registries exported from Japanese
/// office software are often Shift_JIS, so a UTF-8 error says how to fix the file.
fn unreadable(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "unreadable row: the file must be UTF-8 (save it as UTF-8, not Shift_JIS)".to_owned()
        }
        _ => format!("unreadable row: {error}"),
    }
}

fn file_error(detail: String) -> RowError {
    RowError { line: 0, field: String::new(), detail }
}

fn column_positions(header: &csv::StringRecord) -> Result<HashMap<String, usize>, Vec<RowError>> {
    let mut positions = HashMap::new();
    let mut errors = Vec::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.trim();
        if !COLUMNS.contains(&name) {
            errors.push(RowError {
                line: 1,
                field: name.to_owned(),
                detail: format!("unknown column {name:?}; columns are {}", COLUMNS.join(", ")),
            });
        } else if positions.insert(name.to_owned(), index).is_some() {
            errors.push(RowError {
                line: 1,
                field: name.to_owned(),
                detail: format!("column {name:?} appears twice"),
            });
        }
    }
    for column in COLUMNS {
        if !positions.contains_key(column) && !OPTIONAL_COLUMNS.contains(&column) {
            errors.push(RowError {
                line: 1,
                field: column.to_owned(),
                detail: format!("required column {column:?} is missing"),
            });
        }
    }
    errors.truncate(MAX_REPORTED_ERRORS);
    if errors.is_empty() { Ok(positions) } else { Err(errors) }
}

type ParsedRow = (MemberRecord, InstitutionRecord, AffiliationRole);

/// One CSV record read by column name.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    positions: &'a HashMap<String, usize>,
}

impl<'a> Cells<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.positions.get(name).and_then(|&i| self.record.get(i)).unwrap_or("").trim()
    }

    fn optional(&self, name: &str) -> Option<&'a str> {
        Some(self.get(name)).filter(|value| !value.is_empty())
    }
}

fn parse_row(cells: &Cells<'_>) -> Result<ParsedRow, Vec<FieldError>> {
    let mut errors = crate::ValidationErrors::default();
    let cell = |name: &str| cells.get(name);
    let optional = |name: &str| cells.optional(name);
    let member_number = errors.check(MemberNumber::parse(cell("member_number")));
    let registration_number = match optional("registration_number") {
        Some(value) => errors.check(RegistrationNumber::parse(value)).map(Some),
        None => Some(None),
    };
    let member_name = errors.check(Name::parse("member_name", cell("member_name")));
    let member_kana = optional("member_kana").map(|kana| kana.trim().to_owned());
    let member_class = errors.check(MemberClass::parse(cell("member_class")));
    let institution_key = errors.check(required_text("institution_key", cell("institution_key"), 64));
    let institution_name = errors.check(Name::parse("institution_name", cell("institution_name")));
    let kind = errors.check(
        InstitutionKind::parse(cell("institution_kind"))
            .map_err(|e| FieldError::new("institution_kind", e.detail)),
    );
    let prefecture = errors.check(PrefectureCode::parse(cell("prefecture")));
    let postal_code = errors.check(PostalCode::parse(cell("postal_code")));
    let address = errors.check(required_text("address", cell("address"), crate::call::ADDRESS_MAX_CHARS));
    let phone = errors.check(PhoneNumber::parse("phone", cell("phone")));
    let institution_code = match optional("institution_code") {
        Some(value) => errors.check(MedicalInstitutionCode::parse(value)).map(Some),
        None => Some(None),
    };
    let role = errors.check(AffiliationRole::parse(cell("role")));
    match (
        member_number,
        registration_number,
        member_name,
        member_class,
        institution_key,
        institution_name,
        kind,
        prefecture,
        postal_code,
        address,
        phone,
        institution_code,
        role,
    ) {
        (
            Some(member_number),
            Some(registration_number),
            Some(name),
            Some(member_class),
            Some(institution_key),
            Some(institution_name),
            Some(kind),
            Some(prefecture),
            Some(postal_code),
            Some(address),
            Some(phone),
            Some(institution_code),
            Some(role),
        ) if errors.is_empty() => Ok((
            MemberRecord { member_number, registration_number, name, kana: member_kana, member_class },
            InstitutionRecord {
                institution_key,
                name: institution_name,
                kind,
                prefecture,
                postal_code,
                address,
                phone,
                institution_code,
            },
            role,
        )),
        _ => Err(errors.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "member_number,registration_number,member_name,member_kana,member_class,institution_key,institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role";
    const YAMADA_TOKYO: &str = "0123456789,12345,山田 太郎,ヤマダ タロウ,A①,1312345678,本駒込クリニック,clinic,13,113-8621,東京都文京区本駒込2-28-16,03-1234-5678,1312345678,開設者";
    const YAMADA_OSAKA: &str = "0123456789,12345,山田 太郎,ヤマダ タロウ,A①,2712345678,山田医院,hospital,27,530-0001,大阪府大阪市北区梅田1-1-1,06-1234-5678,,manager";
    const SUZUKI: &str = "0000000002,,鈴木 一郎,,B,0111111111,札幌内科,clinic,1,060-0001,北海道札幌市中央区北1条西1,011-123-4567,,founder";

    fn file(rows: &[&str]) -> Vec<u8> {
        let mut text = String::from(HEADER);
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.push('\n');
        text.into_bytes()
    }

    fn parse(rows: &[&str]) -> RegistrySnapshot {
        parse_registry_csv(&file(rows)).unwrap_or_else(|errors| panic!("{errors:#?}"))
    }

    fn errors(bytes: &[u8]) -> Vec<RowError> {
        parse_registry_csv(bytes).expect_err("the file has errors")
    }

    fn row_error(line: u64, field: &str, detail: &str) -> RowError {
        RowError { line, field: field.to_owned(), detail: detail.to_owned() }
    }

    /// Replaces the cell of `column` in a row written in the documented column order.
    fn with_cell(row: &str, column: &str, value: &str) -> String {
        let index = COLUMNS.iter().position(|c| *c == column).expect("a known column");
        let mut cells: Vec<&str> = row.split(',').collect();
        cells[index] = value;
        cells.join(",")
    }

    #[test]
    fn valid_file_without_bom_gives_members_institutions_and_links() {
        let snapshot = parse(&[YAMADA_TOKYO, SUZUKI]);
        assert_eq!(snapshot.members.len(), 2);
        let yamada = &snapshot.members[0];
        assert_eq!(yamada.member_number.as_str(), "0123456789");
        assert_eq!(yamada.registration_number.as_ref().map(RegistrationNumber::as_str), Some("12345"));
        assert_eq!(yamada.name.as_str(), "山田 太郎");
        assert_eq!(yamada.kana.as_deref(), Some("ヤマダ タロウ"));
        assert_eq!(yamada.member_class, MemberClass::A1);
        let suzuki = &snapshot.members[1];
        assert_eq!((suzuki.registration_number.as_ref(), suzuki.kana.as_ref()), (None, None));
        assert_eq!(suzuki.member_class, MemberClass::B);

        let clinic = &snapshot.institutions[0];
        assert_eq!(clinic.institution_key, "1312345678");
        assert_eq!(clinic.name.as_str(), "本駒込クリニック");
        assert_eq!(clinic.kind, InstitutionKind::Clinic);
        assert_eq!(clinic.prefecture.code(), "13");
        assert_eq!(clinic.postal_code.to_string(), "113-8621");
        assert_eq!(clinic.address, "東京都文京区本駒込2-28-16");
        assert_eq!(clinic.phone.as_str(), "0312345678");
        assert_eq!(clinic.institution_code.as_ref().map(MedicalInstitutionCode::as_str), Some("1312345678"));
        assert_eq!(snapshot.institutions[1].prefecture.code(), "01");
        assert_eq!(snapshot.institutions[1].institution_code, None);

        assert_eq!(
            snapshot.affiliations,
            vec![
                Affiliation {
                    member_number: MemberNumber::parse("0123456789").expect("valid"),
                    institution_key: "1312345678".to_owned(),
                    role: AffiliationRole::Founder,
                },
                Affiliation {
                    member_number: MemberNumber::parse("0000000002").expect("valid"),
                    institution_key: "0111111111".to_owned(),
                    role: AffiliationRole::Founder,
                },
            ]
        );
    }

    #[test]
    fn valid_file_with_bom_gives_the_same_snapshot() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend(file(&[YAMADA_TOKYO, SUZUKI]));
        assert_eq!(parse_registry_csv(&with_bom), Ok(parse(&[YAMADA_TOKYO, SUZUKI])));
    }

    #[test]
    fn crlf_line_endings_and_padded_cells_are_read() {
        let padded = YAMADA_TOKYO.replace(",13,", ", 13 ,").replace("開設者", " 開設者 ");
        let text = format!("{HEADER}\r\n{padded}\r\n{SUZUKI}\r\n");
        assert_eq!(parse_registry_csv(text.as_bytes()), Ok(parse(&[YAMADA_TOKYO, SUZUKI])));
    }

    #[test]
    fn header_only_file_is_refused_as_empty() {
        let errors = parse_registry_csv(format!("{HEADER}\n").as_bytes()).expect_err("no rows");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 0);
        assert!(errors[0].detail.contains("no rows"), "{}", errors[0].detail);
    }

    #[test]
    fn same_member_on_two_rows_is_one_member_with_two_affiliations() {
        let snapshot = parse(&[YAMADA_TOKYO, YAMADA_OSAKA]);
        assert_eq!(snapshot.members.len(), 1);
        assert_eq!(snapshot.institutions.len(), 2);
        let links: Vec<(&str, &str, AffiliationRole)> = snapshot
            .affiliations
            .iter()
            .map(|a| (a.member_number.as_str(), a.institution_key.as_str(), a.role))
            .collect();
        assert_eq!(
            links,
            vec![
                ("0123456789", "1312345678", AffiliationRole::Founder),
                ("0123456789", "2712345678", AffiliationRole::Manager),
            ]
        );
    }

    #[test]
    fn one_institution_run_by_two_members_is_one_institution_with_two_links() {
        let manager = with_cell(&with_cell(SUZUKI, "institution_key", "1312345678"), "role", "管理者");
        let manager = manager.replace("札幌内科", "本駒込クリニック").replace(
            ",clinic,1,060-0001,北海道札幌市中央区北1条西1,011-123-4567,,",
            ",clinic,13,113-8621,東京都文京区本駒込2-28-16,03-1234-5678,1312345678,",
        );
        let snapshot = parse(&[YAMADA_TOKYO, &manager]);
        assert_eq!(snapshot.members.len(), 2);
        assert_eq!(snapshot.institutions.len(), 1);
        assert_eq!(snapshot.affiliations.len(), 2);
        assert_eq!(snapshot.affiliations[1].role, AffiliationRole::Manager);
    }

    #[test]
    fn member_described_differently_on_a_later_row_names_the_first_line() {
        let renamed = YAMADA_OSAKA.replace("山田 太郎", "山田 次郎");
        assert_eq!(
            errors(&file(&[YAMADA_TOKYO, SUZUKI, &renamed])),
            vec![row_error(4, "member_number", "member 0123456789 is described differently on line 2")]
        );
        let reclassed = YAMADA_OSAKA.replace("A①", "B");
        assert_eq!(
            errors(&file(&[YAMADA_TOKYO, &reclassed]))[0].detail,
            "member 0123456789 is described differently on line 2"
        );
    }

    #[test]
    fn the_same_member_written_in_other_widths_is_not_a_conflict() {
        let widened = YAMADA_OSAKA
            .replace("山田 太郎", "山田\u{3000}太郎")
            .replace("0123456789,12345", "０１２３４５６７８９,012345");
        assert_eq!(parse(&[YAMADA_TOKYO, &widened]).members.len(), 1);
    }

    #[test]
    fn institution_described_differently_on_a_later_row_names_the_first_line() {
        let other = with_cell(&SUZUKI.replace("札幌内科", "本駒込医院"), "institution_key", "1312345678");
        let errors = errors(&file(&[YAMADA_TOKYO, &other]));
        assert_eq!(
            errors,
            vec![row_error(
                3,
                "institution_key",
                "institution 1312345678 is described differently on line 2"
            )]
        );
    }

    #[test]
    fn registration_number_of_two_members_is_refused() {
        let twin = with_cell(SUZUKI, "registration_number", "012345");
        assert_eq!(
            errors(&file(&[YAMADA_TOKYO, &twin])),
            vec![row_error(
                3,
                "registration_number",
                "registration number is already used by member 0123456789 on line 2"
            )]
        );
    }

    #[test]
    fn the_same_link_twice_is_refused() {
        let errors = errors(&file(&[YAMADA_TOKYO, SUZUKI, YAMADA_TOKYO]));
        assert_eq!(
            errors,
            vec![row_error(
                4,
                "",
                "member 0123456789 and institution 1312345678 are already linked on line 2"
            )]
        );
    }

    #[test]
    fn columns_in_another_order_give_the_same_snapshot() {
        let mut order: Vec<usize> = (0..COLUMNS.len()).collect();
        order.reverse();
        order.swap(0, 5);
        let reorder = |line: &str| {
            let cells: Vec<&str> = line.split(',').collect();
            order.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        };
        let text = [HEADER, YAMADA_TOKYO, YAMADA_OSAKA, SUZUKI].map(reorder).join("\n");
        assert_eq!(parse_registry_csv(text.as_bytes()), Ok(parse(&[YAMADA_TOKYO, YAMADA_OSAKA, SUZUKI])));
    }

    #[test]
    fn optional_columns_may_be_left_out() {
        let keep: Vec<usize> =
            (0..COLUMNS.len()).filter(|&i| !OPTIONAL_COLUMNS.contains(&COLUMNS[i])).collect();
        let project = |line: &str| {
            let cells: Vec<&str> = line.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        };
        let text = [HEADER, YAMADA_TOKYO, SUZUKI].map(project).join("\n");
        let snapshot = parse_registry_csv(text.as_bytes()).unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(snapshot.members[0].registration_number, None);
        assert_eq!(snapshot.members[0].kana, None);
        assert_eq!(snapshot.institutions[0].institution_code, None);
    }

    #[test]
    fn unknown_column_is_refused_on_line_1_listing_the_columns() {
        let text = format!("{HEADER},fax\n{YAMADA_TOKYO},03-0000-0000\n");
        let errors = errors(text.as_bytes());
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].field.as_str()), (1, "fax"));
        assert!(
            errors[0].detail.starts_with("unknown column \"fax\"; columns are member_number, "),
            "{}",
            errors[0].detail
        );
    }

    #[test]
    fn missing_required_columns_are_each_refused() {
        let text = HEADER.replace(",member_name,", ",").replace(",phone,", ",");
        let errors = errors(format!("{text}\n").as_bytes());
        assert_eq!(
            errors,
            vec![
                row_error(1, "member_name", "required column \"member_name\" is missing"),
                row_error(1, "phone", "required column \"phone\" is missing"),
            ]
        );
    }

    #[test]
    fn duplicate_column_is_refused() {
        let text = format!("{HEADER},prefecture\n{YAMADA_TOKYO},13\n");
        assert_eq!(
            errors(text.as_bytes()),
            vec![row_error(1, "prefecture", "column \"prefecture\" appears twice")]
        );
    }

    #[test]
    fn empty_file_reports_every_required_column_missing() {
        let errors = errors(b"");
        assert_eq!(errors.len(), COLUMNS.len() - OPTIONAL_COLUMNS.len());
        assert!(errors.iter().all(|e| e.line == 1 && e.detail.starts_with("required column")));
    }

    #[test]
    fn bad_cell_is_reported_with_its_line_and_column() {
        let bad = with_cell(SUZUKI, "prefecture", "48");
        assert_eq!(
            errors(&file(&[YAMADA_TOKYO, YAMADA_OSAKA, &bad])),
            vec![row_error(4, "prefecture", "prefecture must be 01–47, got 48")]
        );
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let mut bad = SUZUKI.to_owned();
        for (column, value) in [
            ("member_number", "123"),
            ("registration_number", "1234567"),
            ("member_name", ""),
            ("member_class", "Z"),
            ("institution_key", ""),
            ("institution_name", " "),
            ("institution_kind", "pharmacy"),
            ("prefecture", "0"),
            ("postal_code", "060"),
            ("address", ""),
            ("phone", "12"),
            ("institution_code", "99"),
            ("role", "owner"),
        ] {
            bad = with_cell(&bad, column, value);
        }
        let errors = errors(&file(&[&bad]));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "member_number",
                "registration_number",
                "member_name",
                "member_class",
                "institution_key",
                "institution_name",
                "institution_kind",
                "prefecture",
                "postal_code",
                "address",
                "phone",
                "institution_code",
                "role",
            ]
        );
        assert!(errors.iter().all(|e| e.line == 2));
    }

    #[test]
    fn row_with_the_wrong_number_of_cells_is_reported_on_its_line() {
        let errors = errors(&file(&[YAMADA_TOKYO, "0000000002,,鈴木 一郎"]));
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].field.as_str()), (3, ""));
        assert!(errors[0].detail.starts_with("unreadable row"), "{}", errors[0].detail);
    }

    #[test]
    fn shift_jis_row_is_reported_as_not_utf8_on_its_line() {
        // 山田 in Shift_JIS is 0x8E 0x52 0x93 0x63: not UTF-8.
        let mut bytes = file(&[YAMADA_TOKYO]);
        bytes.extend(
            b"0000000002,,\x8E\x52\x93\x63,,B,0111111111,x,clinic,1,060-0001,x,011-123-4567,,founder\n",
        );
        let errors = errors(&bytes);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].detail.contains("must be UTF-8"), "{}", errors[0].detail);
    }

    #[test]
    fn shift_jis_header_is_reported_as_not_utf8() {
        let errors = errors(b"member_number,\x8E\x52\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].detail.contains("must be UTF-8"), "{}", errors[0].detail);
    }

    #[test]
    fn line_numbers_count_newlines_inside_quoted_cells() {
        // A line break inside an address is refused (single-line text), and counted for the next row.
        let quoted = YAMADA_TOKYO.replace("東京都文京区本駒込2-28-16", "\"東京都文京区\n本駒込2-28-16\"");
        let bad = with_cell(SUZUKI, "postal_code", "1");
        let errors = errors(&file(&[&quoted, &bad]));
        let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(found, [(2, "address"), (4, "postal_code")], "{errors:?}");
    }

    #[test]
    fn a_cell_with_a_control_character_is_a_row_error_naming_line_and_column() {
        let cases = [
            ("member_name", "山田\u{0}太郎"),
            ("member_kana", "ヤマダ\u{7f}"),
            ("institution_name", "本駒込\u{85}クリニック"),
            ("institution_code", "13\u{0}12345678"),
            ("member_class", "A1\u{1b}"),
        ];
        for (column, value) in cases {
            let bad = with_cell(SUZUKI, column, value);
            let errors = errors(&file(&[YAMADA_TOKYO, &bad]));
            assert_eq!(errors.len(), 1, "{column}: {errors:?}");
            assert_eq!((errors[0].line, errors[0].field.as_str()), (3, column), "{errors:?}");
            assert!(errors[0].detail.contains("U+00"), "{}", errors[0].detail);
        }
    }

    #[test]
    fn errors_are_capped_at_the_maximum() {
        let bad = with_cell(SUZUKI, "prefecture", "99");
        let rows: Vec<&str> = std::iter::repeat_n(bad.as_str(), MAX_REPORTED_ERRORS + 50).collect();
        let errors = errors(&file(&rows));
        assert_eq!(errors.len(), MAX_REPORTED_ERRORS);
        assert_eq!(errors[0].line, 2);
        assert_eq!(errors[MAX_REPORTED_ERRORS - 1].line, MAX_REPORTED_ERRORS as u64 + 1);
    }

    #[test]
    fn errors_of_many_bad_cells_per_row_are_capped_too() {
        let bad = with_cell(&with_cell(SUZUKI, "prefecture", "99"), "phone", "1");
        let rows: Vec<&str> = std::iter::repeat_n(bad.as_str(), MAX_REPORTED_ERRORS).collect();
        assert_eq!(errors(&file(&rows)).len(), MAX_REPORTED_ERRORS);
    }

    #[test]
    fn header_errors_are_capped_too() {
        let header: Vec<String> = (0..MAX_REPORTED_ERRORS + 10).map(|i| format!("extra{i}")).collect();
        let text = format!("{HEADER},{}\n", header.join(","));
        assert_eq!(errors(text.as_bytes()).len(), MAX_REPORTED_ERRORS);
    }

    #[test]
    fn affiliation_role_reads_english_and_japanese_names() {
        assert_eq!(AffiliationRole::parse("founder"), Ok(AffiliationRole::Founder));
        assert_eq!(AffiliationRole::parse("開設者"), Ok(AffiliationRole::Founder));
        assert_eq!(AffiliationRole::parse(" manager "), Ok(AffiliationRole::Manager));
        assert_eq!(AffiliationRole::parse("管理者"), Ok(AffiliationRole::Manager));
        assert_eq!(AffiliationRole::parse("開設者兼管理者"), Ok(AffiliationRole::FounderAndManager));
        for role in [AffiliationRole::Founder, AffiliationRole::Manager, AffiliationRole::FounderAndManager] {
            assert_eq!(AffiliationRole::parse(role.as_str()), Ok(role));
        }
        let error = AffiliationRole::parse("owner").expect_err("unknown");
        assert_eq!(
            error,
            FieldError::new("role", "role must be founder, manager or founder_and_manager, got \"owner\"")
        );
    }
}
