//! The insurance catalogue (医保目录) the generator prices its lines from, and the roles the
//! claim builders draw items from (acute drugs, chronic drugs, chemo, services …).
//!
//! Gender-limited items are used in the background only for patients of that sex (R07 must not
//! fire by accident); chronic drugs carry `days_supply` only on special-outpatient lines and acute
//! drugs only short supplies, so that no background patient over-buys (R02).

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};

use crate::error::Result;

/// Fee class of a catalogue item (the claim header sub-total it adds to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fee {
    Western,
    Patent,
    Herbal,
    Consumable,
    Service,
}

impl Fee {
    pub fn as_str(self) -> &'static str {
        match self {
            Fee::Western => "western",
            Fee::Patent => "patent",
            Fee::Herbal => "herbal",
            Fee::Consumable => "consumable",
            Fee::Service => "service",
        }
    }
}

/// One catalogue item.
#[derive(Debug, Clone, Copy)]
pub struct CatItem {
    pub code: &'static str,
    pub name: &'static str,
    pub fee: Fee,
    pub key: bool,
    pub vbp: bool,
    pub gender: Option<&'static str>,
}

const fn it(
    code: &'static str,
    name: &'static str,
    fee: Fee,
    key: bool,
    vbp: bool,
    gender: Option<&'static str>,
) -> CatItem {
    CatItem {
        code,
        name,
        fee,
        key,
        vbp,
        gender,
    }
}

use Fee::*;

