/** The manifest statuses have one definition (MANIFEST_STATUSES): the state machine writes only these. */
import * as fs from 'node:fs';
import { CONVERT_MANIFEST_ASL_PATH } from '../../../contracts/convert-manifest-asl';
import { FINAL_STATUSES, MANIFEST_STATUSES } from '../../../contracts/table-schema';

/** Every DynamoDB expression of the ASL with the values it binds, wherever the state sits. */
function expressionsOf(node: unknown, out: { expression: string; values: Record<string, { S?: string }> }[] = []) {
  if (Array.isArray(node)) for (const item of node) expressionsOf(item, out);
  else if (typeof node === 'object' && node !== null) {
    const fields = node as Record<string, unknown>;
    const values = (fields.ExpressionAttributeValues ?? {}) as Record<string, { S?: string }>;
    for (const name of ['UpdateExpression', 'ConditionExpression']) {
      if (typeof fields[name] === 'string') out.push({ expression: fields[name], values });
    }
    for (const value of Object.values(fields)) expressionsOf(value, out);
  }
  return out;
}

/**
 * The statuses the ASL sets (`#status = :x`, or `#status = if_not_exists(#outputStatus, :x)`) and compares with
 * (`#status <> :x`), by the values bound to `:x`.
 */
function statusesOf(asl: unknown): { set: string[]; compared: string[] } {
  const set: string[] = [];
  const compared: string[] = [];
  for (const { expression, values } of expressionsOf(asl)) {
    for (const [, op, placeholder] of expression.matchAll(/#status\s*(=|<>)\s*(?:if_not_exists\(#\w+,\s*)?(:\w+)/g)) {
      const status = values[placeholder]?.S;
      expect({ placeholder, status }).toEqual({ placeholder, status: expect.any(String) });
      (op === '=' && expression.startsWith('SET') ? set : compared).push(status as string);
    }
  }
  return { set, compared };
}

describe('MANIFEST_STATUSES', () => {
  const asl = JSON.parse(fs.readFileSync(CONVERT_MANIFEST_ASL_PATH, 'utf8')) as unknown;

  test('holds each status once, the final ones among them', () => {
    expect(new Set(MANIFEST_STATUSES).size).toBe(MANIFEST_STATUSES.length);
    for (const status of FINAL_STATUSES) expect(MANIFEST_STATUSES).toContain(status);
  });

  test('the state machine sets and compares only these statuses, and ends a manifest in each final one (I7)', () => {
    const { set, compared } = statusesOf(asl);

    for (const status of [...set, ...compared]) expect(MANIFEST_STATUSES).toContain(status);
    expect([...new Set(set)].sort()).toEqual(['RUNNING', ...FINAL_STATUSES].sort());
  });

  test('a status the list lacks is found', () => {
    const drifted = JSON.parse(JSON.stringify(asl).replace('"S":"SUCCEEDED"', '"S":"SUCCEEDED_OK"')) as unknown;
    expect(statusesOf(drifted).set).toContain('SUCCEEDED_OK');
  });
});
