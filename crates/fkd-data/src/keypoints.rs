//! The keypoint table: the 15 keypoints in Kaggle's column order, their 30 coordinate
//! columns, and the left/right pairs that a horizontal flip swaps.
//!
//! Every other part of fkd refers to keypoints through this table; no other module
//! spells a keypoint name.

/// Number of keypoints per face.
pub const NUM_KEYPOINTS: usize = 15;

/// Number of coordinates per face: an x and a y for each keypoint.
pub const NUM_COORDS: usize = 2 * NUM_KEYPOINTS;

/// Width and height of a face image, in pixels.
pub const IMAGE_SIDE: usize = 96;

/// Number of pixels in a face image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;

/// Number of bins of a per-coordinate distribution: pixel positions 0..=97.
pub const NUM_BINS: usize = 98;

/// Keypoint names in Kaggle's column order. "Left" is the subject's left, which is on
/// the image's right.
pub const KEYPOINT_NAMES: [&str; NUM_KEYPOINTS] = [
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
];

/// Coordinate column names in Kaggle's order: `<keypoint>_x` then `<keypoint>_y` for
/// each keypoint. Coordinate `2k` is the x of keypoint `k`, `2k + 1` its y.
pub const COORDINATE_NAMES: [&str; NUM_COORDS] = [
    "left_eye_center_x",
    "left_eye_center_y",
    "right_eye_center_x",
    "right_eye_center_y",
    "left_eye_inner_corner_x",
    "left_eye_inner_corner_y",
    "left_eye_outer_corner_x",
    "left_eye_outer_corner_y",
    "right_eye_inner_corner_x",
    "right_eye_inner_corner_y",
    "right_eye_outer_corner_x",
    "right_eye_outer_corner_y",
    "left_eyebrow_inner_end_x",
    "left_eyebrow_inner_end_y",
    "left_eyebrow_outer_end_x",
    "left_eyebrow_outer_end_y",
    "right_eyebrow_inner_end_x",
    "right_eyebrow_inner_end_y",
    "right_eyebrow_outer_end_x",
    "right_eyebrow_outer_end_y",
    "nose_tip_x",
    "nose_tip_y",
    "mouth_left_corner_x",
    "mouth_left_corner_y",
    "mouth_right_corner_x",
    "mouth_right_corner_y",
    "mouth_center_top_lip_x",
    "mouth_center_top_lip_y",
    "mouth_center_bottom_lip_x",
    "mouth_center_bottom_lip_y",
];

/// Keypoint index pairs (left, right) that a horizontal flip swaps. The nose tip and
/// the two lip centres lie on the axis of symmetry and map to themselves.
pub const FLIP_PAIRS: [(usize, usize); 6] = [(0, 1), (2, 4), (3, 5), (6, 8), (7, 9), (11, 12)];

/// Returns the index of a coordinate column name such as `nose_tip_y`.
pub fn coordinate_index(name: &str) -> Option<usize> {
    COORDINATE_NAMES.iter().position(|&column| column == name)
}

/// Returns the keypoint that a horizontal flip maps keypoint `keypoint` to.
pub fn flipped_keypoint(keypoint: usize) -> usize {
    for &(left, right) in &FLIP_PAIRS {
        if keypoint == left {
            return right;
        }
        if keypoint == right {
            return left;
        }
    }
    keypoint
}

/// Returns whether keypoint `keypoint` is on the subject's left side (drawn in its own
/// colour by overlays).
pub fn is_left_keypoint(keypoint: usize) -> bool {
    FLIP_PAIRS.iter().any(|&(left, _)| left == keypoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinate_names_follow_keypoint_names() {
        for (keypoint, name) in KEYPOINT_NAMES.iter().enumerate() {
            assert_eq!(COORDINATE_NAMES[2 * keypoint], format!("{name}_x"));
            assert_eq!(COORDINATE_NAMES[2 * keypoint + 1], format!("{name}_y"));
        }
    }

    #[test]
    fn flip_pairs_swap_left_and_right_names() {
        for &(left, right) in &FLIP_PAIRS {
            let left_name = KEYPOINT_NAMES[left];
            let right_name = KEYPOINT_NAMES[right];
            assert!(left_name.contains("left"), "{left_name}");
            assert!(right_name.contains("right"), "{right_name}");
            assert_eq!(left_name.replace("left", "right"), right_name);
        }
    }

    #[test]
    fn flipped_keypoint_is_an_involution() {
        for keypoint in 0..NUM_KEYPOINTS {
            assert_eq!(flipped_keypoint(flipped_keypoint(keypoint)), keypoint);
        }
        assert_eq!(flipped_keypoint(10), 10);
        assert_eq!(flipped_keypoint(13), 13);
        assert_eq!(flipped_keypoint(14), 14);
        assert_eq!(flipped_keypoint(11), 12);
    }

    #[test]
    fn coordinate_index_finds_columns() {
        assert_eq!(coordinate_index("left_eye_center_x"), Some(0));
        assert_eq!(coordinate_index("nose_tip_y"), Some(21));
        assert_eq!(coordinate_index("mouth_center_bottom_lip_y"), Some(29));
        assert_eq!(coordinate_index("Image"), None);
    }
}
