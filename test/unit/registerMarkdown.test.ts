import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeProfile } from '../../src/domain/riskRegisterProfile.js';
import { renderRegisterMarkdown } from '../../src/registers/registerMarkdownExport.js';
import { parseRegisterMarkdown, type ParsedRegister } from '../../src/registers/registerMarkdownImport.js';
import { risksArb } from '../helpers/registerRisks.js';

const EXAMPLE = readFileSync(new URL('../fixtures/risk-profile-example.md', import.meta.url), 'utf8');

function parsed(markdown: string): ParsedRegister {
  const result = parseRegisterMarkdown(markdown);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  return result.register;
}

function problemsOf(markdown: string) {
  const result = parseRegisterMarkdown(markdown);
  if (result.ok) throw new Error('expected the import to be refused');
  return result.problems;
}

const TABLE_HEAD = '| Risk ID | Category | Description | Probability | Impact |\n| --- | --- | --- | --- | --- |\n';

describe('parseRegisterMarkdown: the example', () => {
  const register = parsed(EXAMPLE);
  const profile = computeProfile(register.risks, register.stated);

  it('reads the header', () => {
    expect(register).toMatchObject({
      title: 'Risk Profile: Story 4.2',
      subject: 'Story 4.2',
      reviewer: 'Release QA',
      reviewedOn: '2026-03-09',
    });
    expect(register.assessment).toMatch(/^Password reset .* until the token lifetime is fixed\.$/);
    expect(register.risks.map((r) => r.id)).toEqual([
      'SEC-001', 'SEC-002', 'TECH-001', 'OPS-001', 'PERF-001', 'SEC-003', 'TECH-002', 'OPS-002', 'BUS-001',
    ]);
    // The mitigation written under SEC-001's own heading lands on its row.
    expect(register.risks[0]).toMatchObject({ mitigation: 'preventive', mitigationPlan: '30-minute lifetime, single use' });
  });

  it('computes the profile from the risks', () => {
    expect(profile.levels).toEqual({ critical: 1, high: 1, medium: 2, low: 3, minimal: 2 });
    expect(profile.overallScore).toBe(54);
    expect(profile.gate).toBe('FAIL');
    expect(profile.mustFix.map((m) => m.id)).toEqual(['SEC-001', 'SEC-002']);
    expect(profile.calculation).toBe('100 − 20 − 10 − 10 − 6 = 54');
  });

  it('says where the stated summary is wrong', () => {
    const byFigure = Object.fromEntries(profile.disagreements.map((d) => [d.figure, d]));
    expect(byFigure['levels.medium']).toMatchObject({ stated: 3, computed: 2, line: 11 });
    expect(byFigure['levels.low']).toMatchObject({ stated: 4, computed: 3, line: 12 });
    expect(byFigure.overallScore).toMatchObject({ stated: 58, computed: 54, line: 13 });
    expect(byFigure['calculation.arithmetic']).toMatchObject({ stated: 58, computed: 47, line: 68 });
    expect(byFigure['calculation.result']).toMatchObject({ stated: 58, computed: 54 });
    expect(byFigure['risks.PERF-001.priority']).toMatchObject({ stated: 'medium', computed: 'low', line: 51 });
    expect(byFigure['categories.performance']).toMatchObject({ stated: '1 risk (1 medium)', computed: '1 risk (1 low)', line: 34 });
    expect(byFigure['categories.operational']).toMatchObject({ stated: '2 risks (1 medium, 1 low)', computed: '2 risks (1 medium, 1 minimal)' });
    expect(byFigure['categories.business']).toMatchObject({ stated: '1 risk (1 low)', computed: '1 risk (1 minimal)' });
    // What agrees is not reported.
    for (const figure of ['total', 'levels.critical', 'levels.high', 'categories.security', 'components.Auth Service', 'risks.SEC-001.score']) {
      expect(byFigure[figure]).toBeUndefined();
    }
    expect(profile.unverifiable).toEqual([]);
  });
});

