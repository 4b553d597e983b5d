-- Chat sessions with history (SPEC §8). A session belongs to one user; its messages go with it.
create table chat_sessions (
  id         uuid primary key,
  owner_id   text not null references users (id) on delete cascade,
  -- The first message, shortened; what a list of sessions shows.
  title      text not null check (char_length(title) between 1 and 200),
  created_at timestamptz not null,
  -- Moved by every turn; the retention sweep deletes sessions untouched for WARDEN_CHAT_RETENTION_DAYS.
  updated_at timestamptz not null
);

create index chat_sessions_owner_idx on chat_sessions (owner_id, updated_at desc, id desc);
create index chat_sessions_updated_idx on chat_sessions (updated_at);

create table chat_messages (
  -- Insertion order: the two messages of a turn share created_at, and turns of one session commit one
  -- after the other (the session row is locked), so (created_at, seq) is the conversation's order.
  seq         bigint generated always as identity primary key,
  session_id  uuid not null references chat_sessions (id) on delete cascade,
  role        text not null check (role in ('user', 'assistant')),
  content     text not null,
  token_count integer not null check (token_count >= 0),
  created_at  timestamptz not null
);

-- "The newest N of a session" and "a session's history page" are both walks of this index.
create index chat_messages_session_created_idx on chat_messages (session_id, created_at, seq);
