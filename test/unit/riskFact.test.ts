import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { createManualClock } from '../../src/clock.js';
import {
  createRiskFact,
  formatSeverity,
  parseRiskFact,
  riskFactToJson,
  type RiskFactInput,
} from '../../src/domain/riskFact.js';
import { RISK_ID_PATTERN, createRiskId, isRiskId, riskIdTime } from '../../src/domain/riskId.js';

const clock = createManualClock('2026-01-05T10:04:09.123Z');
const base: RiskFactInput = { riskType: 'HIGH_TOKEN_USAGE', severity: '0.85' };
const make = (overrides: Record<string, unknown> = {}) => createRiskFact({ ...base, ...overrides }, { clock });
const refuses = (overrides: Record<string, unknown>) => expect(() => make(overrides)).toThrow(ZodError);

describe('riskId', () => {
  it('is generated from the UTC time of the fact', () => {
    const fact = make();
    expect(fact.riskId).toMatch(/^RSK_20260105_100409_[0-9a-f]{8}$/);
    expect(fact.timestamp).toBe('2026-01-05T10:04:09.123Z');
  });

  it('hashes prefix, time and a random UUID: another UUID, another id', () => {
    const t = Date.parse('2026-01-05T10:04:09Z');
    const a = createRiskId(t, () => '00000000-0000-4000-8000-000000000001');
    const b = createRiskId(t, () => '00000000-0000-4000-8000-000000000002');
    expect(a).not.toBe(b);
    expect(createRiskId(t, () => '00000000-0000-4000-8000-000000000001')).toBe(a);
  });

  it('keeps a valid id the caller supplies', () => {
    expect(make({ riskId: 'RSK_20251231_235959_0a1b2c3d' }).riskId).toBe('RSK_20251231_235959_0a1b2c3d');
  });

  it.each([
    ['RSK_20251231_235959_0A1B2C3D', 'uppercase hex'],
    ['RSK_20251231_235959_0a1b2c3', '7 hex digits'],
    ['RSK_2025123_235959_0a1b2c3d', 'short date'],
    ['RISK_20251231_235959_0a1b2c3d', 'wrong prefix'],
    ['RSK_20251301_000000_0a1b2c3d', 'month 13'],
    ['RSK_20260230_000000_0a1b2c3d', 'February 30'],
    ['RSK_20260101_240000_0a1b2c3d', 'hour 24'],
    ['RSK_20260101_000060_0a1b2c3d', 'second 60'],
    [' RSK_20260101_000000_0a1b2c3d', 'leading space'],
  ])('refuses %s (%s)', (riskId) => {
    expect(isRiskId(riskId)).toBe(false);
    refuses({ riskId });
  });

  it('property: every generated id has the format and encodes its second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), fc.uuid(), (ms, uuid) => {
        const id = createRiskId(ms, () => uuid);
        expect(id).toMatch(RISK_ID_PATTERN);
        expect(isRiskId(id)).toBe(true);
        expect(riskIdTime(id)).toBe(ms - (ms % 1000));
      }),
    );
  });

  it('property: a string with any character changed outside the allowed alphabet is refused', () => {
    const valid = createRiskId(Date.parse('2026-01-05T10:04:09Z'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.constantFrom('G', 'x', '-', ' ', 'é', 'A'), (i, ch) => {
        const mutated = valid.slice(0, i) + ch + valid.slice(i + 1);
        // Only a change inside the hex part to another lowercase hex digit keeps it valid, and none of these is one.
        expect(isRiskId(mutated)).toBe(mutated === valid);
      }),
    );
  });
});

describe('timestamp', () => {
  it('takes a time without zone as UTC', () => {
    expect(make({ timestamp: '2026-02-01T08:30:00' }).timestamp).toBe('2026-02-01T08:30:00.000Z');
    expect(make({ timestamp: '2026-02-01' }).timestamp).toBe('2026-02-01T00:00:00.000Z');
  });

  it('converts a zoned time to UTC, and the id follows the UTC time', () => {
    const fact = make({ timestamp: '2026-02-01T08:30:00+02:00' });
    expect(fact.timestamp).toBe('2026-02-01T06:30:00.000Z');
    expect(fact.riskId).toMatch(/^RSK_20260201_063000_/);
  });

  it('accepts a Date and epoch ms', () => {
    expect(make({ timestamp: new Date('2026-02-01T00:00:00Z') }).timestamp).toBe('2026-02-01T00:00:00.000Z');
    expect(make({ timestamp: Date.UTC(2026, 1, 1) }).timestamp).toBe('2026-02-01T00:00:00.000Z');
  });

  it.each(['yesterday', 'Sun, 01 Feb 2026 08:30:00 GMT', '2026-02-30T00:00:00Z', '2026-01-01T25:00:00Z', '1969-12-31T23:59:59Z', '2026-01-01T00:00:00+25:00'])(
    'refuses %s',
    (timestamp) => refuses({ timestamp }),
  );

  it('refuses non-integer epoch ms and invalid dates', () => {
    refuses({ timestamp: 1.5 });
    refuses({ timestamp: new Date('nope') });
  });
});

