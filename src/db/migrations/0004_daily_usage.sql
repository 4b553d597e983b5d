-- Tokens used per user per UTC date (SPEC §4, §10): what the Redis token counters hold, kept in
-- PostgreSQL so that Redis can be rebuilt from it after a restart or a wipe. Jobs admitted per day need
-- no table of their own: an admission is a transition into 'queued' from nothing or from 'scheduled',
-- and the transition log already has it, written with the job.
create table daily_usage (
  user_id     text not null references users (id) on delete cascade,
  day         date not null,
  tokens_used bigint not null default 0 check (tokens_used >= 0),
  primary key (user_id, day)
);

-- The rebuild counts today's admissions from the log; this keeps that read to today's few rows.
create index job_transitions_admissions_idx on job_transitions (at)
  where to_status = 'queued' and (from_status is null or from_status = 'scheduled');
