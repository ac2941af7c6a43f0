//! TOML → [`Policy`]: applies the defaults of policy.md and names every mis-typed key.
//!
//! The file is first parsed into a `toml::Table`, then walked table by table with a [`Reader`]
//! that knows the dotted path it stands at. This (rather than `#[derive(Deserialize)]`) is what
//! lets each error carry the exact key (`budget[3].annual`), refuse TOML floats for decimal keys
//! by name, and list unknown keys instead of failing on them.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use toml::{Table, Value};

use super::{
    Associated, Budget, Cards, Indicator, InpatientItemConversion, InstitutionRules, Policy,
    PolicyInfo, ReleaseTier, Rules, Score, Settlement, Threshold, ThresholdOverride, Tier,
    VolumePrice, Warnings,
};
use crate::error::{DomainError, Result};

/// Reads a whole policy; returns it with the sorted dotted paths of unknown keys.
pub(super) fn policy_from_table(table: &Table) -> Result<(Policy, Vec<String>)> {
    let mut unknown = Vec::new();
    let mut root = Reader::new(String::new(), table);

    let info = match root.table("policy")? {
        Some(mut r) => {
            let info = PolicyInfo {
                year: r.required_i32("year")?,
                version: r.required_i32("version")?,
                name: r.string("name")?.unwrap_or_default(),
            };
            r.finish(&mut unknown);
            info
        }
        None => {
            return Err(DomainError::policy(
                "policy",
                "missing table [policy] with year and version",
            ));
        }
    };

    let settlement = match root.table("settlement")? {
        Some(r) => settlement(r, &mut unknown)?,
        None => Settlement::default(),
    };

    let mut budgets = Vec::new();
    for mut r in root.tables("budget")? {
        budgets.push(Budget {
            payment_class: r.required_code("payment_class")?,
            budget_class: r.required_code("budget_class")?,
            fee_class: r.required_code("fee_class")?,
            annual: r.required_decimal("annual")?,
            monthly_weights: r.decimals("monthly_weights")?,
        });
        r.finish(&mut unknown);
    }

    let volume_price = match root.table("volume_price")? {
        Some(r) => volume_price(r, &mut unknown)?,
        None => VolumePrice::default(),
    };

    let cards = match root.table("cards")? {
        Some(mut r) => {
            let d = Cards::default();
            let cards = Cards {
                yellow_hold_months: r.u32("yellow_hold_months")?.unwrap_or(d.yellow_hold_months),
                red_suspend_months: r.u32("red_suspend_months")?.unwrap_or(d.red_suspend_months),
            };
            r.finish(&mut unknown);
            cards
        }
        None => Cards::default(),
    };

    let warnings = match root.table("warnings")? {
        Some(r) => warnings(r, &mut unknown)?,
        None => Warnings::default(),
    };

    let rules = match root.table("rules")? {
        Some(r) => rules(r, &mut unknown)?,
        None => Rules::default(),
    };

    let score = match root.table("score")? {
        Some(r) => score(r, &mut unknown)?,
        None => Score::default(),
    };

    root.finish(&mut unknown);
    unknown.sort();
    Ok((
        Policy {
            policy: info,
            settlement,
            budgets,
            volume_price,
            cards,
            warnings,
            rules,
            score,
        },
        unknown,
    ))
}

fn settlement(mut r: Reader<'_>, unknown: &mut Vec<String>) -> Result<Settlement> {
    let d = Settlement::default();
    let conversion = match r.table("inpatient_item_conversion")? {
        Some(mut c) => {
            let d = InpatientItemConversion::default();
            let conversion = InpatientItemConversion {
                base_avg_cost: c.decimal("base_avg_cost")?.unwrap_or(d.base_avg_cost),
                cpi_factor: c.decimal("cpi_factor")?.unwrap_or(d.cpi_factor),
                points_per_weight: c
                    .decimal("points_per_weight")?
                    .unwrap_or(d.points_per_weight),
            };
            c.finish(unknown);
            conversion
        }
        None => d.inpatient_item_conversion.clone(),
    };
    let settlement = Settlement {
        item_point_value_cap: r
            .decimal("item_point_value_cap")?
            .unwrap_or(d.item_point_value_cap),
        case_surplus_retention: r
            .decimal("case_surplus_retention")?
            .unwrap_or(d.case_surplus_retention),
        quality_guarantee_rate: r
            .decimal("quality_guarantee_rate")?
            .unwrap_or(d.quality_guarantee_rate),
        inpatient_budget_diseases: r
            .strings("inpatient_budget_diseases")?
            .unwrap_or(d.inpatient_budget_diseases),
        monthly_weights: r.decimals("monthly_weights")?.unwrap_or(d.monthly_weights),
        inpatient_item_conversion: conversion,
    };
    r.finish(unknown);
    Ok(settlement)
}

