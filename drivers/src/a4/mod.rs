//! The A4 printer, through CUPS over IPP (the `ipp` crate's blocking
//! client, plain HTTP to the terminal's own cupsd). Prints PDFs: results
//! from the hub, application acknowledgements (受理回执).

use std::time::{Duration, Instant};

use ipp::operation::IppOperation;
use ipp::prelude::*;
use thiserror::Error;
use tracing::{debug, warn};

use crate::health::Health;

pub mod private_cups;
pub mod receipt_pdf;

/// What can go wrong printing on the A4 printer. Every variant is for the
/// technician's log; none carries personal data.
#[derive(Debug, Error)]
pub enum A4Error {
    /// CUPS did not answer at all (cupsd down, wrong address).
    #[error("cannot reach CUPS at {server}: {reason}")]
    Unreachable {
        /// The `host:port` we tried.
        server: String,
        /// The transport's explanation.
        reason: String,
    },
    /// The server answered but has no queue of this name (check `lpstat -p`).
    #[error("CUPS has no printer queue named {0:?}")]
    NoSuchQueue(String),
    /// CUPS answered an operation with an error status, or the request could
    /// not be built.
    #[error("CUPS refused the request: {0}")]
    Refused(String),
    /// The queue is rejecting jobs (`cupsreject`); the text is CUPS's reason.
    #[error("the A4 printer is not accepting jobs ({0})")]
    NotAccepting(String),
    /// The queue is stopped, e.g. after a jam or paper out; a technician has to
    /// restart it.
    #[error("the A4 printer stopped: {0}")]
    PrinterStopped(String),
    /// CUPS gave up on the job (backend failure); it will not print.
    #[error("print job {job} was aborted by the printer system: {reason}")]
    JobAborted {
        /// CUPS's job id.
        job: i32,
        /// `job-state-reasons` and the printer's message.
        reason: String,
    },
    /// Someone cancelled the job (`cancel`, the printer's panel).
    #[error("print job {job} was cancelled")]
    JobCanceled {
        /// CUPS's job id.
        job: i32,
    },
    /// The job was still not final when the wait ran out; it may yet print.
    #[error("print job {job} did not finish within {waited:?} (state {state})")]
    Timeout {
        /// CUPS's job id.
        job: i32,
        /// How long we waited.
        waited: Duration,
        /// The job's last state, in CUPS's words.
        state: String,
    },
    /// A response lacked an attribute we need (named here); a CUPS or printer
    /// firmware oddity.
    #[error("CUPS sent an answer without {0}")]
    MissingAttribute(&'static str),
}

/// Where a job is, in CUPS's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued, waiting for the printer.
    Pending,
    /// Held until released (`lp -H`).
    Held,
    /// Being printed.
    Processing,
    /// The printer stopped while printing it.
    Stopped,
    /// Cancelled; final.
    Canceled,
    /// Given up by CUPS; final.
    Aborted,
    /// Printed; final.
    Completed,
}

impl JobStatus {
    fn from_ipp(v: i32) -> Option<JobStatus> {
        Some(match JobState::from_i32(v)? {
            JobState::Pending => JobStatus::Pending,
            JobState::PendingHeld => JobStatus::Held,
            JobState::Processing => JobStatus::Processing,
            JobState::ProcessingStopped => JobStatus::Stopped,
            JobState::Canceled => JobStatus::Canceled,
            JobState::Aborted => JobStatus::Aborted,
            JobState::Completed => JobStatus::Completed,
        })
    }

    /// Whether the job can no longer change state (cancelled, aborted or
    /// completed): stop polling.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Canceled | JobStatus::Aborted | JobStatus::Completed)
    }
}

/// A job's state and CUPS's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Where the job is.
    pub status: JobStatus,
    /// `job-state-reasons` and `job-printer-state-message`, joined.
    pub reason: String,
}

