//! Augmentation: the horizontal flip of a face and its keypoints.
//!
//! A mirror maps pixel column `j` to `width - 1 - j`, so a coordinate x maps to
//! `width - 1 - x` (95 - x on 96x96 faces), and the left/right keypoint pairs swap
//! together with their missing-value status. Flipped coordinates are snapped to the
//! 1/65536-pixel grid on which parsed coordinates lie, where `width - 1 - x` is exact for
//! faces up to 128 pixels wide: flipping twice is the identity, bit for bit.

use crate::faces::{Keypoints, snap_coordinate};
use crate::keypoints::{NUM_KEYPOINTS, flipped_keypoint};

/// Mirrors a row-major image of `width` columns in place.
pub fn flip_image<T>(pixels: &mut [T], width: usize) {
    for row in pixels.chunks_exact_mut(width) {
        row.reverse();
    }
}

/// Returns the keypoints of the mirrored image of `width` columns.
pub fn flip_keypoints(keypoints: &Keypoints, width: usize) -> Keypoints {
    let last_column = (width - 1) as f32;
    let mut flipped = Keypoints::MISSING;
    for keypoint in 0..NUM_KEYPOINTS {
        let target = flipped_keypoint(keypoint);
        flipped.0[2 * target] = keypoints.0[2 * keypoint].map(|x| snap_coordinate(last_column - x));
        flipped.0[2 * target + 1] = keypoints.0[2 * keypoint + 1];
    }
    flipped
}

/// Mirrors a face image of `width` columns and its keypoints in place.
pub fn flip_face<T>(pixels: &mut [T], keypoints: &mut Keypoints, width: usize) {
    flip_image(pixels, width);
    *keypoints = flip_keypoints(keypoints, width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faces::snap_coordinate;
    use crate::keypoints::{IMAGE_SIDE, coordinate_index};

    fn set(keypoints: &mut Keypoints, name: &str, value: f32) {
        keypoints.0[coordinate_index(name).unwrap()] = Some(value);
    }

    fn get(keypoints: &Keypoints, name: &str) -> Option<f32> {
        keypoints.0[coordinate_index(name).unwrap()]
    }

    #[test]
    fn flip_3x3_image_and_keypoints() {
        let mut pixels = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut keypoints = Keypoints::MISSING;
        set(&mut keypoints, "left_eye_center_x", 2.0);
        set(&mut keypoints, "left_eye_center_y", 0.5);
        set(&mut keypoints, "right_eye_center_x", 0.25);
        set(&mut keypoints, "nose_tip_x", 1.0);
        set(&mut keypoints, "nose_tip_y", 1.5);
        set(&mut keypoints, "mouth_left_corner_x", 1.75);

        flip_face(&mut pixels, &mut keypoints, 3);

        assert_eq!(pixels, [3, 2, 1, 6, 5, 4, 9, 8, 7]);
        // The left eye moves to the right eye's slot with x = 2 - 2 = 0, its y unchanged.
        assert_eq!(get(&keypoints, "right_eye_center_x"), Some(0.0));
        assert_eq!(get(&keypoints, "right_eye_center_y"), Some(0.5));
        // The right eye had no y: the left eye now has none either.
        assert_eq!(get(&keypoints, "left_eye_center_x"), Some(1.75));
        assert_eq!(get(&keypoints, "left_eye_center_y"), None);
        // The nose tip stays in its slot, mirrored.
        assert_eq!(get(&keypoints, "nose_tip_x"), Some(1.0));
        assert_eq!(get(&keypoints, "nose_tip_y"), Some(1.5));
        // The mouth corners swap, with the mask.
        assert_eq!(get(&keypoints, "mouth_right_corner_x"), Some(0.25));
        assert_eq!(get(&keypoints, "mouth_left_corner_x"), None);
        assert_eq!(keypoints.present_count(), 6);
    }

    #[test]
    fn flip_maps_x_to_95_minus_x() {
        let mut keypoints = Keypoints::MISSING;
        set(&mut keypoints, "nose_tip_x", 30.25);
        let flipped = flip_keypoints(&keypoints, IMAGE_SIDE);
        assert_eq!(get(&flipped, "nose_tip_x"), Some(64.75));
    }

    #[test]
    fn flip_twice_is_identity() {
        let mut pixels: Vec<u8> = (0..IMAGE_SIDE * IMAGE_SIDE)
            .map(|i| (i * 7 % 256) as u8)
            .collect();
        let original_pixels = pixels.clone();
        let mut keypoints = Keypoints::MISSING;
        for (coordinate, value) in keypoints.0.iter_mut().enumerate() {
            if coordinate % 3 != 0 {
                *value = Some(snap_coordinate(coordinate as f32 * 3.137 + 0.1));
            }
        }
        let original_keypoints = keypoints;

        flip_face(&mut pixels, &mut keypoints, IMAGE_SIDE);
        assert_ne!(keypoints, original_keypoints);
        flip_face(&mut pixels, &mut keypoints, IMAGE_SIDE);

        assert_eq!(pixels, original_pixels);
        assert_eq!(keypoints, original_keypoints);
    }
}
