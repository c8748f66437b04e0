//! Charts for the statistics page, rendered on the server as inline SVG (no chart library at run
//! time): horizontal bars (one block per township, category or product, one bar per series) and
//! a month series (one line per series). Each chart is an image with a title and a description
//! (`role="img"`, `aria-labelledby`); the table beside it carries the figures. The drawing is
//! 320 units wide and scales to the column, so it reads on a 360 px phone.

use std::fmt::Write as _;

/// Colours of the series (each at least 4.5:1 against white, WCAG 1.4.11 needs 3:1).
const COLOURS: [&str; 4] = ["#2e6b30", "#1f4e8c", "#9a4a00", "#6a3d8f"];

const W: f64 = 320.0;

/// Text for SVG content and attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One series: its name and one value per item (or month).
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

fn open(id: &str, title: &str, desc: &str, h: f64) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    s
}

fn legend(s: &mut String, series: &[Series], y: f64) {
    let mut x = 0.0;
    for (i, se) in series.iter().enumerate() {
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            y - 9.0,
            COLOURS[i % COLOURS.len()],
            x + 14.0,
            y,
            esc(&se.name)
        );
        // 11 px text: about 6.5 units a Latin letter, 11 a Chinese character.
        let w: f64 = se
            .name
            .chars()
            .map(|c| if c.is_ascii() { 6.5 } else { 11.0 })
            .sum();
        x += 26.0 + w;
    }
}

/// Horizontal bars: for each label, one bar per series, its value written after it with `fmt`.
/// Negative values draw no bar (their value is still written).
pub fn bars(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    series: &[Series],
    fmt: impl Fn(f64) -> String,
) -> String {
    let top = if series.len() > 1 { 20.0 } else { 0.0 };
    let bar = 12.0;
    let block = 16.0 + bar * series.len() as f64 + 6.0;
    let h = top + block * labels.len().max(1) as f64 + 4.0;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let mut s = open(id, title, desc, h);
    if series.len() > 1 {
        legend(&mut s, series, 12.0);
    }
    // Room for the value's text after the longest bar.
    let span = W - 70.0;
    for (i, label) in labels.iter().enumerate() {
        let y = top + block * i as f64;
        let _ = write!(
            s,
            r#"<text x="0" y="{}" font-size="12">{}</text>"#,
            y + 12.0,
            esc(label)
        );
        for (j, se) in series.iter().enumerate() {
            let v = se.values.get(i).copied().unwrap_or(0.0);
            let len = if max > 0.0 && v > 0.0 {
                (v / max * span).max(1.0)
            } else {
                0.0
            };
            let by = y + 16.0 + bar * j as f64;
            let _ = write!(
                s,
                r#"<rect x="0" y="{by}" width="{len:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}" font-size="10">{}</text>"#,
                bar - 2.0,
                COLOURS[j % COLOURS.len()],
                len + 4.0,
                by + 9.0,
                esc(&fmt(v))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A month series: one line per series over `months` (`YYYY-MM`), the axis from 0 to the
/// largest value, labelled with `fmt`.
pub fn months(
    id: &str,
    title: &str,
    desc: &str,
    months: &[String],
    series: &[Series],
    fmt: impl Fn(f64) -> String,
) -> String {
    let h = 190.0;
    let (x0, x1, y0, y1) = (44.0, W - 8.0, 160.0, 30.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let mut s = open(id, title, desc, h);
    legend(&mut s, series, 12.0);
    let _ = write!(
        s,
        r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#555"/><line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#ccc"/><text x="{}" y="{}" font-size="10" text-anchor="end">0</text><text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"##,
        x0 - 4.0,
        y0 + 3.0,
        x0 - 4.0,
        y1 + 3.0,
        esc(&fmt(max))
    );
    let n = months.len();
    let step = if n > 1 {
        (x1 - x0) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| {
        if n > 1 {
            x0 + step * i as f64
        } else {
            (x0 + x1) / 2.0
        }
    };
    let y = |v: f64| {
        if max > 0.0 {
            y0 - (v.max(0.0) / max) * (y0 - y1)
        } else {
            y0
        }
    };
    // Every month labelled when they fit, else every second, third...
    let every = n.div_ceil(12).max(1);
    for (i, m) in months.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let label = if n > 12 { m.clone() } else { m[5..].to_owned() };
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                x(i),
                y0 + 14.0,
                esc(&label)
            );
        }
    }
    for (j, se) in series.iter().enumerate() {
        let c = COLOURS[j % COLOURS.len()];
        let pts: Vec<String> = se
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        if pts.len() > 1 {
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
                pts.join(" ")
            );
        }
        for (i, v) in se.values.iter().enumerate() {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/>"#,
                x(i),
                y(*v)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{x0}" y="{}" font-size="10">{}</text>"#,
        h - 6.0,
        esc(months.first().map(|m| &m[..4]).unwrap_or(""))
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_an_image_with_its_title_and_escaped_labels() {
        let s = bars(
            "c",
            "Sales <by> township",
            "desc",
            &["A&B".into(), "C".into()],
            &[Series {
                name: "x".into(),
                values: vec![10.0, 5.0],
            }],
            |v| format!("{v}"),
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(
            s.contains(r#"role="img""#)
                && s.contains("<title id=\"c-t\">Sales &lt;by&gt; township</title>")
        );
        assert!(s.contains("A&amp;B"));
        // The largest value takes the whole span, the half value half of it.
        assert!(s.contains(r#"width="250.0""#) && s.contains(r#"width="125.0""#));
    }

    #[test]
    fn a_month_series_draws_one_point_per_month() {
        let m: Vec<String> = (1..=3).map(|i| format!("2025-0{i}")).collect();
        let s = months(
            "m",
            "t",
            "d",
            &m,
            &[Series {
                name: "N".into(),
                values: vec![1.0, 2.0, 0.0],
            }],
            |v| format!("{v}"),
        );
        assert_eq!(s.matches("<circle").count(), 3);
        assert!(s.contains(">01<") && s.contains(">03<"));
    }
}