fn volume_price(mut r: Reader<'_>, unknown: &mut Vec<String>) -> Result<VolumePrice> {
    let mut vp = VolumePrice::default();
    for mut t in r.tables("threshold")? {
        vp.thresholds.push(Threshold {
            budget_class: t.required_code("budget_class")?,
            fee_class: t.required_code("fee_class")?,
            per_doctor_day: t.required_decimal("per_doctor_day")?,
        });
        t.finish(unknown);
    }
    for mut t in r.tables("override")? {
        vp.overrides.push(ThresholdOverride {
            institution_id: t.required_string("institution_id")?,
            fee_class: t.required_code("fee_class")?,
            per_doctor_day: t.required_decimal("per_doctor_day")?,
        });
        t.finish(unknown);
    }
    for mut t in r.tables("tier")? {
        vp.tiers.push(Tier {
            over_ratio_from: t.required_decimal("over_ratio_from")?,
            over_ratio_to: t.decimal("over_ratio_to")?,
            coefficient: t.required_decimal("coefficient")?,
        });
        t.finish(unknown);
    }
    r.finish(unknown);
    Ok(vp)
}

fn warnings(mut r: Reader<'_>, unknown: &mut Vec<String>) -> Result<Warnings> {
    let d = Warnings::default();
    let margins = match r.table("margins")? {
        Some(mut m) => {
            let mut margins = BTreeMap::new();
            for key in m.all_keys() {
                let path = m.path_of(key);
                let indicator = key
                    .parse()
                    .map_err(|e: DomainError| DomainError::policy(&path, e.to_string()))?;
                margins.insert(indicator, m.required_decimal(key)?);
            }
            margins
        }
        None => BTreeMap::new(),
    };
    let associated = match r.table("associated")? {
        Some(mut a) => {
            let d = Associated::default();
            let associated = Associated {
                top_share: a.decimal("top_share")?.unwrap_or(d.top_share),
                median_multiple: a.decimal("median_multiple")?.unwrap_or(d.median_multiple),
                min_cost_share: a.decimal("min_cost_share")?.unwrap_or(d.min_cost_share),
                min_top_patients: a.u32("min_top_patients")?.unwrap_or(d.min_top_patients),
            };
            a.finish(unknown);
            associated
        }
        None => d.associated.clone(),
    };
    let warnings = Warnings {
        scope_visit_types: r.codes("scope_visit_types")?.unwrap_or(d.scope_visit_types),
        min_visits: r.u32("min_visits")?.unwrap_or(d.min_visits),
        method: r.code("method")?.unwrap_or(d.method),
        margin: r.decimal("margin")?.unwrap_or(d.margin),
        percentile: r.u32("percentile")?.unwrap_or(d.percentile),
        min_hits: r.u32("min_hits")?.unwrap_or(d.min_hits),
        high_frequency_visits: r
            .u32("high_frequency_visits")?
            .unwrap_or(d.high_frequency_visits),
        margins,
        associated,
    };
    r.finish(unknown);
    Ok(warnings)
}

fn rules(mut r: Reader<'_>, unknown: &mut Vec<String>) -> Result<Rules> {
    let d = Rules::default();
    let cluster_min_patients = match r.table("cluster_min_patients")? {
        Some(mut m) => {
            let mut map = BTreeMap::new();
            for key in m.all_keys() {
                let path = m.path_of(key);
                let class = key
                    .parse()
                    .map_err(|e: DomainError| DomainError::policy(&path, e.to_string()))?;
                let value = m.u32(key)?.expect("key listed by all_keys");
                map.insert(class, value);
            }
            map
        }
        None => BTreeMap::new(),
    };
    let institution = match r.table("institution")? {
        Some(mut i) => {
            let d = InstitutionRules::default();
            let institution = InstitutionRules {
                margin: i.decimal("margin")?.unwrap_or(d.margin),
                min_admissions: i.u32("min_admissions")?.unwrap_or(d.min_admissions),
            };
            i.finish(unknown);
            institution
        }
        None => d.institution.clone(),
    };
    let rules = Rules {
        readmission_days: r.u32("readmission_days")?.unwrap_or(d.readmission_days),
        overbuy_tolerance: r
            .decimal("overbuy_tolerance")?
            .unwrap_or(d.overbuy_tolerance),
        cluster_bucket_minutes: r
            .u32("cluster_bucket_minutes")?
            .unwrap_or(d.cluster_bucket_minutes),
        repeat_same_day_min: r
            .u32("repeat_same_day_min")?
            .unwrap_or(d.repeat_same_day_min),
        large_outpatient_amount: r
            .decimal("large_outpatient_amount")?
            .unwrap_or(d.large_outpatient_amount),
        cross_province_inpatient_amount: r
            .decimal("cross_province_inpatient_amount")?
            .unwrap_or(d.cross_province_inpatient_amount),
        cluster_min_patients,
        institution,
    };
    r.finish(unknown);
    Ok(rules)
}