describe('riskType', () => {
  it.each(['ABC', 'HIGH_TOKEN_USAGE', 'A1_B2', 'X'.repeat(25)])('accepts %s', (riskType) => {
    expect(make({ riskType }).riskType).toBe(riskType);
  });

  it.each([
    ['AB', 'too short'],
    ['X'.repeat(26), 'too long'],
    ['high_usage', 'lowercase'],
    ['1ABC', 'starts with a digit'],
    ['HIGH-USAGE', 'dash'],
    ['SYSTEM_DOWN', 'reserved SYSTEM_'],
    ['INTERNAL_X', 'reserved INTERNAL_'],
    ['_ABC', 'reserved _'],
  ])('refuses %s (%s)', (riskType) => refuses({ riskType }));
});

describe('severity', () => {
  it('stays exact: "0.85" is 0.85, and serialises with two decimals', () => {
    const fact = make({ severity: '0.85' });
    expect(fact.severity.equals(new Decimal('0.85'))).toBe(true);
    expect(riskFactToJson(make({ severity: '0.9' })).severity).toBe('0.90');
    expect(riskFactToJson(make({ severity: 1 })).severity).toBe('1.00');
    expect(riskFactToJson(make({ severity: 0 })).severity).toBe('0.00');
  });

  it('keeps more than two decimals rather than rounding them away', () => {
    expect(formatSeverity(make({ severity: '0.855' }).severity)).toBe('0.855');
  });

  it('accepts a number that is an exact decimal literal, and a Decimal', () => {
    expect(make({ severity: 0.85 }).severity.toString()).toBe('0.85');
    expect(make({ severity: new Decimal('0.3') }).severity.toString()).toBe('0.3');
  });

  it('refuses a number carrying binary noise', () => {
    refuses({ severity: 0.1 + 0.2 });
  });

  it.each([['1.01'], ['-0.1'], [-0.1], [1.5], ['1e-1'], [' 0.5'], ['.5'], ['abc'], [Number.NaN], [Number.POSITIVE_INFINITY]])(
    'refuses %s',
    (severity) => refuses({ severity }),
  );
});

describe('affectedSymbol', () => {
  it('accepts BASE_QUOTE and null, and defaults to null', () => {
    expect(make({ affectedSymbol: 'BTC_USDT' }).affectedSymbol).toBe('BTC_USDT');
    expect(make({ affectedSymbol: null }).affectedSymbol).toBeNull();
    expect(make().affectedSymbol).toBeNull();
  });

  it.each(['BTCUSDT', 'btc_usdt', 'BTC_USDT_X', 'BTC_', '_USDT', 'BTC-USDT', 'BTC1_USDT'])('refuses %s', (affectedSymbol) =>
    refuses({ affectedSymbol }),
  );
});

describe('immutability and shape', () => {
  it('is frozen, severity included', () => {
    const fact = make();
    expect(Object.isFrozen(fact)).toBe(true);
    expect(Object.isFrozen(fact.severity)).toBe(true);
    expect(() => {
      (fact as { riskType: string }).riskType = 'OTHER';
    }).toThrow(TypeError);
  });

  it('rejects unknown fields', () => {
    refuses({ extra: 1 });
    const json = { ...riskFactToJson(make()), note: 'x' };
    expect(() => parseRiskFact(json)).toThrow(ZodError);
  });

  it('requires riskType and severity', () => {
    expect(() => createRiskFact({ severity: '0.5' })).toThrow(ZodError);
    expect(() => createRiskFact({ riskType: 'ABC' })).toThrow(ZodError);
  });

  it('round-trips through its wire form (JSON)', () => {
    const fact = make({ severity: '0.855', affectedSymbol: 'ETH_USDT' });
    const back = parseRiskFact(JSON.parse(JSON.stringify(riskFactToJson(fact))));
    expect(riskFactToJson(back)).toEqual(riskFactToJson(fact));
    expect(back.severity.equals(fact.severity)).toBe(true);
  });

  it('refuses a wire form with a zone-less timestamp or a numeric severity', () => {
    const json = riskFactToJson(make());
    expect(() => parseRiskFact({ ...json, timestamp: '2026-01-05T10:04:09' })).toThrow(ZodError);
    expect(() => parseRiskFact({ ...json, severity: 0.85 })).toThrow(ZodError);
  });
});
