//! A generated member registry of realistic size and shape for the benchmark (`hotline-load roster`):
//! 82,700 A① members by default (the association's 2022 count), each running one institution (one in
//! twenty runs two), with common Japanese surnames weighted as in real life (many 佐藤 and 鈴木, few
//! 東海林), kana readings, institution names built from surnames and places, addresses with block
//! markers, and distinct member numbers, registration numbers, medical institution codes and phones.
//! The same seed gives the same file, so runs are comparable. No real person or institution is named
//! on purpose; any match is chance.

use std::io::Write;

/// (surname, kana), most common first; the weights fall off with the rank.
const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("斉藤", "サイトウ"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
    ("原田", "ハラダ"),
    ("中川", "ナカガワ"),
    ("松田", "マツダ"),
    ("竹内", "タケウチ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
    ("中山", "ナカヤマ"),
    ("和田", "ワダ"),
    ("石田", "イシダ"),
    ("森田", "モリタ"),
    ("上田", "ウエダ"),
    ("原", "ハラ"),
    ("内田", "ウチダ"),
    ("柴田", "シバタ"),
    ("酒井", "サカイ"),
    ("宮崎", "ミヤザキ"),
    ("横山", "ヨコヤマ"),
    ("高木", "タカギ"),
    ("安藤", "アンドウ"),
    ("宮本", "ミヤモト"),
    ("大野", "オオノ"),
    ("小島", "コジマ"),
    ("谷口", "タニグチ"),
    ("今井", "イマイ"),
    ("工藤", "クドウ"),
    ("高田", "タカダ"),
    ("増田", "マスダ"),
    ("丸山", "マルヤマ"),
    ("杉山", "スギヤマ"),
    ("村田", "ムラタ"),
    ("大塚", "オオツカ"),
    ("新井", "アライ"),
    ("小山", "コヤマ"),
    ("平野", "ヒラノ"),
    ("藤本", "フジモト"),
    ("河野", "コウノ"),
    ("上野", "ウエノ"),
    ("野口", "ノグチ"),
    ("武田", "タケダ"),
    ("松井", "マツイ"),
    ("千葉", "チバ"),
    ("岩崎", "イワサキ"),
    ("菅原", "スガワラ"),
    ("木下", "キノシタ"),
    ("久保", "クボ"),
    ("佐野", "サノ"),
    ("野村", "ノムラ"),
    ("松尾", "マツオ"),
    ("市川", "イチカワ"),
    ("菊地", "キクチ"),
    ("杉本", "スギモト"),
    ("古川", "フルカワ"),
    ("大島", "オオシマ"),
    ("水野", "ミズノ"),
    ("桜井", "サクライ"),
    ("高野", "タカノ"),
    ("渡部", "ワタナベ"),
    ("吉川", "ヨシカワ"),
    ("山内", "ヤマウチ"),
    ("西田", "ニシダ"),
    ("飯田", "イイダ"),
    ("菊池", "キクチ"),
    ("西川", "ニシカワ"),
    ("小松", "コマツ"),
    ("北村", "キタムラ"),
    ("安田", "ヤスダ"),
    ("五十嵐", "イガラシ"),
    ("川口", "カワグチ"),
    ("平田", "ヒラタ"),
    ("関", "セキ"),
    ("中田", "ナカタ"),
    ("久保田", "クボタ"),
    ("服部", "ハットリ"),
    ("東", "ヒガシ"),
    ("岩田", "イワタ"),
    ("土屋", "ツチヤ"),
    ("川崎", "カワサキ"),
    ("福島", "フクシマ"),
    ("本田", "ホンダ"),
    ("辻", "ツジ"),
    ("樋口", "ヒグチ"),
    ("秋山", "アキヤマ"),
    ("田口", "タグチ"),
    ("永井", "ナガイ"),
    ("山中", "ヤマナカ"),
    ("中西", "ナカニシ"),
    ("吉村", "ヨシムラ"),
    ("川上", "カワカミ"),
    ("石原", "イシハラ"),
    ("大橋", "オオハシ"),
    ("東海林", "ショウジ"),
    ("勅使河原", "テシガハラ"),
    ("小鳥遊", "タカナシ"),
    ("一条", "イチジョウ"),
];

/// (given name, kana).
const GIVEN_NAMES: &[(&str, &str)] = &[
    ("健一", "ケンイチ"),
    ("誠", "マコト"),
    ("大輔", "ダイスケ"),
    ("直子", "ナオコ"),
    ("由美", "ユミ"),
    ("浩二", "コウジ"),
    ("美和子", "ミワコ"),
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("明", "アキラ"),
    ("博", "ヒロシ"),
    ("隆", "タカシ"),
    ("修", "オサム"),
    ("茂", "シゲル"),
    ("裕子", "ユウコ"),
    ("恵子", "ケイコ"),
    ("久美子", "クミコ"),
    ("真理子", "マリコ"),
    ("智子", "トモコ"),
    ("洋子", "ヨウコ"),
    ("幸子", "サチコ"),
    ("和也", "カズヤ"),
    ("達也", "タツヤ"),
    ("拓也", "タクヤ"),
    ("翔太", "ショウタ"),
    ("健太", "ケンタ"),
    ("優子", "ユウコ"),
    ("彩", "アヤ"),
    ("舞", "マイ"),
    ("正人", "マサト"),
    ("雅之", "マサユキ"),
    ("秀樹", "ヒデキ"),
    ("信也", "シンヤ"),
    ("淳", "ジュン"),
    ("亮", "リョウ"),
    ("聡", "サトシ"),
    ("剛", "ツヨシ"),
    ("学", "マナブ"),
    ("進", "ススム"),
    ("香織", "カオリ"),
    ("直美", "ナオミ"),
    ("陽子", "ヨウコ"),
    ("京子", "キョウコ"),
    ("千尋", "チヒロ"),
    ("涼子", "リョウコ"),
    ("理恵", "リエ"),
    ("麻衣", "マイ"),
    ("綾香", "アヤカ"),
    ("沙織", "サオリ"),
];

/// (prefecture code, prefecture, area code of the main city, cities), with a weight like its share of
/// clinics.
const PREFECTURES: &[(u8, &str, &str, &[&str], u32)] = &[
    (1, "北海道", "011", &["札幌市中央区", "札幌市北区", "旭川市", "函館市"], 45),
    (4, "宮城県", "022", &["仙台市青葉区", "仙台市宮城野区", "石巻市"], 18),
    (11, "埼玉県", "048", &["さいたま市浦和区", "川口市", "川越市", "所沢市"], 45),
    (12, "千葉県", "043", &["千葉市中央区", "船橋市", "柏市", "松戸市"], 40),
    (13, "東京都", "03", &["千代田区", "文京区", "新宿区", "世田谷区", "練馬区", "大田区", "足立区"], 130),
    (14, "神奈川県", "045", &["横浜市中区", "横浜市港北区", "川崎市中原区", "相模原市中央区"], 70),
    (15, "新潟県", "025", &["新潟市中央区", "長岡市", "上越市"], 16),
    (20, "長野県", "026", &["長野市", "松本市", "上田市"], 16),
    (22, "静岡県", "054", &["静岡市葵区", "浜松市中央区", "沼津市"], 27),
    (23, "愛知県", "052", &["名古屋市中区", "名古屋市千種区", "豊田市", "岡崎市"], 55),
    (26, "京都府", "075", &["京都市中京区", "京都市左京区", "宇治市"], 25),
    (27, "大阪府", "06", &["大阪市北区", "大阪市天王寺区", "堺市堺区", "豊中市", "東大阪市"], 80),
    (28, "兵庫県", "078", &["神戸市中央区", "姫路市", "西宮市", "尼崎市"], 50),
    (33, "岡山県", "086", &["岡山市北区", "倉敷市", "津山市"], 16),
    (34, "広島県", "082", &["広島市中区", "福山市", "呉市"], 25),
    (38, "愛媛県", "089", &["松山市", "今治市", "新居浜市"], 12),
    (40, "福岡県", "092", &["福岡市中央区", "福岡市博多区", "北九州市小倉北区", "久留米市"], 45),
    (43, "熊本県", "096", &["熊本市中央区", "八代市", "天草市"], 15),
    (46, "鹿児島県", "099", &["鹿児島市", "霧島市", "鹿屋市"], 14),
    (47, "沖縄県", "098", &["那覇市", "沖縄市", "浦添市"], 10),
];

/// Town names used in addresses and in institution names.
const TOWNS: &[&str] = &[
    "本町",
    "中央",
    "栄町",
    "緑町",
    "旭町",
    "東町",
    "西町",
    "南町",
    "北町",
    "新町",
    "元町",
    "大手町",
    "駅前",
    "桜町",
    "松原",
    "若葉",
    "青葉",
    "城南",
    "港町",
    "日の出町",
    "朝日町",
    "泉町",
    "春日",
    "住吉",
];

/// Clinic names: `{surname}{suffix}` or `{town}{suffix}`.
const CLINIC_SUFFIXES: &[&str] = &[
    "内科クリニック",
    "医院",
    "クリニック",
    "内科医院",
    "小児科",
    "こどもクリニック",
    "整形外科",
    "眼科",
    "皮膚科クリニック",
    "耳鼻咽喉科",
    "歯科医院",
    "診療所",
    "レディースクリニック",
    "ファミリークリニック",
    "消化器内科",
    "循環器内科",
    "心療内科",
    "脳神経外科",
];

/// A small, fully deterministic generator (SplitMix64): the same seed gives the same roster everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index in `0..n` with weight `1 / (rank + 3)`: the first entries are the common ones.
    fn zipf(&mut self, n: usize) -> usize {
        let total: f64 = (0..n).map(|rank| 1.0 / (rank as f64 + 3.0)).sum();
        let mut target = (self.next() as f64 / u64::MAX as f64) * total;
        for rank in 0..n {
            target -= 1.0 / (rank as f64 + 3.0);
            if target <= 0.0 {
                return rank;
            }
        }
        n - 1
    }

    fn weighted<T>(&mut self, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
        let total: u32 = items.iter().map(&weight).sum();
        let mut target = (self.next() % u64::from(total)) as u32;
        for (index, item) in items.iter().enumerate() {
            let w = weight(item);
            if target < w {
                return index;
            }
            target -= w;
        }
        items.len() - 1
    }
}