fn score(mut r: Reader<'_>, unknown: &mut Vec<String>) -> Result<Score> {
    let d = Score::default();
    let mut releases = Vec::new();
    for mut t in r.tables("release")? {
        releases.push(ReleaseTier {
            min_score: t.required_decimal("min_score")?,
            ratio: t.required_decimal("ratio")?,
        });
        t.finish(unknown);
    }
    let mut indicators = Vec::new();
    for mut t in r.tables("indicator")? {
        indicators.push(Indicator {
            id: t.required_string("id")?,
            name: t.string("name")?.unwrap_or_default(),
            weight: t.required_decimal("weight")?,
            source: t.required_code("source")?,
            method: t.required_code("method")?,
            per_yellow: t.decimal("per_yellow")?,
            per_red: t.decimal("per_red")?,
            good: t.decimal("good")?,
            bad: t.decimal("bad")?,
            applies_to: t.codes("applies_to")?,
        });
        t.finish(unknown);
    }
    let score = Score {
        excellent_from: r.decimal("excellent_from")?.unwrap_or(d.excellent_from),
        pass_from: r.decimal("pass_from")?.unwrap_or(d.pass_from),
        consecutive_fail_years: r
            .u32("consecutive_fail_years")?
            .unwrap_or(d.consecutive_fail_years),
        terminate_below: r.decimal("terminate_below")?.unwrap_or(d.terminate_below),
        bottom_elimination_share: r
            .decimal("bottom_elimination_share")?
            .unwrap_or(d.bottom_elimination_share),
        redistribute_forfeit: r
            .bool("redistribute_forfeit")?
            .unwrap_or(d.redistribute_forfeit),
        releases,
        indicators,
    };
    r.finish(unknown);
    Ok(score)
}

/// How a TOML value is described in messages.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f:?}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Table(_) => "a table".to_owned(),
    }
}

/// Whether `s` is a plain decimal: optional `-`, digits, optionally `.` and digits.
fn is_plain_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}

/// A decimal from a TOML value: a string holding a plain decimal (exact), or an integer. Floats
/// are refused: they are binary approximations.
fn decimal_of(value: &Value) -> std::result::Result<Decimal, String> {
    match value {
        Value::String(s) if is_plain_decimal(s) => {
            Decimal::from_str_exact(s).map_err(|e| format!("cannot hold {s:?} exactly: {e}"))
        }
        Value::Integer(i) => Ok(Decimal::from(*i)),
        Value::Float(f) => Err(format!(
            "found float {f:?}; write decimals as TOML strings (e.g. \"{f:?}\") so they parse exactly"
        )),
        other => Err(format!(
            "expected a decimal string such as \"0.50\", found {}",
            describe(other)
        )),
    }
}

/// A table being read, with its dotted path and the keys already taken.
struct Reader<'a> {
    path: String,
    table: &'a Table,
    used: Vec<&'a str>,
}

impl<'a> Reader<'a> {
    fn new(path: String, table: &'a Table) -> Self {
        Reader {
            path,
            table,
            used: Vec::new(),
        }
    }

    /// Dotted path of `key` in this table.
    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn err(&self, key: &str, message: impl Into<String>) -> DomainError {
        DomainError::policy(self.path_of(key), message)
    }

