-- Indexes for the job runtime's sweeps (src/db/jobRuntimeQueries.ts). Partial, so they hold only the
-- unfinished jobs the sweeps look at, not the growing history of finished ones.

-- Orphan sweep: runnable jobs (not awaiting confirmation) untouched for longer than a lease.
create index jobs_runnable_updated_idx on jobs (updated_at)
  where status in ('queued', 'starting', 'scaffold', 'code', 'deps', 'checks') and not awaiting_confirmation;

-- Max-age sweep, and a user's newest unfinished job (iteration counters).
create index jobs_unfinished_created_idx on jobs (created_at) where status not in ('ready', 'failed');
create index jobs_owner_unfinished_idx on jobs (owner_id, created_at desc, id desc) where status not in ('ready', 'failed');
