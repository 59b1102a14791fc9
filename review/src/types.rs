//! The review queue's records: cases, decisions, filters.

use serde::{Deserialize, Serialize};

use docliveness_engine::{Analysis, ErrorCode, Route, Side, WarningCode};

/// Which surface filed a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The review console (spot checks and intake).
    Console,
    /// The HTTP API.
    Api,
    /// The command line (`queue import`).
    Cli,
}

/// A reviewer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A real document in front of the camera.
    Genuine,
    /// A presentation attack.
    Attack,
    /// The photo cannot be judged (blurred, glare, the wrong document, cut off): ask the
    /// customer for a new one. Neither genuine nor an attack.
    Resubmit,
}

/// Why a photo cannot be judged and a new one is needed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResubmitReason {
    /// Too blurred to see the document's print.
    Blurred,
    /// Glare hides part of the document.
    Glare,
    /// Not the document asked for.
    WrongDocument,
    /// The document is cut off by the frame.
    CutOff,
    /// Another reason (the note says which).
    #[default]
    Other,
}

impl ResubmitReason {
    /// Every reason, in the order a reviewer is offered them.
    pub const ALL: [ResubmitReason; 5] = [
        ResubmitReason::Blurred,
        ResubmitReason::Glare,
        ResubmitReason::WrongDocument,
        ResubmitReason::CutOff,
        ResubmitReason::Other,
    ];

    /// How a reviewer reads it.
    pub fn words(self) -> &'static str {
        match self {
            ResubmitReason::Blurred => "blurred",
            ResubmitReason::Glare => "glare",
            ResubmitReason::WrongDocument => "wrong document",
            ResubmitReason::CutOff => "cut off",
            ResubmitReason::Other => "other",
        }
    }
}

/// Kind of presentation attack a reviewer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttackType {
    /// Photo of a screen.
    Screen,
    /// Photo of a printed copy.
    Print,
    /// Digital image, scan or screenshot.
    Digital,
    /// Anything else (a mask, a model, a collage…).
    Other,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// The value as stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
            /// Parses the stored value.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)+ _ => None }
            }
        }
    };
}
text_enum!(Origin { Console => "console", Api => "api", Cli => "cli" });
text_enum!(Verdict { Genuine => "genuine", Attack => "attack", Resubmit => "resubmit" });
text_enum!(ResubmitReason {
    Blurred => "blurred",
    Glare => "glare",
    WrongDocument => "wrong_document",
    CutOff => "cut_off",
    Other => "other",
});
text_enum!(AttackType { Screen => "screen", Print => "print", Digital => "digital", Other => "other" });

/// One case of the queue with the decision in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewCase {
    /// Case number.
    pub id: i64,
    /// Surface that filed it.
    pub origin: Origin,
    /// The client's session id (or one made for it).
    pub session_id: String,
    /// When it was filed (RFC 3339, UTC).
    pub created_at: String,
    /// Overall score (the lower of the sides), if scored.
    pub score: Option<f64>,
    /// The model's route of the score.
    pub route: Option<Route>,
    /// Error code, if the check raised one.
    pub error_code: Option<ErrorCode>,
    /// Liveness model version.
    pub model_version: Option<String>,
    /// Reviewer holding the case, while the claim lasts.
    pub claimed_by: Option<String>,
    /// When the claim ends.
    pub claim_expires_at: Option<String>,
    /// The decision in force, if decided.
    pub decision_id: Option<i64>,
    /// Verdict in force.
    pub verdict: Option<Verdict>,
    /// Attack type in force.
    pub attack_type: Option<AttackType>,
    /// Why a new photo is needed, with a resubmit verdict in force.
    pub resubmit_reason: Option<ResubmitReason>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The image-quality warnings of its sides, each code once; `None` for a case filed
    /// before the engine raised warnings.
    pub warnings: Option<WarningSet>,
    /// The file its photo was read from, when it came from one (see `NewCase::source`).
    pub source: Option<String>,
}

/// The distinct quality warnings of a case's sides, in code order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WarningSet(pub Vec<WarningCode>);

