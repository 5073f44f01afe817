//! Image files in, 96x96 faces out: decoding by content, alpha compositing on black,
//! grayscale, an optional crop, resizing, and the mapping of keypoints between the
//! 96x96 face and the original image.
//!
//! Coordinates are in pixel-index space on both sides: the centre of pixel column 0 is
//! at x = 0, so an image W pixels wide spans x in [-0.5, W - 0.5]. The resize maps that
//! span onto the face's [-0.5, 95.5]. That is the mapping of the `image` crate's
//! resampler (0.25): output pixel centre i samples input position (i + 0.5) * W / 96 - 0.5.

use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use fkd_data::{IMAGE_PIXELS, IMAGE_SIDE, NUM_COORDS, write_atomically};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, RgbImage};

/// Side of a face in pixels, as f64.
const FACE_SIDE: f64 = IMAGE_SIDE as f64;

/// Reads an image file, recognizing its format by content (a PNG named `.jpg` works),
/// and composites any alpha channel on black.
pub fn read_image(path: &Path) -> Result<RgbImage> {
    // Reading the bytes first leaves the extension out of the format guess.
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if reader.format().is_none() {
        bail!(
            "{}: not an image in a supported format (PNG, JPEG, BMP, GIF, WebP, PNM, TIFF)",
            path.display()
        );
    }
    let image = reader
        .decode()
        .with_context(|| format!("cannot decode {}", path.display()))?;
    Ok(composite_on_black(&image))
}

/// Returns the RGB image that `image` shows over a black background: each colour
/// channel is multiplied by the pixel's alpha.
pub fn composite_on_black(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }

    let rgba = image.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (target, source) in rgb.pixels_mut().zip(rgba.pixels()) {
        let alpha = u16::from(source[3]);
        for channel in 0..3 {
            let value = (u16::from(source[channel]) * alpha + 127) / 255;
            target[channel] = value as u8;
        }
    }
    rgb
}

/// A rectangle of an image in whole pixels: `--crop X,Y,W,H`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Left pixel column.
    pub x: u32,
    /// Top pixel row.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl FromStr for Crop {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let values: Vec<&str> = text.split(',').map(str::trim).collect();
        let expected = "expected X,Y,W,H in whole pixels, such as '40,20,200,200'";
        if values.len() != 4 {
            let count = match values.len() {
                1 => "1 value".to_string(),
                count => format!("{count} values"),
            };
            return Err(format!("'{text}' has {count}; {expected}"));
        }
        let mut numbers = [0u32; 4];
        for (number, value) in numbers.iter_mut().zip(&values) {
            *number = value.parse().map_err(|_| {
                if value.starts_with('-') {
                    format!("'{value}' in '{text}' is negative; {expected}")
                } else {
                    format!("'{value}' in '{text}' is not a whole number; {expected}")
                }
            })?;
        }
        let [x, y, width, height] = numbers;
        if width == 0 || height == 0 {
            return Err(format!("'{text}' has a zero width or height; {expected}"));
        }
        Ok(Self {
            x,
            y,
            width,
            height,
        })
    }
}

/// The region of an original image that became a 96x96 face, for mapping coordinates
/// between the two.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left pixel column of the region in the original image.
    pub left: f64,
    /// Top pixel row of the region in the original image.
    pub top: f64,
    /// Width of the region in pixels.
    pub width: f64,
    /// Height of the region in pixels.
    pub height: f64,
}

impl Frame {
    /// Returns the frame of a whole `width` x `height` image.
    pub fn whole(width: u32, height: u32) -> Self {
        Self {
            left: 0.0,
            top: 0.0,
            width: f64::from(width),
            height: f64::from(height),
        }
    }

    /// Returns the frame of `crop`.
    pub fn of_crop(crop: Crop) -> Self {
        Self {
            left: f64::from(crop.x),
            top: f64::from(crop.y),
            width: f64::from(crop.width),
            height: f64::from(crop.height),
        }
    }

    /// Maps a point of the 96x96 face to the original image.
    pub fn face_to_original(&self, x: f64, y: f64) -> (f64, f64) {
        let scale_x = self.width / FACE_SIDE;
        let scale_y = self.height / FACE_SIDE;
        (
            self.left + (x + 0.5) * scale_x - 0.5,
            self.top + (y + 0.5) * scale_y - 0.5,
        )
    }

    /// Maps a point of the original image to the 96x96 face.
    #[cfg(test)]
    pub fn original_to_face(&self, x: f64, y: f64) -> (f64, f64) {
        let scale_x = self.width / FACE_SIDE;
        let scale_y = self.height / FACE_SIDE;
        (
            (x - self.left + 0.5) / scale_x - 0.5,
            (y - self.top + 0.5) / scale_y - 0.5,
        )
    }

