import { round, spread } from './stats';

/**
 * One reported figure: a measured value, the reference measured in the same
 * run, their ratio and the target the ratio is held to.
 */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  reference: number;
  referenceLabel: string;
  unit: string;
  /** value / reference. */
  ratio: number;
  /** Null for figures reported for context only. */
  target: { op: '<=' | '>='; ratio: number } | null;
  met: boolean | null;
  /** The ratio in each interleaved round, for the variance. */
  roundRatios: number[];
  note?: string;
}

export interface BenchOutcome {
  figures: Figure[];
  details: Record<string, unknown>;
}

export function figure(input: Omit<Figure, 'ratio' | 'met'>): Figure {
  const ratio = input.value / input.reference;
  const { target } = input;
  const met = target
    ? Number.isFinite(ratio) && (target.op === '<=' ? ratio <= target.ratio : ratio >= target.ratio)
    : null;
  return { ...input, ratio, met };
}

function targetText(f: Figure): string {
  return f.target ? `${f.target.op === '<=' ? '≤' : '≥'} ${f.target.ratio}×` : '—';
}

function metText(f: Figure): string {
  return f.met === null ? 'context' : f.met ? 'MET ' : 'MISS';
}

function amount(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function describeFigure(f: Figure): string {
  const rounds = f.roundRatios.length
    ? ` rounds ${f.roundRatios.map((r) => r.toFixed(2)).join('/')} (spread ${(spread(f.roundRatios) * 100).toFixed(0)}%)`
    : '';
  return (
    `${metText(f)} ${f.bench} · ${f.metric}: ${amount(f.value, f.unit)} vs ` +
    `${amount(f.reference, f.unit)} (${f.referenceLabel}) = ${f.ratio.toFixed(2)}× ` +
    `(target ${targetText(f)})${rounds}${f.note ? ` — ${f.note}` : ''}`
  );
}

export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) =>
    [
      f.bench,
      f.metric,
      amount(f.value, f.unit),
      `${amount(f.reference, f.unit)} (${f.referenceLabel})`,
      `**${f.ratio.toFixed(2)}×**`,
      targetText(f),
      f.met === null ? '—' : f.met ? 'yes' : '**no**',
    ].join(' | '),
  );
  return [
    '| benchmark | figure | measured | reference (same run) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

export function jsonFigure(f: Figure): Record<string, unknown> {
  return {
    ...f,
    value: round(f.value, 3),
    reference: round(f.reference, 3),
    ratio: round(f.ratio, 3),
    roundRatios: f.roundRatios.map((r) => round(r, 3)),
  };
}
