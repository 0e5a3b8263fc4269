// The growth benchmark (g) in RESULTS.md: its targets (Trigger Flow at the largest size against the
// empty store; an instance's bytes), the curve size by size (throughput, p99, List Flow Instances, bytes
// per instance) and where the bytes go; plus the compact summary bench/run.ts prints after each store.
/* eslint-disable @typescript-eslint/no-explicit-any */

const int = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmt = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'date unknown');
const mib = (b: number) => `${fmt(b / 2 ** 20, 0)} MiB`;
const storeName = (s: string) => (s === 'sqlite' ? 'SQLite' : 'PostgreSQL');
/** growth-<store> holds the fast-seeded run, growth-<store>-realistic the engine-seeded one. */
const KEYS = ['growth-sqlite', 'growth-sqlite-realistic', 'growth-postgres', 'growth-postgres-realistic'];
/** Runs from before the seeding modes were all realistic. */
const modeOf = (g: Record<string, any>) => `${g.seedMode ?? 'realistic'} seeding`;

/** The defaults' repeated drives of a round, when it had any. */
const defaultsOf = (round: Record<string, any>) => (round.variants as Array<Record<string, any>> | undefined)?.find((v) => v.name === 'default');

export function growthTargetRows(r: Record<string, any>): string[] {
  const rows: string[] = [];
  for (const key of KEYS) {
    const g = r[key];
    if (!g) continue;
    const [a, b] = [g.rounds[0], g.rounds[g.rounds.length - 1]];
    // With repeated drives of the defaults at each size (BENCH_GROWTH_VARIANTS), their medians are the
    // figure: one drive per size can be an outlier (the first, right after the imports, has been).
    const [va, vb] = [defaultsOf(a), defaultsOf(b)];
    const head = `| ${storeName(g.store)} growth, ${modeOf(g)}: Trigger Flow at ${int(b.stored)} stored instances against ${int(a.stored)} (${g.connections} connections, ${g.durationSec} s, ${day(g.date)})`;
    if (va && vb) {
      const [tr, pr] = [vb.medianPerSec / va.medianPerSec, vb.medianP99Ms / va.medianP99Ms];
      rows.push(
        `${head} | throughput, median of ${vb.triggersPerSec.length} drives each on its own server start: ${int(vb.medianPerSec)}/s against ${int(va.medianPerSec)}/s | ${fmt(tr)} x | >= 0.80 x | ${verdict(tr >= 0.8)} |`,
        `| | p99, the same drives: ${vb.medianP99Ms} ms against ${va.medianP99Ms} ms | ${fmt(pr)} x | <= 1.5 x | ${verdict(pr <= 1.5)} |`,
        `| | for reference: the first drive of each size, ${int(b.triggersPerSec)}/s against ${int(a.triggersPerSec)}/s, p99 ${b.latencyP99Ms} against ${a.latencyP99Ms} ms | ${fmt(g.throughputRatio)} x, ${fmt(g.p99Ratio)} x | - | - |`,
      );
    } else {
      rows.push(
        `${head} | throughput ${int(b.triggersPerSec)}/s against ${int(a.triggersPerSec)}/s | ${fmt(g.throughputRatio)} x | >= 0.80 x | ${verdict(g.throughputRatio >= 0.8)} |`,
        `| | p99 ${b.latencyP99Ms} ms against ${a.latencyP99Ms} ms | ${fmt(g.p99Ratio)} x | <= 1.5 x | ${verdict(g.p99Ratio <= 1.5)} |`,
      );
    }
    rows.push(
      `| | List Flow Instances with an expression at ${int(b.stored)}, slowest of the queries' medians | ${fmt(Math.max(...['flowName', 'instanceId', 'noMatch'].map((q) => b.searches[q]?.medianMs ?? NaN)), 1)} ms | <= 100 ms | ${verdict(Math.max(...['flowName', 'instanceId', 'noMatch'].map((q) => b.searches[q]?.medianMs ?? Infinity)) <= 100)} |`,
      `| | bytes on disk of a fresh one-task instance, indexes included (${int(g.marginalInstances)} added to the full store) | ${int(g.freshOneTaskBytes)} B | < 500 B | ${g.pgVacuumed ? 'not a measure: the new rows reuse the space the VACUUM after seeding freed' : verdict(g.freshOneTaskBytes < 500)} |`,
    );
    // The first round may run cold (right after the imports): the largest against the round before it too.
    const mid = g.rounds.length > 2 ? g.rounds[g.rounds.length - 2] : null;
    if (mid) rows.push(`| | for reference: throughput at ${int(b.stored)} against ${int(mid.stored)} (${int(b.triggersPerSec)}/s against ${int(mid.triggersPerSec)}/s), p99 ${b.latencyP99Ms} against ${mid.latencyP99Ms} ms | ${fmt(b.triggersPerSec / mid.triggersPerSec)} x, ${fmt(b.latencyP99Ms / mid.latencyP99Ms)} x | - | - |`);
  }
  // bench/purgeImpact.ts, stored as purgeImpact-<store> (the purge of a kept growth store).
  for (const store of ['sqlite', 'postgres']) {
    const p = r[`purgeImpact-${store}`];
    if (!p) continue;
    rows.push(
      `| ${storeName(store)} retention: Trigger Flow during the server's purge (BATCHFLOW_RETENTION_DAYS=${p.retentionDays}) on a store of ${int(p.instancesBefore)}, 48 connections, ${p.during.length} drives of 10 s (${day(p.date)}) | p99, median of the drives during / without | ${fmt(p.p99Ratio)} x | <= 1.5 x | ${verdict(p.p99Ratio <= 1.5)}${p.finished ? '' : ` (for the ${int(p.purged)} purged meanwhile, ${int(p.purgePerSec)}/s; ${int(p.remainingBeforeCutoff)} left)`} |`,
      `| | throughput during / without | ${fmt(p.throughputRatio)} x | (for reference) | - |`,
    );
  }
  return rows;
}

