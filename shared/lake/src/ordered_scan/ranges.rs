//! Which rows of a file a scan reads, as ranges: the Parquet selection and the row numbers.
//!
//! A scan of a month's used items skips a few thousand of a file's ~1.7M rows. Listing the rows
//! it reads (the complement of the skipped ones) cost a 1.7M-element vector per file and per
//! scan, built row by row; as ranges it is a few thousand pairs, and the row numbers of each
//! decoded batch are cut from them.

use arrow::array::Int64Array;
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};

/// The rows a scan reads of a file of `total` rows, as ascending, disjoint, non-empty ranges
/// `[start, end)`: `rows` (ascending, distinct) themselves, or every other row when `except`.
pub(super) fn read_ranges(rows: &[i64], except: bool, total: i64) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    // Skipped rows past the file's end skip nothing; rows to read past it are kept, so that
    // Parquet refuses the selection rather than the scan silently reading less.
    for &row in rows.iter().filter(|&&r| !except || (0..total).contains(&r)) {
        match runs.last_mut() {
            Some((_, end)) if *end == row => *end += 1,
            _ => runs.push((row, row + 1)),
        }
    }
    if !except {
        return runs;
    }
    let mut gaps = Vec::with_capacity(runs.len() + 1);
    let mut next = 0;
    for (start, end) in runs {
        if start > next {
            gaps.push((next, start));
        }
        next = end;
    }
    if total > next {
        gaps.push((next, total));
    }
    gaps
}

/// The Parquet row selection of `ranges` (from [`read_ranges`]) in a file of `total` rows.
pub(super) fn selection(ranges: &[(i64, i64)], total: i64) -> RowSelection {
    let mut selectors = Vec::with_capacity(2 * ranges.len() + 1);
    let mut next = 0i64; // the first row not yet skipped or selected
    for &(start, end) in ranges {
        if start > next {
            selectors.push(RowSelector::skip((start - next) as usize));
        }
        selectors.push(RowSelector::select((end - start) as usize));
        next = end;
    }
    if total > next {
        selectors.push(RowSelector::skip((total - next) as usize));
    }
    RowSelection::from(selectors)
}

/// The row numbers of the rows a selection yields, batch after batch, in file order.
#[derive(Debug)]
pub(super) struct RowNumbers {
    ranges: Vec<(i64, i64)>,
    /// The range the next row comes from, and that row.
    at: usize,
    next: i64,
}

impl RowNumbers {
    pub(super) fn new(ranges: Vec<(i64, i64)>) -> Self {
        let next = ranges.first().map_or(0, |r| r.0);
        RowNumbers {
            ranges,
            at: 0,
            next,
        }
    }

    /// The numbers of the next `n` rows.
    pub(super) fn take(&mut self, n: usize) -> Int64Array {
        let mut out: Vec<i64> = Vec::with_capacity(n);
        while out.len() < n && self.at < self.ranges.len() {
            let end = self.ranges[self.at].1;
            let k = (end - self.next).min((n - out.len()) as i64);
            out.extend(self.next..self.next + k);
            self.next += k;
            if self.next == end {
                self.at += 1;
                self.next = self.ranges.get(self.at).map_or(end, |r| r.0);
            }
        }
        Int64Array::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_skips_the_gaps_between_runs_of_rows() {
        let ranges = read_ranges(&[1, 2, 3, 7, 9], false, 12);
        assert_eq!(ranges, vec![(1, 4), (7, 8), (9, 10)]);
        let got: Vec<RowSelector> = selection(&ranges, 12).into();
        assert_eq!(
            got,
            vec![
                RowSelector::skip(1),
                RowSelector::select(3),
                RowSelector::skip(3),
                RowSelector::select(1),
                RowSelector::skip(1),
                RowSelector::select(1),
                RowSelector::skip(2),
            ]
        );
        let none: Vec<RowSelector> = selection(&read_ranges(&[], false, 5), 5).into();
        assert_eq!(none, vec![RowSelector::skip(5)]);
    }

    #[test]
    fn the_rows_read_without_skipped_ones_are_every_other_row() {
        assert_eq!(read_ranges(&[0, 2, 5], true, 6), vec![(1, 2), (3, 5)]);
        assert_eq!(read_ranges(&[], true, 3), vec![(0, 3)]);
        assert_eq!(read_ranges(&[0, 1, 2], true, 3), Vec::<(i64, i64)>::new());
        // Rows past the file's end (a stale record) skip nothing.
        assert_eq!(read_ranges(&[1, 9], true, 3), vec![(0, 1), (2, 3)]);
    }

    #[test]
    fn row_numbers_follow_the_ranges_across_batches() {
        let mut numbers = RowNumbers::new(vec![(1, 2), (3, 6), (8, 9)]);
        assert_eq!(numbers.take(2).values().to_vec(), vec![1, 3]);
        assert_eq!(numbers.take(3).values().to_vec(), vec![4, 5, 8]);
        assert_eq!(numbers.take(4).len(), 0);
    }
}
