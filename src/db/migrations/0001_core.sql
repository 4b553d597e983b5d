-- Core tables: users, projects, jobs and the job transition log (SPEC §2, §3, §10).
-- No schema name anywhere: the migration runs in whatever schema search_path names (tests own one each).

create table users (
  id                    text primary key check (char_length(id) between 1 and 200),
  tier                  text not null,
  -- Null: the tier's daily token budget applies; -1: unlimited (SPEC §1).
  token_budget_override bigint null check (token_budget_override is null or token_budget_override >= -1),
  is_admin              boolean not null default false,
  created_at            timestamptz not null,
  updated_at            timestamptz not null
);

create table projects (
  id               uuid primary key,
  owner_id         text not null references users (id),
  name             text not null check (char_length(name) between 1 and 200),
  created_at       timestamptz not null,
  last_activity_at timestamptz not null,
  last_decision_at timestamptz null,
  -- Target of jobs' composite foreign key: a job can only sit in a project of its own owner.
  unique (id, owner_id)
);

create index projects_owner_idx on projects (owner_id, created_at desc, id desc);

create table jobs (
  id                    uuid primary key,
  owner_id              text not null references users (id),
  project_id            uuid not null,
  tier                  text not null,
  goal                  text not null check (char_length(goal) between 1 and 10000),
  status                text not null check (status in
                          ('queued', 'scheduled', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready', 'failed')),
  iteration             integer not null default 0 check (iteration >= 0),
  awaiting_confirmation boolean not null default false,
  -- Seq of the last applied transition; the next one must be exactly seq + 1.
  seq                   integer not null check (seq >= 1),
  created_at            timestamptz not null,
  updated_at            timestamptz not null,
  started_at            timestamptz null,
  finished_at           timestamptz null,
  error                 text null check (error is null or char_length(error) <= 200),
  snapshot              jsonb null,
  machine_version       integer null,
  scheduled_for         timestamptz null,
  queue_score           double precision null,
  -- A snapshot without the machine version that wrote it cannot be restored safely.
  check ((snapshot is null) = (machine_version is null)),
  constraint jobs_project_owner_fkey foreign key (project_id, owner_id) references projects (id, owner_id)
);

create index jobs_owner_idx on jobs (owner_id, created_at desc, id desc);
create index jobs_project_idx on jobs (project_id, created_at desc, id desc);
create index jobs_status_idx on jobs (status, created_at desc, id desc);
-- The scheduler releases scheduled jobs in scheduled_for order; the partial index stays small.
create index jobs_scheduled_for_idx on jobs (scheduled_for) where status = 'scheduled';

create table job_transitions (
  job_id      uuid not null references jobs (id) on delete cascade,
  seq         integer not null check (seq >= 1),
  from_status text null check (from_status in
                ('queued', 'scheduled', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready', 'failed')),
  to_status   text not null check (to_status in
                ('queued', 'scheduled', 'starting', 'scaffold', 'code', 'deps', 'checks', 'ready', 'failed')),
  message     text not null,
  iteration   integer not null check (iteration >= 0),
  at          timestamptz not null,
  -- The first transition (seq 1) creates the job and has no previous status; every later one has.
  check ((seq = 1) = (from_status is null)),
  primary key (job_id, seq)
);
