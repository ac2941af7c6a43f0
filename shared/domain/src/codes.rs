//! The coded values of the data contract and of the result tables, as Rust enums.
//!
//! Each enum spells its values exactly as the Parquet columns and the policy file do
//! (`as_str()`, `Display`, `FromStr`, serde as that string), and lists them in the contract's
//! order in `ALL`, so that validation (`bad_enum`), grouping and output never disagree on a
//! spelling.

/// Declares a code enum: variants with their wire strings, `ALL`, `as_str`, `Display`,
/// `FromStr` (failing with [`DomainError::UnknownCode`]) and serde as the wire string.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order of the contract.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// Name of the code list, as used in error messages.
            pub const KIND: &'static str = $kind;

            /// The value as spelled in the data and the policy file.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )+
                }
            }

            /// The allowed spellings, comma separated (for messages).
            pub fn expected() -> String {
                [$( $wire, )+].join(", ")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::DomainError;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok($name::$variant), )+
                    _ => Err($crate::error::DomainError::UnknownCode {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: $name::expected(),
                    }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// `claims.visit_type`: the kind of encounter.
    pub enum VisitType: "visit_type" {
        /// 普通门诊.
        GeneralOutpatient = "general_outpatient",
        /// 门特 / 门诊慢特病; `special_disease` is required.
        SpecialOutpatient = "special_outpatient",
        /// 住院; admit and discharge dates are required.
        Inpatient = "inpatient",
        /// 药店购药, only at institutions of kind `pharmacy`.
        Pharmacy = "pharmacy",
    }
}

impl VisitType {
    /// General or special outpatient: visits that need a `doctor_id` and make doctor-days.
    pub const fn is_outpatient_visit(self) -> bool {
        matches!(
            self,
            VisitType::GeneralOutpatient | VisitType::SpecialOutpatient
        )
    }

    /// The "outpatient-type" claims of the suspicion rules R03, R04, R06: general/special
    /// outpatient and pharmacy.
    pub const fn is_outpatient_type(self) -> bool {
        !matches!(self, VisitType::Inpatient)
    }
}

code_enum! {
    /// `claims.pay_method`: how the claim's points are declared.
    pub enum PayMethod: "pay_method" {
        /// 按项目: points 1:1 with yuan of the items.
        Item = "item",
        /// 按病种定额 (DRG/DIP/床日/门诊病种): agreed `case_points`.
        Case = "case",
    }
}

code_enum! {
    /// `claims.insurance_type`.
    pub enum InsuranceType: "insurance_type" {
        /// 职工 (insutype 310).
        Employee = "employee",
        /// 居民 (insutype 390).
        Resident = "resident",
    }
}

code_enum! {
    /// `claims.insured_region`: where the patient is insured.
    pub enum InsuredRegion: "insured_region" {
        /// Insured locally.
        Local = "local",
        /// 省内异地.
        InProvince = "in_province",
        /// 跨省异地.
        CrossProvince = "cross_province",
    }
}

code_enum! {
    /// `claims.patient_gender` and `catalog.gender_limit`.
    pub enum Gender: "gender" {
        /// Male.
        Male = "M",
        /// Female.
        Female = "F",
    }
}

code_enum! {
    /// `institutions.kind`; also the values of a score indicator's `applies_to`.
    pub enum InstitutionKind: "institution kind" {
        /// Hospital.
        Hospital = "hospital",
        /// Clinic.
        Clinic = "clinic",
        /// Retail pharmacy.
        Pharmacy = "pharmacy",
    }
}

code_enum! {
    /// `institutions.budget_class`: the peer group and outpatient budget class.
    pub enum BudgetClass: "budget_class" {
        /// 三级.
        Tertiary = "tertiary",
        /// 二级.
        Secondary = "secondary",
        /// 中医 (含中西医结合); its inpatient cell is `tcm`.
        Tcm = "tcm",
        /// 家医签约基层.
        FamilyDoctorPrimary = "family_doctor_primary",
        /// 其他基层.
        OtherPrimary = "other_primary",
        /// 零售药店: a peer group, but never a budget cell (pharmacy claims are budgeted with
        /// their prescriber or are account-only).
        Pharmacy = "pharmacy",
    }
}

