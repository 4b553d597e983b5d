-- A request to fail a running job (a cancel that outwaited its host, a max-age sweep) was kept only in
-- Redis; SPEC §10 wants Redis never the only copy of anything that matters. The reason is kept here
-- too: a host that loads the job finds it, and hosts look for their jobs' requests every few seconds, so
-- Redis coming back empty no longer loses a cancel. In no index, so transitions stay HOT updates.
alter table jobs add column fail_request text;
