//! The report's SVG plots: ns/op against entries (log-log) for each operation and library, and
//! linear memory against the byte budget. Invariant: a plot is written only for data that
//! exists, and every written file is returned so the report links exactly those.

use std::path::Path;

use plotters::prelude::*;

use crate::report::{OPS, RUST_LIBRARIES};
use crate::Results;

/// A written plot: its file name and what it shows.
pub struct Written {
    pub file: String,
    pub title: String,
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plot: {e:?}")
}

pub(crate) type Series = (String, Vec<(f64, f64)>);

pub(crate) fn line_chart(
    path: &Path,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    dashed_last: bool,
) -> Result<(), String> {
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x_lo = x_lo.min(x);
        x_hi = x_hi.max(x);
        y_lo = y_lo.min(y);
        y_hi = y_hi.max(y);
    }
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x_lo * 0.8..x_hi * 1.25).log_scale(),
            (y_lo * 0.7..y_hi * 6.0).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| format_count(*x))
        .y_label_formatter(&|y| format_count(*y))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let style = ShapeStyle::from(color).stroke_width(2);
        if dashed_last && i == series.len() - 1 {
            chart
                .draw_series(DashedLineSeries::new(pts.iter().copied(), 6, 4, style))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        } else {
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), style))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .draw_series(
                pts.iter()
                    .map(|&p| Circle::new(p, 3, ShapeStyle::from(color).filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// 1000 -> "1k", 1e6 -> "1M", 12.5 -> "12.5".
pub fn format_count(x: f64) -> String {
    let trim = |v: f64| {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if x >= 1e6 {
        format!("{}M", trim(x / 1e6))
    } else if x >= 1e3 {
        format!("{}k", trim(x / 1e3))
    } else {
        trim(x)
    }
}

pub fn all(results: &Results, dir: &Path) -> Result<Vec<Written>, String> {
    let mut written = Vec::new();
    for (op, title) in OPS {
        let mut series: Vec<Series> = Vec::new();
        let rows = results.native.iter().chain(results.python.iter());
        let mut libraries: Vec<String> = RUST_LIBRARIES.iter().map(|s| s.to_string()).collect();
        for r in results.python.iter() {
            if !libraries.contains(&r.library) {
                libraries.push(r.library.clone());
            }
        }
        let rows: Vec<_> = rows.filter(|r| r.op == *op).collect();
        for lib in libraries {
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.library == lib)
                .map(|r| (r.entries as f64, r.ns_per_op))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if !pts.is_empty() {
                let python = results.python.iter().any(|r| r.library == lib);
                let name = if python {
                    format!("{lib} (Python)")
                } else {
                    lib
                };
                series.push((name, pts));
            }
        }
        if series.is_empty() {
            continue;
        }
        let file = format!("{op}.svg");
        line_chart(
            &dir.join(&file),
            &format!("{title}: ns per operation"),
            "entries",
            "ns/op",
            &series,
            false,
        )?;
        written.push(Written {
            file,
            title: title.to_string(),
        });
    }
    if !results.memory.is_empty() {
        let mib = |b: usize| b as f64 / (1 << 20) as f64;
        let pick_policy = |policy: &str, f: &dyn Fn(&crate::memory::MemoryRow) -> f64| {
            results
                .memory
                .iter()
                .filter(|m| m.policy == policy && m.removal_log_capacity == 0)
                .map(|m| (mib(m.budget), f(m)))
                .collect::<Vec<_>>()
        };
        let pick = |f: &dyn Fn(&crate::memory::MemoryRow) -> f64| pick_policy("lru", f);
        let series = vec![
            ("budget".to_string(), pick(&|m| mib(m.budget))),
            (
                "after a fill with 100 B values".to_string(),
                pick(&|m| mib(m.after_fill)),
            ),
            (
                "after a churn of 10 budgets, 16 B - 64 KiB".to_string(),
                pick(&|m| mib(m.after_churn)),
            ),
            (
                "S3-FIFO, after the same churn".to_string(),
                pick_policy("s3-fifo", &|m| mib(m.after_churn)),
            ),
            (
                "bound: 1.25 x budget + 1 MiB".to_string(),
                pick(&|m| mib(m.bound())),
            ),
        ];
        let file = "memory.svg".to_string();
        line_chart(
            &dir.join(&file),
            "Component linear memory vs byte budget",
            "budget (MiB)",
            "linear memory (MiB)",
            &series,
            true,
        )?;
        written.push(Written {
            file,
            title: "memory".into(),
        });
    }
    written.extend(crate::hitratio_report::plots(results, dir)?);
    Ok(written)
}