    /// Maps the 30 coordinates of a face prediction (x, y per keypoint) to the
    /// original image.
    pub fn coordinates_to_original(&self, face: &[f32; NUM_COORDS]) -> [f32; NUM_COORDS] {
        let mut original = [0.0; NUM_COORDS];
        for keypoint in 0..NUM_COORDS / 2 {
            let (x, y) = self.face_to_original(
                f64::from(face[2 * keypoint]),
                f64::from(face[2 * keypoint + 1]),
            );
            original[2 * keypoint] = x as f32;
            original[2 * keypoint + 1] = y as f32;
        }
        original
    }
}

/// A 96x96 grayscale face made from an image, and where it came from.
#[derive(Debug, Clone)]
pub struct Face {
    /// Row-major 96x96 grayscale pixels, as in training.csv.
    pub pixels: Vec<u8>,
    /// The region of the original image that the face covers.
    pub frame: Frame,
}

/// Crops `image` (or takes it whole), converts it to grayscale and resizes it to 96x96
/// with a triangle (bilinear) filter, widened to average every source pixel when
/// shrinking.
pub fn face_from_image(image: &RgbImage, crop: Option<Crop>) -> Result<Face> {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 {
        bail!("the image has no pixels ({width}x{height})");
    }
    let frame = match crop {
        None => Frame::whole(width, height),
        Some(crop) => {
            let right = u64::from(crop.x) + u64::from(crop.width);
            let bottom = u64::from(crop.y) + u64::from(crop.height);
            if right > u64::from(width) || bottom > u64::from(height) {
                bail!(
                    "crop {},{},{},{} reaches past the {width}x{height} image \
                     (it needs X + W <= {width} and Y + H <= {height})",
                    crop.x,
                    crop.y,
                    crop.width,
                    crop.height
                );
            }
            Frame::of_crop(crop)
        }
    };

    let gray: GrayImage = DynamicImage::ImageRgb8(image.clone()).to_luma8();
    let region = match crop {
        None => gray,
        Some(crop) => {
            image::imageops::crop_imm(&gray, crop.x, crop.y, crop.width, crop.height).to_image()
        }
    };
    let side = IMAGE_SIDE as u32;
    let resized = image::imageops::resize(&region, side, side, FilterType::Triangle);

    let pixels = resized.into_raw();
    debug_assert_eq!(pixels.len(), IMAGE_PIXELS);
    Ok(Face { pixels, frame })
}

