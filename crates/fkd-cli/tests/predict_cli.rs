//! Runs `fkd-cli predict`, `evaluate`, `submit` and `show` as a user would, on a tiny
//! run trained in each test on generated Kaggle-style files, and on the raw face
//! images in `FKD_RAW_FACES` when that variable is set.

mod common;

use std::path::{Path, PathBuf};

use common::{fkd_cli, stderr, stdout};
use fkd_data::keypoints::{COORDINATE_NAMES, KEYPOINT_NAMES};
use fkd_data::{IMAGE_PIXELS, split_train_valid};
use image::{ImageFormat, Rgb, Rgba, RgbaImage};

/// Number of faces in the generated training.csv.
const TRAINING_FACES: usize = 40;

/// Colour of centre keypoints in overlays, as `fkd-cli predict` draws them.
const CENTRE_COLOUR: Rgb<u8> = Rgb([255, 220, 0]);

fn text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Returns coordinate `coordinate` of generated training face `face`, or `None` where
/// the generator leaves it missing (about a fifth of the values past the eye centres).
fn generated_coordinate(face: usize, coordinate: usize) -> Option<f32> {
    if coordinate >= 4 && (face + coordinate).is_multiple_of(5) {
        return None;
    }
    Some(20.0 + ((face * 7 + coordinate * 13) % 56) as f32 + 0.25)
}

/// Returns a generated 96x96 image as training.csv's space-separated pixels.
fn generated_pixels(seed: usize) -> String {
    let pixels: Vec<String> = (0..IMAGE_PIXELS)
        .map(|pixel| ((seed * 31 + pixel * 17 + pixel / 96 * 5) % 256).to_string())
        .collect();
    pixels.join(" ")
}

/// Writes training.csv, test.csv (3 images) and IdLookupTable.csv (42 rows) into
/// `directory`.
fn write_kaggle_files(directory: &Path) {
    let mut training = COORDINATE_NAMES.join(",") + ",Image\n";
    for face in 0..TRAINING_FACES {
        for coordinate in 0..COORDINATE_NAMES.len() {
            if let Some(value) = generated_coordinate(face, coordinate) {
                training.push_str(&value.to_string());
            }
            training.push(',');
        }
        training.push_str(&generated_pixels(face));
        training.push('\n');
    }
    std::fs::write(directory.join("training.csv"), training).unwrap();

    let mut test = String::from("ImageId,Image\n");
    for image_id in 1..=3 {
        test.push_str(&format!(
            "{image_id},{}\n",
            generated_pixels(100 + image_id)
        ));
    }
    std::fs::write(directory.join("test.csv"), test).unwrap();

    // Image 1 requests all 30 values, image 2 for the first 8, image 3 for 4.
    let mut lookup = String::from("RowId,ImageId,FeatureName,Location\n");
    let mut row_id = 1;
    for (image_id, count) in [(1, 30), (2, 8), (3, 4)] {
        for name in &COORDINATE_NAMES[..count] {
            lookup.push_str(&format!("{row_id},{image_id},{name}\n"));
            row_id += 1;
        }
    }
    std::fs::write(directory.join("IdLookupTable.csv"), lookup).unwrap();
}

/// Data and a tiny run trained on it for one epoch, in temporary directories.
struct TrainedRun {
    data: tempfile::TempDir,
    runs: tempfile::TempDir,
}

impl TrainedRun {
    fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        write_kaggle_files(data.path());
        let runs = tempfile::tempdir().unwrap();
        let run = runs.path().join("tiny");