    /// The value of `key`, marking it known.
    fn take(&mut self, key: &str) -> Option<&'a Value> {
        let (k, v) = self.table.get_key_value(key)?;
        self.used.push(k.as_str());
        Some(v)
    }

    /// Every key of the table (for map-like tables), marking them known.
    fn all_keys(&mut self) -> Vec<&'a str> {
        let keys: Vec<&'a str> = self.table.keys().map(String::as_str).collect();
        self.used.extend(keys.iter().copied());
        keys
    }

    /// Records the keys that were never taken as unknown.
    fn finish(self, unknown: &mut Vec<String>) {
        for key in self.table.keys() {
            if !self.used.contains(&key.as_str()) {
                unknown.push(self.path_of(key));
            }
        }
    }

    fn missing(&self, key: &str) -> DomainError {
        self.err(key, "missing required key")
    }

    fn decimal(&mut self, key: &str) -> Result<Option<Decimal>> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => decimal_of(v).map(Some).map_err(|m| self.err(key, m)),
        }
    }

    fn required_decimal(&mut self, key: &str) -> Result<Decimal> {
        self.decimal(key)?.ok_or_else(|| self.missing(key))
    }

    fn decimals(&mut self, key: &str) -> Result<Option<Vec<Decimal>>> {
        self.array(key, decimal_of)
    }

    fn integer(&mut self, key: &str) -> Result<Option<i64>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(other) => Err(self.err(
                key,
                format!("expected an integer, found {}", describe(other)),
            )),
        }
    }

    fn u32(&mut self, key: &str) -> Result<Option<u32>> {
        match self.integer(key)? {
            None => Ok(None),
            Some(i) => u32::try_from(i)
                .map(Some)
                .map_err(|_| self.err(key, format!("expected a non-negative integer, found {i}"))),
        }
    }

    fn required_i32(&mut self, key: &str) -> Result<i32> {
        let i = self.integer(key)?.ok_or_else(|| self.missing(key))?;
        i32::try_from(i).map_err(|_| self.err(key, format!("integer {i} is out of range")))
    }

    fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", describe(other)),
            )),
        }
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.err(key, format!("expected a string, found {}", describe(other))))
            }
        }
    }

    fn required_string(&mut self, key: &str) -> Result<String> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>> {
        self.array(key, |v| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("expected a string, found {}", describe(other))),
        })
    }

    /// A coded value (enum spelled as a string).
    fn code<T: FromStr<Err = DomainError>>(&mut self, key: &str) -> Result<Option<T>> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e: DomainError| self.err(key, e.to_string())),
        }
    }

    fn required_code<T: FromStr<Err = DomainError>>(&mut self, key: &str) -> Result<T> {
        self.code(key)?.ok_or_else(|| self.missing(key))
    }

    fn codes<T: FromStr<Err = DomainError>>(&mut self, key: &str) -> Result<Option<Vec<T>>> {
        self.array(key, |v| match v {
            Value::String(s) => s.parse().map_err(|e: DomainError| e.to_string()),
            other => Err(format!("expected a string, found {}", describe(other))),
        })
    }

    /// An array of scalars; an element error names the array key and the element's position.
    fn array<T>(
        &mut self,
        key: &str,
        element: impl Fn(&Value) -> std::result::Result<T, String>,
    ) -> Result<Option<Vec<T>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    element(v).map_err(|m| self.err(key, format!("element {}: {m}", i + 1)))
                })
                .collect::<Result<Vec<T>>>()
                .map(Some),
            Some(other) => {
                Err(self.err(key, format!("expected an array, found {}", describe(other))))
            }
        }
    }

    /// A sub-table `[path.key]`.
    fn table(&mut self, key: &str) -> Result<Option<Reader<'a>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Reader::new(self.path_of(key), t))),
            Some(other) => Err(self.err(
                key,
                format!(
                    "expected a table [{}], found {}",
                    self.path_of(key),
                    describe(other)
                ),
            )),
        }
    }

    /// An array of tables `[[path.key]]`; absent = empty. Element paths are `path.key[i]`.
    fn tables(&mut self, key: &str) -> Result<Vec<Reader<'a>>> {
        let value = self.take(key);
        let expected = || format!("expected an array of tables [[{}]]", self.path_of(key));
        match value {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Table(t) => Ok(Reader::new(format!("{}[{i}]", self.path_of(key)), t)),
                    other => Err(self.err(
                        key,
                        format!("{}, element {i} is {}", expected(), describe(other)),
                    )),
                })
                .collect(),
            Some(other) => Err(self.err(key, format!("{}, found {}", expected(), describe(other)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_only() {
        for ok in ["0", "1.00", "-0.5", "12000.00"] {
            assert!(is_plain_decimal(ok), "{ok}");
        }
        for bad in ["", ".5", "1.", "1e3", "1_000", "+1", " 1", "1.0.0", "-"] {
            assert!(!is_plain_decimal(bad), "{bad}");
        }
    }
}