export function growthSections(r: Record<string, any>): string[] {
  const out: string[] = [];
  for (const key of KEYS) {
    const g = r[key];
    if (!g) continue;
    const qs = Object.keys(g.rounds[0].searches);
    out.push(
      `## ${storeName(g.store)}: as the store grows (g, ${modeOf(g)}, ${day(g.date)})`,
      '',
      `${int(g.flows)} flows (${g.flowMix}); seeded instances ${g.statusMix}, through the Store, hourly trigger times. Each size: \`batchflow serve\` started on the store, Trigger Flow over HTTP (${g.connections} connections, ${g.durationSec} s, future trigger times), then List Flow Instances (page 1 of 10, median of the runs, ms, with the count). "stored" counts the earlier rounds' triggers too. Bytes: every table of an instance (flow_instances, task_instances, attempts, task_logs, status_events) with its indexes, over the instances stored.`,
      '',
      `| seeded | stored | seeding (mode, rate) | triggers/s (vs the first) | p50 / p99 | server CPU | load avg | ${qs.map((q) => `search ${q}`).join(' | ')} | store size | bytes per instance |`,
      `| --- | --- | --- | --- | --- | --- | --- | ${qs.map(() => '---').join(' | ')} | --- | --- |`,
    );
    let prevSeeded = 0;
    for (const x of g.rounds) {
      out.push(
        `| ${int(x.seeded)} | ${int(x.stored)} | ${x.seedSec ? `${int(x.seedSec)} s (${x.seedMode ?? 'realistic'}, ${int(x.seedPerSec ?? (x.seedSec ? (x.seeded - prevSeeded) / x.seedSec : NaN))}/s${x.seedCpuPercent !== undefined ? `, seeder CPU ${x.seedCpuPercent} %` : ''})` : '-'} | ${int(x.triggersPerSec)} (${fmt(x.triggersPerSec / g.rounds[0].triggersPerSec)} x) | ${x.latencyP50Ms} / ${x.latencyP99Ms} ms | ${x.serverCpuPercent} % | ${x.loadAvg.join(' -> ')} | ${qs.map((q) => `${fmt(x.searches[q].medianMs, 1)} ms (${int(x.searches[q].count)})`).join(' | ')} | ${mib(x.totalBytes)} | ${int(x.bytesPerInstance)} |`,
      );
      prevSeeded = x.seeded;
    }
    out.push(...variantTable(g));
    const last = g.rounds[g.rounds.length - 1];
    const tables = Object.entries(last.tableBytes as Record<string, number>).sort((p, q) => q[1] - p[1]).slice(0, 6);
    out.push(
      '',
      `At ${int(last.stored)} stored, by table (with its indexes): ${tables.map(([t, b]) => `${t} ${mib(b)}`).join(', ')}; per instance: ${Object.entries(last.bytesPerInstanceByTable).map(([t, b]) => `${t} ${int(b as number)} B`).join(', ')}.`,
      `Largest indexes: ${Object.entries(last.indexBytes as Record<string, number>).sort((p, q) => q[1] - p[1]).slice(0, 6).map(([i, b]) => `${i} ${mib(b)}`).join(', ')}.`,
      `Added to the full store (${int(g.marginalInstances)} one-task instances): fresh (WAIT) ${int(g.freshOneTaskBytes)} B each (${Object.entries(g.freshOneTaskByTable).map(([t, b]) => `${t} ${int(b as number)}`).join(', ')}); finished with its history ${int(g.finishedOneTaskBytes)} B (${Object.entries(g.finishedOneTaskByTable).map(([t, b]) => `${t} ${int(b as number)}`).join(', ')}; ${int(g.finishedOneTaskWithoutLogBytes)} B without its log); log text ${fmt(g.bytesPerLogByte, 2)} bytes on disk per byte appended (1 KiB appends).`,
      '',
    );
  }
  return out;
}

