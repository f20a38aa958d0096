-- meetingd's reporting tables. Every table is a ReplacingMergeTree(version),
-- version being the projection position of the batch that wrote the row, and
-- carries deleted (1 = tombstone: the key no longer exists in the session's
-- newer state). Read them through FINAL ... WHERE deleted = 0.
-- Runs on ClickHouse 18.16 and current ClickHouse (see clickhouse/doc.go).

CREATE TABLE IF NOT EXISTS meetings (
    app_id String,
    session_id String,
    version UInt64,
    deleted UInt8,
    kind String,
    status String,
    outcome String,
    started_at DateTime('UTC'),
    ended_at Nullable(DateTime('UTC')),
    duration_seconds UInt64,
    participant_count UInt32,
    peak_concurrent UInt32,
    total_attendance_seconds UInt64,
    recording_count UInt32,
    transcription_count UInt32,
    last_event_at DateTime('UTC'),
    participants Array(String),
    meeting String,
    attendance String
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (app_id, started_at, session_id);

CREATE TABLE IF NOT EXISTS attendance (
    app_id String,
    participant String,
    meeting_started_at DateTime('UTC'),
    session_id String,
    version UInt64,
    deleted UInt8,
    name String,
    first_joined_at DateTime('UTC'),
    last_left_at Nullable(DateTime('UTC')),
    attended_seconds UInt64,
    attendance_ratio Float64,
    join_count UInt32,
    audio_only Nullable(UInt8),
    platform String,
    sdk String
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(meeting_started_at)
ORDER BY (app_id, participant, meeting_started_at, session_id);

CREATE TABLE IF NOT EXISTS intervals (
    app_id String,
    session_id String,
    participant String,
    joined_at DateTime('UTC'),
    version UInt64,
    deleted UInt8,
    left_at Nullable(DateTime('UTC'))
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(joined_at)
ORDER BY (app_id, session_id, participant, joined_at);

CREATE TABLE IF NOT EXISTS recordings (
    app_id String,
    session_id String,
    kind String,
    url String,
    version UInt64,
    deleted UInt8,
    start_time Nullable(DateTime('UTC')),
    end_time Nullable(DateTime('UTC')),
    duration_seconds Float64,
    recording_date String
) ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, session_id, kind, url);

CREATE TABLE IF NOT EXISTS calls (
    app_id String,
    session_id String,
    version UInt64,
    deleted UInt8,
    outcome String,
    initiator String,
    initiator_name String,
    receiver String,
    receiver_type String,
    media String,
    initiated_at Nullable(DateTime('UTC'))
) ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, session_id);

-- One row per session (the newest seq): the keys of every row of the session
-- that may be live. committed = 1: the rows of version `version` are all
-- stored and these are exactly their keys; committed = 0 (an intent, written
-- before the rows of a flush): the flush may have stored some of its rows, and
-- the keys are those of the previous state and of the flush together.
CREATE TABLE IF NOT EXISTS session_versions (
    app_id String,
    session_id String,
    seq UInt64,
    committed UInt8,
    version UInt64,
    started_at DateTime('UTC'),
    meeting_starts Array(DateTime('UTC')),
    attendance_participants Array(String),
    attendance_starts Array(DateTime('UTC')),
    interval_participants Array(String),
    interval_joined_at Array(DateTime('UTC')),
    recording_kinds Array(String),
    recording_urls Array(String),
    is_call UInt8
) ENGINE = ReplacingMergeTree(seq)
ORDER BY (app_id, session_id);
