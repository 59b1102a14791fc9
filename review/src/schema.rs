//! The database schema as numbered migrations, applied in order and recorded in
//! `PRAGMA user_version`. A migration is never edited once released; changes are new ones.

/// Migrations; index + 1 is the schema version each one produces.
pub const MIGRATIONS: &[&str] = &[
    // 1: cases, sides, append-only decisions, audit log.
    r#"
    CREATE TABLE cases (
        id               INTEGER PRIMARY KEY,
        origin           TEXT NOT NULL CHECK (origin IN ('console', 'api', 'cli')),
        session_id       TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        score            REAL,
        route            TEXT CHECK (route IN ('pass', 'review', 'fail')),
        error_code       TEXT,
        model_version    TEXT,
        -- Claim of a reviewer, valid until claim_expires_at.
        claimed_by       TEXT,
        claim_expires_at TEXT,
        -- The decision in force (NULL while open): derived from the decisions table in
        -- the same transaction as every decision, kept here so filters need no join.
        decision_id      INTEGER REFERENCES decisions(id),
        verdict          TEXT,
        attack_type      TEXT,
        decided_by       TEXT,
        decided_at       TEXT
    );
    CREATE INDEX cases_open_score ON cases (decision_id, score);
    CREATE INDEX cases_created ON cases (created_at);
    CREATE INDEX cases_score ON cases (score);
    CREATE INDEX cases_origin ON cases (origin, created_at);
    CREATE INDEX cases_error ON cases (error_code, created_at);
    CREATE INDEX cases_verdict ON cases (verdict, created_at);
    CREATE INDEX cases_reviewer ON cases (decided_by, created_at);

    CREATE TABLE sides (
        id            INTEGER PRIMARY KEY,
        case_id       INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        side          TEXT NOT NULL CHECK (side IN ('front', 'back')),
        image_sha256  TEXT NOT NULL,
        image_size    INTEGER NOT NULL,
        jpeg_quality  INTEGER,
        analysis      TEXT NOT NULL,
        image_purged_at TEXT,
        UNIQUE (case_id, side)
    );
    CREATE INDEX sides_image ON sides (image_sha256);

    -- Append-only: a correction or an undo is a new row naming the row it supersedes.
    CREATE TABLE decisions (
        id          INTEGER PRIMARY KEY,
        case_id     INTEGER NOT NULL REFERENCES cases(id),
        kind        TEXT NOT NULL CHECK (kind IN ('decide', 'undo')),
        reviewer    TEXT NOT NULL,
        verdict     TEXT CHECK (verdict IN ('genuine', 'attack')),
        attack_type TEXT CHECK (attack_type IN ('screen', 'print', 'digital', 'other')),
        reason      TEXT,
        note        TEXT,
        decided_at  TEXT NOT NULL,
        supersedes  INTEGER REFERENCES decisions(id),
        -- For an undo: the decision back in force (NULL = the case is open again).
        restores    INTEGER REFERENCES decisions(id)
    );
    CREATE INDEX decisions_case ON decisions (case_id, id);
    CREATE INDEX decisions_reviewer ON decisions (reviewer, decided_at);
    CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
    CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;

    CREATE TABLE audit_log (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER REFERENCES cases(id),
        actor    TEXT NOT NULL,
        action   TEXT NOT NULL,
        detail   TEXT,
        at       TEXT NOT NULL
    );
    CREATE INDEX audit_case ON audit_log (case_id, id);
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 2: the "resubmit" verdict (the photo cannot be judged: ask for a new one) and its
    // reason. SQLite cannot alter a CHECK constraint, and rebuilding the append-only
    // decisions table would fight its triggers and the keys pointing at it; widening the
    // allowed values in the stored definition is the documented way (every existing row
    // still satisfies it). The columns are added first: ALTER TABLE edits the stored
    // text by the offsets of the definition it has in memory, and RESET then reloads it.
    r#"
    ALTER TABLE decisions ADD COLUMN resubmit_reason TEXT
        CHECK (resubmit_reason IN ('blurred', 'glare', 'wrong_document', 'cut_off', 'other'));
    ALTER TABLE cases ADD COLUMN resubmit_reason TEXT;
    PRAGMA writable_schema = ON;
    UPDATE sqlite_schema
        SET sql = replace(sql, 'CHECK (verdict IN (''genuine'', ''attack''))',
                          'CHECK (verdict IN (''genuine'', ''attack'', ''resubmit''))')
        WHERE type = 'table' AND name = 'decisions';
    PRAGMA writable_schema = RESET;
    "#,
    // 3: the image-quality warnings of a case's sides, kept on the case so that the
    // queue can be filtered by them without reading every analysis. NULL for the cases
    // filed before: their analyses carry no warnings to copy.
    r#"
    ALTER TABLE cases ADD COLUMN warnings TEXT;
    "#,
    // 4: analyses made again on an outline a reviewer corrected. The filed analysis stays
    // in `sides` as the check answered it; a correction is a new row, never an update.
    r#"
    CREATE TABLE corrections (
        id           INTEGER PRIMARY KEY,
        case_id      INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        side         TEXT NOT NULL CHECK (side IN ('front', 'back')),
        reviewer     TEXT NOT NULL,
        corrected_at TEXT NOT NULL,
        analysis     TEXT NOT NULL
    );
    CREATE INDEX corrections_case ON corrections (case_id, id);
    CREATE TRIGGER corrections_append_only_update BEFORE UPDATE ON corrections
        BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
    "#,
    // 5: the file a case's photo was read from (the command line's import, the console's
    // intake), so that a triaged folder can be joined back to its files. NULL for the
    // API's cases (their session id names them) and for the cases filed before.
    r#"
    ALTER TABLE cases ADD COLUMN source TEXT;
    "#,
    // 6: filing looks for the case a client's retry repeats by its session id
    // (`Store::file_case`); without an index that would read every case under the
    // write lock.
    r#"
    CREATE INDEX cases_session ON cases (origin, session_id);
    "#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;
