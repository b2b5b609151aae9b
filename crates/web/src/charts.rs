//! Charts drawn on the server as SVG by `plotters`: a line for a trend over periods and bars to
//! compare areas. Each SVG carries a title and a description for screen readers, and every
//! page shows the same figures in a table beside it.

use plotters::prelude::*;

const WIDTH: u32 = 720;
const LINE: RGBColor = RGBColor(0x1f, 0x4e, 0x79);
const BAR: RGBColor = RGBColor(0x2e, 0x6d, 0xa4);
const TEXT: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Marks the SVG as an image named by its title and description, and lets it shrink with the
/// page (its viewBox keeps the proportions).
fn accessible(svg: String, id: &str, title: &str, description: &str) -> String {
    let head =
        format!("<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" focusable=\"false\" ");
    let body = svg.replacen("<svg ", &head, 1);
    let Some(end) = body.find('>') else { return body };
    format!(
        "{}<title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>{}",
        &body[..=end],
        escape(title),
        escape(description),
        &body[end + 1..]
    )
}

fn upper_bound(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max <= 0.0 { 1.0 } else { max * 1.15 }
}

/// A trend: one point per period (a gap where the figure is unknown).
pub fn trend(id: &str, title: &str, description: &str, y_label: &str, points: &[(String, Option<f64>)]) -> String {
    let mut svg = String::new();
    let n = points.len().max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 280)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let top = upper_bound(points.iter().filter_map(|p| p.1));
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .margin_right(40)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0..(n as i32 - 1).max(1), 0.0..top)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(WHITE)
                .x_labels(n)
                .x_label_formatter(&|i| points.get(*i as usize).map(|p| p.0.clone()).unwrap_or_default())
                .y_desc(y_label)
                .y_label_formatter(&|v| format_number(*v))
                .label_style(("sans-serif", 16).into_font().color(&TEXT))
                .axis_desc_style(("sans-serif", 16).into_font().color(&TEXT))
                .draw()?;
            // A line through consecutive known points; an unknown period breaks it.
            let mut run: Vec<(i32, f64)> = vec![];
            let mut runs = vec![];
            for (i, (_, v)) in points.iter().enumerate() {
                match v {
                    Some(v) => run.push((i as i32, *v)),
                    None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                    None => {}
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
            for r in runs {
                chart.draw_series(LineSeries::new(r.clone(), LINE.stroke_width(3)))?;
                chart.draw_series(r.into_iter().map(|p| Circle::new(p, 4, LINE.filled())))?;
            }
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!(error = %e, "trend chart could not be drawn");
        }
    }
    accessible(svg, id, title, description)
}

/// Bars comparing areas, longest first is left to the caller; unknown figures are left out.
pub fn bars(id: &str, title: &str, description: &str, x_label: &str, bars: &[(String, f64)]) -> String {
    let mut svg = String::new();
    let n = bars.len().max(1);
    let height = (60 + 26 * n as u32).clamp(140, 1600);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let top = upper_bound(bars.iter().map(|b| b.1));
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(220)
                .build_cartesian_2d(0.0..top, (0..n as i32).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(WHITE)
                .y_labels(n)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => bars.get(*i as usize).map(|b| truncate(&b.0, 30)).unwrap_or_default(),
                    _ => String::new(),
                })
                .x_desc(x_label)
                .x_label_formatter(&|v| format_number(*v))
                .label_style(("sans-serif", 16).into_font().color(&TEXT))
                .axis_desc_style(("sans-serif", 16).into_font().color(&TEXT))
                .draw()?;
            chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let i = i as i32;
                let mut r =
                    Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], BAR.filled());
                r.set_margin(4, 4, 0, 0);
                r
            }))?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!(error = %e, "bar chart could not be drawn");
        }
    }
    accessible(svg, id, title, description)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max - 1).collect::<String>()) }
}

/// A number the Swedish way: decimal comma, at most one decimal, spaces between thousands.
pub fn format_number(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    let whole = rounded.trunc().abs() as i64;
    let mut digits = whole.to_string();
    let mut grouped = String::new();
    while digits.len() > 3 {
        let rest = digits.split_off(digits.len() - 3);
        grouped = format!("\u{a0}{rest}{grouped}");
    }
    grouped = format!("{digits}{grouped}");
    let tenth = ((rounded.abs() - whole as f64) * 10.0).round() as i64;
    let sign = if rounded < 0.0 { "-" } else { "" };
    if tenth == 0 { format!("{sign}{grouped}") } else { format!("{sign}{grouped},{tenth}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_swedish_way() {
        assert_eq!(format_number(1.75), "1,8");
        assert_eq!(format_number(12345.0), "12\u{a0}345");
        assert_eq!(format_number(0.04), "0");
        assert_eq!(format_number(-2.5), "-2,5");
    }

    #[test]
    fn a_chart_is_an_svg_image_with_a_title_and_description() {
        let points = vec![("jan".to_string(), Some(2.0)), ("feb".into(), None), ("mar".into(), Some(3.5))];
        let svg = trend("t1", "Medel <dagar>", "Tre månader", "Dagar", &points);
        assert!(svg.starts_with("<svg class=\"chart\" role=\"img\" aria-labelledby=\"t1-title t1-desc\""), "{svg}");
        assert!(svg.contains("<title id=\"t1-title\">Medel &lt;dagar&gt;</title>"));
        for label in ["jan", "feb", "mar"] {
            assert!(svg.contains(&format!("\n{label}\n")), "period label {label} drawn");
        }
        let b = bars("b1", "Jämförelse", "Två kommuner", "Dagar", &[("Solna".into(), 2.0), ("Nacka".into(), 4.0)]);
        assert!(b.contains("Solna") && b.contains("<rect"), "{b}");
    }
}
