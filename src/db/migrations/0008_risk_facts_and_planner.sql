-- Durable risk facts (SPEC §6) and the decisions planners open (SPEC §5, §6). Adds to 0002's tables.

-- Each user's last fact sequence number. Taking the next one locks the row until commit, so a user's
-- facts commit in sequence order: a reader that has seen seq n never later finds a smaller one appear.
-- Kept when facts are purged, so a sequence number is never reused.
create table risk_fact_sequences (
  user_id  text primary key,
  last_seq bigint not null check (last_seq >= 1)
);

-- Every risk fact emitted on the bus, filed under the user it concerns (a user-scoped fact: that user;
-- a project-scoped fact: the project's owner). Platform-wide facts belong to no user and are not kept.
-- No foreign keys: a fact outlives the project it was about until retention removes it.
create table risk_facts (
  user_id     text not null,
  seq         bigint not null check (seq >= 1),
  risk_id     text not null unique,
  scope_kind  text not null check (scope_kind in ('user', 'project')),
  scope_id    text not null,
  -- The fact's wire form (riskFactToJson), read back through parseRiskFact.
  fact        jsonb not null,
  at          timestamptz not null,
  primary key (user_id, seq)
);

-- Retention deletes by the fact's time.
create index risk_facts_at_idx on risk_facts (at);

-- Decisions a planner opens carry a question, the choices offered, and the causality chain of what the
-- planner acted on; the owner's choice is recorded when decided. origin_id is the chain's origin fact:
-- one decision per origin, so planners running in every process open it once.
alter table project_decisions
  add column question  text null check (question is null or char_length(question) between 1 and 500),
  add column choices   text[] null,
  add column chain     jsonb null,
  add column choice    text null check (choice is null or choice ~ '^[a-z][a-z0-9_]{0,62}$'),
  add column origin_id text null;

create unique index project_decisions_origin_idx on project_decisions (origin_id) where origin_id is not null;

-- The creation time of the project's oldest pending decision, kept current as decisions open and close:
-- the stale_decision rule reads least(last_decision_at, oldest_pending_decision_at), so a decision left
-- waiting counts as much as one last made long ago, without the bulk scan joining project_decisions.
alter table projects
  add column oldest_pending_decision_at timestamptz null;

update projects p set oldest_pending_decision_at = d.oldest
from (select project_id, min(created_at) as oldest from project_decisions where status = 'pending' group by project_id) d
where p.id = d.project_id;