        let output = fkd_cli(&[
            "train",
            "--data",
            text(data.path()),
            "--run-dir",
            text(&run),
            "--channelSize",
            "{2}",
            "--kernelSize",
            "5",
            "--poolSize",
            "4",
            "--poolStride",
            "4",
            "--hiddenSize",
            "{}",
            "--batchSize",
            "16",
            "--maxEpoch",
            "1",
            "--optimizer",
            "adam",
            "--learningRate",
            "0.01",
            "--loss",
            "coordinates",
            "--silent",
        ]);
        assert!(
            output.status.success(),
            "fkd-cli train failed:\n{}",
            stderr(&output)
        );
        Self { data, runs }
    }

    fn run(&self) -> PathBuf {
        self.runs.path().join("tiny")
    }

    fn data(&self) -> &Path {
        self.data.path()
    }
}

/// Returns a `width` x `height` RGBA image with a bright ellipse on a dark background.
fn face_like(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        let dx = (f64::from(x) - f64::from(width) / 2.0) / (f64::from(width) / 3.0);
        let dy = (f64::from(y) - f64::from(height) / 2.0) / (f64::from(height) / 2.5);
        let inside = dx * dx + dy * dy <= 1.0;
        let value = if inside { 200 } else { 30 };
        Rgba([value, value, value - 10, 255])
    })
}

/// Saves `image` as PNG at `path`, whatever its extension.
fn save_png(image: &RgbaImage, path: &Path) {
    image.save_with_format(path, ImageFormat::Png).unwrap();
}

/// Parses predict's CSV output into (file, 30 values) rows, checking the header.
fn parse_predictions(csv: &str) -> Vec<(String, Vec<f64>)> {
    let mut lines = csv.lines();
    let header = lines.next().expect("header line");
    assert_eq!(header, format!("file,{}", COORDINATE_NAMES.join(",")));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 31, "{line}");
            let values = fields[1..]
                .iter()
                .map(|field| field.parse().unwrap())
                .collect();
            (fields[0].to_string(), values)
        })
        .collect()
}

#[test]
fn predict_writes_csv_and_overlay() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let image = directory.path().join("face.jpg");
    save_png(&face_like(150, 120), &image);
    let overlays = directory.path().join("overlays");

    let output = fkd_cli(&[
        "predict",
        "--run",
        text(&trained.run()),
        "--overlay",
        text(&overlays),
        text(&image),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let rows = parse_predictions(&stdout(&output));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, text(&image));
    for value in &rows[0].1 {
        assert!((-1.0..=151.0).contains(value), "{value}");
    }

    let overlay = image::open(overlays.join("face.png")).unwrap().to_rgb8();
    assert_eq!(overlay.dimensions(), (150, 120));
    // The last keypoint (mouth_center_bottom_lip, a centre keypoint) is drawn on top.
    let (x, y) = (rows[0].1[28].round() as u32, rows[0].1[29].round() as u32);
    assert_eq!(*overlay.get_pixel(x, y), CENTRE_COLOUR);
}

#[test]
fn predict_json_names_keypoints() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let image = directory.path().join("face.png");
    save_png(&face_like(100, 130), &image);
    let run = trained.run();

    let csv = fkd_cli(&["predict", "--run", text(&run), text(&image)]);
    let json = fkd_cli(&[
        "predict",
        "--run",
        text(&run),
        "--format",
        "json",
        text(&image),
    ]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    assert!(json.status.success(), "{}", stderr(&json));

    let expected = &parse_predictions(&stdout(&csv))[0].1;
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let images = value.as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["file"], text(&image));
    assert_eq!(images[0]["width"], 100);
    assert_eq!(images[0]["height"], 130);
    let keypoints = images[0]["keypoints"].as_array().unwrap();
    assert_eq!(keypoints.len(), 15);
    for (keypoint, name) in KEYPOINT_NAMES.iter().enumerate() {
        assert_eq!(keypoints[keypoint]["name"], *name);
        let x = keypoints[keypoint]["x"].as_f64().unwrap();
        let y = keypoints[keypoint]["y"].as_f64().unwrap();
        assert!((x - expected[2 * keypoint]).abs() < 0.001, "{name} x");
        assert!((y - expected[2 * keypoint + 1]).abs() < 0.001, "{name} y");
    }
}

