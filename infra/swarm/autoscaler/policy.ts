/** The scaling policy: from a service's recorded CPU series, whether to add or remove replicas, and why. */

export interface ScalingPolicy {
  /** Scale up when every sample of the last `scaleUpWindowSeconds` is above this (the old system: 50). */
  scaleUpAbovePercent: number;
  scaleUpWindowSeconds: number;
  /** Scale down when every sample of the last `scaleDownWindowSeconds` is below this. */
  scaleDownBelowPercent: number;
  scaleDownWindowSeconds: number;
  minReplicas: number;
  maxReplicas: number;
  /** No change sooner than this after the last one. */
  cooldownSeconds: number;
  /** Replicas added or removed per change. */
  step: number;
}

/** One reading: the average CPU % of the service's tasks at `at` (ms since the epoch). */
export interface CpuSample {
  at: number;
  percent: number;
}

export interface ServiceObservation {
  replicas: number;
  /** Oldest first. */
  samples: readonly CpuSample[];
  /** The interval the samples are taken at; two samples further apart than 1.5 of it leave a gap. */
  sampleSeconds: number;
  /** When the service last changed (ms since the epoch), by us or anyone; undefined if unknown. */
  lastChangeAt?: number;
}

/** Why the decision is what it is: one code per case, for logs and tests; `reason` says it in words. */
export type DecisionCode =
  | 'sustained-high'
  | 'sustained-low'
  | 'at-max'
  | 'at-min'
  | 'cooldown'
  | 'gap'
  | 'not-enough-data'
  | 'not-sustained'
  | 'in-band';

export interface ScalingDecision {
  action: 'scale-up' | 'scale-down' | 'hold';
  from: number;
  to: number;
  code: DecisionCode;
  reason: string;
}

/**
 * Applies `policy` to one service at `now`. Only samples taken after the last change count (they
 * measured a different number of replicas), and a window counts only when samples cover all of it:
 * a missing sample is never taken for "stayed high" or "stayed low".
 *
 * @example
 * const decision = decideScaling(policy, { replicas: 3, samples, sampleSeconds: 10, lastChangeAt }, Date.now());
 * if (decision.action !== 'hold') await docker.scaleService(id, decision.from, decision.to);
 */
export function decideScaling(policy: ScalingPolicy, service: ServiceObservation, now: number): ScalingDecision {
  const { replicas } = service;
  const hold = (code: DecisionCode, reason: string): ScalingDecision => ({ action: 'hold', from: replicas, to: replicas, code, reason });

  if (service.lastChangeAt !== undefined) {
    const sinceChange = (now - service.lastChangeAt) / 1000;
    if (sinceChange < policy.cooldownSeconds) {
      return hold('cooldown', `cooldown: last change ${seconds(sinceChange)} ago, cooldown is ${policy.cooldownSeconds} s`);
    }
  }

  const above = `above ${policy.scaleUpAbovePercent}%`;
  const below = `below ${policy.scaleDownBelowPercent}%`;
  const high = assessWindow(service, now, policy.scaleUpWindowSeconds, (p) => p > policy.scaleUpAbovePercent);
  const low = assessWindow(service, now, policy.scaleDownWindowSeconds, (p) => p < policy.scaleDownBelowPercent);

  if (high.verdict === 'sustained') {
    const stayed = `CPU stayed ${above} for ${policy.scaleUpWindowSeconds} s (${high.summary})`;
    if (replicas >= policy.maxReplicas) return hold('at-max', `at max ${policy.maxReplicas} replicas: ${stayed}`);
    const to = Math.min(replicas + policy.step, policy.maxReplicas);
    return { action: 'scale-up', from: replicas, to, code: 'sustained-high', reason: `${stayed}: ${replicas} → ${to}` };
  }
  if (low.verdict === 'sustained') {
    const stayed = `CPU stayed ${below} for ${policy.scaleDownWindowSeconds} s (${low.summary})`;
    if (replicas <= policy.minReplicas) return hold('at-min', `at min ${policy.minReplicas} replicas: ${stayed}`);
    const to = Math.max(replicas - policy.step, policy.minReplicas);
    return { action: 'scale-down', from: replicas, to, code: 'sustained-low', reason: `${stayed}: ${replicas} → ${to}` };
  }

  // Nothing sustained: say what stood in the way, the scale-up window first.
  if (high.matching > 0) return explainHold(high, above, policy.scaleUpWindowSeconds);
  if (low.matching > 0) return explainHold(low, below, policy.scaleDownWindowSeconds);
  if (high.verdict === 'gap') return hold('gap', `the last ${policy.scaleUpWindowSeconds} s have a gap (${high.gapSeconds} s without a sample)`);
  if (high.verdict === 'not-enough-data') {
    return hold('not-enough-data', `only ${high.coveredSeconds} s of samples since ${sinceWhat(service)}; the window is ${policy.scaleUpWindowSeconds} s`);
  }
  const latest = service.samples.at(-1)?.percent ?? 0;
  return hold('in-band', `CPU between ${policy.scaleDownBelowPercent}% and ${policy.scaleUpAbovePercent}% (latest ${round(latest)}%, ${high.summary} over ${policy.scaleUpWindowSeconds} s)`);

  function explainHold(window: WindowAssessment, what: string, windowSeconds: number): ScalingDecision {
    if (window.verdict === 'gap') {
      return hold('gap', `CPU ${what} in ${window.matching} samples, but the last ${windowSeconds} s have a gap (${window.gapSeconds} s without a sample); a missing sample does not count`);
    }
    if (window.verdict === 'not-enough-data') {
      return hold('not-enough-data', `CPU ${what} in ${window.matching} samples, but only ${window.coveredSeconds} s of samples since ${sinceWhat(service)}; the window is ${windowSeconds} s`);
    }
    return hold('not-sustained', `CPU ${what} in only ${window.matching} of ${window.count} samples over the last ${windowSeconds} s (${window.summary}); every sample must be`);
  }
}