impl BudgetClass {
    /// The five classes that have outpatient budget cells (all but `pharmacy`).
    pub const OUTPATIENT: &'static [BudgetClass] = &[
        BudgetClass::Tertiary,
        BudgetClass::Secondary,
        BudgetClass::Tcm,
        BudgetClass::FamilyDoctorPrimary,
        BudgetClass::OtherPrimary,
    ];

    /// Whether this class has outpatient budget cells.
    pub const fn is_outpatient_budget_class(self) -> bool {
        !matches!(self, BudgetClass::Pharmacy)
    }
}

/// The five outpatient budget classes (every class but `pharmacy`), in contract order.
pub fn outpatient_budget_classes() -> &'static [BudgetClass] {
    BudgetClass::OUTPATIENT
}

code_enum! {
    /// Payment class of a budget cell.
    pub enum PaymentClass: "payment_class" {
        /// Outpatient cells: budget class × `drug`/`other`.
        Outpatient = "outpatient",
        /// Inpatient cells: `western`/`tcm` × `all`.
        Inpatient = "inpatient",
    }
}

code_enum! {
    /// Fee class of a budget cell, volume-price threshold or settlement line.
    pub enum FeeClass: "fee_class" {
        /// Outpatient drug points (western + patent + consumable, VBP adjusted).
        Drug = "drug",
        /// Outpatient other points (herbal + service).
        Other = "other",
        /// Inpatient cells and flow lines: all fees.
        All = "all",
    }
}

impl FeeClass {
    /// The two fee classes of outpatient cells.
    pub const OUTPATIENT: &'static [FeeClass] = &[FeeClass::Drug, FeeClass::Other];
}

code_enum! {
    /// `catalog.fee_class`: the class of a catalogue item.
    pub enum CatalogFeeClass: "catalog fee_class" {
        /// 西药.
        Western = "western",
        /// 中成药.
        Patent = "patent",
        /// 中药饮片.
        Herbal = "herbal",
        /// 医用耗材.
        Consumable = "consumable",
        /// Services (诊察、检查、治疗…).
        Service = "service",
    }
}

impl CatalogFeeClass {
    /// Drug items (western, patent, herbal): the items the over-buying rule R02 looks at.
    pub const fn is_drug(self) -> bool {
        matches!(
            self,
            CatalogFeeClass::Western | CatalogFeeClass::Patent | CatalogFeeClass::Herbal
        )
    }
}

code_enum! {
    /// Why a valid claim was not settled (`excluded_claims.reason`), in the order checked.
    pub enum ExclusionReason: "exclusion reason" {
        /// The settling institution's or the prescriber's agreement is suspended by a red card
        /// in the claim's month.
        AgreementSuspended = "agreement_suspended",
        /// Settle date before `agreement_start` or after `agreement_end` of the settling
        /// institution or the prescriber.
        OutsideAgreement = "outside_agreement",
        /// Pharmacy purchase without prescriber: personal account only.
        AccountOnly = "account_only",
    }
}

code_enum! {
    /// Why an input row was quarantined; claim reasons in the order of data-contract.md (a row
    /// takes the first that fails), then the two item reasons.
    pub enum QuarantineReason: "quarantine reason" {
        /// A not-null column, or one required by `visit_type`/`pay_method`, is null.
        MissingField = "missing_field",
        /// A coded column holds a value outside its list.
        BadEnum = "bad_enum",
        /// `total_amount ≠ western + patent + herbal + consumable + service` (to the fen).
        FeePartsMismatch = "fee_parts_mismatch",
        /// `total_amount ≠ pool + serious + other + account + cash`.
        PayerPartsMismatch = "payer_parts_mismatch",
        /// A money column < 0 on a non-reversal, or > 0 on a reversal.
        NegativeAmount = "negative_amount",
        /// `|vbp_amount| > |western + patent|` or `|key_drug_amount| > |western + patent + herbal|`.
        VbpExceedsDrugs = "vbp_exceeds_drugs",
        /// `institution_id` (or a pharmacy claim's prescriber) is not in the registry.
        UnknownInstitution = "unknown_institution",
        /// The prescriber of a pharmacy claim is itself a pharmacy.
        InvalidPrescriber = "invalid_prescriber",
        /// `pharmacy` visit at a non-pharmacy, or another visit type at a pharmacy.
        VisitTypeMismatch = "visit_type_mismatch",
        /// `settle_time` outside the partition's month.
        WrongPartition = "wrong_partition",
        /// `claim_id` already held by an earlier valid row of the same year.
        DuplicateClaim = "duplicate_claim",
        /// `reverses_claim_id` names no valid claim of the year up to this month, or one already
        /// cancelled.
        OrphanReversal = "orphan_reversal",
        /// A reversal that is not the exact mirror of the claim it names.
        ReversalMismatch = "reversal_mismatch",
        /// `discharge_date < admit_date`.
        InpatientDates = "inpatient_dates",
        /// Pharmacy claim without prescriber but with `pool_fund_paid > 0`.
        PharmacyFundWithoutPrescriber = "pharmacy_fund_without_prescriber",
        /// Item whose `claim_id` is in no claims row of its partition.
        OrphanItem = "orphan_item",
        /// Item whose claim was quarantined.
        ClaimQuarantined = "claim_quarantined",
    }
}