/// The queue's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueReport {
    /// Idle, processing or stopped.
    pub state: PrinterState,
    /// Whether the queue takes new jobs (`cupsaccept`/`cupsreject`).
    pub accepting: bool,
    /// `printer-state-reasons` other than `none`, e.g. `media-empty-error`.
    pub reasons: Vec<String>,
    /// `printer-state-message`, often empty.
    pub message: String,
}

/// One CUPS queue.
pub struct CupsPrinter {
    server: String,
    queue: String,
    uri: Uri,
}

impl CupsPrinter {
    /// `server` is `host:port` of cupsd (the terminal's own: `127.0.0.1:631`).
    pub fn new(server: &str, queue: &str) -> Result<CupsPrinter, A4Error> {
        let uri = format!("http://{server}/printers/{queue}").parse::<Uri>().map_err(|e| {
            A4Error::Unreachable { server: server.to_owned(), reason: format!("bad server or queue name: {e}") }
        })?;
        Ok(CupsPrinter { server: server.to_owned(), queue: queue.to_owned(), uri })
    }

    /// The queue's name, as given to [`CupsPrinter::new`].
    pub fn queue(&self) -> &str {
        &self.queue
    }

    fn send(&self, op: impl IppOperation) -> Result<IppRequestResponse, A4Error> {
        let client = IppClient::builder(self.uri.clone()).request_timeout(Duration::from_secs(10)).build();
        let resp = client.send(op).map_err(|e| match e {
            IppError::StatusError(StatusCode::ClientErrorNotFound) => A4Error::NoSuchQueue(self.queue.clone()),
            IppError::StatusError(s) => A4Error::Refused(format!("{s:?}")),
            other => A4Error::Unreachable { server: self.server.clone(), reason: other.to_string() },
        })?;
        match resp.header().status_code() {
            s if s.is_success() => Ok(resp),
            StatusCode::ClientErrorNotFound => Err(A4Error::NoSuchQueue(self.queue.clone())),
            StatusCode::ServerErrorNotAcceptingJobs => Err(A4Error::NotAccepting(self.queue.clone())),
            s => Err(A4Error::Refused(format!("{s:?}"))),
        }
    }

