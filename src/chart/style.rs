//! One style for every figure: the Okabe–Ito palette (safe for the common colour-vision deficiencies), a rail's
//! colour fixed by its position in the scenario, DejaVu Sans embedded in the binary (registered with plotters, so
//! PNGs render on a machine without system fonts), page-sized figures, and every length multiplied by `scale` so
//! the PNG at 2× is the SVG drawn twice as large rather than a smaller-looking figure.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

/// Okabe & Ito (2008), "Color Universal Design": black, orange, sky blue, bluish green, yellow, blue, vermillion,
/// reddish purple.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(240, 228, 66),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
];

/// The order in which rails take palette colours: the strong colours first, yellow (weak on white) and black
/// (used for reference lines) last.
const RAIL_ORDER: [usize; 8] = [5, 1, 3, 7, 6, 2, 4, 0];

/// The colour of the rail at `index` in the scenario's rail order: the same rail has the same colour in every
/// figure of a run or sweep.
pub fn rail_colour(index: usize) -> RGBColor {
    OKABE_ITO[RAIL_ORDER[index % RAIL_ORDER.len()]]
}

/// Reference lines and marks (targets, business-time marks).
pub const REFERENCE: RGBColor = RGBColor(60, 60, 60);
pub const GRID: RGBColor = RGBColor(225, 225, 225);
pub const SHADE: RGBColor = RGBColor(236, 236, 236);

/// Figure size in SVG pixels (CSS px, 96 to the inch) of the default page; the PNG is this times `Style::scale`.
/// The page is a double-column print figure, 7 in × 4.375 in: at that size 1 CSS px is 0.75 pt.
pub const WIDTH: u32 = 672;
pub const HEIGHT: u32 = 420;

/// The smallest font size given to plotters, in CSS px at print size. Plotters' size is a line height: the em (what
/// a point size measures, the SVG's `font-size`) is size / 1.24 in both the SVG and the bitmap backend, so 11.6
/// gives an em of 9.35 CSS px = 7.02 pt, just above the 7 pt journals ask for.
pub const MIN_TEXT_PX: f64 = 11.6;

/// The em (the printed font size) of a plotters font size, in the same unit.
pub fn em(size: f64) -> f64 {
    size / 1.24
}

/// The printed size of a figure: a double-column figure (7 in wide, the default) or a single-column one (3.5 in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PageSize {
    #[default]
    Double,
    Single,
}

impl PageSize {
    /// `double` or `single` (the value of `--size`).
    pub fn parse(text: &str) -> Option<PageSize> {
        match text {
            "double" => Some(PageSize::Double),
            "single" => Some(PageSize::Single),
            _ => None,
        }
    }
    /// Width and height in CSS px at print size.
    pub fn css_px(self) -> (u32, u32) {
        match self {
            PageSize::Double => (WIDTH, HEIGHT),
            // 3.5 in square: a column-wide figure taller than the double one's proportions, since titles and
            // legends wrap onto more lines.
            PageSize::Single => (336, 336),
        }
    }
    /// The factor applied to every length and font size of the double-column layout. A single column is half as
    /// wide, but text cannot shrink below 7 pt, so its layout is drawn at 0.8 (fonts then clamped to
    /// `MIN_TEXT_PX`): titles, legends and notes wrap to more lines instead of shrinking.
    pub fn zoom(self) -> f64 {
        match self {
            PageSize::Double => 1.0,
            PageSize::Single => 0.8,
        }
    }
}

/// The family name under which the embedded DejaVu Sans is registered; SVGs name it with a sans-serif fallback.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Registers the embedded fonts once per process.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are DejaVu Sans 2.37 as shipped by the `dejavu` crate; failing to parse them is a broken build.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("embedded DejaVu Sans does not parse"));
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("embedded DejaVu Sans Bold does not parse"));
    });
}

/// Lengths for one rendering: `scale` is device pixels per CSS px (1 for SVG, 2 for the default PNG), `page` the
/// printed size, and `message` the title that states the figure's finding (publication mode), drawn instead of
/// the descriptive title, which then becomes the subtitle.
#[derive(Clone, Debug)]
pub struct Style {
    pub scale: f64,
    pub page: PageSize,
    pub message: Option<String>,
}