interface WindowAssessment {
  verdict: 'sustained' | 'not-sustained' | 'gap' | 'not-enough-data';
  /** Samples in the window, and how many of them meet the condition. */
  count: number;
  matching: number;
  /** Longest stretch without a sample, in whole seconds. */
  gapSeconds: number;
  /** How much of the window the usable samples reach back, in whole seconds. */
  coveredSeconds: number;
  summary: string;
}

/** Whether every sample of the last `windowSeconds` meets `condition`, with samples covering the whole window. */
function assessWindow(service: ServiceObservation, now: number, windowSeconds: number, condition: (percent: number) => boolean): WindowAssessment {
  const windowStart = now - windowSeconds * 1000;
  const maxGap = service.sampleSeconds * 1.5;
  const inWindow = service.samples.filter((sample) => sample.at >= windowStart && sample.at <= now);
  const percents = inWindow.map((sample) => sample.percent);
  const first = inWindow[0];
  const result = {
    count: inWindow.length,
    matching: percents.filter(condition).length,
    gapSeconds: 0,
    coveredSeconds: first ? Math.round((now - first.at) / 1000) : 0,
    summary: percents.length ? `${percents.length} samples, min ${round(Math.min(...percents))}%, max ${round(Math.max(...percents))}%` : 'no samples',
  };

  // A change inside the window: the samples before it measured other replicas, so the window is not full yet.
  if (service.lastChangeAt !== undefined && service.lastChangeAt > windowStart) {
    const since = inWindow.filter((sample) => sample.at >= service.lastChangeAt!);
    const matching = since.map((sample) => sample.percent).filter(condition).length;
    const oldest = since[0];
    return { ...result, count: since.length, matching, coveredSeconds: oldest ? Math.round((now - oldest.at) / 1000) : 0, verdict: 'not-enough-data' };
  }
  // The series began inside the window (this process started lately): not a gap, just too early.
  // Half an interval of slack, as samples are never exactly on time.
  const oldest = service.samples[0];
  if (!oldest || oldest.at > windowStart + service.sampleSeconds * 500) return { ...result, verdict: 'not-enough-data' };

  // Stretches without a sample: from the window's start to the first, between two, from the last to now.
  let gap = 0;
  let previous = windowStart;
  for (const sample of inWindow) {
    gap = Math.max(gap, (sample.at - previous) / 1000);
    previous = sample.at;
  }
  gap = Math.max(gap, (now - previous) / 1000);
  if (gap > maxGap) return { ...result, gapSeconds: Math.round(gap), verdict: 'gap' };
  return { ...result, gapSeconds: Math.round(gap), verdict: result.matching === inWindow.length ? 'sustained' : 'not-sustained' };
}

const sinceWhat = (service: ServiceObservation) => (service.lastChangeAt === undefined ? 'start' : 'the last change');
const round = (value: number) => Math.round(value * 10) / 10;
const seconds = (value: number) => `${Math.round(value)} s`;
