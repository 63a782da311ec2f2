/** One autoscaling pass: sample every labelled service's CPU, keep the series, decide, scale, log. */
import type { Logger } from '@bookstore/shared/log';
import { policyForService, policyFromConfig, type AutoscalerConfig } from './config.ts';
import type { AutoscaledService, DockerClient } from './docker.ts';
import { decideScaling, type CpuSample } from './policy.ts';

export interface AutoscalerDeps {
  docker: DockerClient;
  config: AutoscalerConfig;
  log: Logger;
  /** Log what would be done, change nothing. */
  dryRun: boolean;
  now?: () => number;
}

/**
 * The series live in memory: after a restart the autoscaler waits a full window before acting,
 * which is the safe way to forget.
 *
 * @example
 * const autoscaler = createAutoscaler({ docker, config, log, dryRun: false });
 * const job = every('autoscale', config.SAMPLE_SECONDS * 1000, () => autoscaler.pass(), { log, jitter: 0 });
 */
export function createAutoscaler(deps: AutoscalerDeps) {
  const { docker, config, log, dryRun } = deps;
  const now = deps.now ?? Date.now;
  const basePolicy = policyFromConfig(config);
  const keepMs = (Math.max(config.SCALE_UP_WINDOW_SECONDS, config.SCALE_DOWN_WINDOW_SECONDS) + 2 * config.SAMPLE_SECONDS) * 1000;
  const series = new Map<string, CpuSample[]>();
  const changedAt = new Map<string, number>(); // our own changes (and, in a dry run, the ones we would have made)
  const said = new Map<string, string>(); // the last thing said per subject, to log a repeat at debug only
  let lastPassAt: number | undefined;

  /** Logs at `level` when `text` differs from what was last said about `subject`, at debug otherwise. */
  const tell = (level: 'info' | 'warn', subject: string, text: string, msg: string, fields: Record<string, unknown>) => {
    const repeated = said.get(subject) === text;
    said.set(subject, text);
    log[repeated ? 'debug' : level](msg, fields);
  };

  async function decideFor(service: AutoscaledService, reading: { percent: number | undefined; measured: number; running: number }, at: number) {
    const samples = series.get(service.id) ?? [];
    if (reading.percent !== undefined) samples.push({ at, percent: reading.percent });
    series.set(service.id, samples.filter((sample) => sample.at >= at - keepMs));
    if (reading.measured < reading.running) {
      tell('warn', `${service.id}:coverage`, `${reading.measured}/${reading.running}`, 'tasks not sampled', {
        swarmService: service.name,
        measured: reading.measured,
        running: reading.running,
        hint: 'their node is not among SAMPLE_ENGINES, or its engine did not answer; the reading is the mean of the others',
      });
    }

    const chosen = policyForService(basePolicy, service.labels, config.AUTOSCALE_LABEL);
    if ('error' in chosen) return tell('warn', `${service.id}:labels`, chosen.error, 'service left alone', { swarmService: service.name, error: chosen.error });

    const lastChangeAt = Math.max(service.updatedAt ?? -Infinity, changedAt.get(service.id) ?? -Infinity);
    const decision = decideScaling(
      chosen.policy,
      { replicas: service.replicas, samples: series.get(service.id)!, sampleSeconds: config.SAMPLE_SECONDS, lastChangeAt: Number.isFinite(lastChangeAt) ? lastChangeAt : undefined },
      at,
    );
    const fields = {
      swarmService: service.name,
      ...decision,
      cpuPercent: reading.percent === undefined ? null : Math.round(reading.percent * 10) / 10,
      measured: reading.measured,
      running: reading.running,
      dryRun,
    };
    if (decision.action === 'hold') return tell('info', `${service.id}:decision`, decision.code, 'decision', fields);
    said.delete(`${service.id}:decision`);
    log.info('decision', fields);
    if (dryRun) {
      changedAt.set(service.id, at); // so a dry run shows the cadence the real one would have
      return;
    }
    const result = await docker.scaleService(service.id, decision.from, decision.to);
    if (result.status === 'scaled') {
      changedAt.set(service.id, at);
      log.info('scaled', { swarmService: service.name, from: decision.from, to: decision.to, version: result.version });
    } else {
      log.warn('scale skipped', { swarmService: service.name, from: decision.from, to: decision.to, reason: result.reason });
    }
  }

  return {
    /** Samples, decides and (unless a dry run) scales every labelled service once. */
    async pass() {
      const { services, global } = await docker.listAutoscaledServices(config.AUTOSCALE_LABEL);
      if (global.length) tell('warn', 'global', global.join(','), 'global services cannot be scaled; label ignored', { services: global });
      const containers = await Promise.all(services.map((service) => docker.runningContainers(service.id)));
      const { readings, failures } = await docker.sampleCpu(
        services.map((service, index) => ({ id: service.id, containers: containers[index] ?? [], cpuLimit: service.cpuLimit })),
      );
      if (failures.length) tell('warn', 'engines', failures.join('\n'), 'sample engines did not answer', { failures });
      else said.delete('engines');

      const at = now();
      for (const service of services) {
        try {
          await decideFor(service, readings.get(service.id) ?? { percent: undefined, measured: 0, running: 0 }, at);
        } catch (error) {
          log.error('scale failed', { swarmService: service.name, error });
        }
      }
      for (const id of series.keys()) {
        if (services.some((service) => service.id === id)) continue;
        series.delete(id);
        changedAt.delete(id);
      }
      lastPassAt = at;
    },
    /** When the last complete pass ended (ms since the epoch), for readiness. */
    lastPassAt: () => lastPassAt,
  };
}
