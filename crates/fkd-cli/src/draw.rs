//! Keypoint markers and text labels on RGB images. Markers are filled dots or crosses,
//! coloured by the side of the face their keypoint belongs to. Text uses the
//! public-domain 8x8 bitmap font of `font8x8`.
//!
//! Coordinates are in pixel-index space: the centre of pixel column 0 is at x = 0.

use fkd_data::keypoints::{NUM_KEYPOINTS, flipped_keypoint, is_left_keypoint};
use fkd_data::{Keypoints, NUM_COORDS};
use font8x8::legacy::BASIC_LEGACY;
use image::{Rgb, RgbImage};

/// Colour of the keypoints on the subject's left (the image's right).
pub const LEFT_COLOUR: Rgb<u8> = Rgb([255, 60, 60]);

/// Colour of the keypoints on the subject's right (the image's left).
pub const RIGHT_COLOUR: Rgb<u8> = Rgb([40, 150, 255]);

/// Colour of the keypoints on the face's axis of symmetry: nose tip and lip centres.
pub const CENTRE_COLOUR: Rgb<u8> = Rgb([255, 220, 0]);

/// Colour of the outline around each marker, for contrast on any background.
pub const OUTLINE_COLOUR: Rgb<u8> = Rgb([0, 0, 0]);

/// Width and height of one character of the bitmap font, in pixels.
pub const GLYPH_SIDE: u32 = 8;

/// Returns the marker colour of keypoint `keypoint` (0..15, Kaggle's order).
pub fn keypoint_colour(keypoint: usize) -> Rgb<u8> {
    if is_left_keypoint(keypoint) {
        LEFT_COLOUR
    } else if flipped_keypoint(keypoint) != keypoint {
        RIGHT_COLOUR
    } else {
        CENTRE_COLOUR
    }
}

/// Returns a marker radius in pixels that stays visible on an image of this size:
/// 1/80 of the shorter side, at least 2.
pub fn marker_radius(width: u32, height: u32) -> f64 {
    (f64::from(width.min(height)) / 80.0).max(2.0)
}

/// The style of a set of keypoint markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A filled dot with a one-pixel black outline.
    Dot,
    /// An X-shaped cross with a black outline.
    Cross,
}

/// Draws the 15 keypoints of `coordinates` (x, y per keypoint) in Kaggle's order, so
/// a later keypoint covers an earlier one where they overlap. Non-finite coordinates
/// are skipped.
pub fn draw_keypoints(
    image: &mut RgbImage,
    coordinates: &[f32; NUM_COORDS],
    marker: Marker,
    radius: f64,
) {
    for keypoint in 0..NUM_KEYPOINTS {
        let x = f64::from(coordinates[2 * keypoint]);
        let y = f64::from(coordinates[2 * keypoint + 1]);
        if x.is_finite() && y.is_finite() {
            draw_marker(image, (x, y), marker, radius, keypoint_colour(keypoint));
        }
    }
}

/// Draws the present keypoints of `keypoints`, skipping a keypoint with a missing x or
/// y.
pub fn draw_present_keypoints(
    image: &mut RgbImage,
    keypoints: &Keypoints,
    marker: Marker,
    radius: f64,
) {
    for keypoint in 0..NUM_KEYPOINTS {
        if let (Some(x), Some(y)) = (keypoints.0[2 * keypoint], keypoints.0[2 * keypoint + 1]) {
            let centre = (f64::from(x), f64::from(y));
            draw_marker(image, centre, marker, radius, keypoint_colour(keypoint));
        }
    }
}

/// Draws one marker centred at `centre`.
pub fn draw_marker(
    image: &mut RgbImage,
    centre: (f64, f64),
    marker: Marker,
    radius: f64,
    colour: Rgb<u8>,
) {
    match marker {
        Marker::Dot => {
            fill_disc(image, centre, radius + 1.0, OUTLINE_COLOUR);
            fill_disc(image, centre, radius, colour);
        }
        Marker::Cross => {
            let arm = radius + 1.0;
            draw_cross(image, centre, arm + 1.0, 3, OUTLINE_COLOUR);
            draw_cross(image, centre, arm, 1, colour);
        }
    }
}

