/**
 * Schema migrations, applied in order by `PRAGMA user_version` (migration i brings the file
 * from version i to i + 1). Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: schedule, breaks, event-id and splice-event-id counters, cues, as-run
  `
  CREATE TABLE schedule_items (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,            -- UTC epoch ms
    duration_ms   INTEGER NOT NULL CHECK (duration_ms > 0),
    title         TEXT    NOT NULL,
    subtitle      TEXT,
    description   TEXT,
    language      TEXT,
    genre         TEXT,
    content_l1    INTEGER CHECK (content_l1 BETWEEN 0 AND 15),
    content_l2    INTEGER CHECK (content_l2 BETWEEN 0 AND 15),
    rating_system TEXT,
    rating_value  TEXT,
    rating_age    INTEGER,
    episode_nums  TEXT,                        -- JSON [{system, value}]
    event_id      INTEGER NOT NULL CHECK (event_id BETWEEN 1 AND 65535),
    UNIQUE (channel, event_id)
  );
  CREATE INDEX schedule_items_channel_start ON schedule_items (channel, start_ms);

  CREATE TABLE item_breaks (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES schedule_items (id) ON DELETE CASCADE,
    offset_ms   INTEGER NOT NULL CHECK (offset_ms >= 0),
    duration_ms INTEGER NOT NULL CHECK (duration_ms > 0),
    break_id    TEXT
  );
  CREATE INDEX item_breaks_item ON item_breaks (item_id);

  CREATE TABLE breaks (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    start_ms    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms > 0),
    break_id    TEXT
  );
  CREATE INDEX breaks_channel_start ON breaks (channel, start_ms);

  -- last DVB event_id handed out per channel (16 bit, 1…65535, wraps to 1)
  CREATE TABLE event_id_counters (
    channel TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- last splice_event_id handed out per channel (32 bit, 1…2^32-1, wraps to 1, 0 never used)
  CREATE TABLE splice_counters (
    channel TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE cues (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    splice_event_id INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    scheduled_ms    INTEGER,
    created_ms      INTEGER NOT NULL,
    sent_ms         INTEGER,
    pts             INTEGER,
    section         TEXT,                      -- base64 splice_info_section
    details         TEXT                       -- JSON
  );
  CREATE INDEX cues_channel_event ON cues (channel, splice_event_id);

  CREATE TABLE asrun (
    id           INTEGER PRIMARY KEY,
    channel      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    scheduled_ms INTEGER,
    actual_ms    INTEGER NOT NULL,
    pts          INTEGER,
    event_id     INTEGER,
    details      TEXT                          -- JSON
  );
  CREATE INDEX asrun_channel_actual ON asrun (channel, actual_ms);
  `,
  // 2: Telegram alert outbox (one row per message and chat) and small alerting state (update offsets)
  `
  CREATE TABLE alert_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id          TEXT    NOT NULL,            -- numeric part of the bot token (public), never the token
    chat_id         TEXT    NOT NULL,
    channel         TEXT,                        -- NULL for box-wide alerts
    kind            TEXT    NOT NULL,            -- alert kind, or "reply" for a bot command answer
    created_ms      INTEGER NOT NULL,
    payload         TEXT    NOT NULL,            -- Telegram HTML, already cut to 4096 characters
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    lease_owner     TEXT,                        -- sender holding the row while its request is in flight
    lease_until_ms  INTEGER,
    sent_ms         INTEGER,                     -- set only after Telegram answered ok
    failed_ms       INTEGER,                     -- set when Telegram refused the message for good (4xx)
    last_error      TEXT
  );
  CREATE INDEX alert_outbox_pending ON alert_outbox (bot_id, chat_id, id) WHERE sent_ms IS NULL AND failed_ms IS NULL;

  CREATE TABLE alert_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: the media file of a schedule item, for playlist inputs (path or URL; relative paths
  //    resolve against the profile's input.mediaDir); NULL = no media (the item airs as filler)
  `
  ALTER TABLE schedule_items ADD COLUMN media TEXT;
  `,
  // 4: cues accepted from the control API, kept from acceptance until they air or can no
  //    longer air, so a restart re-arms them (store/cue-requests.ts)
  `
  CREATE TABLE cue_requests (
    channel         TEXT    NOT NULL,
    splice_event_id INTEGER NOT NULL,            -- allocated (splice_counters) in the same transaction
    at_ms           INTEGER NOT NULL,            -- splice time asked for, UTC epoch ms; "now": the time of the request
    immediate       INTEGER NOT NULL CHECK (immediate IN (0, 1)),
    duration_ms     INTEGER NOT NULL CHECK (duration_ms > 0),
    created_ms      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'aired', 'missed')),
    done_ms         INTEGER,                     -- when it aired (first out cue sent) or was found missed
    PRIMARY KEY (channel, splice_event_id)
  ) WITHOUT ROWID;
  CREATE INDEX cue_requests_pending ON cue_requests (channel, at_ms) WHERE state = 'pending';
  `,
  // 5: one row per daemon process (store/runs.ts): inserted at start (the "running" marker),
  //    ended by a clean shutdown, a crash record, or found open at a later start (unclean exit)
  `
  CREATE TABLE daemon_runs (
    id          INTEGER PRIMARY KEY,
    instance    TEXT    NOT NULL,                -- the profiles directory served (one per unit sharing the store)
    pid         INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    ended_ms    INTEGER,                         -- NULL while running, or after an exit that left no record
    outcome     TEXT    CHECK (outcome IN ('clean', 'crash', 'unclean')),
    error       TEXT,                            -- crash: "Name: message"; unclean: the Node report's event, if any
    stack       TEXT,
    channels    TEXT,                            -- crash: JSON [{id, state, source}] at the time
    report      TEXT,                            -- unclean: Node's diagnostic report file, if one was written
    reported_ms INTEGER                          -- when the restart alert took it into account
  );
  CREATE INDEX daemon_runs_instance ON daemon_runs (instance, id);
  `,
  // 6: ids that never run out and retention (issue #23, store/event-ids.ts, store/retention.ts):
  //    - schedule_items without UNIQUE (channel, event_id): an event_id comes round again once
  //      its item is over and out of the EPG window, while the past item is still kept
  //      (rebuilt the SQLite way; migrate() runs migrations with foreign keys off, so the
  //      DROP does not cascade to item_breaks, which then refer to the rebuilt table);
  //    - splice_event_ids: the lease of each splice_event_id handed out;
  //    - indexes for pruning by age.
  `
  CREATE TABLE schedule_items_v6 (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    start_ms      INTEGER NOT NULL,            -- UTC epoch ms
    duration_ms   INTEGER NOT NULL CHECK (duration_ms > 0),
    title         TEXT    NOT NULL,
    subtitle      TEXT,
    description   TEXT,
    language      TEXT,
    genre         TEXT,
    content_l1    INTEGER CHECK (content_l1 BETWEEN 0 AND 15),
    content_l2    INTEGER CHECK (content_l2 BETWEEN 0 AND 15),
    rating_system TEXT,
    rating_value  TEXT,
    rating_age    INTEGER,
    episode_nums  TEXT,                        -- JSON [{system, value}]
    event_id      INTEGER NOT NULL CHECK (event_id BETWEEN 1 AND 65535),
    media         TEXT
  );
  INSERT INTO schedule_items_v6 SELECT id, channel, start_ms, duration_ms, title, subtitle, description, language, genre,
    content_l1, content_l2, rating_system, rating_value, rating_age, episode_nums, event_id, media FROM schedule_items;
  DROP TABLE schedule_items;
  ALTER TABLE schedule_items_v6 RENAME TO schedule_items;
  CREATE INDEX schedule_items_channel_start ON schedule_items (channel, start_ms);
  CREATE INDEX schedule_items_start ON schedule_items (start_ms);

  -- a splice_event_id is in use until busy_until_ms (its break's end plus a margin)
  CREATE TABLE splice_event_ids (
    channel         TEXT    NOT NULL,
    splice_event_id INTEGER NOT NULL,
    busy_until_ms   INTEGER NOT NULL,
    PRIMARY KEY (channel, splice_event_id)
  ) WITHOUT ROWID;
  CREATE INDEX splice_event_ids_until ON splice_event_ids (busy_until_ms);

  CREATE INDEX asrun_actual ON asrun (actual_ms);
  CREATE INDEX cues_created ON cues (created_ms);
  CREATE INDEX cue_requests_done ON cue_requests (done_ms) WHERE state <> 'pending';
  CREATE INDEX breaks_start ON breaks (start_ms);
  `,
  // the API's cues may also end returned (ended early, issue #21) or cancelled before they aired
  `
  CREATE TABLE cue_requests_v7 (
    channel         TEXT    NOT NULL,
    splice_event_id INTEGER NOT NULL,
    at_ms           INTEGER NOT NULL,
    immediate       INTEGER NOT NULL CHECK (immediate IN (0, 1)),
    duration_ms     INTEGER NOT NULL CHECK (duration_ms > 0),
    created_ms      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'aired', 'missed', 'returned', 'cancelled')),
    done_ms         INTEGER,                     -- when it aired, was found missed, returned (in cue asked) or cancelled
    PRIMARY KEY (channel, splice_event_id)
  ) WITHOUT ROWID;
  INSERT INTO cue_requests_v7 SELECT channel, splice_event_id, at_ms, immediate, duration_ms, created_ms, state, done_ms FROM cue_requests;
  DROP TABLE cue_requests;
  ALTER TABLE cue_requests_v7 RENAME TO cue_requests;
  CREATE INDEX cue_requests_pending ON cue_requests (channel, at_ms) WHERE state = 'pending';
  CREATE INDEX cue_requests_done ON cue_requests (done_ms) WHERE state <> 'pending';
  `,
];
