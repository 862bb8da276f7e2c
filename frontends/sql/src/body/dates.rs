//! Dates in bodies: a date is i32 days since 1970-01-01, taken apart into its civil
//! year, month and day and put back together in integer arithmetic (the proleptic
//! Gregorian calendar, as Arrow's date functions), for `date_part` and for adding months.

use super::BodyWriter;
use crate::SqlError;
use datafusion::{common::ScalarValue, logical_expr::Expr};
use skadi_flowgraph::{BodyBuilder, Scalar};

pub(super) const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// The months and whole days of an interval literal that has months (`None` for one of
/// days only, which is an i32 literal, or one with parts of a day).
pub(super) fn month_interval(e: &Expr) -> Option<(i64, i64)> {
    match e {
        Expr::Literal(ScalarValue::IntervalYearMonth(Some(m)), _) => Some((*m as i64, 0)),
        Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(i)), _)
            if i.months != 0 && i.nanoseconds % NANOS_PER_DAY == 0 =>
        {
            Some((i.months as i64, i.days as i64 + i.nanoseconds / NANOS_PER_DAY))
        }
        _ => None,
    }
}

impl BodyWriter<'_> {
    /// Field `part` of a date given as days since 1970-01-01: year, quarter (`qtr`),
    /// month, day (plurals too), day of week (`dow`, Sunday 0; `isodow`, Monday 1 to
    /// Sunday 7), ISO 8601 `week` and `isoyear`, day of year (`doy`, from 1), or `epoch`
    /// (seconds, f64); i64 but for `epoch`.
    pub(super) fn date_part(&mut self, part: &str, date: &Scalar) -> Result<Scalar, SqlError> {
        let (year, month, day) = self.civil_from_days(date);
        let b = &mut self.builder;
        let c = |b: &mut BodyBuilder, v: i64| b.const_int(v, "i64");
        Ok(match part.trim() {
            "year" | "years" => year,
            "month" | "months" => month,
            "day" | "days" => day,
            "quarter" | "qtr" => {
                let (k2, k3) = (c(b, 2), c(b, 3));
                let t = b.binary("arith.addi", &month, &k2);
                b.binary("arith.divsi", &t, &k3)
            }
            // 1970-01-01 was a Thursday: Sunday-0 day 4, Monday-0 day 3.
            "dow" => self.weekday(date, 4),
            "isodow" => {
                let monday0 = self.weekday(date, 3);
                let one = c(&mut self.builder, 1);
                self.builder.binary("arith.addi", &monday0, &one)
            }
            "week" | "weeks" => self.iso_week(date).1,
            "isoyear" => self.iso_week(date).0,
            "doy" => {
                let one = c(b, 1);
                let jan1 = self.days_from_civil(&year, &one, &one);
                let b = &mut self.builder;
                let days = b.cast("arith.extsi", date, "i64");
                let t = b.binary("arith.subi", &days, &jan1);
                b.binary("arith.addi", &t, &one)
            }
            "epoch" => {
                let days = b.cast("arith.sitofp", date, "f64");
                let k = b.const_float(86400.0, "f64");
                b.binary("arith.mulf", &days, &k)
            }
            other => return Err(SqlError::unsupported(format!("date_part('{other}', ...)"))),
        })
    }

    /// The day of the week of `date` (days since 1970-01-01), counted from 0 on the day
    /// that 1970-01-01 is day `thursday` of; floored, so dates before it count too.
    fn weekday(&mut self, date: &Scalar, thursday: i64) -> Scalar {
        let b = &mut self.builder;
        let days = b.cast("arith.extsi", date, "i64");
        let (k, k7) = (b.const_int(thursday, "i64"), b.const_int(7, "i64"));
        let t = b.binary("arith.addi", &days, &k);
        let weeks = b.binary("arith.floordivsi", &t, &k7);
        let whole = b.binary("arith.muli", &weeks, &k7);
        b.binary("arith.subi", &t, &whole)
    }

    /// ISO 8601's year and week of `date`: weeks start on Monday, and a week belongs to
    /// the year its Thursday falls in (so 1 January may be in week 52 or 53 of the year
    /// before, and 31 December in week 1 of the next). Both i64.
    fn iso_week(&mut self, date: &Scalar) -> (Scalar, Scalar) {
        let monday0 = self.weekday(date, 3);
        let b = &mut self.builder;
        let days = b.cast("arith.extsi", date, "i64");
        let (k1, k3, k7) = (b.const_int(1, "i64"), b.const_int(3, "i64"), b.const_int(7, "i64"));
        let monday = b.binary("arith.subi", &days, &monday0);
        let thursday = b.binary("arith.addi", &monday, &k3);
        let (year, _, _) = self.civil_from_days(&thursday);
        let jan1 = self.days_from_civil(&year, &k1, &k1);
        let b = &mut self.builder;
        let into = b.binary("arith.subi", &thursday, &jan1);
        let weeks = b.binary("arith.divsi", &into, &k7);
        (year, b.binary("arith.addi", &weeks, &k1))
    }

    /// Days since 1970-01-01 (i64) of the civil date `year`-`month`-`day` (each i64;
    /// the day within the month): the inverse of [`Self::civil_from_days`].
    fn days_from_civil(&mut self, year: &Scalar, month: &Scalar, day: &Scalar) -> Scalar {
        let b = &mut self.builder;
        let c = |b: &mut BodyBuilder, v: i64| b.const_int(v, "i64");
        // Years start in March here, so January and February count in the year before.
        let (k1, k2, k3, k9) = (c(b, 1), c(b, 2), c(b, 3), c(b, 9));
        let early = b.compare("arith.cmpi", "sle", month, &k2);
        let year_before = b.binary("arith.subi", year, &k1);
        let y = b.select(&early, &year_before, year);
        let (k400, k153, k5) = (c(b, 400), c(b, 153), c(b, 5));
        let (k146097, k719468) = (c(b, 146097), c(b, 719468));
        let era = b.binary("arith.floordivsi", &y, &k400);
        let era_years = b.binary("arith.muli", &era, &k400);
        let yoe = b.binary("arith.subi", &y, &era_years);
        // The month counted from March: 0 for March, ..., 11 for February.
        let m_early = b.binary("arith.addi", month, &k9);
        let m_late = b.binary("arith.subi", month, &k3);
        let mp = b.select(&early, &m_early, &m_late);
        let t = b.binary("arith.muli", &mp, &k153);
        let t = b.binary("arith.addi", &t, &k2);
        let t = b.binary("arith.divsi", &t, &k5);
        let t = b.binary("arith.addi", &t, day);
        let doy = b.binary("arith.subi", &t, &k1);
        let t = days_before(b, &yoe);
        let doe = b.binary("arith.addi", &t, &doy);
        let t = b.binary("arith.muli", &era, &k146097);
        let t = b.binary("arith.addi", &t, &doe);
        b.binary("arith.subi", &t, &k719468)
    }

    /// Date `date` (i32 days) moved by `months`, the day clamped to the last of the
    /// month it lands in; i32 days.
    pub(super) fn add_months(&mut self, date: &Scalar, months: i64) -> Scalar {
        let (year, month, day) = self.civil_from_days(date);
        let b = &mut self.builder;
        let c = |b: &mut BodyBuilder, v: i64| b.const_int(v, "i64");
        let (k1, k2, k8, k12, k28, k30, k400, k4, k100, k0) = (
            c(b, 1),
            c(b, 2),
            c(b, 8),
            c(b, 12),
            c(b, 28),
            c(b, 30),
            c(b, 400),
            c(b, 4),
            c(b, 100),
            c(b, 0),
        );
        let kn = c(b, months);
        let t = b.binary("arith.muli", &year, &k12);
        let t = b.binary("arith.addi", &t, &month);
        let t = b.binary("arith.subi", &t, &k1);
        let t = b.binary("arith.addi", &t, &kn);
        let y = b.binary("arith.floordivsi", &t, &k12);
        let whole = b.binary("arith.muli", &y, &k12);
        let m = b.binary("arith.subi", &t, &whole);
        let m = b.binary("arith.addi", &m, &k1);
        // Days in month m of year y: 30 + (m + m / 8) % 2, but February 28 or 29.
        let t = b.binary("arith.divsi", &m, &k8);
        let t = b.binary("arith.addi", &m, &t);
        let t = b.binary("arith.remsi", &t, &k2);
        let long = b.binary("arith.addi", &k30, &t);
        let r4 = b.binary("arith.remsi", &y, &k4);
        let r100 = b.binary("arith.remsi", &y, &k100);
        let r400 = b.binary("arith.remsi", &y, &k400);
        let by4 = b.compare("arith.cmpi", "eq", &r4, &k0);
        let not_by100 = b.compare("arith.cmpi", "ne", &r100, &k0);
        let by400 = b.compare("arith.cmpi", "eq", &r400, &k0);
        let t = b.binary("arith.andi", &by4, &not_by100);
        let leap = b.binary("arith.ori", &t, &by400);
        let leap_days = b.cast("arith.extui", &leap, "i64");
        let february = b.binary("arith.addi", &k28, &leap_days);
        let is_february = b.compare("arith.cmpi", "eq", &m, &k2);
        let last = b.select(&is_february, &february, &long);
        let fits = b.compare("arith.cmpi", "sle", &day, &last);
        let d = b.select(&fits, &day, &last);
        let days = self.days_from_civil(&y, &m, &d);
        self.builder.cast("arith.trunci", &days, "i32")
    }

    /// Year, month and day (each i64) of a date given as days since 1970-01-01 (i32 or
    /// i64), in integer arithmetic (the proleptic Gregorian calendar, as Arrow's date
    /// functions).
    fn civil_from_days(&mut self, days: &Scalar) -> (Scalar, Scalar, Scalar) {
        let b = &mut self.builder;
        let c = |b: &mut BodyBuilder, v: i64| b.const_int(v, "i64");
        let days = match days.ty.as_str() {
            "i64" => days.clone(),
            _ => b.cast("arith.extsi", days, "i64"),
        };
        let k719468 = c(b, 719468);
        let z = b.binary("arith.addi", &days, &k719468);
        let k146097 = c(b, 146097);
        // era = floor(z / 146097)
        let era = b.binary("arith.floordivsi", &z, &k146097);
        let era_days = b.binary("arith.muli", &era, &k146097);
        let doe = b.binary("arith.subi", &z, &era_days);
        let (k1460, k36524, k146096, k365) = (c(b, 1460), c(b, 36524), c(b, 146096), c(b, 365));
        let a = b.binary("arith.divsi", &doe, &k1460);
        let bb = b.binary("arith.divsi", &doe, &k36524);
        let cc = b.binary("arith.divsi", &doe, &k146096);
        let t = b.binary("arith.subi", &doe, &a);
        let t = b.binary("arith.addi", &t, &bb);
        let t = b.binary("arith.subi", &t, &cc);
        let yoe = b.binary("arith.divsi", &t, &k365);
        let k400 = c(b, 400);
        let era400 = b.binary("arith.muli", &era, &k400);
        let y = b.binary("arith.addi", &yoe, &era400);
        let t = days_before(b, &yoe);
        let doy = b.binary("arith.subi", &doe, &t);
        let (k5, k2, k153) = (c(b, 5), c(b, 2), c(b, 153));
        let t = b.binary("arith.muli", &doy, &k5);
        let t = b.binary("arith.addi", &t, &k2);
        let mp = b.binary("arith.divsi", &t, &k153);
        let t = b.binary("arith.muli", &mp, &k153);
        let t = b.binary("arith.addi", &t, &k2);
        let t = b.binary("arith.divsi", &t, &k5);
        let k1 = c(b, 1);
        let day = b.binary("arith.subi", &doy, &t);
        let day = b.binary("arith.addi", &day, &k1);
        let (k10, k3, k9) = (c(b, 10), c(b, 3), c(b, 9));
        let early = b.compare("arith.cmpi", "slt", &mp, &k10);
        let m_early = b.binary("arith.addi", &mp, &k3);
        let m_late = b.binary("arith.subi", &mp, &k9);
        let month = b.select(&early, &m_early, &m_late);
        let jan_feb = b.compare("arith.cmpi", "sle", &month, &k2);
        let y1 = b.binary("arith.addi", &y, &k1);
        let year = b.select(&jan_feb, &y1, &y);
        (year, month, day)
    }
}

/// Days in the years of a 400-year era before year `yoe` of it (i64; years from March,
/// so a year's leap day is its last): 365 a year, plus one every 4th, less one every 100th.
fn days_before(b: &mut BodyBuilder, yoe: &Scalar) -> Scalar {
    let (k365, k4, k100) = (b.const_int(365, "i64"), b.const_int(4, "i64"), b.const_int(100, "i64"));
    let t = b.binary("arith.muli", yoe, &k365);
    let leap4 = b.binary("arith.divsi", yoe, &k4);
    let leap100 = b.binary("arith.divsi", yoe, &k100);
    let t = b.binary("arith.addi", &t, &leap4);
    b.binary("arith.subi", &t, &leap100)
}
