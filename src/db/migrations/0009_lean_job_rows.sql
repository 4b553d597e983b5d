-- The jobs row is updated on every transition (SPEC §2: the snapshot persisted with it). Such an update
-- stays on its page (a HOT update: no new index entries, the cheapest write PostgreSQL has) only when it
-- changes no indexed column — keys and partial-index predicates alike — and the page has room. So:
--   * status, updated_at, seq, iteration, awaiting_confirmation, error and snapshot are in no index:
--     "unfinished" is `finished_at is null` (set once, at the terminal transition), "due" is
--     `scheduled_for is not null` (set only while scheduled);
--   * pages are kept half empty (fillfactor 50) so the new row version fits beside the old one;
--   * the snapshot is `json` (stored as sent) rather than `jsonb` (parsed and rebuilt on every write):
--     it is only ever read back whole or one field at a time.
-- Existing rows are carried over as they are; the two facts the new indexes rely on are made true for
-- old rows first and then held by check constraints.

update jobs set finished_at = updated_at where status in ('ready', 'failed') and finished_at is null;
update jobs set finished_at = null where status not in ('ready', 'failed') and finished_at is not null;
update jobs set scheduled_for = null where status <> 'scheduled' and scheduled_for is not null;

alter table jobs
  add constraint jobs_finished_when_terminal check ((finished_at is not null) = (status in ('ready', 'failed'))),
  add constraint jobs_scheduled_for_when_scheduled check (scheduled_for is null or status = 'scheduled');

drop index if exists jobs_status_idx;
drop index if exists jobs_scheduled_for_idx;
drop index if exists jobs_runnable_updated_idx;
drop index if exists jobs_unfinished_created_idx;
drop index if exists jobs_owner_unfinished_idx;

create index jobs_scheduled_for_idx on jobs (scheduled_for) where scheduled_for is not null;
-- Max-age and stale-job sweeps, the rebuild's runnable jobs, a user's newest unfinished job.
create index jobs_unfinished_created_idx on jobs (created_at) where finished_at is null;
create index jobs_owner_unfinished_idx on jobs (owner_id, created_at desc, id desc) where finished_at is null;

-- Set before the type change: the rewrite it causes lays existing rows out at the new fill factor.
alter table jobs set (fillfactor = 50);
alter table jobs alter column snapshot type json using snapshot::json;
