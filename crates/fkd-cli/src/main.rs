//! `fkd-cli`: train facial keypoint detectors and write Kaggle submissions.

fn main() {
    println!("fkd-cli");
}