/** Logs at rest: each codec against plain text, per chunk kind. */
export function logCompressionSection(r: Record<string, any>): string[] {
  const l = r.logCompression;
  if (!l) return [];
  const out = [
    `## Logs at rest: compressed task_logs rows against plain text (${day(l.date)})`,
    '',
    'Scratch SQLite file with the store\'s settings and task_logs\' shape, one row per append, each its own commit; disk = table + primary key (dbstat) over the text appended; append = the insert with its encoding, median; read = one attempt\'s 16 chunks in order, decoded, median. Target for compressing: disk <= 0.5 x, append and read <= 1.10 x.',
    '',
    '| chunk | codec | disk bytes per text byte | disk | append | read | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of l.figures) {
    const ok = f.diskRatio <= 0.5 && f.appendRatio <= 1.1 && f.readRatio <= 1.1;
    out.push(`| ${f.kind} | ${f.codec} | ${fmt(f.diskBytesPerTextByte, 3)} | ${fmt(f.diskRatio)} x | ${fmt(f.appendUs, 1)} us (${fmt(f.appendRatio)} x) | ${fmt(f.readUs, 1)} us (${fmt(f.readRatio)} x) | ${f.codec === 'plain' ? '-' : ok ? 'wins' : 'no'} |`);
  }
  out.push('');
  return out;
}
/** With BENCH_GROWTH_VARIANTS: the server settings compared at each size, their medians (every drive). */
function variantTable(g: Record<string, any>): string[] {
  const withV = g.rounds.filter((x: any) => x.variants?.length);
  if (!withV.length) return [];
  const names: string[] = withV[0].variants.map((v: any) => v.name);
  const env = withV[0].variants.map((v: any) => `${v.name} ${Object.entries(v.env).map(([k, val]) => `${k}=${val}`).join(' ') || '(the defaults)'}`).join('; ');
  const base = Object.fromEntries(withV[0].variants.map((v: any) => [v.name, v]));
  return [
    '',
    `Server settings compared at each size (${env}): each drive its own server start, the settings in turn, ${withV[0].variants[0].triggersPerSec.length} times; median triggers/s (vs the same settings at ${int(withV[0].stored)}) and p99, every drive's figure in brackets.`,
    '',
    `| stored | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---').join(' | ')} |`,
    ...withV.map(
      (x: any) =>
        `| ${int(x.stored)} | ${x.variants.map((v: any) => `${int(v.medianPerSec)}/s (${fmt(v.medianPerSec / base[v.name].medianPerSec)} x), p99 ${v.medianP99Ms} ms (${fmt(v.medianP99Ms / base[v.name].medianP99Ms)} x) [${v.triggersPerSec.map(int).join(', ')}]`).join(' | ')} |`,
    ),
  ];
}

/** A few lines for the terminal after each store's run. */
export function growthSummary(g: Record<string, any>): string {
  const lines = [`growth ${g.store} (${modeOf(g)}): ${g.flows} flows, ${g.connections} connections, ${g.durationSec} s rounds`];
  for (const x of g.rounds) {
    const s = Object.entries(x.searches as Record<string, { medianMs: number }>).map(([q, v]) => `${q} ${fmt(v.medianMs, 1)}`).join(' ');
    if (x.variants?.length) lines.push(`  ${int(x.stored).padStart(9)} stored, settings: ${x.variants.map((v: any) => `${v.name} ${int(v.medianPerSec)}/s p99 ${v.medianP99Ms} ms`).join('; ')}`);
    lines.push(`  ${int(x.stored).padStart(9)} stored (seeded at ${int(x.seedPerSec)}/s): ${int(x.triggersPerSec).padStart(6)}/s p99 ${String(x.latencyP99Ms).padStart(4)} ms | search ms: ${s} | ${int(x.bytesPerInstance)} B/instance, ${mib(x.totalBytes)}`);
  }
  lines.push(
    `  largest / empty: throughput ${fmt(g.throughputRatio)} x (target >= 0.80), p99 ${fmt(g.p99Ratio)} x (target <= 1.5)`,
    `  one-task instance: fresh ${int(g.freshOneTaskBytes)} B, finished ${int(g.finishedOneTaskBytes)} B (${int(g.finishedOneTaskWithoutLogBytes)} B without its log); ${fmt(g.bytesPerLogByte, 2)} B on disk per log byte`,
  );
  return lines.join('\n');
}