impl QuarantineReason {
    /// The 15 reasons that apply to claims rows, in checking order.
    pub const CLAIM_REASONS: &'static [QuarantineReason] = {
        let all = QuarantineReason::ALL;
        all.split_at(15).0
    };

    /// The two reasons that apply to claim_items rows.
    pub const ITEM_REASONS: &'static [QuarantineReason] = &[
        QuarantineReason::OrphanItem,
        QuarantineReason::ClaimQuarantined,
    ];
}

code_enum! {
    /// Colour of a warning card (`cards.color`).
    pub enum CardColor: "card color" {
        /// 黄牌: payment hold.
        Yellow = "yellow",
        /// 红牌: agreement suspended (from the 2nd yellow of a year on).
        Red = "red",
    }
}

impl CardColor {
    /// The effect a card of this colour has.
    pub const fn effect(self) -> CardEffect {
        match self {
            CardColor::Yellow => CardEffect::PaymentHold,
            CardColor::Red => CardEffect::AgreementSuspended,
        }
    }
}

code_enum! {
    /// Effect of a card (`cards.effect`).
    pub enum CardEffect: "card effect" {
        /// 暂停拨付 for `yellow_hold_months`.
        PaymentHold = "payment_hold",
        /// 中止协议 for `red_suspend_months`: claims are not settled.
        AgreementSuspended = "agreement_suspended",
    }
}

code_enum! {
    /// `scores.status`.
    pub enum ScoreStatus: "score status" {
        /// Scored normally.
        Scored = "scored",
        /// Under investigation: score and guarantee held until the case closes.
        Pending = "pending",
        /// Withheld materials: no score, guarantee forfeited, terminated.
        Disqualified = "disqualified",
    }
}

code_enum! {
    /// `scores.grade` of a scored institution.
    pub enum Grade: "grade" {
        /// Total ≥ `excellent_from`.
        Excellent = "excellent",
        /// Total ≥ `pass_from`.
        Pass = "pass",
        /// Below `pass_from`.
        Fail = "fail",
    }
}

code_enum! {
    /// `scores.decision`.
    pub enum Decision: "decision" {
        /// Agreement renewed.
        Renew = "renew",
        /// Failed `consecutive_fail_years` in a row: no renewal.
        NoRenewal = "no_renewal",
        /// Terminated (disqualified, below `terminate_below`, or bottom elimination).
        Terminate = "terminate",
        /// Under investigation.
        Pending = "pending",
    }
}

code_enum! {
    /// `inputs/investigations.status`.
    pub enum InvestigationStatus: "investigation status" {
        /// 重大违法违规调查中: score pending.
        UnderInvestigation = "under_investigation",
        /// 未按规定提供资料/隐匿伪造: disqualified.
        WithheldMaterials = "withheld_materials",
    }
}

code_enum! {
    /// `settlement_lines.line_kind`.
    pub enum LineKind: "line_kind" {
        /// Item-kind points.
        Item = "item",
        /// Case-kind points.
        Case = "case",
        /// Chemo claims paid from the inpatient cell.
        Chemo = "chemo",
        /// A pharmacy's amount for flowed-in prescriptions.
        FlowIn = "flow_in",
        /// The prescriber's negative counterpart of `flow_in`.
        FlowOut = "flow_out",
    }
}

