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

use std::error::Error;

use plotters::prelude::*;

use super::harness::Outcome;

/// Ratios above this are drawn at this length (the table has the value).
const MAX_RATIO: f64 = 2.0;
/// Pixels per bar.
const BAR_PIXELS: u32 = 9;

/// Writes the ratio chart of `outcomes` to `path` as SVG.
///
/// # Errors
///
/// The drawing backend's error (an unwritable path, say).
pub fn write_ratios(outcomes: &[Outcome<'_>], path: &str) -> Result<(), Box<dyn Error>> {
    let rows: Vec<(&str, Vec<(String, f64)>)> = outcomes
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
    let mut labels: Vec<String> = Vec::new();
    for (_, ratios) in &rows {
        for (label, _) in ratios {
            if !labels.contains(label) {
                labels.push(label.clone());
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
        .caption(
            "weft's median / the peer's median (short of 1.00: weft is faster or smaller)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(120)
        .build_cartesian_2d(0f64..MAX_RATIO, (0..segments).into_segmented())?;
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
        .x_desc("ratio")
        .draw()?;
    for (series, label) in labels.iter().enumerate() {
        let color = Palette99::pick(series).to_rgba();
        let bars = rows.iter().enumerate().filter_map(|(row, (_, ratios))| {
            let value = ratios.iter().find(|(l, _)| l == label)?.1;
            let segment = group_of(row) * per_row + (labels.len() - 1 - series);
            Some(Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(segment)),
                    (value.min(MAX_RATIO), SegmentValue::Exact(segment + 1)),
                ],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], color.filled()));
    }
    chart.draw_series(LineSeries::new(
        [
            (1.0, SegmentValue::Exact(0)),
            (1.0, SegmentValue::Exact(segments)),
        ],
        BLACK.stroke_width(1),
    ))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
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
    let rows: Vec<(&str, Vec<(&str, f64)>)> = outcomes
        .iter()
        .filter(|outcome| outcome.workload.name.starts_with(prefix))
        .map(|outcome| {
            let medians = outcome
                .results
                .iter()
                .filter_map(|result| {
                    let stats = result.outcome.as_ref().ok()?;
                    Some((result.flavour.label(), stats.median))
                })
                .collect();
            (outcome.workload.name, medians)
        })
        .collect();
    let mut labels: Vec<&str> = Vec::new();
    for (_, medians) in &rows {
        for (label, _) in medians {
            if !labels.contains(label) {
                labels.push(label);
            }
        }
    }
    if rows.is_empty() || labels.is_empty() {
        return Ok(());
    }
    let per_row = labels.len() + 1;
    let segments = rows.len() * per_row;
    let height = 90 + BAR_PIXELS * u32::try_from(segments)?;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "lateness of a 1 ms ticker under load, median of the runs (ms, log scale)",
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(120)
        .build_cartesian_2d(
            (MIN_LATENESS_MS..MAX_LATENESS_MS).log_scale(),
            (0..segments).into_segmented(),
        )?;
    let group_of = |row: usize| rows.len() - 1 - row;
    let names: Vec<&str> = rows.iter().rev().map(|(name, _)| *name).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(segments)
        .y_label_formatter(&|value| match value {
            SegmentValue::CenterOf(segment) if segment % per_row == labels.len() / 2 => names
                .get(segment / per_row)
                .map_or_else(String::new, |name| (*name).to_string()),
            _ => String::new(),
        })
        .x_desc("ms late")
        .draw()?;
    for (series, label) in labels.iter().enumerate() {
        let color = Palette99::pick(series).to_rgba();
        let bars = rows.iter().enumerate().filter_map(|(row, (_, medians))| {
            let value = medians.iter().find(|(l, _)| l == label)?.1;
            let segment = group_of(row) * per_row + (labels.len() - 1 - series);
            Some(Rectangle::new(
                [
                    (MIN_LATENESS_MS, SegmentValue::Exact(segment)),
                    (
                        value.clamp(MIN_LATENESS_MS, MAX_LATENESS_MS),
                        SegmentValue::Exact(segment + 1),
                    ),
                ],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], color.filled()));
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
