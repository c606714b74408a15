//! Figures drawn from result files: each chart kind is a plain struct of already-shaped data (see `data`) that
//! draws itself on any plotters backend, so the same code writes the SVG (1×) and the PNG (2×). Nothing here reads
//! files or runs a simulation: `app::chart` and `app::report` read a results directory and hand the data in.
//! Rendering is deterministic: the same data gives byte-identical SVG and PNG (no timestamps, no random ids).

pub mod amount;
pub mod axis;
pub mod chain;
pub mod confirmations;
pub mod cost;
pub mod data;
pub mod dumbbell;
pub mod heatmap;
pub mod labels;
pub mod latency;
pub mod paired;
pub mod replications;
pub mod style;
pub mod sweep;
pub mod timeseries;
pub mod waterfall;

use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendCoord, DrawingErrorKind};

pub use style::Style;

/// A drawing error, as text: the backends' error types differ and nothing is done with them but report them.
pub type DrawResult = Result<(), String>;

/// Converts a plotters error to its message.
pub fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A figure: a file stem, a title for reports, and how to draw it.
pub trait Figure {
    /// File stem (`latency-cdf` → `latency-cdf.svg`, `latency-cdf.png`).
    fn name(&self) -> String;
    /// One sentence for a report: what the figure shows.
    fn caption(&self) -> String;
    /// The figure's finding as one sentence computed from its data, for publication mode's title (None: the
    /// descriptive title stays). Never a fixed text: it names what the data shows.
    fn message(&self) -> Option<String> {
        None
    }
    /// Draws the figure into `area` (the page minus the provenance footer).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult;
}

/// Height of the provenance footer in CSS px.
const FOOTER_H: f64 = 22.0;

fn draw_page<DB: DrawingBackend, F: Figure>(
    root: DrawingArea<DB, Shift>,
    fig: &F,
    footer: &str,
    s: &Style,
) -> DrawResult {
    root.fill(&WHITE).map_err(de)?;
    let (w, h) = root.dim_in_pixel();
    // The footer wraps on a narrow page rather than run off its edge.
    let font = s.footer();
    let lines = wrap(&root, footer, &font, w.saturating_sub(s.px(24.0)));
    let line_h = s.line_h(10.0, 1.25);
    let foot_h = s.px(FOOTER_H).max(line_h + s.px(6.0)) + line_h * (lines.len().max(1) as u32 - 1);
    let (plot, foot) = root.split_vertically(h - foot_h.min(h / 3));
    fig.draw(&plot, s)?;
    foot.draw(&PathElement::new(
        vec![(s.px(12.0) as i32, 0), ((w - s.px(12.0)) as i32, 0)],
        s.thin(style::GRID),
    ))
    .map_err(de)?;
    let (_, fh) = foot.dim_in_pixel();
    let top = (fh as i32 - (line_h * lines.len() as u32) as i32) / 2;
    for (k, line) in lines.into_iter().enumerate() {
        foot.draw(&Text::new(
            line,
            (
                s.px(12.0) as i32,
                top + (k as u32 * line_h + line_h / 2) as i32,
            ),
            font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;
    }
    root.present().map_err(de)
}

/// The figure as an SVG document (the page of `s`, in CSS px; `s.scale` is 1).
pub fn render_svg<F: Figure>(fig: &F, footer: &str, s: &Style) -> Result<String, String> {
    style::register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, s.size()).into_drawing_area();
        draw_page(root, fig, footer, s)?;
    }
    Ok(out)
}

/// The figure as a PNG at `s.scale` pixels per CSS px (the SVG's layout, every length multiplied), its physical
/// size recorded so viewers and word processors place it at the SVG's size.
pub fn render_png<F: Figure>(fig: &F, footer: &str, s: &Style) -> Result<Vec<u8>, String> {
    style::register_fonts();
    let (w, h) = s.size();
    let mut rgb = vec![0_u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_page(root, fig, footer, s)?;
    }
    encode_png(&rgb, w, h, s.scale)
}

fn encode_png(rgb: &[u8], w: u32, h: u32, scale: f64) -> Result<Vec<u8>, String> {
    // Pixels per metre at `scale` × 96 dpi (2× gives 7559, as before).
    let ppm = (scale * 96.0 / 0.0254).round() as u32;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(de)?;
        writer.write_image_data(rgb).map_err(de)?;
    }
    Ok(out)
}