/// The catalogue, in code order.
pub static CATALOG: &[CatItem] = &[
    it("W001", "氨氯地平片 amlodipine", Western, false, true, None),
    it("W002", "二甲双胍片 metformin", Western, false, true, None),
    it("W003", "缬沙坦胶囊 valsartan", Western, false, true, None),
    it(
        "W004",
        "阿托伐他汀钙片 atorvastatin",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W005",
        "头孢呋辛酯片 cefuroxime",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W006",
        "阿莫西林胶囊 amoxicillin",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W007",
        "奥美拉唑肠溶胶囊 omeprazole",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W008",
        "布洛芬缓释胶囊 ibuprofen",
        Western,
        false,
        false,
        None,
    ),
    it("W009", "氯雷他定片 loratadine", Western, false, false, None),
    it(
        "W010",
        "复方甘草片 compound liquorice",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W011",
        "甘精胰岛素注射液 insulin glargine",
        Western,
        false,
        false,
        None,
    ),
    it("W012", "阿卡波糖片 acarbose", Western, false, true, None),
    it(
        "W013",
        "硝苯地平控释片 nifedipine",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W014",
        "蒙脱石散 montmorillonite",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W015",
        "左氧氟沙星片 levofloxacin",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W016",
        "坦索罗辛缓释胶囊 tamsulosin",
        Western,
        false,
        false,
        Some("M"),
    ),
    it(
        "W017",
        "紫杉醇注射液 paclitaxel",
        Western,
        false,
        false,
        None,
    ),
    it("W018", "顺铂注射液 cisplatin", Western, false, false, None),
    it(
        "W019",
        "培美曲塞二钠 pemetrexed",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W020",
        "昂丹司琼注射液 ondansetron",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W021",
        "头孢曲松钠注射液 ceftriaxone",
        Western,
        false,
        true,
        None,
    ),
    it(
        "W022",
        "低分子肝素钙注射液 LMWH",
        Western,
        false,
        false,
        None,
    ),
    it("W023", "氯化钠注射液 saline", Western, false, false, None),
    it(
        "W024",
        "重组人促红素注射液 EPO",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W025",
        "蔗糖铁注射液 iron sucrose",
        Western,
        false,
        false,
        None,
    ),
    it(
        "W026",
        "地屈孕酮片 dydrogesterone",
        Western,
        false,
        false,
        Some("F"),
    ),
    it(
        "W030",
        "前列地尔注射液 alprostadil",
        Western,
        true,
        false,
        None,
    ),
    it(
        "W031",
        "胸腺五肽注射液 thymopentin",
        Western,
        true,
        false,
        None,
    ),
    it(
        "W032",
        "脑苷肌肽注射液 cattle encephalon glycoside",
        Western,
        true,
        false,
        None,
    ),
    it(
        "W033",
        "奥拉西坦注射液 oxiracetam",
        Western,
        true,
        false,
        None,
    ),
    it(
        "W034",
        "磷酸肌酸钠 creatine phosphate",
        Western,
        true,
        false,
        None,
    ),
    it("Z001", "连花清瘟胶囊", Patent, false, false, None),
    it("Z002", "复方丹参滴丸", Patent, false, false, None),
    it("Z003", "银黄颗粒", Patent, false, false, None),
    it("Z004", "蓝芩口服液", Patent, false, false, None),
    it("Z005", "六味地黄丸", Patent, false, false, None),
    it("Z006", "血塞通软胶囊", Patent, false, false, None),
    it("Z010", "丹红注射液", Patent, true, false, None),
    it("Z011", "注射用血栓通", Patent, true, false, None),
    it("Z012", "参芎葡萄糖注射液", Patent, true, false, None),
    it("HB01", "黄芪 饮片", Herbal, false, false, None),
    it("HB02", "当归 饮片", Herbal, false, false, None),
    it("HB03", "党参 饮片", Herbal, false, false, None),
    it("HB04", "白术 饮片", Herbal, false, false, None),
    it("HB05", "茯苓 饮片", Herbal, false, false, None),
    it("HB06", "川芎 饮片", Herbal, false, false, None),
    it("M001", "一次性输液器", Consumable, false, false, None),
    it("M002", "一次性注射器", Consumable, false, false, None),
    it("M003", "医用敷料", Consumable, false, false, None),
    it("M004", "静脉留置针", Consumable, false, false, None),
    it("M005", "血液透析器", Consumable, false, false, None),
    it("M006", "骨科内固定材料", Consumable, false, false, None),
    it("M007", "冠脉支架", Consumable, false, false, None),
    it("M008", "一次性吻合器", Consumable, false, false, None),
    it("S001", "普通门诊诊查费", Service, false, false, None),
    it("S002", "专家门诊诊查费", Service, false, false, None),
    it("S003", "血常规", Service, false, false, None),
    it("S004", "尿常规", Service, false, false, None),
    it("S005", "肝功能", Service, false, false, None),
    it("S006", "血糖测定", Service, false, false, None),
    it("S007", "心电图", Service, false, false, None),
    it("S008", "胸部X线摄影", Service, false, false, None),
    it("S009", "CT平扫", Service, false, false, None),
    it("S010", "B超检查", Service, false, false, None),
    it("S011", "静脉输液", Service, false, false, None),
    it("S012", "中医辨证论治", Service, false, false, None),
    it("S013", "针刺", Service, false, false, None),
    it("S014", "推拿", Service, false, false, None),
    it("S015", "床位费", Service, false, false, None),
    it("S016", "护理费", Service, false, false, None),
    it("S017", "手术费", Service, false, false, None),
    it("S018", "麻醉费", Service, false, false, None),
    it("S019", "血液透析", Service, false, false, None),
    it("S020", "化疗静脉注射", Service, false, false, None),
    it("S021", "妇科检查", Service, false, false, Some("F")),
    it("S022", "经阴道B超", Service, false, false, Some("F")),
    it(
        "S023",
        "前列腺特异抗原测定",
        Service,
        false,
        false,
        Some("M"),
    ),
    it("S024", "糖化血红蛋白", Service, false, false, None),
];

/// Index of a catalogue code (panics on an unknown code: the role lists below are static).
pub fn idx(code: &str) -> u16 {
    CATALOG
        .iter()
        .position(|c| c.code == code)
        .unwrap_or_else(|| panic!("catalogue code {code} missing")) as u16
}

