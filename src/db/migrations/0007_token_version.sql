-- Token revocation (SPEC §9): every bearer token carries the version of its user's tokens at minting;
-- `npm run token -- --revoke` bumps it, and a token minted under an older version is refused. A counter
-- rather than a "revoked at" time: a token minted in the same second as a revocation is unambiguous.
alter table users add column if not exists token_version integer not null default 0 check (token_version >= 0);
