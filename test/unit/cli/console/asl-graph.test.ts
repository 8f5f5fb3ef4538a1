/** The state machine graph: the layout of the repository's ASL, and the marks an execution's steps give its states. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { layoutDefinition, renderGraph, stateMarks, transitions } from '../../../../cli/console/asl-graph';
import type { StateStep } from '../../../../cli/ops/executions';

const DEFINITION = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', '..', '..', 'state-machines', 'convert-manifest.asl.json'), 'utf8'),
) as { StartAt: string; States: Record<string, { Type: string }> };

const step = (name: string, outcome: StateStep['outcome'], retries = 0): StateStep => ({
  name,
  type: 'Task',
  attempts: retries + 1,
  retries: Array.from({ length: retries }, () => ({ error: 'Glue.ThrottlingException' })),
  outcome,
});

describe('the state machine graph', () => {
  const graph = layoutDefinition(DEFINITION);

  it('places every state once, the start alone on top, no two boxes on each other', () => {
    const names = graph.nodes.map((n) => n.name);
    const at = new Set(graph.nodes.map((n) => `${n.x},${n.y}`));

    expect(names.sort()).toEqual(Object.keys(DEFINITION.States).sort());
    expect(graph.nodes.filter((n) => n.layer === 0).map((n) => n.name)).toEqual([DEFINITION.StartAt]);
    expect(at.size).toBe(graph.nodes.length);
  });

  it('draws each transition below its state, except the retry loop, and a Catch as an error edge', () => {
    const layer = new Map(graph.nodes.map((n) => [n.name, n.layer]));
    const upward = graph.edges.filter((e) => layer.get(e.to)! <= layer.get(e.from)!);

    expect(upward.map((e) => `${e.from}->${e.to}`)).toEqual(['CountConvertRetry->Convert']);
    expect(transitions(DEFINITION)).toContainEqual({ from: 'MarkRunning', to: 'ManifestBusy', onError: true });
    expect(transitions(DEFINITION)).toContainEqual({ from: 'MarkRunning', to: 'ReadReplayOptions', onError: false });
  });

  it('marks a state failed when an error left it, retried when a later attempt went on, and a loop by its worst visit', () => {
    const marks = stateMarks([
      step('MarkRunning', 'succeeded'),
      step('Convert', 'succeeded', 2),
      step('ReadResult', 'caught'),
      step('Convert', 'running'),
      step('Failed', 'failed'),
    ]);

    expect(Object.fromEntries(marks)).toEqual({ MarkRunning: 'succeeded', Convert: 'running', ReadResult: 'failed', Failed: 'failed' });
  });

  it('renders state names as text', () => {
    const svg = renderGraph(
      layoutDefinition({ StartAt: '<b>x</b>', States: { '<b>x</b>': { Type: 'Succeed' } } }),
      new Map(),
      'label',
    ).text;

    expect(svg).not.toContain('<b>');
    expect(svg).toContain('data-state="&lt;b&gt;x&lt;/b&gt;"');
  });
});