/// The registry CSV's header (docs/registry.md).
pub const HEADER: &str = "member_number,registration_number,member_name,member_kana,member_class,institution_key,\
institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role";

/// Writes a roster of `members` members as a registry CSV; returns the number of rows written.
pub fn write_roster(out: &mut impl Write, members: usize, seed: u64) -> std::io::Result<usize> {
    let mut rng = SplitMix64(seed);
    writeln!(out, "{HEADER}")?;
    let mut rows = 0;
    let mut institution = 0usize;
    for member in 0..members {
        let (surname, surname_kana) = SURNAMES[rng.zipf(SURNAMES.len())];
        let (given, given_kana) = GIVEN_NAMES[rng.below(GIVEN_NAMES.len())];
        let (pref_code, _, _, _, _) = PREFECTURES[rng.weighted(PREFECTURES, |p| p.4)];
        // Member numbers: prefecture and a serial; registration numbers: a permutation of 1..=999,983
        // (up to 6 digits, distinct), left empty for one member in ten.
        let member_number = format!("{pref_code:02}{:08}", member + 1);
        let registration =
            if member % 10 == 9 { String::new() } else { ((member as u64 * 7919) % 999_983 + 1).to_string() };
        let links = if rng.below(20) == 0 { 2 } else { 1 };
        for _ in 0..links {
            institution += 1;
            let index = rng.weighted(PREFECTURES, |p| p.4);
            let (code, prefecture, area, cities, _) = PREFECTURES[index];
            let city = cities[rng.below(cities.len())];
            let town = TOWNS[rng.below(TOWNS.len())];
            let (kind, name) = match rng.below(20) {
                0 => ("hospital", format!("医療法人{surname}会 {town}病院")),
                1 => ("care_facility", format!("介護老人保健施設 {town}の里")),
                2..=9 => ("clinic", format!("{town}{}", CLINIC_SUFFIXES[rng.below(CLINIC_SUFFIXES.len())])),
                _ => ("clinic", format!("{surname}{}", CLINIC_SUFFIXES[rng.below(CLINIC_SUFFIXES.len())])),
            };
            let address = if rng.below(2) == 0 {
                format!(
                    "{prefecture}{city}{town}{}丁目{}番{}号",
                    1 + rng.below(9),
                    1 + rng.below(30),
                    1 + rng.below(30)
                )
            } else {
                format!(
                    "{prefecture}{city}{town}{}-{}-{}",
                    1 + rng.below(9),
                    1 + rng.below(30),
                    1 + rng.below(30)
                )
            };
            // A distinct 10-digit phone: the area code, then the institution's serial.
            let local_digits = 10 - area.len();
            let phone = format!(
                "{area}{:0width$}",
                institution % 10usize.pow(local_digits as u32),
                width = local_digits
            );
            // 医療機関コード: prefecture, fee table (1 medical, 3 dental), district, serial, check digit.
            let fee = if name.contains("歯科") { 3 } else { 1 };
            let institution_code = if kind == "care_facility" {
                String::new()
            } else {
                format!(
                    "{code:02}{fee}{:02}{:04}{}",
                    institution % 100,
                    institution / 100 % 10_000,
                    institution % 10
                )
            };
            let key = format!("inst-{institution:06}");
            let postal = format!("{:03}-{:04}", rng.below(1000), rng.below(10_000));
            let role = ["founder", "manager", "founder_and_manager"][rng.below(3)];
            writeln!(
                out,
                "{member_number},{registration},{surname} {given},{surname_kana} {given_kana},A1,{key},{name},{kind},{code:02},{postal},{address},{phone},{institution_code},{role}"
            )?;
            rows += 1;
        }
    }
    Ok(rows)
}