/// Fills the pixels whose centres lie within `radius` of `centre`.
fn fill_disc(image: &mut RgbImage, centre: (f64, f64), radius: f64, colour: Rgb<u8>) {
    let (left, right) = (
        (centre.0 - radius).floor() as i64,
        (centre.0 + radius).ceil() as i64,
    );
    let (top, bottom) = (
        (centre.1 - radius).floor() as i64,
        (centre.1 + radius).ceil() as i64,
    );
    for y in top..=bottom {
        for x in left..=right {
            if (x as f64 - centre.0).hypot(y as f64 - centre.1) <= radius {
                put_pixel(image, x, y, colour);
            }
        }
    }
}

/// Draws the two diagonals of the square of half-side `arm` around `centre`, with a
/// square pen `thickness` pixels wide. The pixel nearest the centre is always drawn.
fn draw_cross(image: &mut RgbImage, centre: (f64, f64), arm: f64, thickness: i64, colour: Rgb<u8>) {
    let (x0, y0) = (centre.0.round() as i64, centre.1.round() as i64);
    let arm = arm.round() as i64;
    let offset = (thickness - 1) / 2;
    for step in -arm..=arm {
        for (x, y) in [(x0 + step, y0 + step), (x0 + step, y0 - step)] {
            for dy in 0..thickness {
                for dx in 0..thickness {
                    put_pixel(image, x - offset + dx, y - offset + dy, colour);
                }
            }
        }
    }
}

/// Sets pixel (x, y) when it lies inside the image.
fn put_pixel(image: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    let inside = x >= 0 && y >= 0 && x < i64::from(image.width()) && y < i64::from(image.height());
    if inside {
        image.put_pixel(x as u32, y as u32, colour);
    }
}

