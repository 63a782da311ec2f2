/** The autoscaler's environment: where Docker is, the policy's defaults, and how often to sample. */
import { booleanFlag, logLevel, port } from '@bookstore/shared/config';
import { z } from 'zod';
import type { ScalingPolicy } from './policy.ts';

const whole = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);
const percent = (fallback: number) => z.coerce.number().min(0).max(10_000).default(fallback);
const list = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

export const autoscalerConfigSchema = z
  .object({
    /** The manager's engine: services, tasks and updates go here. */
    DOCKER_HOST: z.string().regex(/^(unix|tcp|http):\/\//, 'must start with unix://, tcp:// or http://').default('unix:///var/run/docker.sock'),
    /** Engines that see the tasks' containers (one per node, or one name resolving to all); empty: DOCKER_HOST. */
    SAMPLE_ENGINES: list,
    /** Services labelled `<AUTOSCALE_LABEL>=true` are scaled; `<AUTOSCALE_LABEL>.min` / `.max` bound each. */
    AUTOSCALE_LABEL: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('bookstore.autoscale'),
    SAMPLE_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
    SCALE_UP_ABOVE_PERCENT: percent(50),
    SCALE_UP_WINDOW_SECONDS: whole(300, 1),
    SCALE_DOWN_BELOW_PERCENT: percent(20),
    SCALE_DOWN_WINDOW_SECONDS: whole(600, 1),
    MIN_REPLICAS: whole(1, 0),
    MAX_REPLICAS: whole(10, 1),
    COOLDOWN_SECONDS: whole(300, 0),
    SCALE_STEP: whole(1, 1),
    /** Log decisions, change nothing (the `--dry-run` flag does the same). */
    DRY_RUN: booleanFlag,
    PORT: port(3009),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: logLevel,
  })
  .superRefine((config, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (config.SCALE_DOWN_BELOW_PERCENT >= config.SCALE_UP_ABOVE_PERCENT) problem('SCALE_DOWN_BELOW_PERCENT', 'must be below SCALE_UP_ABOVE_PERCENT');
    if (config.MIN_REPLICAS > config.MAX_REPLICAS) problem('MIN_REPLICAS', 'must not exceed MAX_REPLICAS');
    for (const name of ['SCALE_UP_WINDOW_SECONDS', 'SCALE_DOWN_WINDOW_SECONDS'] as const) {
      // A window of one or two samples would let a spike through.
      if (config[name] < 3 * config.SAMPLE_SECONDS) problem(name, 'must be at least 3 × SAMPLE_SECONDS');
    }
  });

export type AutoscalerConfig = z.infer<typeof autoscalerConfigSchema>;

/** The policy the environment sets; labels on a service may narrow min and max. */
export function policyFromConfig(config: AutoscalerConfig): ScalingPolicy {
  return {
    scaleUpAbovePercent: config.SCALE_UP_ABOVE_PERCENT,
    scaleUpWindowSeconds: config.SCALE_UP_WINDOW_SECONDS,
    scaleDownBelowPercent: config.SCALE_DOWN_BELOW_PERCENT,
    scaleDownWindowSeconds: config.SCALE_DOWN_WINDOW_SECONDS,
    minReplicas: config.MIN_REPLICAS,
    maxReplicas: config.MAX_REPLICAS,
    cooldownSeconds: config.COOLDOWN_SECONDS,
    step: config.SCALE_STEP,
  };
}

/**
 * The policy for one service: `base` with `<label>.min` and `<label>.max` from its labels, or why
 * the labels are unusable (the service is then left alone rather than scaled on a guess).
 *
 * @example
 * policyForService(base, { 'bookstore.autoscale': 'true', 'bookstore.autoscale.min': '3' }, 'bookstore.autoscale');
 */
export function policyForService(base: ScalingPolicy, labels: Record<string, string>, label: string): { policy: ScalingPolicy } | { error: string } {
  const bound = (name: 'min' | 'max', fallback: number) => {
    const text = labels[`${label}.${name}`];
    if (text === undefined) return fallback;
    return /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  };
  const minReplicas = bound('min', base.minReplicas);
  const maxReplicas = bound('max', base.maxReplicas);
  if (Number.isNaN(minReplicas) || Number.isNaN(maxReplicas)) return { error: `${label}.min and ${label}.max must be whole numbers` };
  if (maxReplicas < 1 || minReplicas > maxReplicas) return { error: `${label}.min (${minReplicas}) must not exceed ${label}.max (${maxReplicas}), which must be at least 1` };
  return { policy: { ...base, minReplicas, maxReplicas } };
}
