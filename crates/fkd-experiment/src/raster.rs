//! Pixel drawing on RGB images for the learning curve: rectangles, lines, discs, and
//! text in the public-domain 8x8 bitmap font of the `font8x8` crate.
//!
//! Coordinates are in pixel-index space (the centre of pixel column 0 is at x = 0).
//! Anything outside the image is clipped.

use font8x8::legacy::BASIC_LEGACY;
use image::{Rgb, RgbImage};

/// Width and height of one character of the bitmap font, in pixels.
pub(crate) const GLYPH_SIDE: i64 = 8;

/// Sets pixel (x, y) when it lies inside the image.
pub(crate) fn put_pixel(image: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    let inside = x >= 0 && y >= 0 && x < i64::from(image.width()) && y < i64::from(image.height());
    if inside {
        image.put_pixel(x as u32, y as u32, colour);
    }
}

/// Fills the rectangle with top-left pixel (x, y) and the given size.
pub(crate) fn fill_rect(
    image: &mut RgbImage,
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    colour: Rgb<u8>,
) {
    for row in y..y + height {
        for column in x..x + width {
            put_pixel(image, column, row, colour);
        }
    }
}

/// The pattern of a dashed line: `on` pixels drawn, then `off` pixels skipped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dash {
    pub(crate) on: f64,
    pub(crate) off: f64,
}

/// Draws a line from `from` to `to` with a square pen `thickness` pixels wide, solid or
/// dashed.
pub(crate) fn draw_line(
    image: &mut RgbImage,
    from: (f64, f64),
    to: (f64, f64),
    thickness: i64,
    dash: Option<Dash>,
    colour: Rgb<u8>,
) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let length = dx.hypot(dy);
    let steps = length.ceil().max(1.0) as usize;
    let offset = (thickness - 1) / 2;

    for step in 0..=steps {
        let t = step as f64 / steps as f64;
        if let Some(dash) = dash
            && (t * length) % (dash.on + dash.off) >= dash.on
        {
            continue;
        }

        let x = (from.0 + t * dx).round() as i64 - offset;
        let y = (from.1 + t * dy).round() as i64 - offset;
        fill_rect(image, x, y, thickness, thickness, colour);
    }
}

/// Fills the pixels whose centres lie within `radius` of `centre`.
pub(crate) fn draw_disc(image: &mut RgbImage, centre: (f64, f64), radius: f64, colour: Rgb<u8>) {
    let (x0, x1) = (
        (centre.0 - radius).floor() as i64,
        (centre.0 + radius).ceil() as i64,
    );
    let (y0, y1) = (
        (centre.1 - radius).floor() as i64,
        (centre.1 + radius).ceil() as i64,
    );
    for y in y0..=y1 {
        for x in x0..=x1 {
            let distance = (x as f64 - centre.0).hypot(y as f64 - centre.1);
            if distance <= radius {
                put_pixel(image, x, y, colour);
            }
        }
    }
}

/// Returns the width of `text` in pixels.
pub(crate) fn text_width(text: &str) -> i64 {
    text.chars().count() as i64 * GLYPH_SIDE
}

/// Draws `text` with its top-left corner at (x, y). Characters outside ASCII are drawn
/// as `?`.
pub(crate) fn draw_text(image: &mut RgbImage, x: i64, y: i64, text: &str, colour: Rgb<u8>) {
    for (index, character) in text.chars().enumerate() {
        let code = if character.is_ascii() {
            character as usize
        } else {
            '?' as usize
        };
        let left = x + index as i64 * GLYPH_SIDE;
        for (row, bits) in BASIC_LEGACY[code].iter().enumerate() {
            for column in 0..8 {
                if bits & (1 << column) != 0 {
                    put_pixel(image, left + column, y + row as i64, colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
    const RED: Rgb<u8> = Rgb([255, 0, 0]);

    fn blank() -> RgbImage {
        RgbImage::from_pixel(20, 10, WHITE)
    }

    fn count(image: &RgbImage, colour: Rgb<u8>) -> usize {
        image.pixels().filter(|pixel| **pixel == colour).count()
    }

    #[test]
    fn line_covers_both_ends() {
        let mut image = blank();

        draw_line(&mut image, (2.0, 3.0), (12.0, 3.0), 1, None, RED);

        assert_eq!(*image.get_pixel(2, 3), RED);
        assert_eq!(*image.get_pixel(12, 3), RED);
        assert_eq!(*image.get_pixel(13, 3), WHITE);
        assert_eq!(count(&image, RED), 11);
    }

    #[test]
    fn dashed_line_skips_gaps() {
        let mut image = blank();

        draw_line(
            &mut image,
            (0.0, 0.0),
            (11.0, 0.0),
            1,
            Some(Dash { on: 3.0, off: 3.0 }),
            RED,
        );

        assert_eq!(*image.get_pixel(2, 0), RED);
        assert_eq!(*image.get_pixel(3, 0), WHITE);
        assert_eq!(*image.get_pixel(5, 0), WHITE);
        assert_eq!(*image.get_pixel(6, 0), RED);
        assert_eq!(count(&image, RED), 6);
    }

    #[test]
    fn disc_radius_one_is_a_plus() {
        let mut image = blank();

        draw_disc(&mut image, (5.0, 5.0), 1.0, RED);

        assert_eq!(count(&image, RED), 5);
        assert_eq!(*image.get_pixel(4, 4), WHITE);
    }

    #[test]
    fn drawing_outside_is_clipped() {
        let mut image = blank();

        draw_disc(&mut image, (-3.0, -3.0), 2.0, RED);
        fill_rect(&mut image, 18, 8, 10, 10, RED);

        assert_eq!(count(&image, RED), 4);
    }

    #[test]
    fn text_draws_glyph_bits() {
        let mut image = blank();

        draw_text(&mut image, 0, 0, "I", RED);

        // font8x8's "I": rows 0x1E, 0x0C, 0x0C, 0x0C, 0x0C, 0x0C, 0x1E, 0x00.
        assert_eq!(*image.get_pixel(1, 0), RED);
        assert_eq!(*image.get_pixel(0, 0), WHITE);
        assert_eq!(*image.get_pixel(2, 3), RED);
        assert_eq!(*image.get_pixel(1, 3), WHITE);
        assert_eq!(count(&image, RED), 18);
        assert_eq!(text_width("abc"), 24);
    }
}
