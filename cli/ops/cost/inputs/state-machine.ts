/** The conversion state machine's success path, walked in its ASL file: the transitions Step Functions bills. */
import * as fs from 'node:fs';
import { CONVERT_MANIFEST_ASL_PATH } from '../../../../contracts/convert-manifest-asl';

/** The states an execution that converts its manifest passes through, in order, and what its tasks call. */
export interface SuccessPath {
  readonly states: readonly string[];
  /** State transitions Step Functions bills for one such execution (one per state entered). */
  readonly transitions: number;
  /** Task states on the path, by service integration (`dynamodb`, `glue`, `s3`, `sns`, ...). */
  readonly tasksByService: Readonly<Record<string, number>>;
}

export interface AslState {
  readonly Type: string;
  /** Catch, Retry, parameters and the rest: not walked. */
  readonly [field: string]: unknown;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string; readonly [field: string]: unknown }[];
  readonly Resource?: string;
  readonly Branches?: readonly AslMachine[];
  readonly ItemProcessor?: AslMachine;
  readonly Iterator?: AslMachine;
}

export interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** The service of a Task's resource: `arn:aws:states:::dynamodb:updateItem` -> dynamodb, `...:aws-sdk:s3:getObject` -> s3. */
function serviceOf(resource: string | undefined): string {
  const parts = (resource ?? '').split(':::')[1]?.split(':') ?? [];
  return (parts[0] === 'aws-sdk' ? parts[1] : parts[0]) || 'other';
}

/**
 * The success path of a state machine: the shortest walk from `StartAt` to a `Succeed` state (or a state with
 * `End`) along `Next`, `Choices` and `Default`, never through a `Catch` nor a retry; a Parallel state adds its
 * branches' success paths, a Map its item processor's once (one item).
 */
export function successPath(asl: AslMachine): SuccessPath {
  const previous = new Map<string, string | null>([[asl.StartAt, null]]);
  const queue = [asl.StartAt];
  let end: string | undefined;
  while (queue.length > 0 && end === undefined) {
    const name = queue.shift()!;
    const state = asl.States[name];
    if (state === undefined) throw new Error(`the ASL names a state "${name}" it does not define`);
    if (state.Type === 'Succeed' || (state.End === true && state.Type !== 'Fail')) {
      end = name;
      break;
    }
    const next = [state.Next, ...(state.Choices ?? []).map((c) => c.Next), state.Default].filter((n): n is string => typeof n === 'string');
    for (const n of next) {
      if (!previous.has(n)) {
        previous.set(n, name);
        queue.push(n);
      }
    }
  }
  if (end === undefined) throw new Error('the ASL has no path from StartAt to a Succeed state');
  const states: string[] = [];
  for (let at: string | null = end; at !== null; at = previous.get(at) ?? null) states.unshift(at);
  let transitions = 0;
  const tasksByService: Record<string, number> = {};
  const add = (sub: SuccessPath) => {
    transitions += sub.transitions;
    for (const [service, n] of Object.entries(sub.tasksByService)) tasksByService[service] = (tasksByService[service] ?? 0) + n;
  };
  for (const name of states) {
    const state = asl.States[name];
    transitions += 1;
    if (state.Type === 'Task') tasksByService[serviceOf(state.Resource)] = (tasksByService[serviceOf(state.Resource)] ?? 0) + 1;
    if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) add(successPath(branch));
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && processor !== undefined) add(successPath(processor));
  }
  return { states, transitions, tasksByService };
}

/** The success path of the conversion state machine, read from its ASL file now. */
export function readSuccessPath(file = CONVERT_MANIFEST_ASL_PATH): SuccessPath {
  return successPath(JSON.parse(fs.readFileSync(file, 'utf8')) as AslMachine);
}