    /// Queue state, accepting flag and reasons (paper out, paused...).
    pub fn queue_report(&self) -> Result<QueueReport, A4Error> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-state-reasons",
                "printer-is-accepting-jobs",
                "printer-state-message",
            ])
            .build()
            .map_err(|e| A4Error::Refused(e.to_string()))?;
        let resp = self.send(op)?;
        let group = resp
            .attributes()
            .first_of(DelimiterTag::PrinterAttributes)
            .ok_or(A4Error::MissingAttribute("printer attributes"))?;
        let state = group
            .get("printer-state")
            .and_then(|a| int_of(a.value()))
            .and_then(PrinterState::from_i32)
            .ok_or(A4Error::MissingAttribute("printer-state"))?;
        let accepting = !matches!(group.get("printer-is-accepting-jobs").map(|a| a.value()), Some(IppValue::Boolean(false)));
        let reasons = group
            .get("printer-state-reasons")
            .map(|a| strings_of(a.value()))
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r != "none")
            .collect();
        let message = group.get("printer-state-message").map(|a| a.value().to_string()).unwrap_or_default();
        Ok(QueueReport { state, accepting, reasons, message })
    }

    /// Submits a PDF; returns the job id.
    pub fn print_pdf(&self, pdf: Vec<u8>, title: &str) -> Result<i32, A4Error> {
        let op = IppOperationBuilder::print_job(self.uri.clone(), IppPayload::new(std::io::Cursor::new(pdf)))
            .user_name("cunban")
            .job_title(title)
            .document_format("application/pdf")
            .build()
            .map_err(|e| A4Error::Refused(e.to_string()))?;
        let resp = self.send(op)?;
        let job = resp
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get("job-id"))
            .and_then(|a| int_of(a.value()))
            .ok_or(A4Error::MissingAttribute("job-id"))?;
        debug!(queue = %self.queue, job, "A4 job submitted");
        Ok(job)
    }

    /// The job's state now, one `Get-Job-Attributes` request; for polling a job
    /// [`CupsPrinter::print_pdf`] returned. Errors if CUPS is unreachable or
    /// forgot the job.
    pub fn job_report(&self, job: i32) -> Result<JobReport, A4Error> {
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), job)
            .build()
            .map_err(|e| A4Error::Refused(e.to_string()))?;
        let resp = self.send(op)?;
        let group =
            resp.attributes().first_of(DelimiterTag::JobAttributes).ok_or(A4Error::MissingAttribute("job attributes"))?;
        let status = group
            .get("job-state")
            .and_then(|a| int_of(a.value()))
            .and_then(JobStatus::from_ipp)
            .ok_or(A4Error::MissingAttribute("job-state"))?;
        let mut parts: Vec<String> = group
            .get("job-state-reasons")
            .map(|a| strings_of(a.value()))
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r != "none")
            .collect();
        if let Some(m) = group.get("job-printer-state-message").map(|a| a.value().to_string()) {
            if !m.is_empty() {
                parts.push(m);
            }
        }
        Ok(JobReport { status, reason: parts.join("; ") })
    }

    /// Follows a job until it completes; a job aborted or cancelled, or a
    /// printer that stops while the job waits, is an error.
    pub fn wait_for_job(&self, job: i32, timeout: Duration) -> Result<JobReport, A4Error> {
        let started = Instant::now();
        let mut interval = Duration::from_millis(100);
        loop {
            let report = self.job_report(job)?;
            match report.status {
                JobStatus::Completed => return Ok(report),
                JobStatus::Aborted => return Err(A4Error::JobAborted { job, reason: report.reason }),
                JobStatus::Canceled => return Err(A4Error::JobCanceled { job }),
                JobStatus::Stopped => return Err(A4Error::PrinterStopped(report.reason)),
                JobStatus::Pending | JobStatus::Held | JobStatus::Processing => {}
            }
            // A stopped queue never picks the job up: say so now, not at the timeout.
            let queue = self.queue_report()?;
            if queue.state == PrinterState::Stopped {
                let why = if queue.message.is_empty() { queue.reasons.join(", ") } else { queue.message };
                warn!(queue = %self.queue, job, reason = %why, "A4 printer stopped with a job waiting");
                return Err(A4Error::PrinterStopped(why));
            }
            if started.elapsed() >= timeout {
                return Err(A4Error::Timeout { job, waited: timeout, state: format!("{:?}", report.status) });
            }
            std::thread::sleep(interval);
            interval = (interval * 2).min(Duration::from_secs(1));
        }
    }

    /// Prints a PDF and waits for it to come out.
    pub fn print_and_wait(&self, pdf: Vec<u8>, title: &str, timeout: Duration) -> Result<i32, A4Error> {
        let job = self.print_pdf(pdf, title)?;
        self.wait_for_job(job, timeout)?;
        Ok(job)
    }

    /// The queue as a device: stopped or not accepting is absent, error
    /// reasons (toner, paper) degrade it.
    pub fn health(&self) -> Health {
        match self.queue_report() {
            Err(e) => Health::Absent(e.to_string()),
            Ok(q) if q.state == PrinterState::Stopped => {
                Health::Absent(format!("A4 printer stopped: {}", if q.message.is_empty() { q.reasons.join(", ") } else { q.message }))
            }
            Ok(q) if !q.accepting => Health::Absent("A4 printer queue is not accepting jobs".into()),
            Ok(q) if q.reasons.iter().any(|r| r.ends_with("-error") || r.ends_with("-warning")) => {
                Health::Degraded(format!("A4 printer reports {}", q.reasons.join(", ")))
            }
            Ok(_) => Health::Ok,
        }
    }
}

fn int_of(v: &IppValue) -> Option<i32> {
    match v {
        IppValue::Integer(i) | IppValue::Enum(i) => Some(*i),
        _ => None,
    }
}

fn strings_of(v: &IppValue) -> Vec<String> {
    match v {
        IppValue::Array(items) => items.iter().map(ToString::to_string).collect(),
        other => vec![other.to_string()],
    }
}
