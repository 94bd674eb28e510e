//! The suite's pictures, written beside the JSON: one SVG bar chart of
//! every ratio of the run (weft's median over each peer's, per workload),
//! and one of the fairness workloads' lateness per runtime
//! ([`write_latencies`]).
//!
//! Horizontal bars, one group per workload (in the table's order, top
//! down) and one bar per ratio label
//! (`weft-mt/tokio-mt`, `weft-ct/tokio-ct`, ...), with a line at 1.00: a bar
//! short of the line is a workload where weft is faster (or smaller). Bars
//! are cut at [`MAX_RATIO`] so one outlier does not flatten the rest; the
//! table and the JSON keep the exact values.
//!
//! Both charts are drawn by one function, [`draw_bars`]; what differs
//! between them (caption, linear or log axis, where bars are cut, the line
//! at 1.00) is its [`Axis`] argument.

use std::error::Error;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::harness::Outcome;

/// Ratios above this are drawn at this length (the table has the value).
const MAX_RATIO: f64 = 2.0;
/// Pixels per bar.
const BAR_PIXELS: u32 = 9;

/// One group of bars: a workload's name, then each bar's label and value.
type Row<'a> = (&'a str, Vec<(String, f64)>);

/// Writes the ratio chart of `outcomes` to `path` as SVG.
///
/// # Errors
///
/// The drawing backend's error (an unwritable path, say).
pub fn write_ratios(outcomes: &[Outcome<'_>], path: &str) -> Result<(), Box<dyn Error>> {
    let rows: Vec<Row<'_>> = outcomes
        .iter()
        .map(|outcome| {
            let ratios = outcome
                .ratios()
                .into_iter()
                .map(|ratio| (ratio.label, ratio.value))
                .collect();
            (outcome.workload.name, ratios)
        })
        .collect();
    draw_bars(
        path,
        &rows,
        Axis {
            caption: "weft's median / the peer's median (short of 1.00: weft is faster or smaller)",
            desc: "ratio",
            range: 0f64..MAX_RATIO,
            from: 0.0,
            cut: |value| value.min(MAX_RATIO),
            mark: Some(1.0),
        },
    )
}

/// The fairness workloads' lateness figures are drawn from this value up
/// (a log scale needs a floor above zero), in milliseconds.
const MIN_LATENESS_MS: f64 = 0.01;
/// And cut at this one (the table has the value).
const MAX_LATENESS_MS: f64 = 200.0;

/// Writes the latency chart of the fairness workloads in `outcomes` (those
/// whose name starts with `prefix`) to `path` as SVG: one group of bars per
/// workload (a statistic of one load: p50, p99 or max lateness of the 1 ms
/// ticker), one bar per runtime, on a log scale, so each runtime's
/// distribution reads down its bars from p50 to max. Nothing is written if
/// the run had no such workload.
///
/// # Errors
///
/// The drawing backend's error (an unwritable path, say).
pub fn write_latencies(
    outcomes: &[Outcome<'_>],
    prefix: &str,
    path: &str,
) -> Result<(), Box<dyn Error>> {
    let rows: Vec<Row<'_>> = outcomes
        .iter()
        .filter(|outcome| outcome.workload.name.starts_with(prefix))
        .map(|outcome| {
            let medians = outcome
                .results
                .iter()
                .filter_map(|result| {
                    let stats = result.outcome.as_ref().ok()?;
                    Some((result.flavour.label().to_string(), stats.median))
                })
                .collect();
            (outcome.workload.name, medians)
        })
        .collect();
    draw_bars(
        path,
        &rows,
        Axis {
            caption: "lateness of a 1 ms ticker under load, median of the runs (ms, log scale)",
            desc: "ms late",
            range: (MIN_LATENESS_MS..MAX_LATENESS_MS).log_scale(),
            from: MIN_LATENESS_MS,
            cut: |value| value.clamp(MIN_LATENESS_MS, MAX_LATENESS_MS),
            mark: None,
        },
    )
}

/// What differs between the two charts: the caption and the x axis.
struct Axis<X> {
    caption: &'static str,
    /// The x axis's description.
    desc: &'static str,
    /// The x axis: `plotters`' linear range for the ratios, its log scale
    /// for the lateness.
    range: X,
    /// Where every bar starts.
    from: f64,
    /// A value as drawn: cut to the axis (the table has the exact one).
    cut: fn(f64) -> f64,
    /// Where to draw a vertical line across the groups, if anywhere.
    mark: Option<f64>,
}

/// Draws `rows` as horizontal bars to `path` as SVG: one group per row (in
/// order, top down), one bar per label, one colour per label with a legend.
/// Nothing is written if there are no bars.
fn draw_bars<X>(path: &str, rows: &[Row<'_>], axis: Axis<X>) -> Result<(), Box<dyn Error>>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let mut labels: Vec<&str> = Vec::new();
    for (_, bars) in rows {
        for (label, _) in bars {
            if !labels.contains(&label.as_str()) {
                labels.push(label);
            }
        }
    }
    if rows.is_empty() || labels.is_empty() {
        return Ok(());
    }
    // One segment per bar, plus one blank segment between workloads.
    let per_row = labels.len() + 1;
    let segments = rows.len() * per_row;
    let height = 90 + BAR_PIXELS * u32::try_from(segments)?;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(axis.caption, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(120)
        .build_cartesian_2d(axis.range, (0..segments).into_segmented())?;
    // Segment 0 is at the bottom: draw the first workload in the top group.
    let group_of = |row: usize| rows.len() - 1 - row;
    let names: Vec<&str> = rows.iter().rev().map(|(name, _)| *name).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(segments)
        .y_label_formatter(&|value| match value {
            // The workload's name beside its middle bar.
            SegmentValue::CenterOf(segment) if segment % per_row == labels.len() / 2 => names
                .get(segment / per_row)
                .map_or_else(String::new, |name| (*name).to_string()),
            _ => String::new(),
        })
        .x_desc(axis.desc)
        .draw()?;
    for (series, label) in labels.iter().enumerate() {
        let color = Palette99::pick(series).to_rgba();
        let bars = rows.iter().enumerate().filter_map(|(row, (_, bars))| {
            let value = bars.iter().find(|(l, _)| l == label)?.1;
            let segment = group_of(row) * per_row + (labels.len() - 1 - series);
            Some(Rectangle::new(
                [
                    (axis.from, SegmentValue::Exact(segment)),
                    ((axis.cut)(value), SegmentValue::Exact(segment + 1)),
                ],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], color.filled()));
    }
    if let Some(mark) = axis.mark {
        chart.draw_series(LineSeries::new(
            [
                (mark, SegmentValue::Exact(0)),
                (mark, SegmentValue::Exact(segments)),
            ],
            BLACK.stroke_width(1),
        ))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