#[test]
fn predict_crop_offsets_keypoints() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let face = face_like(96, 96);
    let mut canvas = RgbaImage::from_pixel(200, 180, Rgba([90, 90, 90, 255]));
    image::imageops::replace(&mut canvas, &face, 30, 40);
    let face_path = directory.path().join("face.png");
    let canvas_path = directory.path().join("canvas.png");
    save_png(&face, &face_path);
    save_png(&canvas, &canvas_path);
    let run = trained.run();

    let alone = fkd_cli(&["predict", "--run", text(&run), text(&face_path)]);
    let cropped = fkd_cli(&[
        "predict",
        "--run",
        text(&run),
        "--crop",
        "30,40,96,96",
        text(&canvas_path),
    ]);
    assert!(alone.status.success(), "{}", stderr(&alone));
    assert!(cropped.status.success(), "{}", stderr(&cropped));

    let alone = &parse_predictions(&stdout(&alone))[0].1;
    let cropped = &parse_predictions(&stdout(&cropped))[0].1;
    for coordinate in 0..30 {
        let offset = if coordinate % 2 == 0 { 30.0 } else { 40.0 };
        let difference = cropped[coordinate] - alone[coordinate];
        assert!(
            (difference - offset).abs() < 0.002,
            "{}: {difference}",
            COORDINATE_NAMES[coordinate]
        );
    }
}

#[test]
fn predict_reports_bad_files_and_goes_on() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let good = directory.path().join("good.png");
    save_png(&face_like(120, 120), &good);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = directory.path().join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let notes = directory.path().join("notes.png");
    std::fs::write(&notes, "these are notes, not pixels\n").unwrap();
    let missing = directory.path().join("missing.png");

    let output = fkd_cli(&[
        "predict",
        "--run",
        text(&trained.run()),
        text(&truncated),
        text(&good),
        text(&notes),
        text(&missing),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success(), "{log}");
    let rows = parse_predictions(&stdout(&output));
    assert_eq!(rows.len(), 1, "{}", stdout(&output));
    assert_eq!(rows[0].0, text(&good));
    assert!(
        log.contains(&format!("error: cannot decode {}", text(&truncated))),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "error: {}: not an image in a supported format",
            text(&notes)
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("error: cannot read {}", text(&missing))),
        "{log}"
    );
    assert!(log.contains("error: 3 of 4 image files failed"), "{log}");
}

#[test]
fn crop_outside_image_reported() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let image = directory.path().join("small.png");
    save_png(&face_like(50, 50), &image);

    let output = fkd_cli(&[
        "predict",
        "--run",
        text(&trained.run()),
        "--crop",
        "10,10,96,96",
        text(&image),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success());
    assert!(
        log.contains("crop 10,10,96,96 reaches past the 50x50 image"),
        "{log}"
    );
    assert_eq!(parse_predictions(&stdout(&output)).len(), 0);
}

/// Parses evaluate's CSV output into (keypoint, values, rmse, baseline_rmse) rows.
fn parse_table(csv: &str) -> Vec<(String, u64, Option<f64>, Option<f64>)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("keypoint,values,rmse,baseline_rmse"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let optional = |field: &str| (!field.is_empty()).then(|| field.parse().unwrap());
            (
                fields[0].to_string(),
                fields[1].parse().unwrap(),
                optional(fields[2]),
                optional(fields[3]),
            )
        })
        .collect()
}

