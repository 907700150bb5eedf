//! A real camera through Video4Linux (nokhwa). Built only with the cargo
//! feature `camera-v4l`: nokhwa's V4L bindings need libclang at build time.
//!
//! nokhwa's `Camera` is not `Send`, while the kiosk moves frame sources onto
//! worker threads; so the camera lives on a thread of its own, opened there
//! and never moved, and frames come back over a channel.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use image::RgbImage;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};
use nokhwa::Camera;

use super::frame::{CameraError, Frame, FrameSource};

/// Longest wait for one frame (a camera delivers 15-30 a second).
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// A V4L2 camera (nokhwa), read on its own thread so a stalled device
/// never blocks the caller past `FRAME_TIMEOUT`.
pub struct V4lSource {
    description: String,
    requests: Option<Sender<()>>,
    frames: Receiver<Result<Frame, CameraError>>,
    thread: Option<JoinHandle<()>>,
}

impl V4lSource {
    /// Opens `/dev/video{index}` asking for `width`×`height` MJPEG (most USB
    /// cameras reach 720p only in MJPEG), else the closest it offers.
    pub fn open(index: u32, width: u32, height: u32) -> Result<V4lSource, CameraError> {
        let device = format!("/dev/video{index}");
        if !std::path::Path::new(&device).exists() {
            return Err(CameraError::NotFound(device));
        }
        let (req_tx, req_rx) = mpsc::channel::<()>();
        let (frame_tx, frame_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = {
            let dev = device.clone();
            thread::Builder::new()
                .name("camera-v4l".into())
                .spawn(move || {
                    let device = dev;
                    let mut camera = match open_camera(index, width, height, &device) {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let r = camera.resolution();
                    let _ = ready_tx.send(Ok(format!("v4l {device} {}x{}", r.width(), r.height())));
                    // One frame per request, until the source is dropped.
                    while req_rx.recv().is_ok() {
                        if frame_tx.send(grab(&mut camera)).is_err() {
                            break;
                        }
                    }
                    let _ = camera.stop_stream();
                })
                .map_err(|e| CameraError::Open { device: device.clone(), reason: e.to_string() })?
        };
        let description = ready_rx
            .recv()
            .map_err(|_| CameraError::Open { device: device.clone(), reason: "camera thread died".into() })??;
        Ok(V4lSource { description, requests: Some(req_tx), frames: frame_rx, thread: Some(thread) })
    }
}

fn open_camera(index: u32, width: u32, height: u32, device: &str) -> Result<Camera, CameraError> {
    let wanted = CameraFormat::new(Resolution::new(width, height), FrameFormat::MJPEG, 30);
    let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
    let open_err = |e: nokhwa::NokhwaError| CameraError::Open { device: device.to_owned(), reason: e.to_string() };
    let mut camera = Camera::new(CameraIndex::Index(index), format).map_err(open_err)?;
    camera.open_stream().map_err(open_err)?;
    Ok(camera)
}

fn grab(camera: &mut Camera) -> Result<Frame, CameraError> {
    let buffer = camera.frame().map_err(|e| CameraError::Capture(e.to_string()))?;
    let decoded = buffer.decode_image::<RgbFormat>().map_err(|e| CameraError::Capture(e.to_string()))?;
    let (w, h) = (decoded.width(), decoded.height());
    // nokhwa may use another `image` version: hand the pixels over raw.
    let image = RgbImage::from_raw(w, h, decoded.into_raw())
        .ok_or_else(|| CameraError::Capture("frame size does not match its pixels".into()))?;
    Ok(Frame { image })
}

impl FrameSource for V4lSource {
    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let requests = self.requests.as_ref().ok_or_else(|| CameraError::Capture("camera closed".into()))?;
        requests.send(()).map_err(|_| CameraError::Capture("camera thread stopped".into()))?;
        self.frames.recv_timeout(FRAME_TIMEOUT).map_err(|_| CameraError::Timeout(FRAME_TIMEOUT))?
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

impl Drop for V4lSource {
    fn drop(&mut self) {
        // Closing the request channel ends the thread's loop.
        self.requests.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
