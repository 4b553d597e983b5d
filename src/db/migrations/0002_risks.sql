-- Risk signals (SPEC §5, §6): the failure streak, gate decisions, dismissals, and what the risk monitor
-- has already emitted. Adds to 0001's tables rather than editing them.

-- Consecutive failed jobs since the project's last ready job, kept current as jobs finish
-- (recordBuildOutcome): a ready job sets it to 0, a failed one adds 1.
-- risk_flags_emitted: the project rules (bits of PROJECT_RULE_BITS) whose crossing the monitor has
-- emitted and that have not cleared since; compared-and-set, so one process emits each crossing once.
alter table projects
  add column consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  add column risk_flags_emitted smallint not null default 0 check (risk_flags_emitted between 0 and 7);

-- The UTC date on which the monitor last emitted this user's high_token_usage risk (once per user per day).
alter table users
  add column usage_risk_emitted_on date null;

-- The monitor reads the budgets of users with an override every scan (the others' budget is their
-- tier's); overrides are few, so the partial index keeps that read small however many users there are.
create index users_budget_override_idx on users (id) where token_budget_override is not null;

-- One row per job whose terminal status has been counted into its project's streak: a second call for
-- the same job (a retry after a crash) changes nothing.
create table project_build_outcomes (
  job_id      uuid primary key,
  project_id  uuid not null references projects (id) on delete cascade,
  status      text not null check (status in ('ready', 'failed')),
  finished_at timestamptz not null
);

create index project_build_outcomes_project_idx on project_build_outcomes (project_id, finished_at desc);

-- Gate decisions: opened pending, later decided. Deciding one moves projects.last_decision_at forward.
create table project_decisions (
  id          uuid primary key,
  project_id  uuid not null references projects (id) on delete cascade,
  gate_type   text not null check (gate_type ~ '^[a-z][a-z0-9_]{0,62}$'),
  status      text not null check (status in ('pending', 'decided')),
  created_at  timestamptz not null,
  decided_at  timestamptz null,
  decided_by  text null,
  check ((status = 'decided') = (decided_at is not null))
);

create index project_decisions_pending_idx on project_decisions (project_id, created_at) where status = 'pending';
create index project_decisions_decided_idx on project_decisions (project_id, decided_at desc) where status = 'decided';

-- Rules an owner has dismissed from a project's journey view: who and when. Dismissing again keeps the first.
create table risk_dismissals (
  project_id   uuid not null references projects (id) on delete cascade,
  rule         text not null check (rule in ('stale_decision', 'build_failures', 'stale_project', 'high_token_usage')),
  dismissed_by text not null,
  dismissed_at timestamptz not null,
  primary key (project_id, rule)
);
