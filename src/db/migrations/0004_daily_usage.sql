-- Daily usage per user per UTC date (SPEC §4, §10): what the Redis quota and token counters hold, kept
-- in PostgreSQL so that Redis can be rebuilt from it after a restart or a wipe. Each count is written in
-- the same transaction as the fact it counts (a job's admission, an LLM call's tokens).
create table daily_usage (
  user_id       text not null references users (id) on delete cascade,
  day           date not null,
  jobs_admitted integer not null default 0 check (jobs_admitted >= 0),
  tokens_used   bigint not null default 0 check (tokens_used >= 0),
  primary key (user_id, day)
);
