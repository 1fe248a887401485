//! Geometry of the report page's charts: round scales, horizontal bars (labels above each bar, so
//! long Vietnamese names stay legible on a 360 px phone and in print) and a line by year. Pure
//! numbers in a fixed SVG coordinate space; the client only draws them. No IO.

/// A scale's top and its ticks: 0, then round steps (1, 2 or 5 × 10ⁿ) up to `top` ≥ the maximum.
pub fn nice_scale(max: f64, at_most_ticks: usize) -> (f64, Vec<f64>) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, vec![0.0, 1.0]);
    }
    let rough = max / at_most_ticks.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(10.0 * magnitude);
    // Whole counts never get fractional ticks.
    let step = step.max(1.0);
    let top = (max / step).ceil() * step;
    let ticks = (0..=((top / step).round() as usize)).map(|i| i as f64 * step).collect();
    (top, ticks)
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: usize,
    /// Where the label's baseline sits (above the bar).
    pub label_y: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Horizontal bars, one row per item: the label on a line of its own, the bar under it, the
/// value at the bar's end.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    /// Where bars start (x) and how long a bar of value `top` is.
    pub left: f64,
    pub span: f64,
    pub top: f64,
    pub bars: Vec<Bar>,
}

pub const BAR_ROW: f64 = 34.0;
const BAR_HEIGHT: f64 = 14.0;
const LABEL_GAP: f64 = 16.0;

/// Lays out `items` in a chart `width` units wide (the SVG scales to its box; 360 units read
/// well on a phone). Room is kept at the right for the longest value's digits.
pub fn bars(items: &[(String, usize)], width: f64) -> BarChart {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0) as f64;
    let (top, _) = nice_scale(max, 4);
    let digits = format!("{}", max as u64).len() as f64 + 1.0;
    let left = 2.0;
    let span = (width - left - digits * 8.0 - 6.0).max(40.0);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let row = i as f64 * BAR_ROW;
            Bar {
                label: label.clone(),
                value: *value,
                label_y: row + 12.0,
                y: row + LABEL_GAP,
                width: if top > 0.0 { span * (*value as f64) / top } else { 0.0 },
                height: BAR_HEIGHT,
            }
        })
        .collect();
    BarChart { width, height: (items.len() as f64 * BAR_ROW).max(BAR_ROW), left, span, top, bars }
}

/// A point of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: usize,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub width: f64,
    pub height: f64,
    /// The plot area: x from `left` to `width - right`, y from `top_y` (the scale's top) down to
    /// `base_y` (zero).
    pub left: f64,
    pub base_y: f64,
    pub top_y: f64,
    pub points: Vec<Point>,
    /// (y, value) of each horizontal grid line.
    pub grid: Vec<(f64, f64)>,
    /// The SVG path through the points ("M x y L x y …").
    pub path: String,
    /// Show every n-th label on the x axis, so twelve years still fit on a phone.
    pub label_every: usize,
}

/// A line through `points` (e.g. models registered per year), in a `width` × `height` box.
pub fn line(points: &[(String, usize)], width: f64, height: f64) -> LineChart {
    let (left, right, top_pad, bottom) = (40.0, 12.0, 10.0, 26.0);
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0) as f64;
    let (top, ticks) = nice_scale(max, 4);
    let (base_y, top_y) = (height - bottom, top_pad);
    let plot_w = width - left - right;
    let y_of = |v: f64| base_y - (base_y - top_y) * v / top;
    let n = points.len();
    let laid: Vec<Point> = points
        .iter()
        .enumerate()
        .map(|(i, (label, value))| Point {
            label: label.clone(),
            value: *value,
            x: if n > 1 { left + plot_w * i as f64 / (n - 1) as f64 } else { left + plot_w / 2.0 },
            y: y_of(*value as f64),
        })
        .collect();
    let path = laid
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}{:.1} {:.1}", if i == 0 { "M" } else { " L" }, p.x, p.y))
        .collect();
    // About 44 units per label keeps four-digit years apart.
    let label_every = ((n as f64 * 44.0) / plot_w).ceil().max(1.0) as usize;
    LineChart { width, height, left, base_y, top_y, points: laid, grid: ticks.iter().map(|t| (y_of(*t), *t)).collect(), path, label_every }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_end_on_a_round_number_at_or_above_the_maximum() {
        assert_eq!(nice_scale(0.0, 4), (1.0, vec![0.0, 1.0]));
        assert_eq!(nice_scale(3.0, 4).0, 3.0);
        assert_eq!(nice_scale(7.0, 4), (8.0, vec![0.0, 2.0, 4.0, 6.0, 8.0]));
        assert_eq!(nice_scale(78_494.0, 4), (80_000.0, vec![0.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0]));
        let (top, ticks) = nice_scale(191.0, 4);
        assert!(top >= 191.0 && ticks.len() <= 6, "{top} {ticks:?}");
        assert!(ticks.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn bars_are_proportional_and_the_longest_fits() {
        let chart = bars(&[("Kinh tế".into(), 50), ("Văn hóa – xã hội".into(), 25), ("Khác".into(), 0)], 360.0);
        assert_eq!(chart.bars.len(), 3);
        assert!((chart.bars[0].width - 2.0 * chart.bars[1].width).abs() < 1e-9);
        assert_eq!(chart.bars[2].width, 0.0);
        assert!(chart.left + chart.bars[0].width <= chart.width, "{chart:?}");
        assert!(chart.bars[1].label_y > chart.bars[0].y + chart.bars[0].height, "labels do not overlap the bar above");
        assert_eq!(chart.height, 3.0 * BAR_ROW);
    }

    #[test]
    fn a_line_runs_left_to_right_with_zero_at_the_base() {
        let years: Vec<(String, usize)> = (2009..=2020).map(|y| (y.to_string(), (y - 2008) as usize * 10)).collect();
        let chart = line(&years, 360.0, 180.0);
        assert_eq!(chart.points.len(), 12);
        assert!(chart.points.windows(2).all(|w| w[1].x > w[0].x && w[1].y < w[0].y), "rising values go up");
        assert_eq!(chart.grid[0], (chart.base_y, 0.0));
        assert!(chart.path.starts_with('M') && chart.path.matches(" L").count() == 11);
        assert!(chart.label_every >= 2, "twelve years do not fit side by side in 360 units");
        let one = line(&[("2025".into(), 3)], 360.0, 180.0);
        assert_eq!(one.points[0].x, 40.0 + (360.0 - 52.0) / 2.0);
    }
}
