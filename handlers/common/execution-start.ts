/**
 * Starting a named execution so that a retried start never makes a second one (I3): the name is a pure function
 * of the manifest (and replay number), and `ExecutionAlreadyExists` counts as "already started" only once the
 * existing execution's input is checked to be the same; another input is an {@link ExecutionNameConflictError}.
 */
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionArnOf } from '../domain/manifest';
import { ExecutionNameConflictError, hasErrorName } from './errors';

/** What a start did. */
export interface StartedExecution {
  readonly executionArn: string;
  /** True when an execution of that name and the same input existed: started by an earlier attempt. */
  readonly alreadyStarted: boolean;
  /** The existing execution's status when `alreadyStarted` (it may have ended since: its capacity slot is then free). */
  readonly status?: string;
}

/** Deep equality of two JSON texts (key order ignored); false when either is not JSON. */
export function sameJson(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  try {
    return JSON.stringify(canonical(JSON.parse(a))) === JSON.stringify(canonical(JSON.parse(b)));
  } catch {
    return false;
  }
}

/** Starts execution `name` with `input`, or verifies that the existing one of that name has this very input. */
export async function startNamedExecution(sfn: SFNClient, stateMachineArn: string, name: string, input: string): Promise<StartedExecution> {
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input }));
    return { executionArn: out.executionArn ?? executionArnOf(stateMachineArn, name), alreadyStarted: false };
  } catch (err) {
    if (!hasErrorName(err, 'ExecutionAlreadyExists')) throw err;
  }
  const executionArn = executionArnOf(stateMachineArn, name);
  const existing = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (!sameJson(existing.input, input)) throw new ExecutionNameConflictError(name, existing.input);
  return { executionArn, alreadyStarted: true, status: existing.status };
}
