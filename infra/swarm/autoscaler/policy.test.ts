/** The old policy over recorded CPU series: 10 s samples, the last ten minutes of a service. */
import { describe, expect, test } from 'bun:test';
import { decideScaling, type CpuSample, type ScalingPolicy, type ServiceObservation } from './policy.ts';

const policy: ScalingPolicy = {
  scaleUpAbovePercent: 50,
  scaleUpWindowSeconds: 300,
  scaleDownBelowPercent: 20,
  scaleDownWindowSeconds: 600,
  minReplicas: 2,
  maxReplicas: 6,
  cooldownSeconds: 300,
  step: 1,
};
const now = Date.parse('2025-01-06T10:00:00Z');
const sampleSeconds = 10;

/**
 * A recording: one sample every 10 s from `minutes` ago to now, the CPU % at `secondsAgo` given by
 * `cpu`, with a little deterministic noise (a real series is never flat) and minus the `missing` ones.
 */
function recording(cpu: (secondsAgo: number) => number, options: { minutes?: number; noise?: number; missing?: (secondsAgo: number) => boolean } = {}): CpuSample[] {
  const samples: CpuSample[] = [];
  const noise = options.noise ?? 4;
  for (let ago = (options.minutes ?? 10) * 60; ago >= 0; ago -= sampleSeconds) {
    if (options.missing?.(ago)) continue;
    const jitterMs = ((ago * 7919) % 1500) - 750; // samples are never exactly 10 s apart
    const wobble = Math.sin(ago / 17) * noise;
    samples.push({ at: now - ago * 1000 + (ago === 0 ? 0 : jitterMs), percent: Math.max(0, cpu(ago) + wobble) });
  }
  return samples;
}

const observe = (samples: CpuSample[], extra: Partial<ServiceObservation> = {}): ServiceObservation => ({ replicas: 3, samples, sampleSeconds, ...extra });
const mean = (samples: CpuSample[]) => samples.reduce((sum, sample) => sum + sample.percent, 0) / samples.length;

describe('scaling up', () => {
  test('CPU above 50% for the whole 300 s adds one replica, and the reason says so', () => {
    const samples = recording((ago) => (ago <= 320 ? 72 : 35));
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'scale-up', from: 3, to: 4, code: 'sustained-high' });
    expect(decision.reason).toMatch(/^CPU stayed above 50% for 300 s \(31 samples, min 6\d(\.\d)?%, max 7\d(\.\d)?%\): 3 → 4$/);
  });

  test('a spike is not sustained load, even when it lifts the mean over 50%', () => {
    // Two minutes at 95% inside five at 25%: the window's mean is above 50, its samples are not all.
    const samples = recording((ago) => (ago >= 60 && ago < 180 ? 95 : 25), { noise: 0 });
    const window = samples.filter((sample) => sample.at >= now - 300_000);
    expect(mean(window)).toBeGreaterThan(50);
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'hold', to: 3, code: 'not-sustained' });
    expect(decision.reason).toMatch(/above 50% in only 12 of 31 samples over the last 300 s/);
  });

  test('a single high sample changes nothing', () => {
    const samples = recording((ago) => (ago === 40 ? 99 : 30));
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'hold', code: 'not-sustained' });
  });

  test('one dip below the threshold in five minutes of load resets the clock', () => {
    const samples = recording((ago) => (ago === 150 ? 44 : 80), { noise: 2 });
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'not-sustained' });
    expect(decision.reason).toContain('30 of 31 samples');
  });

  test('exactly 50% is not above 50%', () => {
    const samples = recording(() => 50, { noise: 0 });
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'hold', code: 'in-band' });
  });

  test('load that started four minutes ago is not yet five minutes of load', () => {
    const samples = recording((ago) => (ago <= 240 ? 90 : 30));
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'hold', code: 'not-sustained' });
  });
});

describe('scaling down', () => {
  test('CPU below 20% for the whole 600 s removes one replica', () => {
    const samples = recording(() => 9);
    const decision = decideScaling(policy, observe(samples, { replicas: 4 }), now);
    expect(decision).toMatchObject({ action: 'scale-down', from: 4, to: 3, code: 'sustained-low' });
    expect(decision.reason).toMatch(/^CPU stayed below 20% for 600 s \(61 samples, .*\): 4 → 3$/);
  });

  test('low for five minutes only is not low for the ten the window asks', () => {
    const samples = recording((ago) => (ago <= 300 ? 8 : 35));
    const decision = decideScaling(policy, observe(samples, { replicas: 4 }), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'not-sustained' });
    expect(decision.reason).toMatch(/below 20% in only 31 of 61 samples over the last 600 s/);
  });

  test('moderate load keeps the replicas as they are', () => {
    const samples = recording(() => 35);
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'in-band' });
    expect(decision.reason).toMatch(/^CPU between 20% and 50% \(latest 35%/);
  });
});

