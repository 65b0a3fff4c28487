//! Accumulators of `stats` aggregation functions. Every accumulator merges, and its result never
//! depends on the order values arrived in: sums are exact (Shewchuk's algorithm, correctly
//! rounded at the end), ties are broken by @timestamp, @ptr and row index.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::ast::{AggFn, Aggregation};
use super::value::{sort_cmp, Value};

/// An exactly rounded floating-point sum (Python's `math.fsum`): the same result for the same
/// values in any order and any split.
#[derive(Clone, Debug, Default)]
pub(crate) struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    pub(crate) fn add(&mut self, mut x: f64) {
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    pub(crate) fn merge(&mut self, other: &ExactSum) {
        for p in &other.partials {
            self.add(*p);
        }
    }

    pub(crate) fn value(&self) -> f64 {
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

/// Where a value came from, to break ties deterministically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub(crate) timestamp: i64,
    pub(crate) ptr: String,
    pub(crate) seq: u32,
}

/// The running state of one aggregation in one group.
#[derive(Clone, Debug)]
pub(crate) enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum {
        sum: ExactSum,
        n: u64,
    },
    Stddev {
        sum: ExactSum,
        squares: ExactSum,
        n: u64,
    },
    /// min, max, sortsFirst, sortsLast: the best value in sort order (`true`: the last one).
    Best {
        value: Option<Value>,
        last: bool,
    },
    Pct(Vec<f64>),
    /// earliest / latest: the value of the row with the least (greatest) @timestamp.
    Timed {
        best: Option<(Origin, Value)>,
        latest: bool,
    },
}

impl Acc {
    pub(crate) fn new(func: AggFn) -> Acc {
        match func {
            AggFn::CountAll | AggFn::Count => Acc::Count(0),
            AggFn::CountDistinct => Acc::Distinct(HashSet::new()),
            AggFn::Sum | AggFn::Avg => Acc::Sum {
                sum: ExactSum::default(),
                n: 0,
            },
            AggFn::Stddev => Acc::Stddev {
                sum: ExactSum::default(),
                squares: ExactSum::default(),
                n: 0,
            },
            AggFn::Min | AggFn::SortsFirst => Acc::Best {
                value: None,
                last: false,
            },
            AggFn::Max | AggFn::SortsLast => Acc::Best {
                value: None,
                last: true,
            },
            AggFn::Pct => Acc::Pct(Vec::new()),
            AggFn::Earliest => Acc::Timed {
                best: None,
                latest: false,
            },
            AggFn::Latest => Acc::Timed {
                best: None,
                latest: true,
            },
        }
    }

    /// Adds one row's value. `count(*)` passes `Some` for every row.
    pub(crate) fn add(&mut self, v: Option<Value>, origin: impl FnOnce() -> Option<Origin>) {
        let Some(v) = v else { return };
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                set.insert(v.render());
            }
            Acc::Sum { sum, n } => {
                if let Some(x) = v.as_f64() {
                    sum.add(x);
                    *n += 1;
                }
            }
            Acc::Stddev { sum, squares, n } => {
                if let Some(x) = v.as_f64() {
                    sum.add(x);
                    squares.add(x * x);
                    *n += 1;
                }
            }
            Acc::Best { value, last } => offer_best(value, v, *last),
            Acc::Pct(values) => {
                if let Some(x) = v.as_f64() {
                    values.push(x);
                }
            }
            Acc::Timed { best, latest } => {
                if let Some(o) = origin() {
                    offer_timed(best, o, v, *latest);
                }
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Acc) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Distinct(a), Acc::Distinct(b)) => a.extend(b),
            (Acc::Sum { sum, n }, Acc::Sum { sum: s2, n: n2 }) => {
                sum.merge(&s2);
                *n += n2;
            }
            (
                Acc::Stddev { sum, squares, n },
                Acc::Stddev {
                    sum: s2,
                    squares: q2,
                    n: n2,
                },
            ) => {
                sum.merge(&s2);
                squares.merge(&q2);
                *n += n2;
            }
            (Acc::Best { value, last }, Acc::Best { value: Some(v), .. }) => {
                offer_best(value, v, *last)
            }
            (Acc::Pct(a), Acc::Pct(b)) => a.extend(b),
            (
                Acc::Timed { best, latest },
                Acc::Timed {
                    best: Some((o, v)), ..
                },
            ) => offer_timed(best, o, v, *latest),
            _ => {}
        }
    }

    /// The aggregation's value (`None`: the column is left out of the row).
    pub(crate) fn result(&self, agg: &Aggregation) -> Option<Value> {
        match self {
            Acc::Count(n) => Some(Value::Num(*n as f64)),
            Acc::Distinct(set) => Some(Value::Num(set.len() as f64)),
            Acc::Sum { sum, n } => {
                if *n == 0 {
                    return None;
                }
                if agg.func == AggFn::Avg {
                    Value::num(sum.value() / *n as f64)
                } else {
                    Value::num(sum.value())
                }
            }
            Acc::Stddev { sum, squares, n } => {
                if *n == 0 {
                    return None;
                }
                if *n == 1 {
                    return Some(Value::Num(0.0));
                }
                let n = *n as f64;
                let s = sum.value();
                let variance = ((squares.value() - s * s / n) / (n - 1.0)).max(0.0);
                Value::num(variance.sqrt())
            }
            Acc::Best { value, .. } => value.clone(),
            Acc::Pct(values) => {
                if values.is_empty() {
                    return None;
                }
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let rank = (agg.percent / 100.0 * sorted.len() as f64).ceil() as usize;
                Value::num(sorted[rank.clamp(1, sorted.len()) - 1])
            }
            Acc::Timed { best, .. } => best.as_ref().map(|(_, v)| v.clone()),
        }
    }
}

fn offer_best(slot: &mut Option<Value>, v: Value, last: bool) {
    let better = match slot {
        None => true,
        Some(cur) => {
            let ord = sort_cmp(&v, cur);
            if last {
                ord == Ordering::Greater
            } else {
                ord == Ordering::Less
            }
        }
    };
    if better {
        *slot = Some(v);
    }
}

fn offer_timed(slot: &mut Option<(Origin, Value)>, o: Origin, v: Value, latest: bool) {
    let better = match slot {
        None => true,
        Some((cur, _)) => {
            let by_time = if latest {
                o.timestamp.cmp(&cur.timestamp).reverse()
            } else {
                o.timestamp.cmp(&cur.timestamp)
            };
            by_time
                .then_with(|| o.ptr.cmp(&cur.ptr))
                .then_with(|| o.seq.cmp(&cur.seq))
                == Ordering::Less
        }
    };
    if better {
        *slot = Some((o, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_order_independent() {
        let xs = [0.1, 0.2, 0.3, 1e16, -1e16, 3.5, 1e-9];
        let mut a = ExactSum::default();
        xs.iter().for_each(|x| a.add(*x));
        let mut b = ExactSum::default();
        xs.iter().rev().for_each(|x| b.add(*x));
        assert_eq!(a.value(), b.value());
        let mut c = ExactSum::default();
        c.add(0.1);
        c.add(0.2);
        assert_eq!(c.value(), 0.30000000000000004);
    }
}
