//! Bounds on `time` in a query's filters: to prune the archive's day partitions and to skip a
//! tier that cannot hold a match.

use arrow::datatypes::DataType;
use cts_core::trace::{DAY_MS, col as c, day_string};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Between, BinaryExpr, Cast};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, Operator, col, lit};

/// A literal of the `time` and `record_time` columns (UTC milliseconds).
pub fn ts_literal(ms: i64) -> Expr {
    lit(ScalarValue::TimestampMillisecond(
        Some(ms),
        Some("UTC".into()),
    ))
}

/// Bounds on `time` (ms, inclusive) that `filters` imply.
pub fn time_range(filters: &[Expr]) -> (Option<i64>, Option<i64>) {
    let mut low: Option<i64> = None;
    let mut high: Option<i64> = None;
    for filter in filters {
        for conjunct in split_conjunction(filter) {
            time_bounds(conjunct, &mut low, &mut high);
        }
    }
    (low, high)
}

/// `filters` plus `day >= ...` / `day <= ...` implied by bounds on `time` in them.
pub fn with_day_bounds(filters: &[Expr]) -> Vec<Expr> {
    let (low, high) = time_range(filters);
    // Day names compare as text only for years 0000 to 9999; a bound outside adds nothing.
    const FIRST_MS: i64 = -62_167_219_200_000; // 0000-01-01
    const LAST_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
    let in_range = |ms: &i64| (FIRST_MS..=LAST_MS).contains(ms);
    let mut out = filters.to_vec();
    if let Some(low) = low.filter(in_range) {
        out.push(col(c::DAY).gt_eq(lit(day_string(low.div_euclid(DAY_MS)))));
    }
    if let Some(high) = high.filter(in_range) {
        out.push(col(c::DAY).lt_eq(lit(day_string(high.div_euclid(DAY_MS)))));
    }
    out
}

/// Narrow `[low, high]` (ms, inclusive) by one predicate, where it bounds `time`.
fn time_bounds(expr: &Expr, low: &mut Option<i64>, high: &mut Option<i64>) {
    let mut raise = |v: i64| *low = Some(low.map_or(v, |l| l.max(v)));
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, value) = if is_time(left) {
                match literal_ms(right) {
                    Some(v) => (*op, v),
                    None => return,
                }
            } else if is_time(right) {
                match (literal_ms(left), op.swap()) {
                    (Some(v), Some(op)) => (op, v),
                    _ => return,
                }
            } else {
                return;
            };
            match op {
                Operator::Gt | Operator::GtEq => raise(value),
                Operator::Lt | Operator::LtEq => *high = Some(high.map_or(value, |h| h.min(value))),
                Operator::Eq => {
                    raise(value);
                    *high = Some(high.map_or(value, |h| h.min(value)));
                }
                _ => {}
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low: from,
            high: to,
        }) if is_time(expr) => {
            if let Some(v) = literal_ms(from) {
                raise(v);
            }
            if let Some(v) = literal_ms(to) {
                *high = Some(high.map_or(v, |h| h.min(v)));
            }
        }
        _ => {}
    }
}

fn is_time(expr: &Expr) -> bool {
    match expr {
        Expr::Column(column) => column.name == c::TIME,
        Expr::Cast(Cast { expr, field }) => {
            matches!(field.data_type(), DataType::Timestamp(..)) && is_time(expr)
        }
        _ => false,
    }
}

/// A literal instant as ms since the epoch.
fn literal_ms(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1000),
        ScalarValue::TimestampMillisecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
        ScalarValue::Date32(Some(d)) => i64::from(*d).checked_mul(DAY_MS),
        ScalarValue::Date64(Some(ms)) => Some(*ms),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Expr {
        Expr::Literal(
            ScalarValue::TimestampMillisecond(Some(ms), Some("UTC".into())),
            None,
        )
    }

    #[test]
    fn bounds_on_time_become_bounds_on_day() {
        // 2024-06-19T06:18:51.170Z .. 2024-06-21T00:00:00Z
        let filters = vec![
            col("time").gt_eq(ts(1718777931170)),
            ts(1718928000000).gt(col("time")),
        ];
        let out = with_day_bounds(&filters);
        assert_eq!(out.len(), 4);
        assert_eq!(out[2], col("day").gt_eq(lit("2024-06-19")));
        assert_eq!(out[3], col("day").lt_eq(lit("2024-06-21")));
    }

    #[test]
    fn bounds_beyond_year_9999_add_nothing() {
        // A "no upper limit" sentinel must not exclude every day.
        let filters = vec![col("time").lt(ts(253_402_300_800_000))];
        assert_eq!(with_day_bounds(&filters), filters);
    }

    #[test]
    fn other_predicates_add_nothing() {
        let filters = vec![
            col("trace_name").eq(lit("login")),
            col("time").not_eq(ts(0)),
        ];
        assert_eq!(with_day_bounds(&filters), filters);
    }
}
