-- history-schema.sql - the PostgreSQL history store of `perfsweep history` (perfsweep.history/1).
-- perfsweep creates it on first use (CREATE ... IF NOT EXISTS under an advisory lock, so several
-- CI runners starting at once do not race); a DBA may also apply this file by hand.
-- One `history add` is one transaction: a machine row (shared), a run, its cells, their samples.

CREATE SCHEMA IF NOT EXISTS perfsweep_history;

-- A machine is what makes timings comparable: same host name, CPU model, core count, kernel.
CREATE TABLE IF NOT EXISTS perfsweep_history.machines (
  id        bigserial PRIMARY KEY,
  hostname  text    NOT NULL,
  cpu_model text    NOT NULL DEFAULT '',
  cores     integer NOT NULL DEFAULT 0,
  kernel    text    NOT NULL DEFAULT '',
  UNIQUE (hostname, cpu_model, cores, kernel)
);

-- One recorded results file: the commit and branch it measured, when it was measured (created,
-- from results.json) and when it was recorded (added; the order of `history show`).
CREATE TABLE IF NOT EXISTS perfsweep_history.runs (
  id         bigserial PRIMARY KEY,
  machine_id bigint  NOT NULL REFERENCES perfsweep_history.machines (id),
  commit     text    NOT NULL,
  branch     text    NOT NULL DEFAULT '',
  created    text    NOT NULL DEFAULT '',
  added      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS runs_commit ON perfsweep_history.runs (commit);

-- A cell of the sweep: its id ("batch=100,workers=1") and parameters.
CREATE TABLE IF NOT EXISTS perfsweep_history.cells (
  id     bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES perfsweep_history.runs (id) ON DELETE CASCADE,
  cell   text   NOT NULL,
  params jsonb  NOT NULL DEFAULT '{}',
  UNIQUE (run_id, cell)
);

-- The raw samples of each metric of a cell (wall, cpu, max_rss_kb, throughput,
-- stage.<name>.seconds: one per timed run; alloc.calls, alloc.bytes: one per cell).
CREATE TABLE IF NOT EXISTS perfsweep_history.samples (
  cell_id bigint  NOT NULL REFERENCES perfsweep_history.cells (id) ON DELETE CASCADE,
  metric  text    NOT NULL,
  idx     integer NOT NULL,
  value   double precision NOT NULL,
  PRIMARY KEY (cell_id, metric, idx)
);
