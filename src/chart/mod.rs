//! Figures drawn from result files: each chart kind is a plain struct of already-shaped data (see `data`) that
//! draws itself on any plotters backend, so the same code writes the SVG (1×) and the PNG (2×). Nothing here reads
//! files or runs a simulation: `app::chart` and `app::report` read a results directory and hand the data in.
//! Rendering is deterministic: the same data gives byte-identical SVG and PNG (no timestamps, no random ids).

pub mod axis;
pub mod chain;
pub mod cost;
pub mod data;
pub mod heatmap;
pub mod latency;
pub mod style;
pub mod sweep;
pub mod timeseries;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    let (_, h) = root.dim_in_pixel();
    let (plot, foot) = root.split_vertically(h - s.px(FOOTER_H));
    fig.draw(&plot, s)?;
    let (w, fh) = foot.dim_in_pixel();
    foot.draw(&PathElement::new(
        vec![(s.px(12.0) as i32, 0), ((w - s.px(12.0)) as i32, 0)],
        s.thin(style::GRID),
    ))
    .map_err(de)?;
    foot.draw(&Text::new(
        footer.to_string(),
        (s.px(12.0) as i32, (fh / 2) as i32),
        s.footer().pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(de)?;
    root.present().map_err(de)
}

/// The figure as an SVG document (960 × 600 CSS px).
pub fn render_svg<F: Figure>(fig: &F, footer: &str) -> Result<String, String> {
    style::register_fonts();
    let s = Style::svg();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, s.size()).into_drawing_area();
        draw_page(root, fig, footer, &s)?;
    }
    Ok(out)
}

/// The figure as a PNG at 2× (1920 × 1200 px).
pub fn render_png<F: Figure>(fig: &F, footer: &str) -> Result<Vec<u8>, String> {
    style::register_fonts();
    let s = Style::png();
    let (w, h) = s.size();
    let mut rgb = vec![0_u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_page(root, fig, footer, &s)?;
    }
    encode_png(&rgb, w, h)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // A PNG's physical size: 2 × 96 dpi, so viewers and word processors place it at the SVG's size.
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: 7559,
            yppu: 7559,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(de)?;
        writer.write_image_data(rgb).map_err(de)?;
    }
    Ok(out)
}

/// A figure's title and subtitle at the top of `area`; returns the area below them.
pub fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    s: &Style,
) -> Result<DrawingArea<DB, Shift>, String> {
    area.draw(&Text::new(
        title.to_string(),
        (s.px(16.0) as i32, s.px(12.0) as i32),
        s.title(),
    ))
    .map_err(de)?;
    let mut top = 40.0;
    if !subtitle.is_empty() {
        area.draw(&Text::new(
            subtitle.to_string(),
            (s.px(16.0) as i32, s.px(36.0) as i32),
            s.note().color(&RGBColor(70, 70, 70)),
        ))
        .map_err(de)?;
        top = 56.0;
    }
    let (_, h) = area.dim_in_pixel();
    Ok(area.split_vertically(s.px(top).min(h)).1)
}

/// A legend drawn by hand in a row under the title: plotters' own legend box sits on the data and can hide it.
pub fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, LegendMark)],
    s: &Style,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, h) = area.dim_in_pixel();
    let row_h = s.px(22.0) as i32;
    let mut x = s.px(70.0) as i32;
    let mut y = s.px(4.0) as i32;
    let font = s.label();
    for (text, colour, mark) in entries {
        let (tw, _) = area.estimate_text_size(text, &font).map_err(de)?;
        let item_w = s.px(30.0) as i32 + tw as i32 + s.px(18.0) as i32;
        if x + item_w > w as i32 - s.px(16.0) as i32 && x > s.px(70.0) as i32 {
            x = s.px(70.0) as i32;
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

/// How a legend entry is marked.
#[derive(Clone, Copy, Debug)]
pub enum LegendMark {
    Line,
    Dashed,
    Box,
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
}

impl AnyFigure {
    pub fn name(&self) -> String {
        match self {
            AnyFigure::Latency(f) => f.name(),
            AnyFigure::Cost(f) => f.name(),
            AnyFigure::Time(f) => f.name(),
            AnyFigure::Band(f) => f.name(),
            AnyFigure::Heat(f) => f.name(),
        }
    }
    pub fn caption(&self) -> String {
        match self {
            AnyFigure::Latency(f) => f.caption(),
            AnyFigure::Cost(f) => f.caption(),
            AnyFigure::Time(f) => f.caption(),
            AnyFigure::Band(f) => f.caption(),
            AnyFigure::Heat(f) => f.caption(),
        }
    }
    pub fn svg(&self, footer: &str) -> Result<String, String> {
        match self {
            AnyFigure::Latency(f) => render_svg(f, footer),
            AnyFigure::Cost(f) => render_svg(f, footer),
            AnyFigure::Time(f) => render_svg(f, footer),
            AnyFigure::Band(f) => render_svg(f, footer),
            AnyFigure::Heat(f) => render_svg(f, footer),
        }
    }
    pub fn png(&self, footer: &str) -> Result<Vec<u8>, String> {
        match self {
            AnyFigure::Latency(f) => render_png(f, footer),
            AnyFigure::Cost(f) => render_png(f, footer),
            AnyFigure::Time(f) => render_png(f, footer),
            AnyFigure::Band(f) => render_png(f, footer),
            AnyFigure::Heat(f) => render_png(f, footer),
        }
    }
}
