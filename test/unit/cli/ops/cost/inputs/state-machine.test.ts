import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSuccessPath, successPath } from '../../../../../../cli/ops/cost/inputs/state-machine';
import { FIXTURE_ASL } from '../fixtures';

describe('successPath', () => {
  it("walks Next and Choice edges to the Succeed state, never a Catch, and adds a Parallel's branches", () => {
    const p = successPath(FIXTURE_ASL);

    expect(p.states).toEqual(['Claim', 'Ready', 'Convert', 'Both', 'Record', 'Done']);
    // 6 states, plus the branches: Read (1) and Note, Noted (2).
    expect(p.transitions).toBe(9);
    expect(p.tasksByService).toEqual({ dynamodb: 2, glue: 1, s3: 1 });
  });

  it('refuses a machine with no way to success', () => {
    expect(() => successPath({ StartAt: 'A', States: { A: { Type: 'Fail' } } })).toThrow(/no path/);
  });

  it('reads the ASL file each time: a state added on the path is one more transition', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asl-'));
    try {
      const file = path.join(dir, 'machine.asl.json');
      fs.writeFileSync(file, JSON.stringify(FIXTURE_ASL));
      const before = readSuccessPath(file).transitions;
      const longer = JSON.parse(JSON.stringify(FIXTURE_ASL)) as { States: Record<string, unknown> & { Record: { Next: string } } };
      longer.States.Record.Next = 'Pause';
      longer.States.Pause = { Type: 'Wait', Seconds: 1, Next: 'Done' };
      fs.writeFileSync(file, JSON.stringify(longer));

      expect(readSuccessPath(file).transitions).toBe(before + 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds a success path in the conversion state machine, through its Glue task', () => {
    const p = readSuccessPath();

    expect(p.states.some((s) => /Convert/.test(s))).toBe(true);
    expect(p.tasksByService.glue).toBe(1);
  });
});