/// Splits `text` into lines no wider than `width` pixels in `font` (at spaces; a word longer than a line stays whole).
pub fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    width: u32,
) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        let w = area
            .estimate_text_size(&candidate, font)
            .map_or(0, |(w, _)| w);
        if w > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The ticks of an axis `plot_px` pixels long over `[lo, hi]` whose labels do not touch: from the left, a tick is
/// kept when its label clears the last kept one by a gap; the last tick is kept in place of its neighbour.
pub fn fit_ticks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ticks: Vec<f64>,
    (lo, hi): (f64, f64),
    plot_px: u32,
    label: &dyn Fn(f64) -> String,
    s: &Style,
) -> Vec<f64> {
    let font = s.tick();
    let width = |v: f64| {
        area.estimate_text_size(&label(v), &font)
            .map_or(0.0, |(w, _)| w as f64)
    };
    let at = |v: f64| (v - lo) / (hi - lo) * plot_px as f64;
    let gap = s.px(10.0) as f64;
    let clears = |a: f64, b: f64| (at(b) - at(a)).abs() >= (width(a) + width(b)) / 2.0 + gap;
    let mut kept: Vec<f64> = Vec::new();
    let n = ticks.len();
    for (i, t) in ticks.into_iter().enumerate() {
        match kept.last() {
            None => kept.push(t),
            Some(&last) if clears(last, t) => kept.push(t),
            Some(_) if i + 1 == n && kept.len() > 1 => {
                kept.pop();
                if kept.last().is_none_or(|&l| clears(l, t)) {
                    kept.push(t);
                }
            }
            Some(_) => {}
        }
    }
    kept
}

/// A figure's title and subtitle at the top of `area`, each wrapped to the page width; returns the area below them.
pub fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    s: &Style,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, h) = area.dim_in_pixel();
    let width = w.saturating_sub(s.px(28.0));
    let mut y = s.px(8.0) as i32;
    let title_font = s.title();
    // Publication mode: the finding is the title and what is drawn becomes the subtitle.
    let (title, subtitle) = match &s.message {
        Some(m) => (m.as_str(), title),
        None => (title, subtitle),
    };
    for line in wrap(area, title, &title_font, width) {
        area.draw(&Text::new(line, (s.px(14.0) as i32, y), title_font.clone()))
            .map_err(de)?;
        y += s.line_h(15.0, 19.0 / 15.0) as i32;
    }
    if !subtitle.is_empty() {
        let font = s.note().color(&RGBColor(70, 70, 70));
        for line in wrap(area, subtitle, &font, width) {
            area.draw(&Text::new(line, (s.px(14.0) as i32, y), font.clone()))
                .map_err(de)?;
            y += s.line_h(11.0, 14.0 / 11.0) as i32;
        }
    }
    y += s.px(2.0) as i32;
    Ok(area.split_vertically((y.max(0) as u32).min(h)).1)
}

/// Notes under a plot (why a point is drawn hollow, which panels were left out), wrapped; returns the area above.
pub fn noted<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    notes: &[String],
    s: &Style,
) -> Result<DrawingArea<DB, Shift>, String> {
    if notes.is_empty() {
        return Ok(area.clone());
    }
    let (w, h) = area.dim_in_pixel();
    let font = s.note().color(&RGBColor(70, 70, 70));
    let lines: Vec<String> = notes
        .iter()
        .flat_map(|n| wrap(area, n, &font, w.saturating_sub(s.px(28.0))))
        .collect();
    let line_h = s.line_h(11.0, 14.0 / 11.0);
    let used = (line_h * lines.len() as u32 + s.px(8.0)).min(h / 2);
    let (plot, below) = area.split_vertically(h - used);
    for (k, line) in lines.iter().enumerate() {
        below
            .draw(&Text::new(
                line.clone(),
                (s.px(14.0) as i32, (s.px(6.0) + k as u32 * line_h) as i32),
                font.clone(),
            ))
            .map_err(de)?;
    }
    Ok(plot)
}