describe('limits', () => {
  test('at max replicas, sustained load adds none, and says it is at max', () => {
    const decision = decideScaling(policy, observe(recording(() => 90), { replicas: 6 }), now);
    expect(decision).toMatchObject({ action: 'hold', from: 6, to: 6, code: 'at-max' });
    expect(decision.reason).toMatch(/^at max 6 replicas: CPU stayed above 50% for 300 s/);
  });

  test('a step never goes past max', () => {
    const decision = decideScaling({ ...policy, step: 2 }, observe(recording(() => 90), { replicas: 5 }), now);
    expect(decision).toMatchObject({ action: 'scale-up', from: 5, to: 6 });
  });

  test('at min replicas, sustained quiet removes none, and says it is at min', () => {
    const decision = decideScaling(policy, observe(recording(() => 3), { replicas: 2 }), now);
    expect(decision).toMatchObject({ action: 'hold', from: 2, to: 2, code: 'at-min' });
    expect(decision.reason).toMatch(/^at min 2 replicas: CPU stayed below 20% for 600 s/);
  });

  test('a step never goes below min', () => {
    const decision = decideScaling({ ...policy, step: 2 }, observe(recording(() => 3), { replicas: 3 }), now);
    expect(decision).toMatchObject({ action: 'scale-down', from: 3, to: 2 });
  });
});

describe('cooldown', () => {
  test('within the cooldown after a change, nothing happens, whatever the load', () => {
    const decision = decideScaling(policy, observe(recording(() => 95), { lastChangeAt: now - 120_000 }), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'cooldown' });
    expect(decision.reason).toBe('cooldown: last change 120 s ago, cooldown is 300 s');
  });

  test('after the cooldown, load sustained since the change acts', () => {
    const decision = decideScaling(policy, observe(recording(() => 95), { replicas: 4, lastChangeAt: now - 310_000 }), now);
    expect(decision).toMatchObject({ action: 'scale-up', from: 4, to: 5 });
  });

  test('samples from before the change do not count: they measured other replicas', () => {
    // Cooldown over (60 s), but only 200 s of samples since the change; the window is 300 s.
    const decision = decideScaling({ ...policy, cooldownSeconds: 60 }, observe(recording(() => 95), { lastChangeAt: now - 200_000 }), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'not-enough-data' });
    expect(decision.reason).toMatch(/only (19\d|200) s of samples since the last change; the window is 300 s/);
  });
});

describe('gaps', () => {
  test('a minute without samples inside the window is not a minute of high CPU', () => {
    const samples = recording(() => 88, { missing: (ago) => ago >= 120 && ago < 180 });
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'gap' });
    expect(decision.reason).toMatch(/the last 300 s have a gap \(\d+ s without a sample\); a missing sample does not count/);
  });

  test('no sample for the last minute: the load may have gone', () => {
    const samples = recording(() => 88, { missing: (ago) => ago < 60 });
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'hold', code: 'gap' });
  });

  test('a gap in the quiet window blocks scaling down too', () => {
    const samples = recording(() => 5, { missing: (ago) => ago >= 400 && ago < 460 });
    expect(decideScaling(policy, observe(samples, { replicas: 4 }), now)).toMatchObject({ action: 'hold', code: 'gap' });
  });

  test('a gap older than the window does not matter', () => {
    const samples = recording(() => 88, { missing: (ago) => ago >= 400 && ago < 460 });
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'scale-up', to: 4 });
  });

  test('one late sample (15 s apart) is jitter, not a gap', () => {
    const samples = recording(() => 88, { noise: 0 }).map((sample) => (sample.at === now - 100_000 ? { ...sample, at: sample.at + 4_000 } : sample));
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'scale-up' });
  });

  test('just started: two minutes of samples are not five minutes of load', () => {
    const samples = recording(() => 88, { minutes: 2 });
    const decision = decideScaling(policy, observe(samples), now);
    expect(decision).toMatchObject({ action: 'hold', code: 'not-enough-data' });
    expect(decision.reason).toMatch(/only 120 s of samples since start; the window is 300 s/);
  });

  test('samples must reach back over the whole window: 290 s of them are not 300 s', () => {
    const samples = recording(() => 88, { noise: 0 }).filter((sample) => sample.at > now - 291_000);
    expect(decideScaling(policy, observe(samples), now)).toMatchObject({ action: 'hold', code: 'not-enough-data' });
    const next = [...samples, { at: now + 10_000, percent: 88 }];
    expect(decideScaling(policy, observe(next), now + 10_000)).toMatchObject({ action: 'scale-up' });
  });

  test('no samples at all: nothing to go on', () => {
    expect(decideScaling(policy, observe([]), now)).toMatchObject({ action: 'hold', code: 'not-enough-data' });
  });
});