fn present_count(faces: &[usize]) -> u64 {
    let mut count = 0;
    for &face in faces {
        for coordinate in 0..30 {
            if generated_coordinate(face, coordinate).is_some() {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn evaluate_matches_training_validation() {
    let trained = TrainedRun::new();
    let run = trained.run();

    let output = fkd_cli(&["evaluate", "--run", text(&run), "--format", "csv"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = parse_table(&stdout(&output));

    let split = split_train_valid(TRAINING_FACES, 1.0 / 6.0, 1).unwrap();
    assert_eq!(table.len(), 16);
    assert_eq!(table[0].0, "left_eye_center");
    assert_eq!(table[0].1, 2 * split.valid.len() as u64);
    assert_eq!(table[15].0, "overall");
    assert_eq!(table[15].1, present_count(&split.valid));

    // metrics.csv: epoch,train_loss,train_mse,valid_mse,valid_rmse,baseline_mse,...
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let row: Vec<f64> = metrics
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|field| field.parse().unwrap())
        .collect();
    let (valid_rmse, baseline_mse) = (row[4], row[5]);
    assert!(
        (table[15].2.unwrap() - valid_rmse).abs() < 1e-5,
        "{table:?} vs {metrics}"
    );
    assert!(
        (table[15].3.unwrap() - baseline_mse.sqrt()).abs() < 1e-5,
        "{table:?} vs {metrics}"
    );
}

#[test]
fn evaluate_all_rows() {
    let trained = TrainedRun::new();

    let output = fkd_cli(&[
        "evaluate",
        "--run",
        text(&trained.run()),
        "--data",
        text(trained.data()),
        "--all",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();

    let all: Vec<usize> = (0..TRAINING_FACES).collect();
    assert_eq!(lines.len(), 18, "{table}");
    assert!(
        lines[0].starts_with(&format!(
            "all 40 rows of {}",
            text(&trained.data().join("training.csv"))
        )),
        "{table}"
    );
    assert!(
        lines[0].ends_with(": 40 faces, RMSE in pixels of the 96x96 faces"),
        "{table}"
    );
    assert!(lines[1].starts_with("keypoint"), "{table}");
    assert!(lines[17].starts_with("overall"), "{table}");
    let overall: Vec<&str> = lines[17].split_whitespace().collect();
    assert_eq!(overall[1], present_count(&all).to_string());
}

/// Writes two labelled 160x120 images and a labels CSV with relative file names into
/// `directory`; returns the CSV's path.
fn write_labelled_images(directory: &Path) -> PathBuf {
    let images = directory.join("images");
    std::fs::create_dir(&images).unwrap();
    save_png(&face_like(160, 120), &images.join("a.jpg"));
    save_png(&face_like(160, 120), &images.join("b.jpg"));

    let mut csv = format!("file,{}\n", COORDINATE_NAMES.join(","));
    for (file, missing) in [("a.jpg", None), ("b.jpg", Some(20))] {
        let mut fields = vec![file.to_string()];
        for coordinate in 0..30 {
            if Some(coordinate) == missing {
                fields.push(String::new());
            } else {
                fields.push(format!("{}", 40 + coordinate));
            }
        }
        csv.push_str(&fields.join(","));
        csv.push('\n');
    }
    let path = images.join("keypoints.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn evaluate_labelled_images() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let labels = write_labelled_images(directory.path());

    let output = fkd_cli(&[
        "evaluate",
        "--run",
        text(&trained.run()),
        "--labels",
        text(&labels),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = parse_table(&stdout(&output));

    assert_eq!(table.len(), 16);
    assert_eq!(table[0].1, 4);
    assert_eq!(table[10].0, "nose_tip");
    assert_eq!(table[10].1, 3);
    assert_eq!(table[15].1, 59);
    assert!(table[15].2.unwrap() > 0.0);
    assert!(table[15].3.unwrap() > 0.0);
}

/// Writes a labels CSV for one image, with the keypoints `40 + c + offset` and `crop`
/// columns when given.
fn write_one_label(path: &Path, file: &str, offset: (u32, u32), crop: Option<&str>) {
    let mut header = format!("file,{}", COORDINATE_NAMES.join(","));
    let mut fields = vec![file.to_string()];
    for coordinate in 0..30 {
        let shift = if coordinate % 2 == 0 {
            offset.0
        } else {
            offset.1
        };
        fields.push(format!("{}", 40 + coordinate + shift as usize));
    }
    if let Some(crop) = crop {
        header.push_str(",crop_x,crop_y,crop_width,crop_height");
        fields.push(crop.to_string());
    }
    std::fs::write(path, format!("{header}\n{}\n", fields.join(","))).unwrap();
}

#[test]
fn evaluate_labels_with_crop_matches_tight_face() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let face = face_like(96, 96);
    let mut canvas = RgbaImage::from_pixel(200, 180, Rgba([90, 90, 90, 255]));
    image::imageops::replace(&mut canvas, &face, 30, 40);
    save_png(&face, &directory.path().join("face.png"));
    save_png(&canvas, &directory.path().join("canvas.png"));
    let tight_labels = directory.path().join("tight.csv");
    let cropped_labels = directory.path().join("cropped.csv");
    write_one_label(&tight_labels, "face.png", (0, 0), None);
    write_one_label(&cropped_labels, "canvas.png", (30, 40), Some("30,40,96,96"));
    let run = trained.run();

    let evaluate = |labels: &Path| {
        let output = fkd_cli(&[
            "evaluate",
            "--run",
            text(&run),
            "--labels",
            text(labels),
            "--format",
            "csv",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        parse_table(&stdout(&output))
    };
    let tight = evaluate(&tight_labels);
    let cropped = evaluate(&cropped_labels);

    assert_eq!(tight.len(), 16);
    assert_eq!(cropped.len(), 16);
    for (tight, cropped) in tight.iter().zip(&cropped) {
        assert_eq!(tight.0, cropped.0);
        assert_eq!(tight.1, cropped.1);
        let (model, cropped_model) = (tight.2.unwrap(), cropped.2.unwrap());
        let (baseline, cropped_baseline) = (tight.3.unwrap(), cropped.3.unwrap());
        assert!((model - cropped_model).abs() < 0.002, "{}", tight.0);
        assert!((baseline - cropped_baseline).abs() < 0.002, "{}", tight.0);
    }
}

#[test]
fn evaluate_labels_crop_outside_image_names_line() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    save_png(&face_like(96, 96), &directory.path().join("face.png"));
    let labels = directory.path().join("keypoints.csv");
    write_one_label(&labels, "face.png", (0, 0), Some("50,0,96,96"));

    let output = fkd_cli(&[
        "evaluate",
        "--run",
        text(&trained.run()),
        "--labels",
        text(&labels),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success());
    assert!(
        log.contains(&format!(
            "{} line 2: crop 50,0,96,96 reaches past the 96x96 image",
            text(&labels)
        )),
        "{log}"
    );
}

#[test]
fn evaluate_labels_error_names_line() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let labels = write_labelled_images(directory.path());
    let original = std::fs::read_to_string(&labels).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen(",60,", ",sixty,", 1);
    std::fs::write(&labels, lines.join("\n")).unwrap();

    let output = fkd_cli(&[
        "evaluate",
        "--run",
        text(&trained.run()),
        "--labels",
        text(&labels),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success());
    assert!(
        log.contains(&format!(
            "{} line 2, column nose_tip_x: 'sixty' is not a number",
            text(&labels)
        )),
        "{log}"
    );
}

#[test]
fn submit_to_missing_directory_fails_first() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let missing = directory.path().join("nodir");
    let submission = missing.join("submission.csv");

    let output = fkd_cli(&[
        "submit",
        "--run",
        text(&trained.run()),
        "--data",
        text(trained.data()),
        "--submission-file",
        text(&submission),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success());
    assert!(
        log.contains(&format!(
            "error: cannot write the submission: {}: the directory {} does not exist",
            text(&submission),
            text(&missing)
        )),
        "{log}"
    );
    assert!(!log.contains("predicting"), "{log}");
}

#[test]
fn submit_one_row_per_lookup_row() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let submission = directory.path().join("submission.csv");

    let output = fkd_cli(&[
        "submit",
        "--run",
        text(&trained.run()),
        "--data",
        text(trained.data()),
        "--submission-file",
        text(&submission),
        "--checkpoint",
        "last",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let contents = std::fs::read_to_string(&submission).unwrap();
    let mut lines = contents.lines();
    assert_eq!(lines.next(), Some("RowId,Location"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 42);
    for (index, row) in rows.iter().enumerate() {
        let (row_id, location) = row.split_once(',').unwrap();
        assert_eq!(row_id, (index + 1).to_string());
        let location: f32 = location.parse().unwrap();
        assert!((0.0..=96.0).contains(&location), "{row}");
    }
}

#[test]
fn show_writes_contact_sheet() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();
    let sheet = directory.path().join("sheet.png");

    let output = fkd_cli(&[
        "show",
        "--data",
        text(trained.data()),
        "--run",
        text(&trained.run()),
        "--rows",
        "2..7",
        "--columns",
        "3",
        "--scale",
        "1",
        "--out",
        text(&sheet),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let picture = image::open(&sheet).unwrap().to_rgb8();
    assert_eq!(picture.width(), 4 + 3 * 100);
    assert_eq!(picture.height(), 4 + 2 * 100 + 16);
}

#[test]
fn show_rejects_rows_past_end() {
    let trained = TrainedRun::new();
    let directory = tempfile::tempdir().unwrap();

    let output = fkd_cli(&[
        "show",
        "--data",
        text(trained.data()),
        "--rows",
        "30..50",
        "--out",
        text(&directory.path().join("sheet.png")),
    ]);
    let log = stderr(&output);

    assert!(!output.status.success());
    assert!(
        log.contains("rows 30..50 reach past the 40 rows of"),
        "{log}"
    );
    assert!(!directory.path().join("sheet.png").exists());
}

#[test]
fn train_draws_learning_curve() {
    let trained = TrainedRun::new();

    let curve = image::open(trained.run().join("learning-curve.png")).unwrap();

    assert_eq!((curve.width(), curve.height()), (800, 480));
}

/// Returns the raw faces directory, or `None` (with a visible message) when unset.
fn raw_faces() -> Option<PathBuf> {
    match std::env::var_os("FKD_RAW_FACES") {
        Some(directory) if !directory.is_empty() => Some(PathBuf::from(directory)),
        _ => {
            eprintln!("skipped: set FKD_RAW_FACES to the raw-faces directory to run this test");
            None
        }
    }
}

#[test]
fn raw_faces_predict_and_evaluate() {
    let Some(faces) = raw_faces() else { return };
    let trained = TrainedRun::new();
    let run = trained.run();
    let mut images: Vec<PathBuf> = std::fs::read_dir(&faces)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "jpg"))
        .collect();
    images.sort();
    assert_eq!(images.len(), 8);

    let mut args = vec!["predict", "--run", text(&run)];
    args.extend(images.iter().map(|path| text(path)));
    let output = fkd_cli(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = parse_predictions(&stdout(&output));
    assert_eq!(rows.len(), 8);
    for ((file, values), path) in rows.iter().zip(&images) {
        // The files are PNGs named .jpg, so the format comes from their content.
        let (width, height) = image::ImageReader::open(path)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap();
        assert_eq!(file, text(path));
        for (coordinate, value) in values.iter().enumerate() {
            let limit = if coordinate % 2 == 0 { width } else { height };
            assert!(
                (-1.0..=f64::from(limit)).contains(value),
                "{file} {coordinate}: {value}"
            );
        }
    }

    let output = fkd_cli(&[
        "evaluate",
        "--run",
        text(&run),
        "--labels",
        text(&faces.join("keypoints.csv")),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = parse_table(&stdout(&output));
    assert_eq!(table.len(), 16);
    for row in &table[..15] {
        assert_eq!(row.1, 16, "{row:?}");
        assert!(row.2.unwrap() > 0.0, "{row:?}");
        assert!(row.3.unwrap() > 0.0, "{row:?}");
    }
    assert_eq!(table[15].0, "overall");
    assert_eq!(table[15].1, 240);
}