code_enum! {
    /// `fund_split.fund_kind`.
    pub enum FundKind: "fund_kind" {
        /// 统筹基金.
        Pool = "pool",
        /// 大病保险 / 大额补助.
        SeriousIllness = "serious_illness",
        /// Other funds.
        Other = "other",
    }
}

code_enum! {
    /// The five operating indicators of the quarterly warnings (also the keys of
    /// `[warnings.margins]`).
    pub enum OperatingIndicator: "operating indicator" {
        /// 药占比.
        DrugRatio = "drug_ratio",
        /// 重点监控药品占比.
        KeyDrugRatio = "key_drug_ratio",
        /// 次均发生金额.
        CostPerVisit = "cost_per_visit",
        /// 人次人数比.
        VisitsPerPatient = "visits_per_patient",
        /// 就医频次.
        HighFrequencyShare = "high_frequency_share",
    }
}

code_enum! {
    /// Institution-level inpatient indicators (seed 002 measure 2); reported, not counted as hits.
    pub enum InpatientIndicator: "inpatient indicator" {
        /// 住院人次人头比.
        AdmissionsPerPatient = "admissions_per_patient",
        /// Mean DRG weight of case claims.
        Cmi = "cmi",
    }
}

code_enum! {
    /// Suspicion rules of quarterly-warnings.md Part D.
    pub enum SuspicionRule: "suspicion rule" {
        /// 15-day readmission.
        R01 = "R01",
        /// Chronic over-buying.
        R02 = "R02",
        /// Clustered settlements.
        R03 = "R03",
        /// Repeated same-day settlements.
        R04 = "R04",
        /// Single large outpatient amount.
        R05 = "R05",
        /// Outpatient during a stay.
        R06 = "R06",
        /// Sex-inconsistent item.
        R07 = "R07",
        /// Large cross-province stay.
        R08 = "R08",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_value() {
        for v in VisitType::ALL {
            assert_eq!(v.as_str().parse::<VisitType>().unwrap(), *v);
        }
        for q in QuarantineReason::ALL {
            assert_eq!(q.to_string().parse::<QuarantineReason>().unwrap(), *q);
        }
        assert_eq!("M".parse::<Gender>().unwrap(), Gender::Male);
        assert_eq!(SuspicionRule::R07.as_str(), "R07");
    }

    #[test]
    fn unknown_value_names_input_and_list() {
        let err = "outpatient".parse::<VisitType>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"outpatient\""), "{text}");
        assert!(
            text.contains("general_outpatient, special_outpatient"),
            "{text}"
        );
    }

    #[test]
    fn quarantine_reasons_follow_the_contract_table() {
        assert_eq!(QuarantineReason::ALL.len(), 17);
        assert_eq!(QuarantineReason::CLAIM_REASONS.len(), 15);
        assert_eq!(
            QuarantineReason::CLAIM_REASONS[0],
            QuarantineReason::MissingField
        );
        assert_eq!(
            QuarantineReason::CLAIM_REASONS[14],
            QuarantineReason::PharmacyFundWithoutPrescriber
        );
        assert_eq!(QuarantineReason::ALL[15], QuarantineReason::OrphanItem);
        assert_eq!(
            QuarantineReason::ALL[16],
            QuarantineReason::ClaimQuarantined
        );
    }

    #[test]
    fn outpatient_budget_classes_are_the_five_non_pharmacy() {
        let five = outpatient_budget_classes();
        assert_eq!(five.len(), 5);
        assert!(!five.contains(&BudgetClass::Pharmacy));
        assert_eq!(BudgetClass::ALL.len(), 6);
    }

    #[test]
    fn serde_uses_wire_strings() {
        #[derive(serde::Deserialize)]
        struct Row {
            kind: InstitutionKind,
        }
        let row: Row = toml::from_str("kind = \"clinic\"").unwrap();
        assert_eq!(row.kind, InstitutionKind::Clinic);
        assert!(toml::from_str::<Row>("kind = \"shop\"").is_err());
    }
}
