/**
 * The state machine's graph, drawn as SVG from its Amazon States Language definition (the one the execution ran
 * with) and coloured by what one execution did in each state. A layered layout: each state one layer below the
 * longest path to it from `StartAt` (loops broken where a depth-first walk finds them), states of a layer ordered
 * by the mean position of the states that lead to them. Transitions: `Next`, `Default`, each `Choices[].Next`
 * and each `Catch[].Next` (dashed); a `Parallel` or `Map` state is one box (its branches are not drawn).
 * The States Language: https://states-language.net/spec.html ("Transitions", "Choice State", "Error Handling").
 */
import { html, SafeHtml } from './html';
import type { StateStep } from '../ops/executions';

/** What an execution did in a state, for its colour. */
export type StateMark = 'succeeded' | 'retried' | 'failed' | 'running' | 'not-entered';

/** One transition of the definition. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** A `Catch` transition (taken on an error). */
  readonly onError: boolean;
}

/** One state, placed. */
export interface GraphNode {
  readonly name: string;
  readonly type: string;
  readonly layer: number;
  readonly x: number;
  readonly y: number;
}

/** The definition laid out. */
export interface StateGraph {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  readonly width: number;
  readonly height: number;
}

const NODE_W = 168;
const NODE_H = 30;
const GAP_X = 14;
const GAP_Y = 34;
const MARGIN = 12;

interface AslState {
  Type?: string;
  Next?: string;
  Default?: string;
  Choices?: { Next?: string }[];
  Catch?: { Next?: string }[];
}

/** The transitions of a definition (only to states it has). */
export function transitions(definition: { States?: Record<string, AslState> }): GraphEdge[] {
  const states = definition.States ?? {};
  const edges: GraphEdge[] = [];
  const add = (from: string, to: string | undefined, onError: boolean) => {
    if (to !== undefined && to in states && !edges.some((e) => e.from === from && e.to === to && e.onError === onError))
      edges.push({ from, to, onError });
  };
  for (const [name, s] of Object.entries(states)) {
    add(name, s.Next, false);
    for (const c of s.Choices ?? []) add(name, c.Next, false);
    add(name, s.Default, false);
    for (const c of s.Catch ?? []) add(name, c.Next, true);
  }
  return edges;
}

/** Lays out a definition (parsed JSON). States that `StartAt` cannot reach go in a last layer. */
export function layoutDefinition(definition: { StartAt?: string; States?: Record<string, AslState> }): StateGraph {
  const states = definition.States ?? {};
  const names = Object.keys(states);
  const edges = transitions(definition);
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of edges) out.get(e.from)!.push(e.to);
  // Depth-first from the start: an edge to a state still on the walk's stack closes a loop, and is left out of
  // the layering.
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    for (const m of out.get(n) ?? []) {
      if (state.get(m) === 'open') back.add(`${n}\u0000${m}`);
      else if (!state.has(m)) visit(m);
    }
    state.set(n, 'done');
    order.push(n);
  };
  if (definition.StartAt !== undefined && definition.StartAt in states) visit(definition.StartAt);
  const layer = new Map<string, number>();
  for (const n of order.reverse()) {
    if (!layer.has(n)) layer.set(n, 0);
    for (const m of out.get(n) ?? []) {
      if (back.has(`${n}\u0000${m}`)) continue;
      layer.set(m, Math.max(layer.get(m) ?? 0, layer.get(n)! + 1));
    }
  }
  const deepest = Math.max(-1, ...layer.values());
  for (const n of names) if (!layer.has(n)) layer.set(n, deepest + 1);
  const layers: string[][] = [];
  for (const n of names) (layers[layer.get(n)!] ??= []).push(n);
  // Each layer ordered by the mean position of its states' predecessors in the layers above.
  const position = new Map<string, number>();
  const preds = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const e of edges) if (!back.has(`${e.from}\u0000${e.to}`)) preds.get(e.to)!.push(e.from);
  for (const row of layers) {
    if (row === undefined) continue;
    const key = (n: string) => {
      const ps = preds.get(n)!.filter((p) => position.has(p));
      return ps.length === 0 ? Number.MAX_SAFE_INTEGER : ps.reduce((s, p) => s + position.get(p)!, 0) / ps.length;
    };
    const keys = new Map(row.map((n, i) => [n, [key(n), i] as const]));
    row.sort((a, b) => keys.get(a)![0] - keys.get(b)![0] || keys.get(a)![1] - keys.get(b)![1]);
    row.forEach((n, i) => position.set(n, i - (row.length - 1) / 2));
  }
  const widest = Math.max(1, ...layers.map((r) => r?.length ?? 0));
  const width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X;
  const nodes: GraphNode[] = [];
  layers.forEach((row, l) => {
    row?.forEach((n) => {
      const x = width / 2 + position.get(n)! * (NODE_W + GAP_X) - NODE_W / 2;
      nodes.push({ name: n, type: states[n].Type ?? '?', layer: l, x, y: MARGIN + l * (NODE_H + GAP_Y) });
    });
  });
  return { nodes, edges, width, height: MARGIN * 2 + layers.length * NODE_H + Math.max(0, layers.length - 1) * GAP_Y };
}

