/**
 * How a lineage walk is printed (SPEC §20): plain text, Graphviz DOT and Mermaid. Pure: a lineage in, text out.
 * Labels quote record ids and names, which users chose, so every format escapes what its syntax reserves.
 */
import type { Lineage, LineageEdge, LineageNode } from '../links.js';

function linkLabel(edge: LineageEdge): string {
  const extra = [edge.role, edge.split].filter((x) => x !== undefined);
  return extra.length === 0 ? edge.rel : `${edge.rel} (${extra.join(', ')})`;
}

/** Names are the users' text: quoted as JSON strings, so quotes and line breaks cannot break a line or a label. */
function nodeLabel(node: LineageNode): string {
  return `${node.kind}${node.name === null ? '' : ` ${JSON.stringify(node.name)}`} v${node.version}${node.deleted ? ', deleted' : ''}`;
}

export function lineageText(lineage: Lineage): string {
  const [root, ...rest] = lineage.nodes;
  const lines = [`${root!.id}  (${nodeLabel(root!)})  lineage ${lineage.direction === 'up' ? 'upstream' : 'downstream'} as of seq ${lineage.atSeq}`];
  for (const node of rest) lines.push(`${'  '.repeat(node.depth)}${node.id}  (${nodeLabel(node)})  via ${node.path.join(lineage.direction === 'up' ? ' → ' : ' ← ')}`);
  lines.push(`${rest.length} record(s), ${lineage.edges.length} link(s)`);
  for (const edge of lineage.edges) lines.push(`  ${edge.from} ${linkLabel(edge)} ${edge.to}\t(seq ${edge.addedSeq})`);
  return lines.join('\n');
}

export function lineageJson(lineage: Lineage): string {
  return JSON.stringify(lineage);
}

const dotString = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/** Graphviz: edges point from a link's first end to its second, as written; upstream records sit above. */
export function lineageDot(lineage: Lineage): string {
  const lines = ['digraph lineage {', '  rankdir=BT;', '  node [shape=box];'];
  for (const node of lineage.nodes) lines.push(`  ${dotString(node.id)} [label=${dotString(`${node.id}\n${nodeLabel(node)}`)}${node.depth === 0 ? ', penwidth=2' : ''}];`);
  // With --kind some records walked through are not listed as nodes: declare them by id, as Mermaid does.
  const listed = new Set(lineage.nodes.map((node) => node.id));
  for (const edge of lineage.edges) {
    for (const end of [edge.from, edge.to]) {
      if (listed.has(end)) continue;
      listed.add(end);
      lines.push(`  ${dotString(end)} [label=${dotString(end)}];`);
    }
  }
  for (const edge of lineage.edges) lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [label=${dotString(linkLabel(edge))}];`);
  lines.push('}');
  return lines.join('\n');
}

/** Mermaid flowchart; ids become n0, n1, … so any record id is safe, and labels use Mermaid's #quot; entity. */
export function lineageMermaid(lineage: Lineage): string {
  const ids = new Map<string, string>();
  const idOf = (record: string) => {
    let short = ids.get(record);
    if (short === undefined) ids.set(record, (short = `n${ids.size}`));
    return short;
  };
  const text = (value: string) => value.replaceAll('#', '#35;').replaceAll('"', '#quot;').replaceAll('<', '#lt;').replaceAll('>', '#gt;').replaceAll('|', '#124;');
  const lines = ['flowchart BT'];
  for (const node of lineage.nodes) lines.push(`  ${idOf(node.id)}["${text(node.id)}<br/>${text(nodeLabel(node))}"]`);
  // With --kind some records walked through are not listed as nodes: name them by id.
  for (const edge of lineage.edges) for (const end of [edge.from, edge.to]) if (!ids.has(end)) lines.push(`  ${idOf(end)}["${text(end)}"]`);
  for (const edge of lineage.edges) lines.push(`  ${idOf(edge.from)} -->|${text(linkLabel(edge))}| ${idOf(edge.to)}`);
  return lines.join('\n');
}
