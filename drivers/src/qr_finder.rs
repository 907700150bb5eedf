//! A cheap look for QR finder patterns (the three 1:1:3:1:1 squares in a
//! code's corners) in a grey picture, before rqrr is asked: a frame without
//! three of them holds no readable code and is skipped, and a frame with
//! them is decoded only in the region they span. rqrr's own search
//! thresholds every pixel, then flood-fills regions and clones the picture
//! for each candidate group, which is where a 640×480 frame's time went.
//!
//! Each row is thresholded against the mean of its neighbourhood (a window
//! of ±`w/16` pixels, as rqrr's moving average, so uneven light does not
//! matter), cut into runs, and five runs black-white-black-white-black in
//! the ratio 1:1:3:1:1 (each within 60 % of a module) are a hit; hits in
//! neighbouring rows at the same place are one finder pattern. A line
//! through a finder's centre shows that ratio at any rotation.

/// The part of a picture three finder patterns span, with a margin for the
/// code's edge and its quiet zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Region {
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }
}

/// One finder pattern: its centre, its width (7 modules) and how many rows
/// showed it.
#[derive(Debug, Clone, Copy)]
struct Finder {
    cx: usize,
    last_y: usize,
    first_y: usize,
    width: usize,
    rows: usize,
}

/// Reusable buffers for [`find_region`] (one per camera loop, so a frame
/// allocates nothing).
#[derive(Debug, Default)]
pub struct FinderScratch {
    sums: Vec<u32>,
    runs: Vec<(usize, usize)>,
    finders: Vec<Finder>,
    /// Indices of the finders seen in the last rows (the ones a hit may continue).
    open: Vec<usize>,
}

/// The region holding the finder patterns of `luma` (`w`×`h` bytes, row
/// major), or None when fewer than three are seen.
pub fn find_region(luma: &[u8], w: usize, h: usize, scratch: &mut FinderScratch) -> Option<Region> {
    if w < 21 || h < 21 || luma.len() < w * h {
        return None;
    }
    let radius = (w / 16).max(4);
    scratch.finders.clear();
    scratch.open.clear();
    // Every other row: a finder's centre square spans 3 modules, at least
    // 6 rows at the 2 pixels a module the camera path reads.
    for y in (0..h).step_by(2) {
        let finders = &scratch.finders;
        scratch.open.retain(|&i| finders[i].last_y + 2 >= y);
        let row = &luma[y * w..][..w];
        // Prefix sums: the neighbourhood mean of each pixel in O(1).
        scratch.sums.clear();
        scratch.sums.push(0);
        let mut acc = 0u32;
        for &p in row {
            acc += u32::from(p);
            scratch.sums.push(acc);
        }
        // Runs of black and white, as (start, length); black first or not.
        scratch.runs.clear();
        let mut start = 0;
        let mut prev_black = None;
        for (x, &p) in row.iter().enumerate() {
            let (a, b) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            let sum = scratch.sums[b] - scratch.sums[a];
            // Black: darker than 95 % of the neighbourhood's mean.
            let black = u32::from(p) * 100 * ((b - a) as u32) < sum * 95;
            if prev_black != Some(black) {
                if prev_black.is_some() {
                    scratch.runs.push((start, x - start));
                }
                start = x;
                prev_black = Some(black);
            }
        }
        let Some(last_black) = prev_black else { continue };
        scratch.runs.push((start, w - start));
        // The colour of run i: the last run's colour, alternating back.
        let n = scratch.runs.len();
        let black_at = |i: usize| last_black == (n - 1 - i).is_multiple_of(2);
        for i in 0..n.saturating_sub(4) {
            if !black_at(i) {
                continue;
            }
            let r = &scratch.runs[i..i + 5];
            if is_finder_ratio([r[0].1, r[1].1, r[2].1, r[3].1, r[4].1]) {
                let width = r.iter().map(|r| r.1).sum::<usize>();
                let cx = r[2].0 + r[2].1 / 2;
                add_hit(&mut scratch.finders, &mut scratch.open, cx, y, width);
            }
        }
    }
    // A finder pattern shows over its centre square's rows (3 modules): at
    // least two, and at least half as many as the best one's, which drops
    // chance hits in a code's data and in the background.
    let best = scratch.finders.iter().map(|f| f.rows).max().unwrap_or(0);
    let found: Vec<&Finder> = scratch.finders.iter().filter(|f| f.rows >= 2 && f.rows * 2 >= best).collect();
    if found.len() < 3 {
        return None;
    }
    let margin = found.iter().map(|f| f.width).max().unwrap_or(0) + 8;
    let x0 = found.iter().map(|f| f.cx).min()?.saturating_sub(margin);
    let x1 = (found.iter().map(|f| f.cx).max()? + margin).min(w);
    let y0 = found.iter().map(|f| (f.first_y + f.last_y) / 2).min()?.saturating_sub(margin);
    let y1 = (found.iter().map(|f| (f.first_y + f.last_y) / 2).max()? + margin).min(h);
    Some(Region { x0: x0 as u32, y0: y0 as u32, x1: x1 as u32, y1: y1 as u32 })
}

/// Runs in the ratio 1:1:3:1:1: each single run within 0.6 of a module,
/// the centre within 1.2 (blur moves both of its edges), ZXing's test made
/// a little more lenient.
fn is_finder_ratio(runs: [usize; 5]) -> bool {
    let total = runs.iter().sum::<usize>() as i64;
    if total < 7 {
        return false;
    }
    // A module is total/7: compare in sevenths (and tenths) to stay in integers.
    let single = |r: usize| ((r as i64) * 7 - total).abs() * 10 <= total * 6;
    let centre = ((runs[2] as i64) * 7 - 3 * total).abs() * 10 <= total * 12;
    single(runs[0]) && single(runs[1]) && centre && single(runs[3]) && single(runs[4])
}

/// Adds a row's hit to the open finder pattern it continues, or starts one.
fn add_hit(finders: &mut Vec<Finder>, open: &mut Vec<usize>, cx: usize, y: usize, width: usize) {
    for &i in open.iter() {
        let f = &mut finders[i];
        if f.last_y < y && cx.abs_diff(f.cx) * 2 <= f.width && width.abs_diff(f.width) * 2 <= f.width {
            f.last_y = y;
            f.rows += 1;
            return;
        }
    }
    // A picture of stripes or noise gives many hits: past this many, it is
    // no QR code's three corners anyway.
    if finders.len() < 4096 {
        open.push(finders.len());
        finders.push(Finder { cx, last_y: y, first_y: y, width, rows: 1 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_allows_blur_but_not_other_patterns() {
        assert!(is_finder_ratio([4, 4, 12, 4, 4]));
        assert!(is_finder_ratio([2, 2, 6, 2, 2]));
        assert!(is_finder_ratio([5, 3, 13, 4, 3]));
        assert!(!is_finder_ratio([4, 4, 4, 4, 4]));
        assert!(!is_finder_ratio([12, 4, 4, 4, 4]));
        assert!(!is_finder_ratio([1, 1, 2, 1, 1]));
    }
}