/// A data marker of shape `kind` (circle, triangle, square, diamond, cross in turn) centred at `at`, filled or
/// hollow (hollow marks a point that is drawn but has no value, e.g. a saturated sweep cell).
pub fn marker<C>(at: C, kind: usize, colour: RGBColor, filled: bool, s: &Style) -> Mark<C> {
    Mark {
        at,
        kind,
        style: if filled {
            colour.filled()
        } else {
            colour.stroke_width(s.px(1.5).max(1))
        },
        r: s.px(4.0) as i32,
    }
}

/// A marker element (see `marker`): one point in chart coordinates, drawn in pixels around it.
pub struct Mark<C> {
    at: C,
    kind: usize,
    style: ShapeStyle,
    r: i32,
}

impl<'a, C> PointCollection<'a, C> for &'a Mark<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Mark<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        let (r, st) = (self.r, &self.style);
        let outline = |backend: &mut DB, v: Vec<BackendCoord>| {
            if st.filled {
                backend.fill_polygon(v, st)
            } else {
                let mut closed = v.clone();
                closed.push(v[0]);
                backend.draw_path(closed, st)
            }
        };
        match self.kind % 5 {
            0 => backend.draw_circle((x, y), r as u32, st, st.filled),
            1 => outline(
                backend,
                vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)],
            ),
            2 => backend.draw_rect(
                (x - r + 1, y - r + 1),
                (x + r - 1, y + r - 1),
                st,
                st.filled,
            ),
            3 => outline(
                backend,
                vec![
                    (x, y - r - 1),
                    (x + r + 1, y),
                    (x, y + r + 1),
                    (x - r - 1, y),
                ],
            ),
            _ => {
                let st = ShapeStyle {
                    filled: false,
                    stroke_width: st.stroke_width.max(2),
                    ..*st
                };
                backend.draw_line((x - r, y - r), (x + r, y + r), &st)?;
                backend.draw_line((x - r, y + r), (x + r, y - r), &st)
            }
        }
    }
}

/// A legend drawn by hand in a row under the title: plotters' own legend box sits on the data and can hide it.
pub fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, LegendMark)],
    s: &Style,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, h) = area.dim_in_pixel();
    let row_h = s.line_h(13.0, 18.0 / 13.0) as i32;
    let left = s.px(14.0) as i32;
    let mut x = left;
    let mut y = s.px(2.0) as i32;
    let font = s.label();
    for (text, colour, mark) in entries {
        let (tw, _) = area.estimate_text_size(text, &font).map_err(de)?;
        let item_w = s.px(30.0) as i32 + tw as i32 + s.px(14.0) as i32;
        if x + item_w > w as i32 - s.px(8.0) as i32 && x > left {
            x = left;
            y += row_h;
        }
        let cy = y + row_h / 2;
        match mark {
            LegendMark::Line => area
                .draw(&PathElement::new(
                    vec![(x, cy), (x + s.px(22.0) as i32, cy)],
                    s.line(*colour).stroke_width(s.px(3.0)),
                ))
                .map_err(de)?,
            LegendMark::Dashed => {
                for k in 0..3 {
                    let x0 = x + k * s.px(8.0) as i32;
                    area.draw(&PathElement::new(
                        vec![(x0, cy), (x0 + s.px(5.0) as i32, cy)],
                        s.line(*colour),
                    ))
                    .map_err(de)?;
                }
            }
            LegendMark::Box => area
                .draw(&Rectangle::new(
                    [
                        (x + s.px(4.0) as i32, cy - s.px(6.0) as i32),
                        (x + s.px(18.0) as i32, cy + s.px(6.0) as i32),
                    ],
                    colour.filled(),
                ))
                .map_err(de)?,
            LegendMark::Series { marker: m, dash } => {
                let x1 = x + s.px(24.0) as i32;
                legend_dash(area, (x, x1, cy), *dash, s.line(*colour), s)?;
                area.draw(&marker(((x + x1) / 2, cy), *m, *colour, true, s))
                    .map_err(de)?;
            }
        }
        area.draw(&Text::new(
            text.clone(),
            (x + s.px(28.0) as i32, cy),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;
        x += item_w;
    }
    let used = (y + row_h + s.px(4.0) as i32).min(h as i32) as u32;
    Ok(area.split_vertically(used).1)
}

/// A horizontal legend line from x0 to x1 at y in line style `dash` (see `Style::dash`).
fn legend_dash<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, x1, y): (i32, i32, i32),
    dash: usize,
    st: ShapeStyle,
    s: &Style,
) -> DrawResult {
    let Some((on, off)) = Style::dash(dash) else {
        return area
            .draw(&PathElement::new(vec![(x0, y), (x1, y)], st))
            .map_err(de);
    };
    let (on, off) = (s.px(on) as i32, s.px(off) as i32);
    let mut x = x0;
    while x < x1 {
        area.draw(&PathElement::new(vec![(x, y), ((x + on).min(x1), y)], st))
            .map_err(de)?;
        x += on + off;
    }
    Ok(())
}

