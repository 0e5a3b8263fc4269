// A DAG laid out left to right by dagre and drawn by React Flow; nodes coloured by status when given.
import { useMemo } from 'react';
import { ReactFlow, Background, type Edge, type Node } from '@xyflow/react';
import dagre from '@dagrejs/dagre';
import { colourOf } from './status';

/** `reference`: a node standing for another workflow (or one of its tasks), drawn dashed. */
export interface DagNode { id: string; label: string; status?: string; onClick?: () => void; reference?: boolean; title?: string }
export interface DagEdge { source: string; target: string }

const W = 150, H = 40;

export function Dag({ nodes, edges, testId }: { nodes: DagNode[]; edges: DagEdge[]; testId: string }) {
  const laid = useMemo(() => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 60 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of nodes) g.setNode(n.id, { width: W, height: H });
    for (const e of edges) g.setEdge(e.source, e.target);
    dagre.layout(g);
    const rf: Node[] = nodes.map((n) => {
      const p = g.node(n.id);
      const bg = n.status ? colourOf(n.status) : '#fff';
      return {
        id: n.id,
        position: { x: p.x - W / 2, y: p.y - H / 2 },
        data: { label: <span data-testid={`dag-node-${n.label}`} data-status={n.status ?? ''} data-reference={n.reference ? 'true' : undefined} title={n.title}>{n.label}{n.status ? ` · ${n.status}` : ''}</span> },
        style: { width: W, background: bg, color: n.status && n.status !== 'NONE' && n.status !== 'INIT' && n.status !== 'SKIP' && n.status !== 'WAITING' ? '#fff' : '#111', border: n.reference ? '2px dashed #555' : '1px solid #555', fontSize: 12 },
        sourcePosition: 'right' as never, targetPosition: 'left' as never,
      };
    });
    const re: Edge[] = edges.map((e) => ({ id: `${e.source}->${e.target}`, source: e.source, target: e.target }));
    return { rf, re };
  }, [nodes, edges]);
  const clicks = new Map(nodes.map((n) => [n.id, n.onClick]));
  return (
    <div className="dag" data-testid={testId}>
      <ReactFlow nodes={laid.rf} edges={laid.re} fitView nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}
        onNodeClick={(_, n) => clicks.get(n.id)?.()}>
        <Background />
      </ReactFlow>
    </div>
  );
}