fn list(codes: &[&str]) -> Vec<u16> {
    codes.iter().map(|c| idx(c)).collect()
}

/// Item roles the claim builders draw from (indices into [`CATALOG`]).
#[derive(Debug, Clone)]
pub struct Roles {
    pub acute_western: Vec<u16>,
    pub acute_vbp: Vec<u16>,
    pub chronic_dm: Vec<u16>,
    pub chronic_htn: Vec<u16>,
    pub chemo: Vec<u16>,
    pub chemo_support: u16,
    pub dialysis_drugs: Vec<u16>,
    pub inpatient_western: Vec<u16>,
    pub key_western: Vec<u16>,
    pub key_patent: Vec<u16>,
    pub patent_acute: Vec<u16>,
    pub patent_chronic: Vec<u16>,
    pub herbal: Vec<u16>,
    pub consumable_out: Vec<u16>,
    pub consumable_inp: Vec<u16>,
    pub dialyser: u16,
    pub services_general: Vec<u16>,
    pub services_tcm: Vec<u16>,
    pub services_inp: Vec<u16>,
    pub service_consult: u16,
    pub service_dialysis: u16,
    pub service_chemo: u16,
    pub service_chronic: Vec<u16>,
    pub female_items: Vec<u16>,
    pub male_items: Vec<u16>,
    pub female_service: u16,
    pub male_service: u16,
}

impl Roles {
    pub fn new() -> Self {
        Roles {
            acute_western: list(&["W008", "W009", "W010", "W014"]),
            acute_vbp: list(&["W005", "W006", "W007", "W015"]),
            chronic_dm: list(&["W002", "W011", "W012", "W004"]),
            chronic_htn: list(&["W001", "W003", "W013", "W004"]),
            chemo: list(&["W017", "W018", "W019"]),
            chemo_support: idx("W020"),
            dialysis_drugs: list(&["W024", "W025"]),
            inpatient_western: list(&["W021", "W022", "W023"]),
            key_western: list(&["W030", "W031", "W032", "W033", "W034"]),
            key_patent: list(&["Z010", "Z011", "Z012"]),
            patent_acute: list(&["Z001", "Z003", "Z004"]),
            patent_chronic: list(&["Z002", "Z005", "Z006"]),
            herbal: list(&["HB01", "HB02", "HB03", "HB04", "HB05", "HB06"]),
            consumable_out: list(&["M001", "M002", "M003", "M004"]),
            consumable_inp: list(&["M004", "M006", "M007", "M008"]),
            dialyser: idx("M005"),
            services_general: list(&[
                "S003", "S004", "S005", "S007", "S008", "S009", "S010", "S011",
            ]),
            services_tcm: list(&["S012", "S013", "S014"]),
            services_inp: list(&["S015", "S016", "S017", "S018"]),
            service_consult: idx("S001"),
            service_dialysis: idx("S019"),
            service_chemo: idx("S020"),
            service_chronic: list(&["S006", "S024"]),
            female_items: list(&["W026", "S022"]),
            male_items: list(&["W016"]),
            female_service: idx("S021"),
            male_service: idx("S023"),
        }
    }
}

impl Default for Roles {
    fn default() -> Self {
        Self::new()
    }
}

/// The catalogue as a record batch of the contract schema.
pub fn batch() -> Result<RecordBatch> {
    let schema = claimlake_lake::contract::catalog();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            CATALOG.iter().map(|c| c.code),
        )),
        Arc::new(StringArray::from_iter_values(
            CATALOG.iter().map(|c| c.name),
        )),
        Arc::new(StringArray::from_iter_values(
            CATALOG.iter().map(|c| c.fee.as_str()),
        )),
        Arc::new(BooleanArray::from(
            CATALOG.iter().map(|c| Some(c.key)).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            CATALOG.iter().map(|c| Some(c.vbp)).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            CATALOG.iter().map(|c| c.gender).collect::<Vec<_>>(),
        )),
    ];
    Ok(RecordBatch::try_new(schema, cols)?)
}