/// A line in chart coordinates in line style `dash` (solid, dashed, dotted, long-dashed; see `Style::dash`).
pub fn styled_line<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: Vec<(X::ValueType, Y::ValueType)>,
    dash: usize,
    st: ShapeStyle,
    s: &Style,
) -> DrawResult
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    match Style::dash(dash) {
        None => chart.draw_series(LineSeries::new(points, st)).map(|_| ()),
        Some((on, off)) => chart
            .draw_series(DashedLineSeries::new(points, s.px(on), s.px(off), st))
            .map(|_| ()),
    }
    .map_err(de)
}

/// How a legend entry is marked.
#[derive(Clone, Copy, Debug)]
pub enum LegendMark {
    Line,
    Dashed,
    Box,
    /// A data series: its line style (`Style::dash`) with its marker shape in the middle.
    Series {
        marker: usize,
        dash: usize,
    },
}

/// The provenance line under every figure.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    pub scenario: String,
    pub scenario_sha256: String,
    pub seed: String,
    pub version: String,
    pub digest: String,
    /// False when the results were read with `--no-verify`: the footer then says so.
    pub verified: bool,
}

impl Provenance {
    pub fn footer(&self) -> String {
        let footer = format!(
            "settlesim {} · scenario {} (sha256 {}) · seed {} · results digest {}",
            self.version,
            self.scenario,
            short(&self.scenario_sha256),
            self.seed,
            short(&self.digest)
        );
        if self.verified {
            footer
        } else {
            format!("UNVERIFIED results (read with --no-verify) · {footer}")
        }
    }
}

/// The first 12 hex digits of a hash.
pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Any figure this crate draws, so a list of different kinds can be rendered in one loop.
#[derive(Clone, Debug)]
pub enum AnyFigure {
    Latency(latency::LatencyCdf),
    Cost(cost::CostStack),
    Time(timeseries::TimeFigure),
    Band(sweep::BandFigure),
    Heat(heatmap::Heatmap),
    Dumbbell(dumbbell::Dumbbell),
    AmountCost(amount::AmountCost),
    Paired(paired::PairedDiff),
    Confirmations(confirmations::Confirmations),
    Replications(replications::Spread),
    Waterfall(waterfall::Waterfall),
}

/// `$body` with `$f` bound to the figure inside `$fig`, whatever its kind.
macro_rules! each {
    ($fig:expr, $f:ident => $body:expr) => {
        match $fig {
            AnyFigure::Latency($f) => $body,
            AnyFigure::Cost($f) => $body,
            AnyFigure::Time($f) => $body,
            AnyFigure::Band($f) => $body,
            AnyFigure::Heat($f) => $body,
            AnyFigure::Dumbbell($f) => $body,
            AnyFigure::AmountCost($f) => $body,
            AnyFigure::Paired($f) => $body,
            AnyFigure::Confirmations($f) => $body,
            AnyFigure::Replications($f) => $body,
            AnyFigure::Waterfall($f) => $body,
        }
    };
}

impl AnyFigure {
    pub fn name(&self) -> String {
        each!(self, f => f.name())
    }
    pub fn caption(&self) -> String {
        each!(self, f => f.caption())
    }
    /// The finding of the figure as a sentence computed from its data (publication mode's title), if it has one.
    pub fn message(&self) -> Option<String> {
        each!(self, f => f.message())
    }
    pub fn svg(&self, footer: &str, s: &Style) -> Result<String, String> {
        each!(self, f => render_svg(f, footer, s))
    }
    pub fn png(&self, footer: &str, s: &Style) -> Result<Vec<u8>, String> {
        each!(self, f => render_png(f, footer, s))
    }
}