/// Draws `text` with its top-left corner at (x, y) on a filled background box one
/// pixel wider on every side. Characters outside ASCII are drawn as `?`.
pub fn draw_label(
    image: &mut RgbImage,
    x: i64,
    y: i64,
    text: &str,
    colour: Rgb<u8>,
    background: Rgb<u8>,
) {
    let width = text.chars().count() as i64 * i64::from(GLYPH_SIDE);
    for row in y - 1..y + i64::from(GLYPH_SIDE) + 1 {
        for column in x - 1..x + width + 1 {
            put_pixel(image, column, row, background);
        }
    }

    for (index, character) in text.chars().enumerate() {
        let code = if character.is_ascii() {
            character as usize
        } else {
            '?' as usize
        };
        let left = x + index as i64 * i64::from(GLYPH_SIDE);
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

    const GRAY: Rgb<u8> = Rgb([128, 128, 128]);

    /// Returns coordinates with keypoint k at (10 + 12 k, 20), 12 pixels apart.
    fn spread_keypoints() -> [f32; NUM_COORDS] {
        let mut coordinates = [0.0; NUM_COORDS];
        for keypoint in 0..NUM_KEYPOINTS {
            coordinates[2 * keypoint] = 10.0 + 12.0 * keypoint as f32;
            coordinates[2 * keypoint + 1] = 20.0;
        }
        coordinates
    }

    #[test]
    fn sides_have_their_colours() {
        assert_eq!(keypoint_colour(0), LEFT_COLOUR);
        assert_eq!(keypoint_colour(1), RIGHT_COLOUR);
        assert_eq!(keypoint_colour(10), CENTRE_COLOUR);
        assert_eq!(keypoint_colour(11), LEFT_COLOUR);
        assert_eq!(keypoint_colour(12), RIGHT_COLOUR);
        assert_eq!(keypoint_colour(13), CENTRE_COLOUR);
        assert_eq!(keypoint_colour(14), CENTRE_COLOUR);
    }

    #[test]
    fn dot_centre_has_keypoint_colour() {
        let mut image = RgbImage::from_pixel(200, 40, GRAY);

        draw_keypoints(&mut image, &spread_keypoints(), Marker::Dot, 3.0);

        for keypoint in 0..NUM_KEYPOINTS {
            let x = 10 + 12 * keypoint as u32;
            assert_eq!(
                *image.get_pixel(x, 20),
                keypoint_colour(keypoint),
                "keypoint {keypoint}"
            );
            assert_eq!(
                *image.get_pixel(x, 16),
                OUTLINE_COLOUR,
                "keypoint {keypoint}"
            );
            assert_eq!(*image.get_pixel(x, 14), GRAY, "keypoint {keypoint}");
        }
    }

    #[test]
    fn cross_centre_has_keypoint_colour() {
        let mut image = RgbImage::from_pixel(200, 40, GRAY);

        draw_keypoints(&mut image, &spread_keypoints(), Marker::Cross, 3.0);

        for keypoint in 0..NUM_KEYPOINTS {
            let x = 10 + 12 * keypoint as u32;
            let colour = keypoint_colour(keypoint);
            assert_eq!(*image.get_pixel(x, 20), colour, "keypoint {keypoint}");
            assert_eq!(*image.get_pixel(x + 4, 24), colour, "keypoint {keypoint}");
            assert_eq!(*image.get_pixel(x + 4, 20), GRAY, "keypoint {keypoint}");
        }
    }

    #[test]
    fn fractional_centre_rounds() {
        let mut image = RgbImage::from_pixel(20, 20, GRAY);

        draw_marker(&mut image, (7.4, 9.6), Marker::Dot, 1.0, LEFT_COLOUR);

        assert_eq!(*image.get_pixel(7, 10), LEFT_COLOUR);
        assert_eq!(*image.get_pixel(9, 10), OUTLINE_COLOUR);
        assert_eq!(*image.get_pixel(10, 10), GRAY);
    }

    #[test]
    fn missing_keypoints_skipped() {
        let mut image = RgbImage::from_pixel(40, 40, GRAY);
        let mut keypoints = Keypoints::MISSING;
        keypoints.0[20] = Some(10.0);
        keypoints.0[21] = Some(12.0);
        keypoints.0[0] = Some(30.0);

        draw_present_keypoints(&mut image, &keypoints, Marker::Dot, 2.0);

        assert_eq!(*image.get_pixel(10, 12), CENTRE_COLOUR);
        assert_eq!(*image.get_pixel(30, 30), GRAY);
        assert_eq!(
            image
                .pixels()
                .filter(|pixel| **pixel == LEFT_COLOUR)
                .count(),
            0
        );
    }

    #[test]
    fn markers_clip_at_edges() {
        let mut image = RgbImage::from_pixel(10, 10, GRAY);

        draw_marker(&mut image, (0.0, 9.0), Marker::Cross, 4.0, RIGHT_COLOUR);
        draw_marker(&mut image, (-50.0, 3.0), Marker::Dot, 4.0, RIGHT_COLOUR);

        assert_eq!(*image.get_pixel(0, 9), RIGHT_COLOUR);
        assert_eq!(*image.get_pixel(9, 0), GRAY);
    }

    #[test]
    fn radius_grows_with_image() {
        assert_eq!(marker_radius(96, 96), 2.0);
        assert_eq!(marker_radius(400, 320), 4.0);
    }

    #[test]
    fn label_has_background_box() {
        let mut image = RgbImage::from_pixel(30, 12, GRAY);

        draw_label(&mut image, 1, 1, "7", LEFT_COLOUR, OUTLINE_COLOUR);

        assert_eq!(*image.get_pixel(0, 0), OUTLINE_COLOUR);
        assert_eq!(*image.get_pixel(9, 9), OUTLINE_COLOUR);
        assert_eq!(*image.get_pixel(10, 10), GRAY);
        assert!(image.pixels().any(|pixel| *pixel == LEFT_COLOUR));
    }
}