/**
 * What an execution did in each state it entered: `failed` when an error left the state (caught by a `Catch` or
 * ending the execution), `retried` when an attempt failed and a later one went on, `running` while in it,
 * `succeeded` otherwise. A state entered more than once (a loop) takes the worst of its visits.
 */
export function stateMarks(steps: readonly StateStep[]): Map<string, StateMark> {
  const rank: Record<StateMark, number> = { 'not-entered': 0, succeeded: 1, retried: 2, running: 3, failed: 4 };
  const marks = new Map<string, StateMark>();
  for (const s of steps) {
    const mark: StateMark =
      s.outcome === 'failed' || s.outcome === 'caught'
        ? 'failed'
        : s.outcome === 'running'
          ? 'running'
          : s.retries.length > 0
            ? 'retried'
            : 'succeeded';
    const before = marks.get(s.name) ?? 'not-entered';
    marks.set(s.name, rank[mark] > rank[before] ? mark : before);
  }
  return marks;
}

function shortName(name: string): string {
  return name.length > 22 ? `${name.slice(0, 21)}…` : name;
}

/** The graph as inline SVG; each state a `<g class="state mark-…" data-state="…">` with a tooltip. */
export function renderGraph(graph: StateGraph, marks: ReadonlyMap<string, StateMark>, label: string): SafeHtml {
  const at = new Map(graph.nodes.map((n) => [n.name, n]));
  const edges = graph.edges.map((e) => {
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    const x1 = a.x + NODE_W / 2;
    const y1 = a.y + NODE_H;
    const x2 = b.x + NODE_W / 2;
    const y2 = b.y;
    const taken = marks.has(e.from) && marks.has(e.to) && marks.get(e.to) !== 'not-entered';
    const cls = `edge${e.onError ? ' on-error' : ''}${taken ? ' taken' : ''}`;
    if (b.layer > a.layer) {
      const my = (y1 + y2) / 2;
      return html`<path class="${cls}" d="M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2 - 4}" marker-end="url(#arrow)" />`;
    }
    // A loop back up: out of the right side and round.
    const side = Math.max(a.x, b.x) + NODE_W + GAP_X / 2;
    return html`<path
      class="${cls}"
      d="M${a.x + NODE_W},${a.y + NODE_H / 2} C${side + 40},${a.y + NODE_H / 2} ${side + 40},${b.y + NODE_H / 2} ${b.x + NODE_W + 4},${b.y + NODE_H / 2}"
      marker-end="url(#arrow)"
    />`;
  });
  const nodes = graph.nodes.map((n) => {
    const mark = marks.get(n.name) ?? 'not-entered';
    return html`<g class="state mark-${mark} type-${n.type}" data-state="${n.name}" data-mark="${mark}"
      ><title>${n.name} (${n.type}): ${mark}</title
      ><rect x="${n.x}" y="${n.y}" width="${NODE_W}" height="${NODE_H}" rx="${n.type === 'Choice' ? 14 : 4}" /><text
        x="${n.x + NODE_W / 2}"
        y="${n.y + NODE_H / 2 + 4}"
        >${shortName(n.name)}</text
      ></g
    >`;
  });
  return html`<svg
    class="graph"
    role="img"
    aria-label="${label}"
    viewBox="0 0 ${graph.width + 60} ${graph.height}"
    width="${graph.width + 60}"
    height="${graph.height}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L8,4 L0,8 z" />
      </marker>
    </defs>
    ${edges}${nodes}
  </svg>`;
}