describe('parseRegisterMarkdown: tolerance', () => {
  it('takes columns in any order, ignores extra ones, and reads ratings as words, numbers or both', () => {
    const register = parsed(
      '# Risk Profile: Release 2\n\n' +
        '| impact | Notes | PROBABILITY | risk id | Description | category | Component |\n|---|---|---|---|---|---|---|\n' +
        '| High (3) | x | medium | DATA-001 | Migration drops a column | Data | DB |\n' +
        '| 1 | y | 3 | BUS-001 | Pricing page unclear | business | Web |\n',
    );
    expect(register.subject).toBe('Release 2');
    expect(register.risks.map((r) => [r.id, r.category, r.probability, r.impact, r.component])).toEqual([
      ['DATA-001', 'data', 2, 3, 'DB'],
      ['BUS-001', 'business', 3, 1, 'Web'],
    ]);
    // Nothing stated but where each row was written.
    expect(register.stated).toEqual({ rows: { 'DATA-001': 5, 'BUS-001': 6 } });
  });

  it('prefers the table under the register heading, and upper-cases ids', () => {
    const register = parsed(
      '# Risk Profile: X\n\n## Test Plan\n\n| ID | Test |\n|---|---|\n| T-1 | login |\n\n## Detailed Risk Register\n\n' +
        TABLE_HEAD +
        '| sec-001 | Security | A | 3 | 3 |\n',
    );
    expect(register.risks.map((r) => r.id)).toEqual(['SEC-001']);
  });

  it('refuses more than 1,000 risks', () => {
    const rows = Array.from({ length: 1001 }, (_, i) => `| TECH-${i + 1} | Technical | Risk ${i} | 1 | 1 |\n`).join('');
    expect(problemsOf(`# X\n\n${TABLE_HEAD}${rows}`)).toEqual([{ line: 3, message: '1001 risks; a register holds at most 1000' }]);
  });

  it('puts component counts it cannot check into unverifiable', () => {
    const register = parsed(
      '# Risk Profile: X\n\n## Risk Distribution\n\n### By Component\n\n- **API:** 2 risks\n\n## Detailed Risk Register\n\n' +
        TABLE_HEAD +
        '| TECH-001 | Technical | A | 1 | 1 |\n',
    );
    const profile = computeProfile(register.risks, register.stated);
    expect(profile.disagreements).toEqual([]);
    expect(profile.unverifiable).toEqual([
      { figure: 'components.API', label: 'Component API', stated: '2 risks', reason: 'the risks name no component', line: 7 },
    ]);
  });
});

describe('parseRegisterMarkdown: refusals list every problem with its line', () => {
  it('refuses a document with no risk table', () => {
    expect(problemsOf('# Risk Profile: X\n\nNothing here.\n')).toEqual([
      { line: null, message: 'No risk table: expected a table with a "Risk ID" column' },
    ]);
  });

  it('refuses a table with no risk rows', () => {
    expect(problemsOf(`# X\n\n${TABLE_HEAD}`)).toEqual([{ line: 3, message: 'The risk table has no risk rows' }]);
  });

  it('refuses duplicate ids, unknown categories and ratings outside 1–3, all at once', () => {
    const problems = problemsOf(
      `# X\n\n${TABLE_HEAD}` +
        '| SEC-001 | Security | A | 2 | 2 |\n' +
        '| SEC-001 | Security | B | 2 | 2 |\n' +
        '| INF-001 | Infrastructure | C | 2 | 2 |\n' +
        '| SEC-002 | Security | D | 4 | Low (3) |\n',
    );
    expect(problems).toEqual([
      { line: 6, message: 'Duplicate risk id SEC-001 (first on line 5)' },
      { line: 7, message: 'INF-001: unknown category "Infrastructure" (one of technical, performance, data, security, operational, business)' },
      { line: 8, message: 'SEC-002: probability 4 is outside 1–3' },
      { line: 8, message: 'SEC-002: impact "Low (3)" contradicts itself' },
    ]);
  });
});

describe('export → import', () => {
  it('gives the example the same profile with no disagreements', () => {
    const first = parsed(EXAMPLE);
    const profile = computeProfile(first.risks, first.stated);
    const again = parsed(renderRegisterMarkdown(first, first.risks, profile));
    const second = computeProfile(again.risks, again.stated);
    expect(second.disagreements).toEqual([]);
    expect(second.unverifiable).toEqual([]);
    expect({ ...second, disagreements: profile.disagreements }).toEqual(profile);
    expect(again).toMatchObject({ title: first.title, subject: first.subject, reviewer: first.reviewer, reviewedOn: first.reviewedOn });
  });

  it('round-trips any register, pipes in descriptions included', () => {
    fc.assert(
      fc.property(risksArb(40), fc.constantFrom('a | b', 'plain', '`code` and *emphasis*'), (risks, text) => {
        fc.pre(risks.length > 0);
        const withText = risks.map((r, i) => ({ ...r, description: `${text} ${i}`, owner: i % 2 ? 'QA' : null }));
        const header = { title: 'Release 9 risks', subject: 'Release 9', reviewer: null, reviewedOn: null, assessment: null };
        const profile = computeProfile(withText, {});
        const back = parsed(renderRegisterMarkdown(header, withText, profile));
        const again = computeProfile(back.risks, back.stated);
        expect(again.disagreements).toEqual([]);
        expect({ ...again }).toEqual(profile);
        expect(back.risks.map((r) => [r.id, r.description, r.owner, r.component])).toEqual(
          withText.map((r) => [r.id, r.description, r.owner, r.component]),
        );
        expect([back.title, back.subject]).toEqual([header.title, header.subject]);
      }),
      { numRuns: 50 },
    );
  });
});