/// Encodes `image` as PNG and writes it to `path` atomically.
pub fn write_png(image: &RgbImage, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .with_context(|| format!("cannot encode {} as PNG", path.display()))?;
    write_atomically(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use image::{Rgb, Rgba, RgbaImage};

    use super::*;

    /// Returns a black `width` x `height` image with a Gaussian blob of stdv `sigma` pixels
    /// centred at (x, y).
    fn blob(width: u32, height: u32, x: f64, y: f64, sigma: f64) -> RgbImage {
        RgbImage::from_fn(width, height, |column, row| {
            let distance2 = (f64::from(column) - x).powi(2) + (f64::from(row) - y).powi(2);
            let value = (255.0 * (-distance2 / (2.0 * sigma * sigma)).exp()).round() as u8;
            Rgb([value, value, value])
        })
    }

    /// Returns the intensity-weighted centre of a face's pixels.
    fn centroid(pixels: &[u8]) -> (f64, f64) {
        let (mut sum, mut sum_x, mut sum_y) = (0.0, 0.0, 0.0);
        for (index, &value) in pixels.iter().enumerate() {
            let weight = f64::from(value);
            sum += weight;
            sum_x += weight * (index % IMAGE_SIDE) as f64;
            sum_y += weight * (index / IMAGE_SIDE) as f64;
        }
        (sum_x / sum, sum_y / sum)
    }

    #[test]
    fn frame_round_trip() {
        let frames = [
            Frame::whole(301, 356),
            Frame::whole(40, 30),
            Frame::of_crop(Crop {
                x: 17,
                y: 5,
                width: 150,
                height: 120,
            }),
        ];
        for frame in frames {
            for &(x, y) in &[(0.0, 0.0), (47.25, 60.5), (95.0, 95.0), (-0.5, 95.5)] {
                let (original_x, original_y) = frame.face_to_original(x, y);
                let (face_x, face_y) = frame.original_to_face(original_x, original_y);

                assert!((face_x - x).abs() < 1e-9, "{frame:?} x {x}: {face_x}");
                assert!((face_y - y).abs() < 1e-9, "{frame:?} y {y}: {face_y}");
            }
        }
    }

    #[test]
    fn frame_edges_map_to_edges() {
        let frame = Frame::whole(300, 192);

        assert_eq!(frame.face_to_original(-0.5, -0.5), (-0.5, -0.5));
        assert_eq!(frame.face_to_original(95.5, 95.5), (299.5, 191.5));
        assert_eq!(frame.face_to_original(0.0, 0.0), (1.0625, 0.5));
    }

    #[test]
    fn crop_frame_offsets() {
        let frame = Frame::of_crop(Crop {
            x: 10,
            y: 20,
            width: 96,
            height: 96,
        });

        assert_eq!(frame.face_to_original(0.0, 0.0), (10.0, 20.0));
        assert_eq!(frame.face_to_original(95.0, 50.0), (105.0, 70.0));
    }

    #[test]
    fn resized_keypoint_round_trip() {
        let cases = [
            (300, 200, 151.0, 80.0, 12.0, None),
            (300, 200, 40.0, 160.0, 12.0, None),
            (57, 64, 20.0, 30.0, 4.0, None),
            (
                400,
                300,
                250.0,
                130.0,
                12.0,
                Some(Crop {
                    x: 150,
                    y: 50,
                    width: 200,
                    height: 200,
                }),
            ),
        ];
        for (width, height, x, y, sigma, crop) in cases {
            let image = blob(width, height, x, y, sigma);

            let face = face_from_image(&image, crop).unwrap();
            let (face_x, face_y) = centroid(&face.pixels);
            let (back_x, back_y) = face.frame.face_to_original(face_x, face_y);

            assert!((back_x - x).abs() < 0.5, "{width}x{height} x {x}: {back_x}");
            assert!((back_y - y).abs() < 0.5, "{width}x{height} y {y}: {back_y}");
        }
    }

    #[test]
    fn face_is_96_by_96() {
        let face = face_from_image(&blob(300, 200, 10.0, 10.0, 3.0), None).unwrap();

        assert_eq!(face.pixels.len(), IMAGE_PIXELS);
        assert_eq!(face.frame, Frame::whole(300, 200));
    }

    #[test]
    fn crop_outside_image_rejected() {
        let crop = Crop {
            x: 250,
            y: 0,
            width: 100,
            height: 100,
        };

        let error = face_from_image(&blob(300, 200, 10.0, 10.0, 3.0), Some(crop)).unwrap_err();

        assert_eq!(
            error.to_string(),
            "crop 250,0,100,100 reaches past the 300x200 image \
             (it needs X + W <= 300 and Y + H <= 200)"
        );
    }

    #[test]
    fn crop_parses() {
        assert_eq!(
            "40, 20,200,180".parse::<Crop>(),
            Ok(Crop {
                x: 40,
                y: 20,
                width: 200,
                height: 180
            })
        );
        assert_eq!(
            "40,20,200".parse::<Crop>().unwrap_err(),
            "'40,20,200' has 3 values; expected X,Y,W,H in whole pixels, such as '40,20,200,200'"
        );
        assert_eq!(
            "40,-2,200,200".parse::<Crop>().unwrap_err(),
            "'-2' in '40,-2,200,200' is negative; expected X,Y,W,H in whole pixels, such as \
             '40,20,200,200'"
        );
        assert_eq!(
            "172x172+52+48".parse::<Crop>().unwrap_err(),
            "'172x172+52+48' has 1 value; expected X,Y,W,H in whole pixels, such as \
             '40,20,200,200'"
        );
        assert_eq!(
            "40,2.5,200,200".parse::<Crop>().unwrap_err(),
            "'2.5' in '40,2.5,200,200' is not a whole number; expected X,Y,W,H in whole \
             pixels, such as '40,20,200,200'"
        );
        assert!(
            "0,0,0,10"
                .parse::<Crop>()
                .unwrap_err()
                .contains("zero width")
        );
    }

    #[test]
    fn alpha_composites_on_black() {
        let mut rgba = RgbaImage::new(2, 1);
        rgba.put_pixel(0, 0, Rgba([200, 100, 50, 255]));
        rgba.put_pixel(1, 0, Rgba([200, 100, 50, 128]));

        let rgb = composite_on_black(&DynamicImage::ImageRgba8(rgba));

        assert_eq!(*rgb.get_pixel(0, 0), Rgb([200, 100, 50]));
        assert_eq!(*rgb.get_pixel(1, 0), Rgb([100, 50, 25]));
    }

    #[test]
    fn png_named_jpg_decodes() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("face.jpg");
        write_png(&blob(30, 20, 5.0, 5.0, 2.0), &path).unwrap();

        let image = read_image(&path).unwrap();

        assert_eq!(image.dimensions(), (30, 20));
        assert_eq!(*image.get_pixel(5, 5), Rgb([255, 255, 255]));
    }

    #[test]
    fn text_file_is_not_an_image() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("notes.png");
        std::fs::write(&path, "not an image\n").unwrap();

        let error = read_image(&path).unwrap_err();

        assert_eq!(
            error.to_string(),
            format!(
                "{}: not an image in a supported format (PNG, JPEG, BMP, GIF, WebP, PNM, TIFF)",
                path.display()
            )
        );
    }
}
