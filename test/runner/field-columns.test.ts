import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COLUMN_FIELDS, columnAccepts } from '../../src/runner/apply-events.js';
import { PRIMARY_REASONS } from '../../src/store/enums.js';
import { createParticipant, updateParticipant } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';

const driver = drivers.find((d) => d.name === 'pg')!;

class Rollback extends Error {}

/**
 * A flow's participant.* value is written to its column without a savepoint when
 * columnAccepts says the column's CHECK takes it: that must never be wrong (the turn would
 * fail), and should be right as often as it can (each miss costs two round trips).
 */
describe('field values a participants column takes, mirrored from its CHECK', () => {
  const getDb = useTestDb(driver, { migrated: true });

  const databaseTakes = async (pid: string, column: string, value: string): Promise<boolean> => {
    try {
      await getDb().transaction(async (tx) => {
        await updateParticipant(tx, pid, { [column]: value });
        throw new Rollback();
      });
    } catch (err) {
      return err instanceof Rollback;
    }
    return true;
  };

  const samples: Record<string, string[]> = {
    first_name: ['Ann', 'A', 'x'.repeat(100), 'x'.repeat(101), '', 'Zoë', '😀'.repeat(100), ' '],
    preferred_lang: ['en', 'cy', 'pl', 'pt-BR', 'zh-Hant-TW', 'EN', 'e', 'engl', 'en-', 'en-B', ''],
    best_time: ['morning', 'afternoon', 'evening', 'any', 'Morning', 'night', ''],
    digital_access: ['smartphone', 'basic_mobile', 'shared_phone', 'none', 'tablet', ''],
    age_band: ['under_16', '16_24', '25_49', '90_plus', '16-24', '100', ''],
    postcode_part: ['M16', 'SW1A', 'B1', 'EC1', 'm16', 'M', '123', 'ABC1', 'M16 0RA', ''],
    primary_reason: ['loneliness_isolation', 'carer', 'other', 'lonely', ''],
  };

  it('every column a flow may set has a mirror, and it agrees with the database on samples', async () => {
    const p = await createParticipant(getDb(), { phone: uniquePhone() });
    expect(Object.keys(samples).sort()).toEqual(Object.keys(COLUMN_FIELDS).sort());
    for (const [field, column] of Object.entries(COLUMN_FIELDS)) {
      for (const value of samples[field]!) {
        const takes = await databaseTakes(p.id, column, value);
        expect({ field, value, mirror: columnAccepts(column, value) }).toEqual({
          field,
          value,
          mirror: takes,
        });
      }
    }
    // Not a string, or a NUL: never taken as sure (the savepoint decides).
    expect(columnAccepts('firstName', 42)).toBe(false);
    expect(columnAccepts('firstName', 'A\u0000B')).toBe(false);
  });

  it('random strings: the mirror never accepts what the database refuses', async () => {
    const p = await createParticipant(getDb(), { phone: uniquePhone() });
    const columns = Object.values(COLUMN_FIELDS);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...columns),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.stringMatching(/^[A-Za-z]{1,3}[0-9][0-9A-Za-z]?$/),
          fc.stringMatching(/^[a-zA-Z]{2,4}(-[A-Za-z0-9]{1,9})?$/),
        ),
        async (column, value) => {
          if (value.includes('\u0000')) return;
          if (columnAccepts(column, value))
            expect(await databaseTakes(p.id, column, value)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a referral reason: the column takes exactly PRIMARY_REASONS (checked before writing)', async () => {
    const p = await createParticipant(getDb(), { phone: uniquePhone() });
    const takes = async (reason: string): Promise<boolean> => {
      try {
        await getDb().transaction(async (tx) => {
          await tx.query(
            `INSERT INTO referrals (participant_id, route, reason) VALUES ($1, 'self', $2)`,
            [p.id, reason],
          );
          throw new Rollback();
        });
      } catch (err) {
        return err instanceof Rollback;
      }
      return true;
    };
    for (const reason of PRIMARY_REASONS)
      expect({ reason, takes: await takes(reason) }).toEqual({ reason, takes: true });
    for (const reason of ['lonely', 'Carer', 'other ', '', 'housing_'])
      expect({ reason, takes: await takes(reason) }).toEqual({ reason, takes: false });
  });
});