impl WarningSet {
    /// The warnings of the analyses of a case's sides.
    pub fn of<'a>(analyses: impl IntoIterator<Item = &'a Analysis>) -> WarningSet {
        let mut codes: Vec<WarningCode> = analyses
            .into_iter()
            .flat_map(|a| a.warnings.iter().map(|w| w.code))
            .collect();
        codes.sort();
        codes.dedup();
        WarningSet(codes)
    }

    /// The codes joined with ", " (empty when none).
    pub fn joined(&self) -> String {
        let codes: Vec<&str> = self.0.iter().map(|c| c.as_str()).collect();
        codes.join(", ")
    }
}

impl ReviewCase {
    /// True while no decision is in force.
    pub fn is_open(&self) -> bool {
        self.decision_id.is_none()
    }
}

/// One side's stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSide {
    /// `front` or `back`.
    pub side: docliveness_engine::Side,
    /// SHA-256 of the image bytes (hex).
    pub image_sha256: String,
    /// Size of the image in bytes.
    pub image_size: u64,
    /// Estimated JPEG quality.
    pub jpeg_quality: Option<u8>,
    /// The engine's analysis of this side.
    pub analysis: docliveness_engine::Analysis,
    /// Set when retention removed the image file.
    pub image_purged_at: Option<String>,
}

/// A row of the append-only decisions table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// Row id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// True for an undo row.
    pub is_undo: bool,
    /// Reviewer.
    pub reviewer: String,
    /// Verdict (none for an undo).
    pub verdict: Option<Verdict>,
    /// Attack type.
    pub attack_type: Option<AttackType>,
    /// Why a new photo is needed (with a resubmit verdict).
    pub resubmit_reason: Option<ResubmitReason>,
    /// Reason picked from the list.
    pub reason: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// When.
    pub decided_at: String,
    /// The row this one supersedes.
    pub supersedes: Option<i64>,
}

/// What a reviewer decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDecision {
    /// Reviewer name.
    pub reviewer: String,
    /// Verdict.
    pub verdict: Option<Verdict>,
    /// Attack type (with `Verdict::Attack`).
    pub attack_type: Option<AttackType>,
    /// Why a new photo is needed (with `Verdict::Resubmit`).
    pub resubmit_reason: Option<ResubmitReason>,
    /// Reason.
    pub reason: Option<String>,
    /// Free-text note.
    pub note: Option<String>,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Row id.
    pub id: i64,
    /// The case, if the action concerned one.
    pub case_id: Option<i64>,
    /// Who.
    pub actor: String,
    /// What (`filed`, `filed again`, `claimed`, `released`, `decided`, `undone`, `purged`).
    pub action: String,
    /// Details (JSON).
    pub detail: Option<String>,
    /// When.
    pub at: String,
}

/// An analysis made again on the outline a reviewer drew; the filed one stays as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Correction {
    /// Row id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// Which side's outline was corrected.
    pub side: Side,
    /// Who corrected it.
    pub reviewer: String,
    /// When (RFC 3339, UTC).
    pub corrected_at: String,
    /// The analysis on the corrected outline.
    pub analysis: Analysis,
}

/// Which cases a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No decision in force.
    #[default]
    Open,
    /// A decision in force.
    Decided,
    /// Both.
    All,
}

/// Order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortOrder {
    /// Lowest score first (the most suspicious).
    #[default]
    ScoreAscending,
    /// Highest score first.
    ScoreDescending,
    /// Oldest first (first in, first out).
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// Filters of a listing; `None` means "any".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseFilter {
    /// Open, decided or all.
    pub status: Status,
    /// Lowest score (inclusive).
    pub score_min: Option<f64>,
    /// Highest score (exclusive).
    pub score_max: Option<f64>,
    /// Filing surface.
    pub origin: Option<Origin>,
    /// Filed at or after (RFC 3339).
    pub created_from: Option<String>,
    /// Filed before (RFC 3339).
    pub created_to: Option<String>,
    /// Error code.
    pub error_code: Option<ErrorCode>,
    /// Decided by.
    pub reviewer: Option<String>,
    /// Verdict in force.
    pub verdict: Option<Verdict>,
    /// Carries this image-quality warning.
    pub warning: Option<WarningCode>,
}
