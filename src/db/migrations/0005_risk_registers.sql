-- Risk registers (SPEC §7): a user's risk profiles of stories and releases, and their risks. Every
-- figure of a profile is computed from the risks; what a document stated is kept (stated, stated_*)
-- only to be checked against them.

create table risk_registers (
  id          uuid primary key,
  owner_id    text not null references users (id) on delete cascade,
  title       text not null check (char_length(title) between 1 and 200),
  subject     text not null check (char_length(subject) between 1 and 200),
  reviewer    text null check (reviewer is null or char_length(reviewer) between 1 and 200),
  reviewed_on date null,
  assessment  text null check (assessment is null or char_length(assessment) <= 5000),
  -- The summary as it was written (src/domain/riskRegisterStated.ts); '{}' when none was.
  stated      jsonb not null default '{}'::jsonb,
  created_at  timestamptz not null,
  updated_at  timestamptz not null
);

create index risk_registers_owner_idx on risk_registers (owner_id, created_at desc, id desc);

create table register_risks (
  register_id     uuid not null references risk_registers (id) on delete cascade,
  risk_id         text not null check (risk_id ~ '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$' and char_length(risk_id) <= 40),
  -- Order of the rows as written or added; export and profile list risks in this order.
  position        integer not null check (position >= 0),
  category        text not null check (category in ('technical', 'performance', 'data', 'security', 'operational', 'business')),
  component       text null check (component is null or char_length(component) between 1 and 500),
  description     text not null check (char_length(description) between 1 and 2000),
  probability     smallint not null check (probability between 1 and 3),
  impact          smallint not null check (impact between 1 and 3),
  mitigation      text null check (mitigation in ('preventive', 'detective', 'corrective')),
  mitigation_plan text null check (mitigation_plan is null or char_length(mitigation_plan) <= 500),
  owner           text null check (owner is null or char_length(owner) <= 500),
  timeline        text null check (timeline is null or char_length(timeline) <= 500),
  residual_risk   text null check (residual_risk is null or char_length(residual_risk) <= 500),
  stated_score    smallint null check (stated_score is null or stated_score >= 0),
  stated_priority text null check (stated_priority is null or char_length(stated_priority) <= 50),
  primary key (register_id, risk_id)
);

create index register_risks_position_idx on register_risks (register_id, position);