impl Style {
    pub fn svg() -> Style {
        Style {
            scale: 1.0,
            page: PageSize::Double,
            message: None,
        }
    }
    pub fn png() -> Style {
        Style {
            scale: 2.0,
            ..Style::svg()
        }
    }
    /// True on a small page, where axes carry fewer labelled ticks.
    pub fn compact(&self) -> bool {
        self.page == PageSize::Single
    }
    /// A length in pixels of this rendering, given in CSS px of the double-column layout.
    pub fn px(&self, css_px: f64) -> u32 {
        (css_px * self.page.zoom() * self.scale).round() as u32
    }
    /// The page in pixels of this rendering.
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = self.page.css_px();
        (
            (w as f64 * self.scale).round() as u32,
            (h as f64 * self.scale).round() as u32,
        )
    }
    /// A font size in pixels of this rendering: the double-column size zoomed, never below 7 pt at print size.
    fn font_px(&self, css_px: f64) -> f64 {
        (css_px * self.page.zoom()).max(MIN_TEXT_PX) * self.scale
    }
    fn font(&self, css_px: f64) -> TextStyle<'static> {
        (FONT, self.font_px(css_px)).into_font().color(&BLACK)
    }
    pub fn title(&self) -> TextStyle<'static> {
        // The title stays a step above the body text on a small page, where the body is at the minimum.
        let size = (15.0 * self.page.zoom()).max(MIN_TEXT_PX * 1.15) * self.scale;
        (FONT, size)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK)
    }
    pub fn label(&self) -> TextStyle<'static> {
        self.font(13.0)
    }
    pub fn tick(&self) -> TextStyle<'static> {
        self.font(12.0)
    }
    pub fn note(&self) -> TextStyle<'static> {
        self.font(11.0)
    }
    /// The size of `note` text in pixels.
    pub fn note_px(&self) -> f64 {
        self.font_px(11.0)
    }
    pub fn footer(&self) -> TextStyle<'static> {
        (FONT, self.font_px(10.0))
            .into_font()
            .color(&RGBColor(90, 90, 90))
    }
    /// The line height of text in `font`'s size class (title 15, label 13, tick 12, note 11, footer 10 CSS px),
    /// in pixels: at least the clamped font size plus a little, so lines never overlap on a small page.
    pub fn line_h(&self, css_px: f64, leading: f64) -> u32 {
        (self.font_px(css_px) * leading).round() as u32
    }
    /// A line of a data series.
    pub fn line(&self, c: RGBColor) -> ShapeStyle {
        c.stroke_width(self.px(2.0).max(1))
    }
    /// The dash pattern (dash, gap in CSS px) of line style `k`: solid, dashed, dotted, long-dashed, in turn.
    pub fn dash(k: usize) -> Option<(f64, f64)> {
        [None, Some((7.0, 4.0)), Some((2.0, 3.0)), Some((12.0, 4.0))][k % 4]
    }
    /// A thin line (references, grids).
    pub fn thin(&self, c: RGBColor) -> ShapeStyle {
        c.stroke_width(self.px(1.0).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_prints_at_7_pt_or_more_on_both_pages() {
        for page in [PageSize::Double, PageSize::Single] {
            let s = Style {
                page,
                ..Style::svg()
            };
            for font in [s.title(), s.label(), s.tick(), s.note(), s.footer()] {
                // CSS px at print size → pt: × 0.75.
                let pt = em(font.font.get_size()) * 0.75;
                assert!(pt >= 7.0, "{page:?}: {pt} pt");
            }
            assert!(s.title().font.get_size() > s.note().font.get_size());
        }
    }

    #[test]
    fn rails_get_distinct_colours_until_the_palette_is_used_up() {
        let colours: Vec<RGBColor> = (0..8).map(rail_colour).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(rail_colour(8), rail_colour(0));
    }
}
