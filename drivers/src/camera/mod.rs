//! Cameras as sources of frames: for QR codes (item codes, receipt lookup,
//! 甘快办 codes), photos of materials, and the face photo for 养老金领取资格认证.
//!
//! [`FrameSource`] is what the kiosk uses; [`FileSource`] and
//! [`SyntheticSource`] stand in for a camera in tests and demos, and
//! `v4l::V4lSource` (cargo feature `camera-v4l`) is the real one.

use std::path::{Path, PathBuf};

use crate::health::Health;

#[cfg(feature = "camera-v4l")]
pub mod v4l;

mod frame;
mod synthetic;
pub use frame::{CameraError, Frame, FrameSource};
pub use synthetic::SyntheticSource;

/// Takes one frame and encodes it as JPEG.
pub fn capture_jpeg(source: &mut dyn FrameSource, quality: u8) -> Result<Vec<u8>, CameraError> {
    source.next_frame()?.to_jpeg(quality)
}

/// Grabs a frame and judges the camera by it: a frame that is all one
/// brightness means a covered lens, a dead sensor or no light.
pub fn probe(source: &mut dyn FrameSource) -> Health {
    match source.next_frame() {
        Err(e @ (CameraError::NotFound(_) | CameraError::Open { .. })) => Health::Absent(e.to_string()),
        Err(e) => Health::Absent(e.to_string()),
        Ok(frame) => {
            let luma = frame.to_luma();
            let (min, max) = luma.pixels().fold((u8::MAX, u8::MIN), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
            if max.saturating_sub(min) < 16 {
                Health::Degraded(format!(
                    "camera picture is flat (brightness {min}..{max}): lens covered or no light"
                ))
            } else {
                Health::Ok
            }
        }
    }
}

/// Frames from image files (PNG or JPEG), in order; optionally looping.
pub struct FileSource {
    paths: Vec<PathBuf>,
    next: usize,
    looping: bool,
}

impl FileSource {
    /// One file or a directory of them (sorted by name).
    pub fn open(path: &Path, looping: bool) -> Result<FileSource, CameraError> {
        let paths = if path.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| CameraError::Open { device: path.display().to_string(), reason: e.to_string() })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
                })
                .collect();
            v.sort();
            v
        } else if path.exists() {
            vec![path.to_owned()]
        } else {
            return Err(CameraError::NotFound(path.display().to_string()));
        };
        if paths.is_empty() {
            return Err(CameraError::EndOfStream(path.display().to_string()));
        }
        Ok(FileSource { paths, next: 0, looping })
    }
}

impl FrameSource for FileSource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if self.next >= self.paths.len() {
            if !self.looping {
                return Err(CameraError::EndOfStream(self.describe()));
            }
            self.next = 0;
        }
        let path = &self.paths[self.next];
        self.next += 1;
        let image = image::open(path).map_err(|source| CameraError::File { path: path.clone(), source })?;
        Ok(Frame { image: image.to_rgb8() })
    }

    fn describe(&self) -> String {
        match self.paths.as_slice() {
            [one] => format!("file {}", one.display()),
            many => format!("{} files from {}", many.len(), many[0].parent().unwrap_or(Path::new("")).display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use image::RgbImage;

    use super::*;

    #[test]
    fn jpeg_capture_produces_a_decodable_jpeg_of_the_same_size() {
        let mut src = SyntheticSource::new(320, 240);
        let jpeg = capture_jpeg(&mut src, 85).unwrap();
        assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (320, 240));
    }

    #[test]
    fn file_source_reads_pngs_in_order_and_ends_or_loops() {
        let dir = tempfile::tempdir().unwrap();
        for (i, shade) in [10u8, 200].into_iter().enumerate() {
            RgbImage::from_pixel(8, 4, image::Rgb([shade; 3])).save(dir.path().join(format!("{i}.png"))).unwrap();
        }
        let mut once = FileSource::open(dir.path(), false).unwrap();
        assert_eq!(once.next_frame().unwrap().image.get_pixel(0, 0).0, [10; 3]);
        assert_eq!(once.next_frame().unwrap().image.get_pixel(0, 0).0, [200; 3]);
        assert!(matches!(once.next_frame(), Err(CameraError::EndOfStream(_))));
        let mut looping = FileSource::open(dir.path(), true).unwrap();
        for _ in 0..3 {
            looping.next_frame().unwrap();
        }
        assert!(matches!(FileSource::open(&dir.path().join("none.png"), false), Err(CameraError::NotFound(_))));
        std::fs::write(dir.path().join("2.png"), b"not a png").unwrap();
        let mut bad = FileSource::open(&dir.path().join("2.png"), false).unwrap();
        assert!(matches!(bad.next_frame(), Err(CameraError::File { .. })));
    }

    #[test]
    fn a_flat_picture_is_degraded_and_a_busy_one_ok() {
        let mut flat = SyntheticSource::new(64, 48);
        flat.set_flat(Some(3));
        assert!(matches!(probe(&mut flat), Health::Degraded(_)));
        let mut busy = SyntheticSource::new(64, 48);
        assert_eq!(probe(&mut busy), Health::Ok);
    }
}
